"""A LightGBM backtest fit too short to validate is banded as its refit will be (`gbm_quantiles`).

Without validation a fit trains no quantile boosters, so its quantiles are its point forecast.
Told (`expect`) that the refit's panel can hold out a validation horizon, the short fit trains
the boosters too, at the floor of `quantile_rounds`; told of a panel that cannot either, or
told nothing, it stays unbanded as before. Told too that the run's metric does not read the
mean column, the banded short fit trains no point model: its 0.5 booster serves as one.
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


def short_fit(
    expected_weeks: int | None, reads_mean: bool = True, levels: tuple[float, ...] = (0.1, 0.5, 0.9)
) -> LightGBM:
    """A fit on 20 weeks (under the 8 + 7 + 8 a validation holdout needs), told of a panel
    of `expected_weeks` (None: told nothing) and whether the mean column is read."""
    model = LightGBM(quantile_levels=levels, n_jobs=1, max_rounds=80)
    if expected_weeks is not None:
        panel = SeriesArrays.from_spec(weekly(30, expected_weeks), SPEC)
        model.expect(panel, HORIZON, reads_mean=reads_mean)
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


def test_a_banded_short_fit_whose_mean_nobody_reads_trains_no_point_model() -> None:
    read, unread = short_fit(23), short_fit(23, reads_mean=False)
    assert unread.booster_ is unread.quantile_boosters_[0.5]
    assert unread.best_rounds_ == unread.quantile_rounds_ == 100
    history = weekly(30, 20)
    a, b = read.predict(history), unread.predict(history)
    for column in ("p10", "p50", "p90"):  # the same boosters, the same bands
        assert np.array_equal(a[column].to_numpy(), b[column].to_numpy())
    assert np.allclose(b["mean"], b["p50"]) and not np.allclose(a["mean"], a["p50"])


def test_without_a_median_booster_the_banded_short_fit_keeps_its_point_model() -> None:
    model = short_fit(23, reads_mean=False, levels=(0.1, 0.9))
    assert sorted(model.quantile_boosters_) == [0.1, 0.9]
    assert all(model.booster_ is not b for b in model.quantile_boosters_.values())
    assert model.best_rounds_ == 80


@pytest.mark.parametrize(("metric", "own_point_model"), [("wql", False), ("wape", False), ("rmse", True)])
def test_the_automl_says_whether_its_metric_reads_the_mean(metric: str, own_point_model: bool) -> None:
    auto = AutoForecaster(
        horizon=30, frequency="W-FRI", models=["LightGBM"], backtest_windows=1, n_jobs=1, metric=metric
    )
    auto.fit(weekly(30, 95))
    backtest_fit = next(c.model for c in auto.report_.candidates if c.name == "LightGBM")
    assert backtest_fit.backtest_reads_mean_ is own_point_model
    assert (backtest_fit.booster_ is not backtest_fit.quantile_boosters_[0.5]) is own_point_model
