"""Forecasts give the item key back as the user's data typed it: store 1 of an int64 column is
the integer 1, so the forecast merges onto that table and store 2 comes before store 10."""

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tidecast.automl.forecaster import AutoForecaster
from tidecast.batch.runner import run_batch
from tidecast.coldstart.engine import forecast_with_new_items
from tidecast.errors import DataError
from tidecast.reports.run import FORECASTS_PARQUET, write_run

DAYS = 28


def sales(stores: list, depts: list | None = None) -> pd.DataFrame:
    """Daily sales of each store (and department), a weekly pattern scaled per series."""
    dates = pd.date_range("2024-01-01", periods=DAYS, freq="D")
    rows = []
    for k, store in enumerate(stores):
        for j, dept in enumerate(depts or [None]):
            level = 10.0 * (k + 1) + j
            for t, date in enumerate(dates):
                rows.append({"Store": store, "Dept": dept, "Date": date, "Sales": level + t % 7})
    frame = pd.DataFrame(rows)
    return frame if depts else frame.drop(columns="Dept")


def forecaster(item_col: str = "Store", **options: Any) -> AutoForecaster:
    return AutoForecaster(
        horizon=3,
        models=["SeasonalNaive"],
        n_jobs=1,
        item_col=item_col,
        timestamp_col="Date",
        target_col="Sales",
        **options,
    )


