"""`tidecast train`, `forecast` and `batch` as a user types them: --date-format, inputs checked
before the backtest, configuration errors exit 2, and an error leaves no progress line."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tidecast.automl.forecaster import AutoForecaster
from tidecast.cli.main import app

runner = CliRunner()
DAYS, HORIZON = 40, 3


def _panel() -> pd.DataFrame:
    """Two items of daily data from 1 January, every day at most the 12th written dd/mm/yyyy
    (so the column is ambiguous without --date-format), with a known promotion column."""
    dates = pd.date_range("2023-01-01", periods=DAYS, freq="D")
    return pd.DataFrame(
        {
            "item_id": np.repeat(["a", "b"], DAYS),
            "timestamp": np.tile(dates, 2),
            "target": np.arange(2 * DAYS, dtype=float) % 7,
            "promo": np.tile(np.arange(DAYS) % 2, 2),
        }
    )


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    panel = _panel()
    day_first = panel.assign(timestamp=panel["timestamp"].dt.strftime("%d/%m/%Y"))
    # Keep the first 12 days only: every value reads both as dd/mm and mm/dd.
    ambiguous = day_first[panel["timestamp"] <= "2023-01-12"]
    future = pd.DataFrame(
        {
            "item_id": np.repeat(["a", "b"], HORIZON),
            "timestamp": np.tile(pd.date_range("2023-02-10", periods=HORIZON, freq="D"), 2),
            "promo": 1,
        }
    )
    paths = {"iso": tmp_path / "iso.csv", "dmy": tmp_path / "dmy.csv", "future": tmp_path / "future.csv"}
    panel.to_csv(paths["iso"], index=False)
    ambiguous.to_csv(paths["dmy"], index=False)
    future.to_csv(paths["future"], index=False)
    return paths


def train(*args: str):
    base = ["train", "--horizon", str(HORIZON), "--models", "Naive", "--backtest-windows", "1", "--jobs", "1"]
    return runner.invoke(app, [*base, *args])


def _no_backtest(*args, **kwargs):
    raise AssertionError("the backtest started before the inputs were checked")


def test_when_dates_are_ambiguous_then_train_exits_2_and_date_format_resolves_them(files, tmp_path):
    refused = train(str(files["dmy"]), "--out", str(tmp_path / "r1"))
    assert refused.exit_code == 2 and "ambiguous dates" in refused.output
    result = train(str(files["dmy"]), "--out", str(tmp_path / "r2"), "--date-format", "%d/%m/%Y")
    assert result.exit_code == 0, result.output
    forecasts = pd.read_csv(tmp_path / "r2" / "forecasts.csv")
    assert forecasts["timestamp"].min() == "2023-01-13"  # day-first: the data ends on 12 January


def test_when_the_future_lacks_a_covariate_then_train_fails_before_the_backtest(files, tmp_path, monkeypatch):
    monkeypatch.setattr(AutoForecaster, "_backtest", _no_backtest)
    pd.read_csv(files["future"]).drop(columns="promo").to_csv(tmp_path / "bad.csv", index=False)
    result = train(
        str(files["iso"]), "--known-covariates", "promo", "--future", str(tmp_path / "bad.csv"),
        "--out", str(tmp_path / "r"),
    )  # fmt: skip
    assert result.exit_code == 2 and "lack column(s) ['promo']" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--holidays", "XX"], "unknown holiday country 'XX'"),
        (["--horizon", "100000000"], "horizon"),
        (["--model-params", '{"Naive": {"window": 3}}'], "Naive"),
        (["--model-params", '{"LightGBM": {"monotone_covariates": {"promo": 2}}}'], "directions are -1"),
        (["--model-params", "[1]"], "--model-params must be a JSON object keyed by model name"),
    ],
)
def test_when_an_option_is_invalid_then_train_exits_2_before_any_work(
    files, tmp_path, monkeypatch, args, message
):
    monkeypatch.setattr(AutoForecaster, "_backtest", _no_backtest)
    result = train(str(files["iso"]), "--out", str(tmp_path / "r"), *args)
    assert result.exit_code == 2 and message in result.output


def test_when_train_fails_then_no_progress_line_follows_the_error(files, tmp_path):
    result = train(str(files["iso"]), "--target-col", "sales", "--out", str(tmp_path / "r"))
    assert result.exit_code == 2
    assert "prepare" not in result.output and "0/1" not in result.output


def test_when_newer_history_is_day_first_then_forecast_and_batch_read_it_with_date_format(files, tmp_path):
    assert train(str(files["iso"]), "--out", str(tmp_path / "run")).exit_code == 0
    newer = pd.read_csv(files["dmy"])
    newer.to_csv(tmp_path / "newer.csv", index=False)
    result = runner.invoke(
        app,
        ["forecast", str(tmp_path / "run"), "--data", str(tmp_path / "newer.csv"), "--date-format", "%d/%m/%Y",
         "--out", str(tmp_path / "f.csv")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp_path / "f.csv")["timestamp"].min() == "2023-01-13"
    batch = runner.invoke(
        app,
        ["batch", "--model", str(tmp_path / "run"), "--input", str(tmp_path / "newer.csv"), "--date-format",
         "%d/%m/%Y", "--output", str(tmp_path / "b"), "--format", "csv", "--jobs", "1"],
    )  # fmt: skip
    assert batch.exit_code == 0, batch.output
    part = pd.read_csv(next((tmp_path / "b" / "forecasts").glob("part-*.csv")))
    assert part["timestamp"].min() == "2023-01-13"


def test_when_a_glob_of_files_disagrees_on_columns_then_train_exits_2_naming_the_files(tmp_path, monkeypatch):
    """Stacked with gaps, item b's rows had no target and the error named rows of no file."""
    monkeypatch.setattr(AutoForecaster, "_backtest", _no_backtest)
    parts, panel = tmp_path / "parts", _panel()
    parts.mkdir()
    panel[panel["item_id"] == "a"].to_csv(parts / "a.csv", index=False)
    panel[panel["item_id"] == "b"].rename(columns={"target": "sales"}).to_csv(parts / "b.csv", index=False)
    result = train(str(parts / "*.csv"), "--out", str(tmp_path / "r"))
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert f"{parts / 'b.csv'} has column 'sales' that {parts / 'a.csv'} lacks" in said
    assert not (tmp_path / "r").exists()


