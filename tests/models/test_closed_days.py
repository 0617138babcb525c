"""Models that read no known covariates see a closed day (its closure rule learnt at fit, as
`gbm_closed` defines it) as a missing value, not as a day without demand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, DatasetSpec
from tidecast.models.catalog import make_model

SPEC = DatasetSpec(freq="D", known_covariates=("open",))


def store(days: int = 120, seed: int = 0) -> pd.DataFrame:
    """Two stores selling about 50 a day, closed (open = 0, sales 0) on Sundays and on the
    last day of the history."""
    rng = np.random.default_rng(seed)
    frames = []
    for item in ("a", "b"):
        stamps = pd.date_range("2023-01-02", periods=days, freq="D")  # from a Monday
        shut = np.asarray(stamps.dayofweek == 6)
        shut[-1] = True
        y = np.where(shut, 0.0, 50 + rng.normal(0, 1, days))
        frames.append(
            pd.DataFrame({ITEM_ID: item, TIMESTAMP: stamps, TARGET: y, "open": (~shut).astype(np.int8)})
        )
    return pd.concat(frames, ignore_index=True)


def test_when_the_history_ends_on_a_closed_day_then_naive_carries_the_last_open_one():
    panel = store()
    model = make_model("Naive", "D", n_jobs=1).fit(panel, SPEC, 7)
    assert model.closures_ == (("open", 0.0),)
    forecast = model.predict(panel)
    last_open = panel[panel["open"] == 1].groupby(ITEM_ID)[TARGET].last().to_numpy()
    np.testing.assert_allclose(forecast[MEAN], np.repeat(last_open, 7), atol=1e-9)  # it was 0


def test_when_closed_sundays_are_in_the_history_then_ets_keeps_the_open_days_level():
    # With the zeros, MSTL-ETS takes one day in seven at 0 as part of the level and the cycle.
    panel = store(days=200)
    forecast = make_model("MSTLETS", "D", n_jobs=1).fit(panel, SPEC, 7).predict(panel)
    sunday = pd.DatetimeIndex(forecast[TIMESTAMP]).dayofweek == 6
    assert np.abs(forecast.loc[~sunday, MEAN] - 50).max() < 3


def test_when_a_model_reads_the_covariates_then_it_learns_no_rule_here():
    panel = store()
    assert make_model("DynamicRegression", "D", n_jobs=1).fit(panel, SPEC, 7).closures_ == ()
