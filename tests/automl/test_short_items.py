"""Items too short for every member get their peers' profile, scaled by their own open-day sales."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from tidecast.automl.forecaster import AutoForecaster
from tidecast.automl.peer_reference import prior_steps
from tidecast.automl.short_items import PEER_ITEMS, peer_profiles, short_items
from tidecast.data.arrays import SeriesArrays
from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP

QUANTILES = (0.1, 0.5, 0.9)
DAYS = pd.date_range("2024-01-01", periods=28, freq="D")
AHEAD = pd.date_range(DAYS[-1] + pd.Timedelta(days=1), periods=2, freq="D")


def panel(last_open: int) -> SeriesArrays:
    """Peers a, b, c sell 100 a day for 28 days; the new item n sold 50 on the last day only."""
    values = np.concatenate([np.full(28, 100.0), np.full(28, 100.0), np.full(28, 100.0), [50.0]])
    opened = np.concatenate([np.ones(84), [last_open]])
    return SeriesArrays(
        item_ids=np.array(["a", "b", "c", "n"]),
        values=np.where(opened == 1, values, 0.0),
        indptr=np.array([0, 28, 56, 84, 85]),
        timestamps=np.concatenate([DAYS.values] * 3 + [DAYS.values[-1:]]),
        freq="D",
        covariates={"open": opened},
        static=pd.DataFrame({"category": ["x"] * 4}, index=["a", "b", "c", "n"]),
    )


def forecast() -> pd.DataFrame:
    """Every item forecast 100 (p10 90, p90 110); n's rows are its fallback's 7."""
    frame = pd.DataFrame({ITEM_ID: np.repeat(["a", "b", "c", "n"], 2), TIMESTAMP: np.tile(AHEAD, 4)})
    frame[MEAN], frame["p10"], frame["p50"], frame["p90"] = 100.0, 90.0, 100.0, 110.0
    frame.loc[frame[ITEM_ID] == "n", [MEAN, "p10", "p50", "p90"]] = 7.0
    return frame


def test_when_every_member_fell_back_then_the_item_is_short_and_otherwise_not():
    assert short_items({"LightGBM": ["n", "m"], "ETS": ["n"]}, ["LightGBM", "ETS"]) == ["n"]
    assert short_items({"LightGBM": ["n"]}, ["LightGBM", "ETS"]) == []
    assert short_items({}, []) == []


def test_when_a_short_item_sold_then_its_peers_are_scaled_to_its_sales_as_far_as_peers_vary():
    out = peer_profiles(forecast(), panel(last_open=1), ["n"], QUANTILES, (("open", 0.0),))
    got = out[out[ITEM_ID] == "n"]
    # Peers sell exactly their level every day: a day says all, the prior is worth 0 days, and
    # n's 50 against the peers' 100 on that day halves them.
    np.testing.assert_allclose(got[MEAN], 50.0)
    assert got["p10"].iloc[0] == pytest.approx(45.0, rel=0.02)  # pooled draws of equal peers
    pd.testing.assert_frame_equal(out[out[ITEM_ID] != "n"], forecast()[forecast()[ITEM_ID] != "n"])
    assert out.attrs[PEER_ITEMS] == ["n"]


def test_when_the_prior_is_weighed_then_it_is_day_noise_over_the_spread_of_levels():
    e = np.exp(1.0)
    history = pd.DataFrame({ITEM_ID: ["a", "a", "b", "b", "c"], TARGET: [e, e**3, e**5, e**7, 0.0]})
    # log sales: a 1, 3 (mean 2, variance 2), b 5, 7 (6, 2); levels 2 and 6 vary by 8; c sold 0.
    assert prior_steps(history) == pytest.approx(2 / 8)
    assert prior_steps(history[history[ITEM_ID] == "a"]) == 7.0  # one item: the default


def test_when_the_only_day_was_closed_then_the_peers_level_stands_unscaled():
    out = peer_profiles(forecast(), panel(last_open=0), ["n"], QUANTILES, (("open", 0.0),))
    np.testing.assert_allclose(out.loc[out[ITEM_ID] == "n", MEAN], 100.0)  # the fallback said 7


def test_when_there_are_no_static_attributes_then_the_forecast_is_unchanged():
    bare = dataclasses.replace(panel(last_open=1), static=None)
    assert peer_profiles(forecast(), bare, ["n"], QUANTILES).equals(forecast())


def promoted() -> tuple[SeriesArrays, pd.DataFrame, pd.DataFrame]:
    """Peers a, b, c sell 100 a day and 200 on their promotion days (the first four: a lift
    of 2); the new item n sold 100 on its one day, a promotion day the peers did not have.
    Ahead, a is on promotion on the first day (forecast 200) and n on the second."""
    promo = np.zeros(28)
    promo[:4] = 1.0
    values = np.concatenate([np.where(promo == 1.0, 200.0, 100.0)] * 3 + [[100.0]])
    arrays = SeriesArrays(
        item_ids=np.array(["a", "b", "c", "n"]),
        values=values,
        indptr=np.array([0, 28, 56, 84, 85]),
        timestamps=np.concatenate([DAYS.values] * 3 + [DAYS.values[-1:]]),
        freq="D",
        covariates={"promo": np.concatenate([promo] * 3 + [[1.0]])},
        static=pd.DataFrame({"category": ["x"] * 4}, index=["a", "b", "c", "n"]),
    )
    ahead = forecast()
    ahead.loc[(ahead[ITEM_ID] == "a") & (ahead[TIMESTAMP] == AHEAD[0]), [MEAN, "p10", "p50", "p90"]] = (
        200.0,
        180.0,
        200.0,
        220.0,
    )
    future = ahead[[ITEM_ID, TIMESTAMP]].copy()
    future["promo"] = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    return arrays, ahead, future


def test_when_a_short_item_sold_on_promotion_then_its_level_and_days_take_the_promotion_out_and_in():
    arrays, ahead, future = promoted()
    out = peer_profiles(ahead, arrays, ["n"], QUANTILES, future=future)
    got = out[out[ITEM_ID] == "n"]
    # Its 100 on promotion is 50 without (lift 2) against the peers' 100: half the peers' level,
    # whose forecasts without a's promotion are 100 on both days; n's own promotion doubles day 2.
    np.testing.assert_allclose(got[MEAN], [50.0, 100.0])
    np.testing.assert_allclose(got["p90"], [55.0, 110.0], rtol=0.02)
    pd.testing.assert_frame_equal(out[out[ITEM_ID] != "n"], ahead[ahead[ITEM_ID] != "n"])
    # Without the horizon's flags the promotion day is taken for the item's level.
    blind = peer_profiles(ahead, arrays, ["n"], QUANTILES)
    np.testing.assert_allclose(blind.loc[blind[ITEM_ID] == "n", MEAN], [400 / 3, 100.0])


@pytest.mark.parametrize("fit_future", [True, False], ids=["future at fit", "future at predict only"])
def test_when_a_new_item_launched_on_promotion_then_the_automl_forecasts_its_ordinary_days_at_its_base(
    fit_future,
):
    """End to end: six peers sell 100 a day, 200 every seventh day on promotion; a new item
    sold 120 on its one day, a promotion day of its own (base 60). Its ordinary days ahead are
    forecast near 60 and its promotion day near 120, not 120 and 240. Given the future, the fit
    takes its peers' forecasts then (`automl.peer_reference`); without it (`fit(data)`, then
    `predict(future=...)`) it cannot, and the call's items are the peers, as before."""
    days = pd.date_range("2024-01-01", periods=63, freq="D")
    rows = []
    for k in range(6):
        promo = ((np.arange(63) + k) % 7 == 0).astype(float)
        rows.append(pd.DataFrame({ITEM_ID: f"p{k}", TIMESTAMP: days, "promo": promo}))
        rows[-1][TARGET] = np.where(promo == 1.0, 200.0, 100.0)
    rows.append(pd.DataFrame({ITEM_ID: ["new"], TIMESTAMP: days[-1:], "promo": [1.0], TARGET: [120.0]}))
    data = pd.concat(rows, ignore_index=True).assign(category="x")
    ahead = pd.date_range(days[-1] + pd.Timedelta(days=1), periods=7, freq="D")
    future = pd.concat(
        [
            pd.DataFrame(
                {ITEM_ID: item, TIMESTAMP: ahead, "promo": ((np.arange(63, 70) + k) % 7 == 0).astype(float)}
            )
            for k, item in enumerate([f"p{k}" for k in range(6)])
        ]
        + [pd.DataFrame({ITEM_ID: "new", TIMESTAMP: ahead, "promo": [0, 0, 1, 0, 0, 0, 0]})],
        ignore_index=True,
    )
    auto = AutoForecaster(
        horizon=7, models=["LightGBM"], known_covariates=["promo"], static_columns=["category"], n_jobs=1
    ).fit(data, future=future if fit_future else None)
    assert auto.peer_reference_.items.empty is not fit_future
    got = auto.predict(future=future)
    new = got[got[ITEM_ID] == "new"].sort_values(TIMESTAMP)
    assert got.attrs[PEER_ITEMS] == ["new"]
    np.testing.assert_allclose(new["p50"].to_numpy()[[0, 1, 3, 4, 5, 6]], 60.0, rtol=0.1)
    assert new["p50"].iloc[2] == pytest.approx(120.0, rel=0.1)
