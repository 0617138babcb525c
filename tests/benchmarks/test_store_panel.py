"""The store panel benchmark's builder: the shape issue 10's held-out panel promises, at a tiny size."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
store_panel = pytest.importorskip("store_panel")

N = 22  # round(22 * 180 / 1100) = 4 series with the six-month gap


@pytest.fixture(scope="module")
def panel() -> store_panel.Panel:
    return store_panel.panel(N, seed=7)


def test_when_built_then_every_series_is_there_with_the_days_and_horizon_promised(panel):
    assert panel.train["item_id"].nunique() == N
    assert panel.train["timestamp"].max() == pd.Timestamp("2023-11-13")
    assert panel.train["timestamp"].min() == pd.Timestamp("2021-06-05")  # 940 days before 2024
    assert len(panel.test) == N * 48 and len(panel.future) == N * 48
    assert list(panel.future.columns) == ["item_id", "timestamp", *store_panel.KNOWN]


def test_when_a_sunday_then_the_store_is_closed_and_sells_zero(panel):
    rows = pd.concat([panel.train, panel.test.merge(panel.future, on=["item_id", "timestamp"])])
    sunday = rows["timestamp"].dt.dayofweek == 6
    assert sunday.sum() > 0
    assert (rows.loc[sunday, "open"] == 0).all()
    assert (rows.loc[rows["open"] == 0, "target"] == 0).all()
    assert (rows.loc[rows["open"] == 1, "target"] > 0).mean() > 0.99


def test_when_built_then_four_series_miss_exactly_the_six_months(panel):
    counts = panel.train.groupby("item_id").size()
    full = len(pd.date_range("2021-06-05", "2023-11-13"))
    gap = len(pd.date_range(*store_panel.GAP))
    assert gap == 184
    assert sorted(counts.value_counts().items()) == [(full - gap, 4), (full, N - 4)]
    short = counts.index[counts < full]
    in_gap = panel.train["timestamp"].between(*store_panel.GAP)
    assert not panel.train.loc[in_gap, "item_id"].isin(short).any()
    # statsforecast's copy has every day of every series, the gap interpolated
    assert len(panel.filled) == N * full and np.isfinite(panel.filled["target"]).all()


def test_when_school_holidays_then_regions_take_them_a_week_apart():
    dates = pd.date_range("2022-07-01", "2022-07-08")
    flags = store_panel.school_holiday(np.array(["East", "North"]), dates)
    assert flags[0].all()  # East, first in order: from July 1st
    assert flags[1].tolist() == [False] * 7 + [True]  # North: a week later


def test_when_noisy_then_each_store_scatters_around_the_clean_sales_by_its_own_spread():
    noise = store_panel.store_noise(N, seed=7, noise=0.12)
    assert noise.shape == (N, store_panel.DAYS) and (noise > 0).all()
    assert noise == pytest.approx(store_panel.store_noise(N, seed=7, noise=0.12))  # its own stream
    assert abs(np.log(noise).mean()) < 0.05  # mean one: the log mean sits at -sd^2 / 2
    spread = np.diff(np.log(noise), axis=1).std(axis=1) / np.sqrt(2)  # day-to-day, drift aside
    assert spread.min() > 0.06 * 0.9 and spread.max() < 0.18 * 1.1
    assert spread.max() / spread.min() > 1.5  # each store its own sd in 0.06..0.18
    clean = store_panel.store_rows(N, seed=7)
    noisy = store_panel.store_rows(N, seed=7, noise=0.12)
    assert clean[["item_id", "timestamp", "open"]].equals(noisy[["item_id", "timestamp", "open"]])
    opened = clean["open"] == 1
    ratio = noisy.loc[opened, "target"] / clean.loc[opened, "target"]
    assert 0.97 < ratio.mean() < 1.03 and ratio.std() > 0.1
    assert (noisy.loc[~opened, "target"] == 0).all()  # closed days still sell nothing
