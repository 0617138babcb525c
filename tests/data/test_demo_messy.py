import hashlib

import numpy as np
import pandas as pd
import pytest

from tidecast.data import demo, demo_messy

N_ITEMS, SEED = 40, 7
DAYS = pd.date_range(demo.START, demo.END, freq="D")


@pytest.fixture(scope="module")
def messy() -> pd.DataFrame:
    return demo.generate(N_ITEMS, seed=SEED, messy=True)


@pytest.fixture(scope="module")
def plan() -> pd.DataFrame:
    plan = demo_messy.history_plan(N_ITEMS, len(DAYS), np.random.default_rng([SEED, 2, 0]))
    return plan.assign(item_id=demo.item_catalogue(N_ITEMS)["item_id"])


def test_when_not_messy_then_the_clean_demo_file_is_byte_identical(tmp_path):
    # sha256 of the clean demo written before --messy existed (7 items, seed 3, CSV).
    demo.write(tmp_path / "clean.csv", n_items=7, seed=3)
    digest = hashlib.sha256((tmp_path / "clean.csv").read_bytes()).hexdigest()
    assert digest == "c68530264d0ea116690fc182db609661c76d00c41d8665f8e2158846661a8f34"
    assert "open" not in demo.future_covariates(7, 3).columns


def test_when_the_seed_is_the_same_then_the_messy_data_is_identical(messy):
    pd.testing.assert_frame_equal(messy, demo.generate(N_ITEMS, seed=SEED, messy=True))
    other = demo.generate(N_ITEMS, seed=SEED + 1, messy=True)
    assert len(other) != len(messy) or not np.array_equal(other["target_value"], messy["target_value"])


def test_when_messy_then_the_counts_on_a_small_seed_are_exact(messy, plan):
    assert plan["kind"].value_counts().to_dict() == {
        "full": 23,
        "early_end": 5,
        "short": 4,
        "late_start": 3,
        "new": 3,
        "gap": 2,
    }
    assert len(messy) == 35_252
    assert int((messy["target_value"] < 0).sum()) == 156
    assert int((messy["open"] == 0).sum()) == 2_123
    assert int((messy["target_value"] == 0).sum()) == 2_522


def test_when_a_store_is_closed_then_open_is_zero_and_sales_are_zero(messy):
    closed = messy["open"] == 0
    assert (messy.loc[closed, "target_value"] == 0).all()
    sunday_closed = messy["region"].isin(demo_messy.SUNDAY_CLOSED_REGIONS) & (
        messy["timestamp"].dt.dayofweek == 6
    )
    closing_day = messy["timestamp"].dt.strftime("%m-%d").isin(demo_messy.CLOSED_DAYS)
    assert closed.equals(sunday_closed | closing_day)
    assert messy.loc[~closed, "region"].isin(demo_messy.SUNDAY_CLOSED_REGIONS).any()


def test_when_messy_then_each_item_keeps_the_rows_of_its_plan(messy, plan):
    day = {ts: i for i, ts in enumerate(DAYS)}
    rows = messy.groupby("item_id")["timestamp"].agg(["min", "max", "size"])
    for p in plan.itertuples():
        first, last, size = rows.loc[p.item_id]
        assert (day[first], day[last]) == (p.first, p.last)
        gap = max(p.gap_end - p.gap_start, 0)
        assert size == p.last - p.first + 1 - gap
        if p.kind == "gap":
            assert 60 <= gap <= 180
        if p.kind == "new":
            assert size <= 28
        if p.kind == "short":
            assert 60 <= size <= 200
        if p.kind == "late_start":
            assert first > DAYS[0]
        if p.kind == "early_end":
            assert last < DAYS[-1]


def test_when_messy_then_scales_span_four_decades_and_promotions_multiply(messy, plan):
    mean = messy.groupby("item_id")["target_value"].mean()
    assert mean.max() / mean.min() > 1e4
    open_days = messy[messy["open"] == 1]
    by_item = open_days.groupby(["item_id", "promotion"])["target_value"].mean().unstack()
    assert (by_item[1] / by_item[0]).median() > 1.3


def test_when_messy_then_the_future_holds_the_store_calendar():
    future = demo.future_covariates(N_ITEMS, SEED, horizon=14, messy=True)
    regions = future["item_id"].map(demo.item_catalogue(N_ITEMS).set_index("item_id")["region"])
    sunday = future["timestamp"].dt.dayofweek == 6
    expected = ~(regions.isin(demo_messy.SUNDAY_CLOSED_REGIONS) & sunday) & ~future["timestamp"].dt.strftime(
        "%m-%d"
    ).isin(demo_messy.CLOSED_DAYS)
    assert future["open"].eq(expected.astype(np.int8)).all()
    assert (future["open"] == 0).any()
