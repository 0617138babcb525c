"""A LightGBM backtest fit too short to validate is banded as its refit will be (`gbm_quantiles`).

Without validation a fit trains no quantile boosters, so its quantiles are its point forecast.
Told (`expect`) that the refit's panel can hold out a validation horizon, the short fit trains
the boosters too, at the floor of `quantile_rounds`; told of a panel that cannot either, or
told nothing, it stays unbanded as before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tidecast.automl.forecaster import AutoForecaster
from tidecast.data.arrays import SeriesArrays
from tidecast.data.schema import DatasetSpec
from tidecast.models.gbm import LightGBM
from tidecast.models.gbm_training import quantile_rounds

SPEC = DatasetSpec(freq="W-FRI")
HORIZON = 8


def weekly(n_series: int, weeks: int, seed: int = 0) -> pd.DataFrame:
    """Weekly series around levels 20-80 with a 13-week wave and lognormal noise."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2020-01-03", periods=weeks, freq="W-FRI")
    level = rng.uniform(20, 80, n_series)
    wave = 1 + 0.3 * np.sin(2 * np.pi * np.arange(weeks) / 13)
    values = level[:, None] * wave[None, :] * rng.lognormal(0, 0.1, (n_series, weeks))
    return pd.DataFrame(
        {
            "item_id": np.repeat([f"s{i:02d}" for i in range(n_series)], weeks),
            "timestamp": np.tile(dates, n_series),
            "target": values.ravel(),
        }
    )


def short_fit(expected_weeks: int | None) -> LightGBM:
    """A fit on 20 weeks (under the 8 + 7 + 8 a validation holdout needs), told of a panel
    of `expected_weeks` (None: told nothing)."""
    model = LightGBM(quantile_levels=(0.1, 0.5, 0.9), n_jobs=1, max_rounds=80)
    if expected_weeks is not None:
        model.expect(SeriesArrays.from_spec(weekly(30, expected_weeks), SPEC), HORIZON)
    return model.fit(weekly(30, 20), SPEC, HORIZON)


@pytest.mark.parametrize("expected_weeks", [None, 22])
def test_a_short_fit_whose_refit_cannot_validate_either_has_no_band(expected_weeks: int | None) -> None:
    model = short_fit(expected_weeks)
    assert model.quantile_boosters_ == {} and model.quantile_rounds_ == 0
    assert model.best_rounds_ == 80 // 4  # unvalidated: a quarter of max_rounds
    forecast = model.predict(weekly(30, 20))
    assert np.allclose(forecast["p10"], forecast["p90"])  # the point forecast at every level


def test_a_short_fit_whose_refit_will_validate_trains_the_boosters_it_will_ship() -> None:
    model = short_fit(23)  # 23 - 8 >= 7 + 8: the refit holds out its last horizon
    assert sorted(model.quantile_boosters_) == [0.1, 0.5, 0.9]
    assert model.quantile_rounds_ == quantile_rounds(0, model.learning_rate) == 100
    # Its point model gives only the mean column: the boosters' rounds, within max_rounds.
    assert model.best_rounds_ == model.booster_.current_iteration() == 80
    forecast = model.predict(weekly(30, 20))
    assert (forecast["p90"] - forecast["p10"] > 0).all()
    # The refit follows the rounds its backtest fit ran (`follow`).
    refit = LightGBM(quantile_levels=(0.1, 0.5, 0.9), n_jobs=1, max_rounds=80)
    assert refit.follow(model) == "quantile boosters at the backtest fit's 100 rounds"


def test_the_automl_tells_its_backtest_candidates_of_the_whole_panel() -> None:
    # 95 weeks, horizon 30: the one backtest window's fit sees 65 weeks, under the 30 + 7 + 30
    # a holdout needs, while the refit on 95 weeks validates.
    auto = AutoForecaster(horizon=30, frequency="W-FRI", models=["LightGBM"], backtest_windows=1, n_jobs=1)
    auto.fit(weekly(30, 95))
    backtest_fit = next(c.model for c in auto.report_.candidates if c.name == "LightGBM")
    assert backtest_fit.refit_length_ == 95
    assert sorted(backtest_fit.quantile_boosters_) == [0.1, 0.5, 0.9]
    assert (
        auto.report_.refit["LightGBM"]
        == "refitted on all data, quantile boosters at the backtest fit's 100 rounds"
    )
