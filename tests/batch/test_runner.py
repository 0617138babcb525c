"""Batch forecasts equal the model's own forecasts, whatever runs the chunks, and survive a kill."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tidecast.automl.forecaster import AutoForecaster
from tidecast.batch import run_batch
from tidecast.data.demo import generate
from tidecast.errors import ConfigError, DataError

pytestmark = pytest.mark.slow

ITEM, TIME, TARGET = "item_id", "timestamp", "target_value"


def recent(frame: pd.DataFrame, days: int = 240) -> pd.DataFrame:
    cut = frame[TIME].max() - pd.Timedelta(days=days)
    return frame[frame[TIME] > cut][[ITEM, TIME, TARGET]].reset_index(drop=True)


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    auto = AutoForecaster(horizon=7, preset="fast", target_col=TARGET, frequency="D", backtest_windows=1)
    auto.fit(recent(generate(n_items=10, seed=1)))
    return auto.save(tmp_path_factory.mktemp("model") / "model")


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory) -> Path:
    """40 items (10 seen in training, 30 new), rows shuffled."""
    frame = recent(generate(n_items=40, seed=1))
    path = tmp_path_factory.mktemp("input") / "catalogue.parquet"
    frame.sample(frac=1.0, random_state=3).to_parquet(path, index=False)
    return path


@pytest.fixture(scope="module")
def expected(model: Path, catalogue: Path) -> pd.DataFrame:
    forecast = AutoForecaster.load(model).predict(pd.read_parquet(catalogue))
    return forecast.sort_values([ITEM, TIME], ignore_index=True)


def forecasts(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / "forecasts").sort_values([ITEM, TIME], ignore_index=True)


@pytest.mark.parametrize("workers", [1, 2])
def test_batch_equals_the_models_forecast(model, catalogue, expected, tmp_path, workers):
    events = []
    result = run_batch(
        model, catalogue, tmp_path / "out", chunk_rows=2000, workers=workers, progress=events.append
    )
    m = result.manifest
    assert (m["items_in"], m["items_forecast"], m["items_failed"]) == (40, 40, 0)
    assert m["rows_in"] == 40 * 240 and m["forecast_rows"] == 40 * 7
    assert m["chunks"] == 5 and m["executor"] == ("inline" if workers == 1 else "processes")
    pd.testing.assert_frame_equal(forecasts(tmp_path / "out")[expected.columns], expected)
    assert events[-1] == {"stage": "done"}
    assert [e["done"] for e in events if e["stage"] == "forecast"] == list(range(6))
    assert not (tmp_path / "out" / "_staging").exists()
    assert json.loads((tmp_path / "out" / "manifest.json").read_text()) == m


def test_bad_items_are_reported_and_the_rest_forecast(model, catalogue, expected, tmp_path):
    frame = pd.read_parquet(catalogue)
    empty = pd.DataFrame({ITEM: "no_values", TIME: pd.date_range("2023-06-01", periods=30), TARGET: np.nan})
    twice = frame[frame[ITEM] == frame[ITEM].iloc[0]].head(20).assign(**{ITEM: "twice"})
    bad = pd.concat([frame, empty, twice, twice.tail(3)], ignore_index=True)
    source = tmp_path / "bad.csv"
    bad.to_csv(source, index=False)
    result = run_batch(model, source, tmp_path / "out", chunk_rows=2000, workers=1, fmt="csv")
    m = result.manifest
    assert (m["items_in"], m["items_forecast"], m["items_failed"]) == (42, 40, 2)
    reasons = {f["item_id"]: f["reason"] for f in m["failures"]}
    assert set(reasons) == {"no_values", "twice"}
    assert "no 'target_value' values" in reasons["no_values"]
    assert "duplicate" in reasons["twice"]
    # The item's rows were checked apart from the file: no row number of theirs is shown as if
    # it were the file's, and the offending rows show with their dates instead.
    assert "counting from 0" not in reasons["twice"] and "first offending rows" in reasons["twice"]
    listed = pd.read_csv(tmp_path / "out" / "failures.csv")
    assert sorted(listed[ITEM]) == ["no_values", "twice"]
    got = pd.concat(
        [pd.read_csv(p, parse_dates=[TIME]) for p in sorted((tmp_path / "out" / "forecasts").glob("*.csv"))]
    )
    got = got.sort_values([ITEM, TIME], ignore_index=True)
    np.testing.assert_allclose(got["mean"], expected["mean"], rtol=1e-9)


def test_an_input_without_the_models_columns_is_refused_whole_and_a_wide_one_named(
    model, catalogue, tmp_path
):
    frame = pd.read_parquet(catalogue)
    frame.rename(columns={TARGET: "sales"}).to_csv(tmp_path / "renamed.csv", index=False)
    with pytest.raises(DataError, match=r"the batch input has no column\(s\) \['target_value'\]"):
        run_batch(model, tmp_path / "renamed.csv", tmp_path / "out", workers=1)
    wide = frame.assign(day=frame[TIME].dt.strftime("%Y-%m-%d")).pivot(
        index=ITEM, columns="day", values=TARGET
    )
    wide.reset_index().to_csv(tmp_path / "wide.csv", index=False)
    with pytest.raises(
        DataError, match=r"looks wide, one column per date .* INTO NAME timestamp VALUE target"
    ):
        run_batch(model, tmp_path / "wide.csv", tmp_path / "out-wide", workers=1)


def test_another_batch_in_the_same_folder_is_refused(model, catalogue, tmp_path):
    run_batch(model, catalogue, tmp_path / "out", chunk_rows=5000, workers=1)
    with pytest.raises(ConfigError, match="another batch"):
        run_batch(model, catalogue, tmp_path / "out", chunk_rows=3000, workers=1)
    again = run_batch(model, catalogue, tmp_path / "out", chunk_rows=3000, workers=1, overwrite=True)
    assert again.manifest["chunks_resumed"] == 0 and again.manifest["items_forecast"] == 40
    rerun = run_batch(model, catalogue, tmp_path / "out", chunk_rows=3000, workers=1)
    assert rerun.manifest["chunks_resumed"] == rerun.manifest["chunks"]


def batch_command(model: Path, catalogue: Path, out: Path, jobs: int) -> list[str]:
    """`tidecast batch` in chunks of 400 rows (24 of them) on `jobs` local processes."""
    command = [
        sys.executable,
        "-m",
        "tidecast.cli",
        "batch",
        "--model",
        str(model),
        "--input",
        str(catalogue),
    ]
    return [*command, "--output", str(out), "--chunk-rows", "400", "--jobs", str(jobs)]


def test_killed_batch_resumes_and_forecasts_every_item_once(model, catalogue, expected, tmp_path):
    out = tmp_path / "out"
    command = batch_command(model, catalogue, out, jobs=1)
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while len(list((out / "_chunks").glob("*.json"))) < 3:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "the batch never finished three chunks"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = len(list((out / "_chunks").glob("*.json")))
    assert not (out / "manifest.json").exists()

    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    m = json.loads((out / "manifest.json").read_text())
    assert m["chunks"] == 24 and finished <= m["chunks_resumed"] < m["chunks"]
    got = forecasts(out)
    assert not got.duplicated([ITEM, TIME]).any()
    pd.testing.assert_frame_equal(got[expected.columns], expected)


@pytest.mark.timeout(180)
def test_a_killed_batchs_worker_processes_end_with_it(model, catalogue, tmp_path):
    """Its pool's workers waited for their next chunk for ever, each holding the model."""
    import psutil

    out = tmp_path / "out"
    command = batch_command(model, catalogue, out, jobs=2)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    batch = psutil.Process(process.pid)
    deadline = time.monotonic() + 120
    while not list((out / "_chunks").glob("*.json")):
        assert process.poll() is None and time.monotonic() < deadline, "no chunk finished"
        time.sleep(0.05)
    workers = batch.children(recursive=True)
    process.send_signal(signal.SIGKILL)  # the batch alone, as the OOM killer does
    process.wait()
    _, alive = psutil.wait_procs(workers, timeout=20)
    for left in alive:
        left.kill()
    assert not alive, f"{len(alive)} of the batch's {len(workers)} processes outlived it"


