"""End-to-end runs of the `tidecast` command as a user types it, in a subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow


def tidecast(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "tidecast.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def sales(workdir: Path) -> Path:
    result = tidecast("demo-data", "--out", "sales.csv", "--items", "8", "--seed", "3", cwd=workdir)
    assert result.returncode == 0, result.stderr
    return workdir / "sales.csv"


@pytest.fixture(scope="module")
def trained(workdir: Path, sales: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    result = tidecast(
        "train",
        str(sales),
        "--horizon",
        "14",
        "--quantiles",
        "0.1,0.5,0.9",
        "--metric",
        "wql",
        "--item-col",
        "item_id",
        "--timestamp-col",
        "timestamp",
        "--target-col",
        "target_value",
        "--freq",
        "D",
        "--preset",
        "fast",
        "--backtest-windows",
        "2",
        "--models",
        "SeasonalNaive,Naive,AutoTheta",
        "--jobs",
        "1",
        "--out",
        "runs/demo",
        cwd=workdir,
    )
    assert result.returncode == 0, result.stderr
    return workdir / "runs" / "demo", result


def test_when_training_then_every_output_is_written_under_its_fixed_name(trained):
    run, result = trained
    forecasts = pd.read_csv(run / "forecasts.csv", parse_dates=["timestamp"])
    assert list(forecasts.columns) == ["item_id", "timestamp", "mean", "p10", "p50", "p90"]
    assert len(forecasts) == 8 * 14
    assert forecasts["timestamp"].min() == pd.Timestamp("2024-01-01")
    assert forecasts["timestamp"].max() == pd.Timestamp("2024-01-14")
    assert (forecasts["p10"] <= forecasts["p50"]).all() and (forecasts["p50"] <= forecasts["p90"]).all()
    pd.testing.assert_frame_equal(
        pd.read_parquet(run / "forecasts.parquet"),
        forecasts,
        check_dtype=False,
        check_datetimelike_compat=True,
    )
    board = pd.read_csv(run / "leaderboard.csv")
    assert set(board["model"]) >= {"SeasonalNaive", "Naive", "AutoTheta"}
    assert {"window_1_wql", "window_2_wql", "score", "fit_seconds", "predict_seconds"} <= set(board.columns)
    assert board["score"].is_monotonic_increasing
    report = json.loads((run / "report.json").read_text())
    assert report["data"]["items"] == 8
    assert report["frequency"] == "D"
    for candidate in report["candidates"]:
        assert len(candidate["window_metrics"]) == 2
        assert {"wql", "wape", "mape", "smape", "mase", "rmse", "coverage"} <= set(
            candidate["window_metrics"][0]
        )
    manifest = json.loads((run / "model" / "manifest.json").read_text())
    assert manifest["type"] == "tidecast.AutoForecaster"
    assert manifest["task"]["horizon"] == 14
    assert len(manifest["data_fingerprint"]) == 64
    assert "Leaderboard" in result.stdout and "forecasts" in result.stdout


def test_when_forecasting_from_the_saved_model_then_it_matches_the_training_forecast(trained, workdir):
    run, _ = trained
    result = tidecast("forecast", str(run), "--out", "again.csv", cwd=workdir)
    assert result.returncode == 0, result.stderr
    again = pd.read_csv(workdir / "again.csv")
    original = pd.read_csv(run / "forecasts.csv")
    pd.testing.assert_frame_equal(again, original)


def test_when_forecasting_from_newer_history_then_forecasts_start_after_it(trained, workdir, sales):
    run, _ = trained
    history = pd.read_csv(sales)
    older = history[history["timestamp"] <= "2023-11-30"]
    older.to_csv(workdir / "older.csv", index=False)
    result = tidecast("forecast", str(run), "--data", "older.csv", "--out", "from_older.csv", cwd=workdir)
    assert result.returncode == 0, result.stderr
    forecasts = pd.read_csv(workdir / "from_older.csv", parse_dates=["timestamp"])
    assert forecasts["timestamp"].min() == pd.Timestamp("2023-12-01")
    assert forecasts["item_id"].nunique() == 8


def test_when_backtesting_then_only_the_evaluation_is_written(workdir, sales):
    result = tidecast(
        "backtest",
        str(sales),
        "--horizon",
        "7",
        "--target-col",
        "target_value",
        "--models",
        "SeasonalNaive,Naive",
        "--backtest-windows",
        "2",
        "--metric",
        "mase",
        "--out",
        "runs/bt",
        cwd=workdir,
    )
    assert result.returncode == 0, result.stderr
    board = pd.read_csv(workdir / "runs" / "bt" / "leaderboard.csv")
    assert "window_2_mase" in board.columns
    assert not (workdir / "runs" / "bt" / "model").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target-col", "sales"], "sales"),
        (["--metric", "accuracy"], "accuracy"),
        (["--quantiles", "0.1,1.5"], "quantile"),
        (["--models", "Oracle"], "Oracle"),
    ],
)
def test_when_input_is_bad_then_one_line_error_and_nonzero_exit(workdir, sales, args, message):
    base = ["train", str(sales), "--horizon", "7", "--target-col", "target_value", "--out", "runs/bad"]
    result = tidecast(*base, *args, cwd=workdir)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_when_the_file_is_missing_then_a_clear_error(workdir):
    result = tidecast("train", "nope.csv", "--horizon", "7", cwd=workdir)
    assert result.returncode != 0
    assert "nope.csv" in result.stderr
    assert "Traceback" not in result.stderr


def test_when_timestamps_are_garbage_then_the_error_names_the_rows(workdir):
    bad = workdir / "bad.csv"
    bad.write_text("item_id,timestamp,target\na,2024-01-01,1\na,not-a-date,2\n")
    result = tidecast("train", str(bad), "--horizon", "2", cwd=workdir)
    assert result.returncode != 0
    assert "not-a-date" in result.stderr


@pytest.fixture(scope="module")
def with_future(workdir: Path) -> tuple[Path, Path]:
    result = tidecast(
        "demo-data",
        "--out",
        "promo.csv",
        "--items",
        "6",
        "--seed",
        "5",
        "--future-out",
        "promo_future.csv",
        "--horizon",
        "7",
        cwd=workdir,
    )
    assert result.returncode == 0, result.stderr
    assert "next 7 days" in result.stderr
    return workdir / "promo.csv", workdir / "promo_future.csv"


COVARIATE_ARGS = (
    "--horizon",
    "7",
    "--target-col",
    "target_value",
    "--known-covariates",
    "promotion,is_holiday",
    "--static-columns",
    "category,region",
    "--holidays",
    "US",
    "--models",
    "SeasonalNaive,DynamicRegression",
    "--backtest-windows",
    "1",
    "--jobs",
    "1",
)


def test_when_training_with_covariates_then_the_future_file_drives_the_forecast(workdir, with_future):
    sales, future = with_future
    result = tidecast(
        "train", str(sales), *COVARIATE_ARGS, "--future", str(future), "--out", "cov", cwd=workdir
    )
    assert result.returncode == 0, result.stderr
    forecasts = pd.read_csv(workdir / "cov" / "forecasts.csv")
    assert len(forecasts) == 6 * 7 and forecasts["timestamp"].min() == "2024-01-01"
    report = json.loads((workdir / "cov" / "report.json").read_text())
    spec = json.loads((workdir / "cov" / "model" / "manifest.json").read_text())
    assert "DynamicRegression" in json.dumps(report)
    assert "promotion" in json.dumps(spec)
    again = tidecast("forecast", "cov", "--future", str(future), "--out", "again.csv", cwd=workdir)
    assert again.returncode == 0, again.stderr
    pd.testing.assert_frame_equal(pd.read_csv(workdir / "again.csv"), forecasts)


def test_when_the_plan_rides_in_the_data_then_train_forecasts_from_it_as_from_a_future_file(
    workdir, with_future
):
    sales, future = with_future
    combined = pd.concat([pd.read_csv(sales), pd.read_csv(future)], ignore_index=True)
    combined.to_csv(workdir / "with_plan.csv", index=False)  # the plan's rows: target empty
    result = tidecast("train", "with_plan.csv", *COVARIATE_ARGS, "--out", "plan", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "the data's own 42 rows after its last target date" in " ".join(result.stdout.split())
    given = tidecast(
        "train", str(sales), *COVARIATE_ARGS, "--future", str(future), "--out", "plan_file", cwd=workdir
    )
    assert given.returncode == 0, given.stderr
    pd.testing.assert_frame_equal(
        pd.read_csv(workdir / "plan" / "forecasts.csv"), pd.read_csv(workdir / "plan_file" / "forecasts.csv")
    )


def test_when_known_covariates_have_no_future_anywhere_then_train_stops_before_the_backtest(workdir, sales):
    result = tidecast("train", str(sales), *COVARIATE_ARGS, "--out", "no_future", cwd=workdir)
    assert result.returncode == 2
    assert "need their values over the 7 forecast steps" in " ".join(result.stderr.split())
    assert "WeightedEnsemble" not in result.stdout and not (workdir / "no_future").exists()


def test_when_the_future_file_lacks_a_covariate_then_training_fails_naming_it(workdir, with_future):
    sales, future = with_future
    pd.read_csv(future).drop(columns="promotion").to_csv(workdir / "bad_future.csv", index=False)
    result = tidecast(
        "train", str(sales), *COVARIATE_ARGS, "--future", "bad_future.csv", "--out", "bad", cwd=workdir
    )
    assert result.returncode == 2
    assert "lack column(s) ['promotion']" in result.stderr


def quick_backtest(workdir: Path, data: str, out: str, *options: str) -> subprocess.CompletedProcess[str]:
    """`tidecast backtest` of the demo columns: one window of 7 days, two naive models."""
    args = ["--horizon", "7", "--target-col", "target_value", "--backtest-windows", "1"]
    args += ["--models", "SeasonalNaive,Naive", *options, "--out", out]
    result = tidecast("backtest", data, *args, cwd=workdir)
    assert result.returncode == 0, result.stderr
    return result


def test_when_target_cells_are_missing_then_the_console_and_report_say_how_many_and_what_was_done(
    workdir, sales
):
    data = pd.read_csv(sales)
    blank = (data.groupby("item_id").cumcount() % 10 == 5).to_numpy()  # inside every series
    data.loc[blank, "target_value"] = None
    data.to_csv(workdir / "gappy.csv", index=False)
    result = quick_backtest(workdir, "gappy.csv", "runs/gaps")
    n = int(blank.sum())
    line = (
        f"missing: target: {n:,} missing cells ({n:,} middle) left missing for the models that take "
        "them, filled for the others by interpolation (gaps under a season) or seasonally (longer "
        "gaps) (take them: none of the candidates)"
    )
    assert line in " ".join(result.stdout.split())
    report = json.loads((workdir / "runs" / "gaps" / "report.json").read_text())
    assert report["missing_values"]["target_fill_for_other_models"] == "auto"
    assert report["missing_values"]["lines"] == [line.removeprefix("missing: ")]


def test_when_demo_data_is_messy_then_closures_and_gaps_are_written(workdir: Path):
    args = ("--items", "10", "--seed", "4", "--future-out", "messy_future.csv", "--horizon", "7")
    result = tidecast("demo-data", "--out", "messy.csv", "--messy", *args, cwd=workdir)
    assert result.returncode == 0, result.stderr
    messy, future = pd.read_csv(workdir / "messy.csv"), pd.read_csv(workdir / "messy_future.csv")
    assert (messy.loc[messy["open"] == 0, "target_value"] == 0).all()
    assert len(messy) < 10 * 1095
    assert "open" in future.columns


def test_when_wide_scales_without_messy_then_one_line_and_nothing_written(workdir: Path):
    result = tidecast("demo-data", "--out", "wide.csv", "--items", "3", "--wide-scales", cwd=workdir)
    assert result.returncode == 2
    assert "wide scales are a variant of the messy demo" in " ".join(
        result.stdout.split() + result.stderr.split()
    )
    assert not (workdir / "wide.csv").exists()


def test_when_an_export_writes_zeros_before_a_launch_then_the_series_starts_at_its_first_sale(workdir, sales):
    data = pd.read_csv(sales)
    launched = data["item_id"].unique()[0]
    before = (data["item_id"] == launched) & (data["timestamp"] < "2023-06-01")
    data.loc[before, "target_value"] = 0.0  # a wide sheet's cells before the listing
    data.to_csv(workdir / "export.csv", index=False)
    result = quick_backtest(workdir, "export.csv", "runs/launch")
    n = int(before.sum())
    line = (
        f"missing: 1 series opens with {n} rows of zeros before its first sale, a run longer than "
        "2x any later run of zeros in the series; read as before launch, so each starts at its first "
        'sale (the target\'s filling {"zeroruns": "keep"} keeps them as sales)'
    )
    assert line in " ".join(result.stdout.split())
    report = json.loads((workdir / "runs" / "launch" / "report.json").read_text())
    (note,) = [p for p in report["data"]["problems"] if p["kind"] == "leading_zeros"]
    assert note["sample_items"] == [launched] and note["count"] == n

    keep = '{"target_value": {"zeroruns": "keep"}}'
    result = quick_backtest(workdir, "export.csv", "runs/kept", "--filling", keep)
    assert "before their first sale" not in result.stdout