def merged(forecast: pd.DataFrame, data: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The forecast beside each key's last sale, as a user joins it back onto their table."""
    last = data.groupby(keys, as_index=False)["Sales"].last()
    return forecast.merge(last, on=keys, how="left", validate="many_to_one")


@pytest.fixture(scope="module")
def int_stores() -> tuple[pd.DataFrame, AutoForecaster]:
    data = sales([10, 2, 1])
    return data, forecaster().fit(data)


def test_when_the_store_column_is_int64_then_the_forecast_has_int64_stores_in_their_order(int_stores):
    data, auto = int_stores
    forecast = auto.predict()
    assert forecast["Store"].dtype == np.int64
    assert forecast["Store"].tolist() == [1] * 3 + [2] * 3 + [10] * 3  # 2 before 10
    assert merged(forecast, data, ["Store"])["Sales"].notna().all()
    assert auto.history_["item_id"].unique().tolist() == ["1", "10", "2"]  # ids stay text inside
    backtests = auto.backtest_forecasts()
    assert backtests["Store"].dtype == np.int64
    assert backtests.groupby(["model", "window"], sort=False)["Store"].first().tolist() == [1] * len(
        backtests[["model", "window"]].drop_duplicates()
    )


def test_when_newer_history_holds_the_stores_as_text_then_the_forecast_keeps_the_trained_type(int_stores):
    data, auto = int_stores
    forecast = auto.predict(data.astype({"Store": str}))
    assert forecast["Store"].dtype == np.int64
    assert forecast["Store"].unique().tolist() == [1, 2, 10]


def test_when_an_id_would_not_come_back_as_itself_then_the_column_stays_text(int_stores):
    data, auto = int_stores
    newer = data.astype({"Store": str}).replace({"Store": {"1": "A-1"}})
    forecast = auto.predict(newer)
    assert forecast["Store"].dtype == object
    assert sorted(forecast["Store"].unique()) == ["10", "2", "A-1"]


def test_when_a_key_of_two_int_columns_is_forecast_then_both_parts_are_int64():
    data = sales([10, 1], depts=[3, 20])
    forecast = forecaster("Store,Dept").fit(data).predict()
    assert forecast[["Store", "Dept"]].dtypes.tolist() == [np.int64, np.int64]
    pairs = forecast[["Store", "Dept"]].drop_duplicates().apply(tuple, axis=1).tolist()
    assert pairs == [(1, 3), (1, 20), (10, 3), (10, 20)]
    assert merged(forecast, data, ["Store", "Dept"])["Sales"].notna().all()


def test_when_one_part_is_text_then_it_stays_text_and_the_other_is_int64():
    data = sales([10, 1], depts=["007", "B"])
    forecast = forecaster("Store,Dept").fit(data).predict()
    assert forecast["Store"].dtype == np.int64 and forecast["Dept"].dtype == object
    assert merged(forecast, data, ["Store", "Dept"])["Sales"].notna().all()


def test_when_a_float_store_column_has_a_missing_store_then_the_row_is_refused_and_stores_are_integers():
    """pandas makes a store column float for one missing store; its ids are the integers
    ("1", not "1.0"), so the forecast gives them as int64, which merges onto the floats."""
    data = sales([1.0, 2.0, 10.0])
    missing = pd.DataFrame({"Store": [np.nan], "Date": [pd.Timestamp("2024-01-05")], "Sales": [3.0]})
    with_missing = pd.concat([data, missing], ignore_index=True)
    with pytest.raises(DataError, match="1 missing item id "):
        forecaster().fit(with_missing)
    kept = with_missing.dropna(subset=["Store"])  # still float64, as pandas leaves it
    auto = forecaster().fit(kept)
    assert auto.history_["item_id"].unique().tolist() == ["1", "10", "2"]  # not "1.0"
    forecast = auto.predict()
    assert forecast["Store"].dtype == np.int64
    assert forecast["Store"].unique().tolist() == [1, 2, 10]
    assert merged(forecast, kept, ["Store"])["Sales"].notna().all()
    fractions = forecaster().fit(sales([1.0, 2.5])).predict()  # genuinely fractional ids
    assert fractions["Store"].dtype == np.float64 and fractions["Store"].unique().tolist() == [1.0, 2.5]


def test_when_the_key_is_text_then_it_stays_text():
    data = sales(["007", "B", "10", "2"])
    forecast = forecaster().fit(data).predict()
    assert forecast["Store"].dtype == object
    assert forecast["Store"].unique().tolist() == ["007", "10", "2", "B"]


def test_a_saved_model_keeps_the_types_and_one_saved_before_them_gives_text(int_stores, tmp_path):
    _, auto = int_stores
    loaded = AutoForecaster.load(auto.save(tmp_path / "model"))
    assert loaded.predict()["Store"].dtype == np.int64
    older = AutoForecaster.load(auto.save(tmp_path / "older"))
    del older.spec_.__dict__["item_types"]  # a spec pickled before the field existed
    older.save(tmp_path / "older")
    forecast = AutoForecaster.load(tmp_path / "older").predict()
    assert forecast["Store"].dtype == object
    assert forecast["Store"].unique().tolist() == ["1", "10", "2"]  # as before: text, text order


def test_a_run_folder_and_batch_parts_hold_the_stores_as_int64(int_stores, tmp_path):
    data, auto = int_stores
    paths = write_run(auto, auto.predict(), tmp_path / "run")
    assert pd.read_parquet(paths["forecasts_parquet"])["Store"].dtype == np.int64
    assert paths["forecasts_parquet"].name == FORECASTS_PARQUET
    data.to_parquet(tmp_path / "in.parquet", index=False)
    run_batch(tmp_path / "run" / "model", tmp_path / "in.parquet", tmp_path / "batch", workers=1)
    parts = pd.read_parquet(tmp_path / "batch" / "forecasts")
    assert parts["Store"].dtype == np.int64
    assert sorted(parts["Store"].unique()) == [1, 2, 10]


def test_when_a_csv_holds_integer_stores_then_they_come_back_as_int64(tmp_path: Path):
    sales([10, 2, 1]).to_csv(tmp_path / "sales.csv", index=False)
    forecast = forecaster().fit(tmp_path / "sales.csv").predict()
    assert forecast["Store"].dtype == np.int64 and forecast["Store"].unique().tolist() == [1, 2, 10]
    sales(["01", "2"]).to_csv(tmp_path / "zeros.csv", index=False)  # 01 is not the number 1
    assert forecaster().fit(tmp_path / "zeros.csv").predict()["Store"].unique().tolist() == ["01", "2"]


def test_a_cold_start_beside_int64_stores_gives_every_store_as_int64():
    data = sales([10, 2, 1, 3]).assign(brand=lambda f: np.where(f["Store"] < 3, "A", "B"))
    auto = forecaster(static_columns=["brand"]).fit(data)
    new = pd.DataFrame({"Store": [20], "brand": ["A"]})
    out = forecast_with_new_items(auto, new, min_peers=2)
    assert out["Store"].dtype == np.int64
    assert out.loc[out["cold_start"], "Store"].unique().tolist() == [20]
    assert out.loc[~out["cold_start"], "Store"].unique().tolist() == [1, 2, 3, 10]