def test_dask_cluster_gives_the_same_forecasts(model, catalogue, expected, tmp_path):
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        result = run_batch(model, catalogue, tmp_path / "out", chunk_rows=2000, client=client)
    assert result.manifest["executor"] == "dask" and result.manifest["workers"] == 2
    pd.testing.assert_frame_equal(forecasts(tmp_path / "out")[expected.columns], expected)


def test_known_covariates_come_from_the_future_file(tmp_path):
    from tidecast.data.demo import future_covariates

    covariates = ["promotion", "is_holiday"]
    frame = generate(n_items=6, seed=4)
    frame = frame[frame[TIME] > frame[TIME].max() - pd.Timedelta(days=200)][[ITEM, TIME, TARGET, *covariates]]
    auto = AutoForecaster(
        horizon=7,
        models=["DynamicRegression"],
        known_covariates=covariates,
        target_col=TARGET,
        backtest_windows=1,
    )
    model = auto.fit(frame).save(tmp_path / "model")
    future = future_covariates(n_items=6, seed=4, horizon=7)
    frame.to_parquet(tmp_path / "in.parquet", index=False)
    future.to_csv(tmp_path / "future.csv", index=False)
    with pytest.raises(ConfigError, match="known covariates"):
        run_batch(model, tmp_path / "in.parquet", tmp_path / "out", workers=1)
    result = run_batch(
        model,
        tmp_path / "in.parquet",
        tmp_path / "out",
        future=tmp_path / "future.csv",
        chunk_rows=300,
        workers=1,
    )
    assert result.manifest["chunks"] == 4 and result.manifest["items_forecast"] == 6
    expected = (
        AutoForecaster.load(model).predict(frame, future=future).sort_values([ITEM, TIME], ignore_index=True)
    )
    pd.testing.assert_frame_equal(forecasts(tmp_path / "out")[expected.columns], expected)
    by_file = forecasts(tmp_path / "out")

    # The same plan as the input's own rows after its history, the target empty: no future file.
    planned = pd.concat([frame, future.assign(**{TARGET: np.nan})], ignore_index=True)
    planned.to_csv(tmp_path / "planned.csv", index=False)
    result = run_batch(model, tmp_path / "planned.csv", tmp_path / "out_planned", chunk_rows=300, workers=1)
    assert result.manifest["items_forecast"] == 6
    pd.testing.assert_frame_equal(forecasts(tmp_path / "out_planned")[by_file.columns], by_file)


