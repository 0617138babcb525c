import numpy as np
import pandas as pd
import pytest

from tidecast.data import demo


@pytest.fixture(scope="module")
def sales() -> pd.DataFrame:
    return demo.generate(125, seed=42)


def test_when_generated_then_it_has_the_recipe_columns_and_grid(sales):
    assert list(sales.columns) == [
        "timestamp",
        "target_value",
        "item_id",
        "category",
        "product",
        "region",
        "promotion",
        "is_holiday",
        "day_of_week",
        "month",
        "quarter",
    ]
    assert sales["item_id"].nunique() == 125
    assert len(sales) == 125 * 1095
    assert sales["timestamp"].min() == pd.Timestamp("2021-01-01")
    assert sales["timestamp"].max() == pd.Timestamp("2023-12-31")
    assert set(sales["category"]) == set(demo.CATEGORIES)
    assert sales.groupby("item_id").size().eq(1095).all()


def test_when_generated_then_effects_have_the_recipe_magnitudes(sales):
    assert (sales["target_value"] >= 0).all()
    assert 0.04 < sales["promotion"].mean() < 0.06
    # 12 holidays a year over 3 years, flagged on the day itself for every item.
    assert sales.loc[sales["is_holiday"] == 1, "timestamp"].nunique() == 12
    # Promotions add 70% of the base demand: early on, before the trend dominates, promoted
    # days sell clearly more than the same items' other days.
    early = sales[(sales["timestamp"] < "2021-02-01") & (sales["category"] != "books")]
    by_item = early.groupby(["item_id", "promotion"])["target_value"].mean().unstack()
    assert (by_item[1] / by_item[0]).median() > 1.15
    # Books trend down to zero; electronics grow about 20-fold over three years.
    last = sales[sales["timestamp"] == "2023-12-31"].groupby("category")["target_value"].mean()
    first = sales[sales["timestamp"] == "2021-01-01"].groupby("category")["target_value"].mean()
    assert last["books"] == 0.0
    assert 10 < last["electronics"] / first["electronics"] < 30


def test_when_a_day_is_near_a_holiday_then_the_boost_follows_the_window():
    dates = pd.to_datetime(
        [
            "2022-12-15",
            "2022-12-18",
            "2022-12-23",
            "2022-12-25",
            "2022-12-30",
            "2022-12-31",
            "2023-03-01",
            "2023-12-31",
        ]
    )
    # As in the recipe, every holiday in date order overwrites the boost of the days in its
    # window: Dec 18 is 7 days before Christmas (0.4), Dec 23 two days (0.8), but Christmas Day
    # itself is 7 days before New Year, which comes later in the list (0.4). Dec 30-31 are
    # within two days of New Year (0.8); Dec 31 2023 has no New Year 2024 after it (0.4).
    assert demo.holiday_boost(pd.DatetimeIndex(dates)).tolist() == [0.0, 0.4, 0.8, 0.4, 0.8, 0.8, 0.0, 0.4]


def test_when_the_seed_is_the_same_then_the_data_is_identical():
    a = demo.generate(10, seed=7)
    b = demo.generate(10, seed=7)
    c = demo.generate(10, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["target_value"], c["target_value"])


def test_when_more_items_are_asked_then_product_lines_are_added():
    catalogue = demo.item_catalogue(300)
    assert len(catalogue) == 300
    assert catalogue["item_id"].is_unique
    assert "electronics_laptop2_North" in set(catalogue["item_id"])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_when_written_then_the_file_reads_back(tmp_path, suffix):
    path = tmp_path / f"sales{suffix}"
    rows = demo.write(path, n_items=6, seed=1)
    back = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    assert rows == len(back) == 6 * 1095
    expected = demo.generate(6, seed=1)
    assert np.allclose(np.sort(back["target_value"].to_numpy()), np.sort(expected["target_value"].to_numpy()))


def test_when_items_is_not_positive_then_a_clear_error():
    with pytest.raises(ValueError, match="at least 1"):
        demo.item_catalogue(0)
