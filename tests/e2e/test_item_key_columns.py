"""`--item-col Store,Dept`: a store x department file keyed by two columns, end to end.

The forecasts must equal those of the same rows with one joined id column (the key is only
another way to name the same series), and every output names the series by both columns.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tidecast.cli.main import app

runner = CliRunner()
KEY = ["Store", "Dept"]
OPTIONS = [
    "--horizon", "6", "--timestamp-col", "Date", "--target-col", "Sales",
    "--known-covariates", "promo", "--models", "seasonalnaive,lightgbm",
    "--backtest-windows", "1", "--jobs", "1",
]  # fmt: skip


def ok(args: list[str]) -> str:
    """Run the command line; it must succeed (its output is the failure's message)."""
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """Weekly sales of 3 stores x 2 departments (one store's ids with leading zeros), a store
    table, the promotions over the horizon; and the same rows keyed by one joined id."""
    root = tmp_path_factory.mktemp("keys")
    rng = np.random.default_rng(3)
    dates = pd.date_range("2022-01-07", periods=90, freq="W-FRI")
    rows, future = [], []
    for store, size in (("01", 90), ("2", 150), ("10", 120)):
        for dept in ("1", "7"):
            level = size * (2 if dept == "7" else 1)
            promo = (rng.random(96) < 0.2).astype(int)
            season = 1 + 0.3 * np.sin(np.arange(96) * 2 * np.pi / 52)
            sales = level * season * (1 + 0.5 * promo) + rng.normal(0, 3, 96)
            rows += [(store, dept, d, s, p) for d, s, p in zip(dates, sales[:90], promo[:90], strict=True)]
            ahead = pd.date_range(dates[-1], periods=7, freq="W-FRI")[1:]
            future += [(store, dept, d, p) for d, p in zip(ahead, promo[90:], strict=True)]
    sales = pd.DataFrame(rows, columns=[*KEY, "Date", "Sales", "promo"])
    sales.to_csv(root / "sales.csv", index=False)
    pd.DataFrame(future, columns=[*KEY, "Date", "promo"]).to_csv(root / "future.csv", index=False)
    stores = pd.DataFrame({"Store": ["01", "2", "10"], "Size": [90, 150, 120], "Type": ["A", "B", "A"]})
    stores.to_csv(root / "stores.csv", index=False)
    joined = sales.assign(item=sales["Store"] + "|" + sales["Dept"]).merge(stores, on="Store")
    joined.drop(columns=KEY).to_csv(root / "joined.csv", index=False)
    fut = pd.read_csv(root / "future.csv", dtype=str)
    fut.assign(item=fut["Store"] + "|" + fut["Dept"]).drop(columns=KEY).to_csv(
        root / "joined_future.csv", index=False
    )
    return root


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"Store": str, "Dept": str})


def test_a_two_column_key_forecasts_as_one_joined_id_does_and_writes_both_columns(files):
    ok([
        "train", str(files / "sales.csv"), *OPTIONS, "--item-col", "Store,Dept",
        "--future", str(files / "future.csv"), "--item-metadata", str(files / "stores.csv"),
        "--static-columns", "Size,Type", "--out", str(files / "keyed"),
    ])  # fmt: skip
    ok([
        "train", str(files / "joined.csv"), *OPTIONS, "--item-col", "item",
        "--future", str(files / "joined_future.csv"), "--static-columns", "Size,Type",
        "--out", str(files / "joined"),
    ])  # fmt: skip
    keyed = read(files / "keyed" / "forecasts.csv")
    joined = pd.read_csv(files / "joined" / "forecasts.csv", dtype={"item": str})
    assert list(keyed.columns[:3]) == ["Store", "Dept", "Date"]
    assert len(keyed) == 6 * 6
    assert sorted(set(zip(keyed["Store"], keyed["Dept"], strict=True))) == sorted(
        (s, d) for s in ("01", "2", "10") for d in ("1", "7")
    )
    as_joined = keyed.assign(item=keyed["Store"] + "|" + keyed["Dept"]).drop(columns=KEY)
    pd.testing.assert_frame_equal(as_joined[joined.columns], joined)

    backtests = read(files / "keyed" / "backtest_forecasts.csv")
    assert {"Store", "Dept"} <= set(backtests.columns)
    assert "Store,Dept" not in backtests.columns


