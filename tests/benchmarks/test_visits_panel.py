"""The visits panel's builder: Favorita's open days only, late starts cut, 39 days ahead."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
common = pytest.importorskip("common")
favorita_data = pytest.importorskip("favorita_data")
visits_panel = pytest.importorskip("visits_panel")

STORES = 10  # the first ten stores: four of them start late at RAGGED 0.4
ORIGIN = pd.Timestamp("2017-07-07")  # 39 days before the file's last day, 2017-08-15

pytestmark = pytest.mark.skipif(
    not (common.data_dir() / favorita_data.DATASET).is_dir(), reason="Favorita data not present"
)


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return favorita_data.load(STORES)


@pytest.fixture(scope="module")
def panel(frames) -> visits_panel.Panel:
    return visits_panel.panel(seed=3, frames=frames)


def test_when_built_then_the_origin_is_39_days_before_the_end_and_every_store_has_its_horizon(panel):
    assert panel.train["timestamp"].max() == ORIGIN
    assert panel.test["timestamp"].min() > ORIGIN
    assert panel.test["timestamp"].max() == ORIGIN + pd.Timedelta(days=39)
    assert len(panel.future) == STORES * 39
    assert not panel.future[list(favorita_data.HOLIDAY_COLUMNS)].isna().any().any()
    test_keys = pd.MultiIndex.from_frame(panel.test[["item_id", "timestamp"]])
    assert test_keys.isin(pd.MultiIndex.from_frame(panel.future[["item_id", "timestamp"]])).all()


def test_when_a_store_was_closed_then_its_day_has_no_row_rather_than_a_zero(frames, panel):
    assert np.isfinite(panel.train["target"]).all() and (panel.train["target"] > 0).all()
    closed = frames["train"].loc[frames["train"]["target"].isna(), ["item_id", "timestamp"]]
    assert len(closed) > 0  # Favorita's stores close on Christmas and New Year's Day
    keys = pd.MultiIndex.from_frame(panel.train[["item_id", "timestamp"]])
    assert not keys.isin(pd.MultiIndex.from_frame(closed)).any()
    # statsforecast's copy has every day up to the origin, finite
    per_store = panel.filled.groupby("item_id")["timestamp"].agg(["min", "max", "size"])
    assert (per_store["max"] == ORIGIN).all()
    assert (per_store["size"] == (per_store["max"] - per_store["min"]).dt.days + 1).all()
    assert np.isfinite(panel.filled["target"]).all()


def test_when_ragged_then_the_drawn_share_of_stores_starts_60_to_399_days_before_the_origin(frames, panel):
    first = panel.train.groupby("item_id")["timestamp"].min()
    original = frames["train"].groupby("item_id")["timestamp"].min()
    late = first.index[first > original.reindex(first.index)]
    assert len(late) == 4
    days_before = (ORIGIN - first[late]).dt.days
    assert days_before.between(60, 399).all()
    again = visits_panel.panel(seed=3, frames=frames).train.groupby("item_id")["timestamp"].min()
    assert again.equals(first)  # the same draw at the same seed
    other = visits_panel.panel(seed=4, frames=frames).train.groupby("item_id")["timestamp"].min()
    assert not other.equals(first)


def test_when_not_ragged_then_every_open_day_before_the_origin_is_kept(frames):
    whole = visits_panel.panel(seed=3, ragged=0.0, frames=frames)
    kept = frames["train"]["target"].notna() & (frames["train"]["timestamp"] <= ORIGIN)
    assert len(whole.train) == int(kept.sum())


def test_when_copied_then_each_store_comes_k_times_with_its_own_level_and_the_same_calendar(frames):
    k = 3
    copies = visits_panel.copied(frames, k, seed=1)
    stores = frames["stores"]["item_id"]
    assert sorted(copies["stores"]["item_id"]) == sorted([*stores, *(stores + "_1"), *(stores + "_2")])
    for key in ("train", "test", "future"):
        assert len(copies[key]) == k * len(frames[key])
    pd.testing.assert_frame_equal(copies["events"], frames["events"])
    train, original = copies["train"], frames["train"]
    pd.testing.assert_frame_equal(train.iloc[: len(original)], original)  # copy 0 is the store itself
    first = stores.iloc[0]
    mine = original[original["item_id"] == first].reset_index(drop=True)
    copy = train[train["item_id"] == f"{first}_1"].reset_index(drop=True)
    holidays = list(favorita_data.HOLIDAY_COLUMNS)
    pd.testing.assert_frame_equal(copy[holidays], mine[holidays])
    assert copy["target"].isna().equals(mine["target"].isna())  # closed days stay closed
    ratio = (copy["target"] / mine["target"]).dropna()
    ratio = ratio[mine["target"].dropna() > 100]
    assert ratio.std() / ratio.mean() < 0.1  # one level factor, small daily noise
    assert not np.isclose(ratio.median(), 1.0, atol=0.02)
    again = visits_panel.copied(frames, k, seed=1)
    pd.testing.assert_frame_equal(again["train"], train)
    built = visits_panel.panel(seed=3, frames=copies)
    assert built.train["item_id"].nunique() == k * STORES and len(built.future) == k * STORES * 39
