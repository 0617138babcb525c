import hashlib

import numpy as np
import pandas as pd
import pytest

from tidecast.data import demo, demo_messy
from tidecast.errors import ConfigError

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
    assert int((messy["target_value"] < 0).sum()) == 163
    assert int((messy["open"] == 0).sum()) == 2_123
    assert int((messy["target_value"] == 0).sum()) == 2_123  # the clean demand is never 0 here


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


@pytest.fixture(scope="module")
def beside(messy) -> pd.DataFrame:
    """The messy rows beside the clean demand and promotion units of the same item and day."""
    clean = demo.generate(N_ITEMS, seed=SEED).rename(columns={"target_value": "clean"})
    units = demo.promotion_lift(N_ITEMS, SEED, days=DAYS).rename(columns={"lift": "units"})
    keys = ["item_id", "timestamp"]
    return messy.merge(clean[[*keys, "clean"]], on=keys).merge(units, on=keys)


def test_when_messy_then_open_unpromoted_days_keep_the_clean_demand(beside):
    usual = beside[(beside["open"] == 1) & (beside["promotion"] == 0) & (beside["target_value"] >= 0)]
    assert len(usual) > 30_000
    np.testing.assert_array_equal(usual["target_value"], usual["clean"])


def test_when_promoted_then_the_clean_units_are_replaced_by_the_items_lift(beside, plan):
    lift = beside["item_id"].map(plan.set_index("item_id")["lift"])
    promoted = (beside["open"] == 1) & (beside["promotion"] == 1) & (beside["target_value"] >= 0)
    expected = np.round(np.maximum(beside["clean"] - beside["units"], 0.0) * lift, 2)
    assert promoted.sum() > 1_000
    np.testing.assert_allclose(beside.loc[promoted, "target_value"], expected[promoted], atol=0.006)


def test_when_demand_is_planned_then_lift_replaces_the_units_and_wide_scales_rescale():
    chunk = pd.DataFrame({"target_value": [10.0, 30.0, 4.0, 8.0], "promotion": [0, 1, 1, 0]})
    plan = pd.DataFrame({"level": [100.0, 1.0], "lift": [2.0, 1.5]})
    units = np.array([[5.0, 10.0], [6.0, 6.0]])
    np.testing.assert_array_equal(
        demo_messy.planned_demand(chunk, 2, plan, units), [[10.0, 40.0], [0.0, 8.0]]
    )
    wide = demo_messy.planned_demand(chunk, 2, plan, units, wide_scales=True)
    np.testing.assert_allclose(wide, [[40.0, 160.0], [0.0, 2.0]])


def test_when_wide_scales_then_levels_span_four_decades_on_the_same_plan(messy):
    wide = demo.generate(N_ITEMS, seed=SEED, messy=True, wide_scales=True)
    mean = wide.groupby("item_id")["target_value"].mean()
    assert mean.max() / mean.min() > 1e4
    pd.testing.assert_frame_equal(wide.drop(columns="target_value"), messy.drop(columns="target_value"))
    assert ((wide["target_value"] < 0) == (messy["target_value"] < 0)).all()  # returns on the same days
    open_days = wide[wide["open"] == 1]
    by_item = open_days.groupby(["item_id", "promotion"])["target_value"].mean().unstack()
    assert (by_item[1] / by_item[0]).median() > 1.3


def test_when_wide_scales_without_messy_then_config_error(tmp_path):
    with pytest.raises(ConfigError, match="variant of the messy demo"):
        demo.generate(3, wide_scales=True)
    with pytest.raises(ConfigError, match="variant of the messy demo"):
        demo.write(tmp_path / "x.csv", n_items=3, wide_scales=True)
    assert not (tmp_path / "x.csv").exists()


def test_when_the_truth_is_asked_then_it_is_the_plan_and_the_expected_sales(messy, plan):
    truth_plan, expected = demo.messy_truth(N_ITEMS, SEED)
    pd.testing.assert_frame_equal(truth_plan, plan)
    day = {ts: i for i, ts in enumerate(DAYS)}
    row = {item: i for i, item in enumerate(plan["item_id"])}
    at = expected[messy["item_id"].map(row), messy["timestamp"].map(day)]
    sold = messy["target_value"] >= 0
    np.testing.assert_allclose(messy.loc[sold, "target_value"], at[sold.to_numpy()], atol=0.006)


def test_when_messy_then_the_future_holds_the_store_calendar():
    future = demo.future_covariates(N_ITEMS, SEED, horizon=14, messy=True)
    regions = future["item_id"].map(demo.item_catalogue(N_ITEMS).set_index("item_id")["region"])
    sunday = future["timestamp"].dt.dayofweek == 6
    expected = ~(regions.isin(demo_messy.SUNDAY_CLOSED_REGIONS) & sunday) & ~future["timestamp"].dt.strftime(
        "%m-%d"
    ).isin(demo_messy.CLOSED_DAYS)
    assert future["open"].eq(expected.astype(np.int8)).all()
    assert (future["open"] == 0).any()