def test_forecast_batch_and_explain_of_a_keyed_model_name_both_columns(files):
    model = files / "keyed"
    if not (model / "model").is_dir():
        pytest.skip("needs the trained model of the test above")
    trained = read(model / "forecasts.csv")
    ok(["forecast", str(model), "--future", str(files / "future.csv"), "--out", str(files / "again.csv")])
    pd.testing.assert_frame_equal(read(files / "again.csv"), trained)

    ok([
        "batch", "--model", str(model / "model"), "--input", str(files / "sales.csv"),
        "--future", str(files / "future.csv"), "--output", str(files / "batch"),
        "--chunk-rows", "200", "--workers", "1",
    ])  # fmt: skip
    batch = pd.read_parquet(files / "batch" / "forecasts")
    # as the CSV typed them: stores with "01" stay text, departments 1 and 7 are integers
    assert (batch["Store"].dtype, batch["Dept"].dtype) == (object, np.int64)
    batch["Date"] = batch["Date"].dt.strftime("%Y-%m-%d")
    merged = trained.merge(batch.astype({"Dept": str}), on=["Store", "Dept", "Date"], suffixes=("", "_batch"))
    assert len(merged) == len(trained)
    np.testing.assert_allclose(merged["p50_batch"], merged["p50"], rtol=1e-9)
    assert list(pd.read_csv(files / "batch" / "failures.csv").columns) == ["Store", "Dept", "reason"]
    query = f"SELECT Store, Dept, Date, promo FROM read_csv('{files / 'future.csv'}', all_varchar=true)"
    ok([
        "batch", "--model", str(model / "model"), "--input", str(files / "sales.csv"),
        "--future", query, "--output", str(files / "batch-sql"), "--chunk-rows", "200", "--workers", "1",
    ])  # fmt: skip
    by_query = pd.read_parquet(files / "batch-sql" / "forecasts")
    by_query["Date"] = by_query["Date"].dt.strftime("%Y-%m-%d")
    keys = ["Store", "Dept", "Date"]
    pd.testing.assert_frame_equal(
        by_query.sort_values(keys, ignore_index=True), batch.sort_values(keys, ignore_index=True)
    )

    ok(["report", str(model), "--out", str(files / "report.html")])
    page = (files / "report.html").read_text()
    assert "01|1" in page and "01|7" in page  # the backtests' "01" read back as text, not 1

    ok(["explain", str(model), "--future", str(files / "future.csv"), "--out", str(files / "why")])
    per_item = read(files / "why" / "explanation_items.csv")
    assert list(per_item.columns[:2]) == KEY
    assert set(per_item["Store"]) == {"01", "2", "10"}


def test_a_store_table_without_a_store_of_the_data_is_named(files):
    stores = read(files / "stores.csv")
    stores[stores["Store"] != "10"].to_csv(files / "two_stores.csv", index=False)
    result = runner.invoke(
        app,
        [
            "train", str(files / "sales.csv"), *OPTIONS, "--item-col", "Store,Dept",
            "--future", str(files / "future.csv"), "--item-metadata", str(files / "two_stores.csv"),
            "--static-columns", "Size", "--out", str(files / "bad"),
        ],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "1 key of ['Store'] has no row in the item metadata: ['10']" in " ".join(result.output.split())


def test_a_future_file_lacking_a_key_column_is_named(files):
    read(files / "future.csv").drop(columns=["Dept"]).to_csv(files / "no_dept.csv", index=False)
    result = runner.invoke(
        app,
        [
            "train", str(files / "sales.csv"), *OPTIONS, "--item-col", "Store,Dept",
            "--future", str(files / "no_dept.csv"), "--out", str(files / "bad2"),
        ],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "Store,Dept (lacking Dept)" in " ".join(result.output.split())


def test_a_parquet_whose_store_column_is_float_matches_a_csv_future_and_batch(files, tmp_path):
    """pandas writes an integer column with a missing value as floats: store 2 is 2.0 there.
    Training keyed it "2.0" and batch staging "2", and the CSV future's `2` matched neither."""
    sales = read(files / "sales.csv")
    sales = sales[sales["Store"] != "01"].astype({"Store": float, "Dept": float})
    sales.to_parquet(tmp_path / "sales.parquet", index=False)
    future = read(files / "future.csv")
    future[future["Store"] != "01"].to_csv(tmp_path / "future.csv", index=False)
    stores = read(files / "stores.csv")
    stores[stores["Store"] != "01"].astype({"Store": float}).to_parquet(tmp_path / "stores.parquet")
    ok([
        "train", str(tmp_path / "sales.parquet"), *OPTIONS, "--item-col", "Store,Dept",
        "--future", str(tmp_path / "future.csv"), "--item-metadata", str(tmp_path / "stores.parquet"),
        "--static-columns", "Size,Type", "--out", str(tmp_path / "run"),
    ])  # fmt: skip
    trained = read(tmp_path / "run" / "forecasts.csv")
    assert sorted(set(zip(trained["Store"], trained["Dept"], strict=True))) == [
        ("10", "1"), ("10", "7"), ("2", "1"), ("2", "7")
    ]  # fmt: skip
    ok([
        "batch", "--model", str(tmp_path / "run" / "model"), "--input", str(tmp_path / "sales.parquet"),
        "--future", str(tmp_path / "future.csv"), "--output", str(tmp_path / "batch"), "--workers", "1",
    ])  # fmt: skip
    batch = pd.read_parquet(tmp_path / "batch" / "forecasts")  # whole floats come back as integers
    assert sorted(set(zip(batch["Store"], batch["Dept"], strict=True))) == [(2, 1), (2, 7), (10, 1), (10, 7)]
    assert (batch["Store"].dtype, batch["Dept"].dtype) == (np.int64, np.int64)
