"""`tidecast batch` as a user types it: choices checked, errors in one line, exit statuses."""

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tidecast.automl.forecaster import AutoForecaster
from tidecast.cli.main import app
from tidecast.data.demo import generate

runner = CliRunner()


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    frame = generate(n_items=4, seed=2)
    frame = frame[frame["timestamp"] >= "2023-09-01"][["item_id", "timestamp", "target_value"]]
    auto = AutoForecaster(
        horizon=5, models=["Naive", "SeasonalNaive"], target_col="target_value", backtest_windows=1
    )
    run = tmp_path_factory.mktemp("run")
    auto.fit(frame).save(run / "model")
    frame.to_csv(run / "history.csv", index=False)
    return run


def invoke(*args: str):
    return runner.invoke(app, ["batch", *args])


def test_a_run_folder_forecasts_every_item_to_csv(model, tmp_path):
    result = invoke(
        "--model",
        str(model),
        "--input",
        str(model / "history.csv"),
        "--output",
        str(tmp_path / "o"),
        "--format",
        "csv",
        "--jobs",
        "1",
    )
    assert result.exit_code == 0, result.output
    assert "forecast 4 of 4 items" in result.output
    forecast = pd.read_csv(next((tmp_path / "o" / "forecasts").glob("part-*.csv")))
    assert forecast.groupby("item_id").size().to_dict() == dict.fromkeys(
        sorted(forecast["item_id"].unique()), 5
    )


def test_model_and_endpoint_are_exclusive(model, tmp_path):
    result = invoke("--model", str(model), "--endpoint", "web", "--input", "x.csv", "--output", str(tmp_path))
    assert result.exit_code == 2 and "exactly one of --model and --endpoint" in result.output


def test_a_missing_input_is_named(model, tmp_path):
    result = invoke(
        "--model", str(model), "--input", str(tmp_path / "nope.parquet"), "--output", str(tmp_path / "o")
    )
    assert result.exit_code == 2 and "nope.parquet does not exist" in result.output


def test_nothing_forecast_exits_1_and_lists_the_failures(model, tmp_path):
    bad = pd.DataFrame(
        {"item_id": ["a", "a"], "timestamp": ["2024-01-01", "2024-01-01"], "target_value": [1.0, 2.0]}
    )
    bad.to_csv(tmp_path / "bad.csv", index=False)
    result = invoke(
        "--model",
        str(model),
        "--input",
        str(tmp_path / "bad.csv"),
        "--output",
        str(tmp_path / "o"),
        "--jobs",
        "1",
    )
    assert result.exit_code == 1, result.output
    assert "1 item failed" in result.output and "duplicate" in result.output


def test_workers_run_the_chunks_on_a_local_dask_cluster(model, tmp_path):
    out = tmp_path / "o"
    result = invoke(
        "--model", str(model), "--input", str(model / "history.csv"), "--output", str(out), "--workers", "1"
    )
    assert result.exit_code == 0, result.output
    assert "a Dask cluster of 1 worker;" in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["executor"], manifest["items_forecast"]) == ("dask", 4)


@pytest.mark.parametrize(("jobs", "ran_on"), [("1", "in this process"), ("2", "2 worker processes")])
def test_when_a_batch_ends_then_its_line_says_where_the_chunks_ran_in_plain_words(
    model, tmp_path, jobs, ran_on
):
    """The executor's name went before "workers": "(… items/s, 2 processes workers; …)"."""
    args = ["--model", str(model), "--input", str(model / "history.csv"), "--output", str(tmp_path / "o")]
    result = invoke(*args, "--chunk-rows", "200", "--jobs", jobs)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # the line as read, wherever the terminal wrapped it
    assert f" items/s, {ran_on}; 0 of " in text and "workers" not in text


def test_when_one_chunk_is_pending_then_the_line_says_it_ran_in_this_process_not_in_workers(model, tmp_path):
    """With --jobs 2 and one chunk no pool was started, yet the line said "2 worker processes"
    and the manifest recorded executor "processes": it named what was asked, not where it ran."""
    out = tmp_path / "o"
    args = ["--model", str(model), "--input", str(model / "history.csv"), "--output", str(out), "--jobs", "2"]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["chunks"] == 1 and (manifest["executor"], manifest["workers"]) == ("inline", 1)
    text = " ".join(result.output.split())
    assert " items/s, in this process; 0 of 1 chunk already done)" in text, text
    again = invoke(*args)  # resumed: every chunk was done by the first run
    assert again.exit_code == 0, again.output
    assert "(no chunk left to run; 1 of 1 chunk already done)" in " ".join(again.output.split())


def test_a_log_says_how_many_chunks_are_done_as_the_batch_goes(model, tmp_path):
    """On a file or a pipe the progress bar is drawn once, at the end: a nightly batch's log
    said nothing of how far it had got until it finished (or was killed)."""
    out = tmp_path / "o"
    args = ["--model", str(model), "--input", str(model / "history.csv"), "--output", str(out)]
    result = invoke(*args, "--chunk-rows", "40", "--jobs", "1")
    assert result.exit_code == 0, result.output
    chunks = json.loads((out / "manifest.json").read_text())["chunks"]
    lines = result.output.splitlines()
    assert lines[0] == "staging: splitting the input into chunks of whole series"
    done = [int(line.split()[1]) for line in lines if line.startswith("forecast: ")]
    assert done[0] == 0 and done[-1] == chunks and done == sorted(done) and len(done) <= 11
    assert chunks > 10