@pytest.mark.timeout(120)  # the batch used to wait for a worker for ever
def test_when_the_dask_cluster_loses_every_worker_then_the_batch_stops_and_a_rerun_resumes(
    model, catalogue, expected, tmp_path, monkeypatch
):
    """Chunks submitted to a cluster with no worker left wait for one for ever: the batch
    waited with them. It now stops with ClusterLost, and a rerun on workers finishes it."""
    from distributed import Client, LocalCluster

    from tidecast.errors import ClusterLost

    monkeypatch.setattr("tidecast.distributed.CONNECT_TIMEOUT", 0.5)
    monkeypatch.setattr("tidecast.batch.executors.POLL_SECONDS", 0.2)
    out = tmp_path / "out"

    def lose_workers(event: dict) -> None:
        if event.get("stage") == "forecast" and event.get("done") == 0:  # staged, nothing submitted
            cluster.scale(0)
            deadline = time.monotonic() + 10
            while client.nthreads() and time.monotonic() < deadline:
                time.sleep(0.05)

    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,  # in-process: no port is opened
        Client(cluster) as client,
    ):
        started = time.monotonic()
        with pytest.raises(ClusterLost, match=r"lost every worker and none joined within 0\.5 s"):
            run_batch(model, catalogue, out, chunk_rows=2000, client=client, progress=lose_workers)
        assert time.monotonic() - started < 30
    assert not (out / "manifest.json").exists() and (out / "_staging").is_dir()

    result = run_batch(model, catalogue, out, chunk_rows=2000, workers=1)
    assert result.manifest["items_forecast"] == 40 and not result.manifest["chunks_failed"]
    pd.testing.assert_frame_equal(forecasts(out)[expected.columns], expected)
