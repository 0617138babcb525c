"""Items too short for every member get their peers' profile, scaled by their own open-day sales."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from tidecast.automl.short_items import PEER_ITEMS, peer_profiles, prior_steps, short_items
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