def test_when_model_params_name_a_models_option_then_train_passes_it_to_that_model(
    files, tmp_path, monkeypatch
):
    """`--model-params` reaches the candidate: LightGBM built with the declared direction."""
    seen = {}
    original = AutoForecaster.__init__

    def spy(self, *args, **kwargs):
        seen.update(kwargs.get("model_params") or {})
        original(self, *args, **kwargs)

    monkeypatch.setattr(AutoForecaster, "__init__", spy)
    params = '{"LightGBM": {"monotone_covariates": {"promo": 1}}}'
    result = train(str(files["iso"]), "--model-params", params, "--out", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    assert seen == {"LightGBM": {"monotone_covariates": {"promo": 1}}}


def test_when_a_future_query_lacks_a_known_covariate_then_batch_exits_2_before_staging(files, tmp_path):
    """A `--future` query was run and the input staged before the missing column was found."""
    pytest.importorskip("duckdb")
    run = tmp_path / "run"
    known = ["--known-covariates", "promo", "--future", str(files["future"])]
    assert train(str(files["iso"]), *known, "--out", str(run)).exit_code == 0
    query = f"SELECT item_id, timestamp FROM '{files['future']}'"
    result = runner.invoke(
        app,
        ["batch", "--model", str(run), "--input", str(files["iso"]), "--future", query, "--output",
         str(tmp_path / "b"), "--jobs", "1"],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "no column(s) ['promo']" in result.output and "staging" not in result.output
    assert not (tmp_path / "b" / "_staging").exists()
