"""Items named "NA" and "null" (Namibia, a product code) train, forecast and batch as
themselves from a CSV; an empty id is still a row without an item, named."""

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from tidecast.cli.main import app

runner = CliRunner()
DAYS, HORIZON = 30, 3
ITEMS = ["NA", "null", "x"]


def _write(path: Path, items: list[str]) -> None:
    dates = pd.date_range("2024-01-01", periods=DAYS, freq="D").strftime("%Y-%m-%d")
    rows = ["item_id,timestamp,target,region"]
    for item in items:
        region = "NA" if item == "NA" else "EU"  # North America, a category
        rows += [f"{item},{day},{k % 5},{region}" for k, day in enumerate(dates)]
    path.write_text("\n".join(rows) + "\n")


def _ids(path: Path) -> list[str]:
    return sorted(pd.read_csv(path, keep_default_na=False)["item_id"].unique())


def test_when_items_are_named_na_and_null_then_train_forecast_and_batch_keep_them(tmp_path: Path) -> None:
    data = tmp_path / "sales.csv"
    _write(data, ITEMS)
    common = ["--horizon", str(HORIZON), "--models", "Naive", "--backtest-windows", "1", "--jobs", "1"]
    trained = runner.invoke(
        app, ["train", str(data), *common, "--static-columns", "region", "--out", str(tmp_path / "run")]
    )
    assert trained.exit_code == 0, trained.output
    assert _ids(tmp_path / "run" / "forecasts.csv") == sorted(ITEMS)
    forecast = runner.invoke(
        app, ["forecast", str(tmp_path / "run"), "--data", str(data), "--out", str(tmp_path / "f.csv")]
    )
    assert forecast.exit_code == 0, forecast.output
    assert _ids(tmp_path / "f.csv") == sorted(ITEMS)
    batch = runner.invoke(
        app,
        ["batch", "--model", str(tmp_path / "run"), "--input", str(data), "--output", str(tmp_path / "b"),
         "--format", "csv", "--jobs", "1"],
    )  # fmt: skip
    assert batch.exit_code == 0, batch.output
    [part] = (tmp_path / "b" / "forecasts").glob("part-*.csv")
    assert _ids(part) == sorted(ITEMS)


def test_when_an_item_id_is_empty_then_train_exits_2_naming_the_rows(tmp_path: Path) -> None:
    data = tmp_path / "sales.csv"
    _write(data, ["NA", ""])
    result = runner.invoke(
        app, ["train", str(data), "--horizon", "3", "--models", "Naive", "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert f"has {DAYS} missing item ids (rows {DAYS}, {DAYS + 1}" in said
