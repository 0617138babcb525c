"""User `model_params` override the run-level `n_jobs` and `seed` for their model only."""

from __future__ import annotations

from tidecast.automl.forecaster import AutoForecaster


def test_when_model_params_set_n_jobs_and_seed_then_they_override_the_run_level_ones():
    auto = AutoForecaster(horizon=7, n_jobs=4, seed=3, model_params={"LightGBM": {"n_jobs": 1, "seed": 9}})
    lightgbm = auto.make_candidate("LightGBM", "D").get_params()
    other = auto.make_candidate("SeasonalNaive", "D").get_params()
    assert (lightgbm["n_jobs"], lightgbm["seed"]) == (1, 9)
    assert other["n_jobs"] == 4
