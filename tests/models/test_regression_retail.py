"""DynamicRegression on retail data's troubles: closed days, promotions that multiply demand,
gaps, rare returns, short histories, and flags whose gaps were filled with a share."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tidecast.data.calendar import step_index
from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, DatasetSpec
from tidecast.models.covariates import CovariateEncoder
from tidecast.models.regression import DynamicRegression
from tidecast.models.regression_design import _varying

START = "2022-01-03"  # a Monday
OPEN_SPEC = DatasetSpec(freq="D", known_covariates=("open",))
PROMO_SPEC = DatasetSpec(freq="D", known_covariates=("promotion",))


def frame(item: str, y: np.ndarray, start: str = START, **covariates: np.ndarray) -> pd.DataFrame:
    stamps = pd.date_range(start, periods=len(y), freq="D")
    return pd.DataFrame({ITEM_ID: item, TIMESTAMP: stamps, TARGET: y, **covariates})


def weekly(stamps: pd.DatetimeIndex) -> np.ndarray:
    t = step_index(stamps, "D")
    return 6 * np.sin(2 * np.pi * t / 7) + 3 * np.cos(4 * np.pi * t / 7)


def split(full: pd.DataFrame, horizon: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    last = full.groupby(ITEM_ID)[TIMESTAMP].transform("max")
    cut = last - pd.Timedelta(days=horizon)
    return full[full[TIMESTAMP] <= cut].reset_index(drop=True), full[full[TIMESTAMP] > cut].reset_index(
        drop=True
    )


def test_when_the_store_is_closed_on_some_days_then_the_fit_leaves_them_out():
    # Sales 0 on closed days (open = 0, known in advance: holidays, a stocktaking, a storm)
    # say the store was shut, not that demand dropped. Fitted as data (with the open flag as a
    # regressor) they cost a coefficient and widen the residual spread; the history here also
    # ends on a closed day, whose residual must not be the one carried into the horizon.
    n, horizon = 300, 14
    stamps = pd.date_range(START, periods=n + horizon, freq="D")
    rng = np.random.default_rng(0)
    demand = 100 + 0.05 * np.arange(n + horizon) + weekly(stamps) + rng.normal(0, 0.5, n + horizon)
    shut = rng.random(n + horizon) < 0.04
    shut[n - 1] = True  # the last day of the history
    full = frame("a", np.where(shut, 0.0, demand), open=(~shut).astype(np.int8))
    history, future = split(full, horizon)
    model = DynamicRegression(season_lengths=(7,), detect_periods=False, n_jobs=1).fit(
        history, OPEN_SPEC, horizon
    )
    assert model.closed_rules_ == (("open", 0.0),)
    assert model.states_["a"].layout.covariates == ()  # open is 1 on every day the fit reads
    forecast = model.predict(history, future=future[[ITEM_ID, TIMESTAMP, "open"]])
    open_days = future["open"].to_numpy() == 1
    error = np.abs(forecast[MEAN].to_numpy() - future[TARGET].to_numpy())[open_days]
    assert error.max() < 2.5
    width = (forecast["p90"] - forecast["p10"]).to_numpy()[open_days]
    assert np.median(width) < 1.6  # the noise's p10-p90 is 1.28; with the closed days, 2.2


def test_when_a_promotion_multiplies_a_trending_level_then_its_lift_follows_the_level():
    # Demand doubles over the history and a promotion lifts it by 80%: the lift at the end is
    # 0.8 x 300, not the history's average 0.8 x 200 an additive coefficient learns.
    n, horizon = 400, 14
    rng = np.random.default_rng(1)
    frames = []
    for item in ("a", "b", "c"):
        stamps = pd.date_range(START, periods=n + horizon, freq="D")
        promotion = (rng.random(n + horizon) < 0.06).astype(np.int8)
        promotion[n + 5] = 1  # one promotion day in every horizon
        base = 100 + 0.5 * np.arange(n + horizon) + weekly(stamps)
        y = base * (1 + 0.8 * promotion) + rng.normal(0, 1.0, n + horizon)
        frames.append(frame(item, y, promotion=promotion))
    history, future = split(pd.concat(frames, ignore_index=True), horizon)
    model = DynamicRegression(season_lengths=(7,), detect_periods=False, n_jobs=1).fit(
        history, PROMO_SPEC, horizon
    )
    assert all(state.layout.scaled == ("promotion",) for state in model.states_.values())
    forecast = model.predict(history, future=future[[ITEM_ID, TIMESTAMP, "promotion"]])
    promoted = future["promotion"].to_numpy() == 1
    ratio = forecast[MEAN].to_numpy()[promoted] / future[TARGET].to_numpy()[promoted]
    assert np.all(np.abs(ratio - 1) < 0.03)  # additive: about 0.85


def test_when_a_promotion_falls_on_an_event_bump_then_its_lift_multiplies_the_bump_too():
    # Demand rises by 60% in event weeks (a holiday season, a flag every item shares) and a
    # promotion lifts whatever demand it falls on by 80%: on a promoted event day 100 x 1.6 x
    # 1.8 = 288. A lift that multiplied the trend and cycles alone left the event's share out
    # (100 x 1.8 + 60 = 240: ratio 0.83); it multiplies the first fit's line but its own terms.
    n, horizon = 420, 14
    rng = np.random.default_rng(3)
    stamps = pd.date_range(START, periods=n + horizon, freq="D")
    event = np.zeros(n + horizon, dtype=np.int8)
    for start in range(20, n + horizon, 45):
        event[start : start + 6] = 1
    event[n + 2 : n + 8] = 1  # an event week in the horizon
    frames = []
    for item in ("a", "b"):
        promotion = (rng.random(n + horizon) < 0.08).astype(np.int8)
        promotion[n + 3] = promotion[n + 10] = 1  # promoted: in the event week and after it
        promotion[n + 4 : n + 8] = 0
        y = (100 + weekly(stamps)) * (1 + 0.6 * event) * (1 + 0.8 * promotion) + rng.normal(
            0, 1.0, n + horizon
        )
        frames.append(frame(item, y, promotion=promotion, event=event))
    history, future = split(pd.concat(frames, ignore_index=True), horizon)
    spec = DatasetSpec(freq="D", known_covariates=("promotion", "event"))
    model = DynamicRegression(season_lengths=(7,), detect_periods=False, n_jobs=1).fit(history, spec, horizon)
    assert all("promotion" in state.layout.scaled for state in model.states_.values())
    forecast = model.predict(history, future=future[[ITEM_ID, TIMESTAMP, "promotion", "event"]])
    promoted = future["promotion"].to_numpy() == 1
    ratio = forecast[MEAN].to_numpy()[promoted] / future[TARGET].to_numpy()[promoted]
    assert np.all(np.abs(ratio - 1) < 0.03), ratio


def test_when_a_promotion_adds_units_then_the_level_scaled_copy_is_not_taken():
    # The copy must earn its columns: on additive effects it is left out (BIC on Huber loss).
    n, horizon = 400, 14
    rng = np.random.default_rng(2)
    stamps = pd.date_range(START, periods=n + horizon, freq="D")
    promotion = (rng.random(n + horizon) < 0.06).astype(np.int8)
    y = 100 + 0.5 * np.arange(n + horizon) + weekly(stamps) + 40 * promotion + rng.normal(0, 1.0, n + horizon)
    history, _ = split(frame("a", y, promotion=promotion), horizon)
    model = DynamicRegression(season_lengths=(7,), detect_periods=False, n_jobs=1).fit(
        history, PROMO_SPEC, horizon
    )
    assert model.states_["a"].layout.scaled == ()


def test_when_a_series_has_a_long_gap_then_the_fit_reads_only_its_observations():
    # Three months absent (NaN, middlefill "none") ending two months before the origin: filled
    # with copies of the week before it, the gap is a flat stretch that the last segment of the
    # trend (after its last changepoint, at 80% of the history) is fitted through.
    n, horizon = 400, 14
    stamps = pd.date_range(START, periods=n + horizon, freq="D")
    y = 200 + 0.5 * np.arange(n + horizon) + weekly(stamps)
    y = y + np.random.default_rng(3).normal(0, 0.5, n + horizon)
    y[250:340] = np.nan
    history, future = split(frame("a", y), horizon)
    model = DynamicRegression(season_lengths=(7,), detect_periods=False, n_jobs=1)
    assert model.tags.handles_missing_target
    forecast = model.fit(history, DatasetSpec(freq="D"), horizon).predict(history)
    assert forecast.attrs["fallback_items"] == []
    assert np.abs(forecast[MEAN].to_numpy() - future[TARGET].to_numpy()).max() < 3.0


def test_when_rare_returns_are_in_the_history_then_the_interval_keeps_the_noises_width():
    # Net sales below zero on about 1% of days (a return worth a day and a half of sales):
    # their squares dominate a standard deviation, so the p10-p90 band of normal days was ten
    # times the noise's. The band now matches the innovations' own 10th and 90th percentiles.
    n, horizon = 500, 14
    rng = np.random.default_rng(4)
    frames = []
    for item in range(30):
        stamps = pd.date_range(START, periods=n + horizon, freq="D")
        y = 100 + weekly(stamps) + rng.normal(0, 1.0, n + horizon)
        y[rng.random(n + horizon) < 0.01] = -50.0
        frames.append(frame(f"s{item}", y))
    history, _ = split(pd.concat(frames, ignore_index=True), horizon)
    forecast = (
        DynamicRegression(season_lengths=(7,), detect_periods=False, n_jobs=1)
        .fit(history, DatasetSpec(freq="D"), horizon)
        .predict(history)
    )
    width = (forecast["p90"] - forecast["p10"]).median()
    assert 2.0 < width < 5.0  # the noise's p10-p90 is 2.56; with the returns' sd it was over 20


def test_when_the_history_is_short_then_its_cycles_do_not_grow_over_the_horizon():
    # 23 days before a 14-day horizon: cycles growing with the trend's clock (-1 to 0 over
    # the history) were extrapolated to 0.6 over it, a weekly swing of several times the level.
    horizon = 14
    stamps = pd.date_range(START, periods=23 + horizon, freq="D")
    rng = np.random.default_rng(5)
    y = 4600 + 20 * np.sin(2 * np.pi * step_index(stamps, "D") / 7) + rng.normal(0, 15, len(stamps))
    history, future = split(frame("a", y), horizon)
    model = DynamicRegression(season_lengths=(7,), detect_periods=False, n_jobs=1).fit(
        history, DatasetSpec(freq="D"), horizon
    )
    assert not model.states_["a"].layout.growing
    forecast = model.predict(history)[MEAN].to_numpy()
    assert np.abs(forecast - future[TARGET].to_numpy()).max() < 150


def test_when_a_flag_holds_filled_shares_then_it_is_still_a_flag_with_event_windows():
    # A promotion flag whose two gap cells were filled with the item's share of promoted days.
    flag = np.array([0, 0, 1, 0, 0, 0, 0, 0, 1, 0] * 20, dtype=float)
    flag[5:7] = 0.2
    encoder = CovariateEncoder.learn({"promotion": flag}, radii=(1,))
    assert encoder.indicators == ("promotion",) and encoder.numeric == ()
    encoded = encoder.encode({"promotion": flag[:10]}, np.array([0, 10]))
    np.testing.assert_array_equal(encoded[:, 0], [0, 0, 1, 0, 0, 0, 0, 0, 1, 0])
    np.testing.assert_array_equal(encoded[:, 1], [0, 1, 1, 1, 0, 0, 0, 1, 1, 1])  # no event in the gap
    # a number that merely lies in [0, 1] is no flag
    assert CovariateEncoder.learn({"share": np.linspace(0, 1, 50)}, radii=(1,)).numeric[0][0] == "share"


def test_when_a_column_is_one_on_every_row_then_it_does_not_vary():
    # A store open every day of a series: the column would only copy the intercept.
    values = np.column_stack([np.ones(5), np.array([0, 1, 0, 0, 1.0]), np.zeros(5)])
    assert _varying(values, ("open", "promotion", "holiday")) == ("promotion",)
