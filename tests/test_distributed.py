"""Local models on a real Dask cluster (two worker processes on 127.0.0.1): same answers,
errors and time limits as in one process, and the CLI's `--workers`."""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster, get_task_stream
from typer.testing import CliRunner

from tidecast import AutoForecaster
from tidecast.cli.main import app
from tidecast.data.demo import generate
from tidecast.distributed import open_client, submit_all, use_dask
from tidecast.errors import ConfigError, TimeLimitExceeded
from tidecast.models.local import parallel_map

HORIZON = 7


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with open_client(workers=2) as client:
        yield client


@pytest.fixture(scope="module")
def sales() -> pd.DataFrame:
    # 16 items, the last 120 days: enough series for two workers' chunks, and quick to fit.
    frame = generate(n_items=16, seed=3)
    recent = frame[frame["timestamp"] > frame["timestamp"].max() - pd.Timedelta(days=120)]
    return recent[["item_id", "timestamp", "target_value"]].reset_index(drop=True)


def fit_fast(sales: pd.DataFrame) -> AutoForecaster:
    return AutoForecaster(horizon=HORIZON, preset="fast", target_col="target_value", n_jobs=1).fit(sales)


def test_when_a_client_is_open_then_it_has_two_worker_processes_on_localhost(client) -> None:
    workers = client.scheduler_info()["workers"]
    assert sorted(w["nthreads"] for w in workers.values()) == [1, 1]
    assert all(address.startswith("tcp://127.0.0.1:") for address in workers)
    assert len(set(client.run(os.getpid).values()) | {os.getpid()}) == 3


def test_when_work_runs_under_dask_then_it_runs_on_the_workers_in_order(client) -> None:
    values = np.arange(100.0) ** 2
    with use_dask(client):
        results = parallel_map(lambda i: (values[i] + 1.0, os.getpid()), 100, 1, None, "square")
    assert [r[0] for r in results] == (values + 1.0).tolist()
    assert {r[1] for r in results} == set(client.run(os.getpid).values())


def test_when_the_automl_fits_under_dask_then_forecasts_and_scores_match_one_process(client, sales) -> None:
    alone = fit_fast(sales)
    with use_dask(client), get_task_stream(client) as tasks:
        spread = fit_fast(sales)
        spread_forecast = spread.predict()
    # Every local candidate's backtest, refit and forecast ran as chunks on the workers.
    assert sum("_run_shipped" in str(task["key"]) for task in tasks.data) >= 8 * 4
    pd.testing.assert_frame_equal(spread_forecast, alone.predict(), check_exact=True)
    np.testing.assert_array_equal(spread_forecast["mean"].to_numpy(), alone.predict()["mean"].to_numpy())
    assert spread.weights_ == alone.weights_
    board, expected = spread.leaderboard(), alone.leaderboard()
    scores = [c for c in expected.columns if c not in ("fit_seconds", "predict_seconds")]
    assert "score" in scores and any(c.startswith("window_") for c in scores)
    assert expected["error"].eq("").all(), expected
    pd.testing.assert_frame_equal(board[scores], expected[scores], check_exact=True)


def test_when_a_function_fails_on_a_worker_then_its_error_is_raised_here(client) -> None:
    def fail_on_50(i: int) -> float:
        if i == 50:
            raise ZeroDivisionError(f"item {i}")
        return float(i)

    with use_dask(client), pytest.raises(ZeroDivisionError, match="item 50"):
        parallel_map(fail_on_50, 100, 1, None, "failing")


def test_when_the_deadline_passes_on_the_workers_then_time_limit_exceeded_is_raised_here(client) -> None:
    started = time.monotonic()
    with use_dask(client), pytest.raises(TimeLimitExceeded, match="slow ran past its time budget"):
        parallel_map(lambda i: time.sleep(0.05), 100, 1, started + 0.5, "slow")
    # 100 x 50 ms is 2.5 s on two workers; the workers stop soon after the deadline.
    assert time.monotonic() - started < 2.0


def test_when_the_context_ends_then_work_runs_in_this_process_again(client) -> None:
    with use_dask(client):
        pass
    assert set(parallel_map(lambda i: os.getpid(), 100, 1, None, "here")) == {os.getpid()}


def test_when_tasks_are_submitted_then_each_result_comes_back_with_its_index(client) -> None:
    results = dict(submit_all(client, pow, [(2, 3), (3, 2), (10, 0)]))
    assert results == {0: 8, 1: 9, 2: 1}
    with pytest.raises(ZeroDivisionError):
        list(submit_all(client, divmod, [(1, 1), (1, 0)]))


def test_when_a_scheduler_address_is_given_then_the_work_runs_on_that_cluster(client) -> None:
    with open_client(scheduler=client.scheduler.address) as remote, use_dask(remote):
        pids = set(parallel_map(lambda i: os.getpid(), 100, 1, None, "remote"))
    assert pids == set(client.run(os.getpid).values())
    assert client.status == "running"  # closing the connection leaves the cluster up


def test_when_both_workers_and_a_scheduler_are_given_then_it_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not both"):
        open_client(workers=2, scheduler="tcp://127.0.0.1:8786")


def test_when_the_scheduler_cannot_be_reached_then_it_is_a_config_error(monkeypatch) -> None:
    monkeypatch.setattr("tidecast.distributed.CONNECT_TIMEOUT", 1.0)
    with pytest.raises(ConfigError, match=re.escape("cannot reach the Dask scheduler at tcp://127.0.0.1:9")):
        open_client(scheduler="tcp://127.0.0.1:9")


class Silent(socketserver.BaseRequestHandler):
    """Accepts and never answers, as an HTTP server waits for the end of a request's headers."""

    def handle(self) -> None:
        while self.request.recv(1024):
            pass


class SshBanner(socketserver.BaseRequestHandler):
    """Speaks first, as an SSH server does."""

    def handle(self) -> None:
        self.request.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
        self.request.recv(1024)


class Http(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_error(404)


@contextlib.contextmanager
def serving(handler: type[socketserver.BaseRequestHandler]) -> Iterator[str]:
    """A TCP server on a free 127.0.0.1 port in a thread; yields its tcp:// address."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.timeout(10)  # it hung for ever on the silent and HTTP servers
@pytest.mark.parametrize("handler", [Silent, SshBanner, Http], ids=["silent", "ssh", "http"])
def test_when_the_address_is_not_a_dask_scheduler_then_it_is_a_config_error_within_the_timeout(
    monkeypatch, handler: type[socketserver.BaseRequestHandler]
) -> None:
    monkeypatch.setattr("tidecast.distributed.CONNECT_TIMEOUT", 1.0)
    started = time.monotonic()
    with serving(handler) as address, pytest.raises(ConfigError) as raised:
        open_client(scheduler=address)
    assert time.monotonic() - started < 2.5
    message = str(raised.value)
    assert message.startswith(f"cannot reach the Dask scheduler at {address}")
    assert message.endswith("is it a Dask scheduler's address (tcp://host:8786), not its dashboard?")
    assert "\n" not in message


@pytest.mark.timeout(20)  # a batch on it hung for ever; training ran its candidates here
def test_when_the_cluster_has_no_workers_then_it_is_a_config_error_within_the_timeout(monkeypatch) -> None:
    monkeypatch.setattr("tidecast.distributed.CONNECT_TIMEOUT", 1.0)
    with LocalCluster(
        n_workers=0,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    ) as empty:
        started = time.monotonic()
        with pytest.raises(
            ConfigError, match=re.escape(f"the Dask cluster at {empty.scheduler_address} has no workers")
        ):
            open_client(scheduler=empty.scheduler_address)
        assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--workers", "2"], (2, None)),
        ([], (None, "tcp://127.0.0.1:18599")),
        (["--scheduler", "tcp://127.0.0.1:18598", "--workers", "2"], (2, "tcp://127.0.0.1:18598")),
    ],
    ids=["workers", "environment", "both-typed"],
)
def test_when_workers_are_typed_then_they_win_over_the_scheduler_in_the_environment(
    monkeypatch, tmp_path: Path, flags: list[str], expected: tuple[int | None, str | None]
) -> None:
    opened = []

    def scale_out(workers: int | None, scheduler: str | None) -> None:
        opened.append((workers, scheduler))
        raise ConfigError("no cluster in this test")

    monkeypatch.setattr("tidecast.distributed.scale_out", scale_out)
    monkeypatch.setenv("TIDECAST_DASK_SCHEDULER", "tcp://127.0.0.1:18599")
    generate(n_items=2, seed=3).to_csv(tmp_path / "sales.csv", index=False)
    command = ["train", str(tmp_path / "sales.csv"), "--horizon", "7", "--target-col", "target_value"]
    result = CliRunner().invoke(app, [*command, "--out", str(tmp_path / "run"), *flags])
    assert result.exit_code == 2 and "no cluster in this test" in result.output, result.output
    assert opened == [expected]


def test_when_tidecast_and_its_cli_are_imported_then_dask_is_not() -> None:
    # A fresh interpreter: this process has imported dask already. Dask and distributed take
    # about a second to import, and only runs with --workers or --scheduler need them.
    # (statsforecast's utilsforecast imports dask.dataframe itself when dask is installed, so
    # the AutoML module is only checked for `distributed`.)
    code = (
        "import sys, tidecast, tidecast.models.local, tidecast.distributed, tidecast.cli.main; "
        "loaded = [m for m in ('dask', 'distributed') if m in sys.modules]; "
        "assert not loaded, f'{loaded} imported'; "
        "import tidecast.automl.forecaster; "
        "assert 'distributed' not in sys.modules, 'distributed imported'"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


@pytest.mark.slow  # a fresh interpreter and cluster: about 10 s
def test_when_train_runs_with_two_workers_then_it_exits_0_and_writes_the_model(
    tmp_path: Path, sales: pd.DataFrame
) -> None:
    sales.to_csv(tmp_path / "sales.csv", index=False)
    command = [sys.executable, "-m", "tidecast.cli", "train", "sales.csv", "--horizon", str(HORIZON)]
    options = ["--target-col", "target_value", "--preset", "fast", "--workers", "2", "--out", "run"]
    env = {**os.environ, "COLUMNS": "200"}
    result = subprocess.run(
        [*command, *options], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "run" / "model" / "manifest.json").is_file()
    forecasts = pd.read_csv(tmp_path / "run" / "forecasts.csv")
    assert len(forecasts) == 16 * HORIZON


def test_when_every_worker_is_gone_then_the_run_stops_instead_of_going_on_here(monkeypatch) -> None:
    """Losing every worker mid-run made a candidate 'fail' (FutureCancelledError) and the run
    shipped another ensemble; with no slots left, the chunks ran in this process unsaid."""
    from tidecast.automl.backtest import run_candidate
    from tidecast.distributed import DaskChunks
    from tidecast.errors import ClusterLost

    monkeypatch.setattr("tidecast.distributed.CONNECT_TIMEOUT", 0.5)
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,  # in-process: no port is opened
        Client(cluster) as dask,
    ):
        chunks = DaskChunks(dask)
        assert chunks.slots() == 1
        cluster.scale(0)
        deadline = time.monotonic() + 10
        while dask.nthreads() and time.monotonic() < deadline:
            time.sleep(0.05)
        started = time.monotonic()
        with pytest.raises(ClusterLost, match=r"lost every worker and none joined within 0\.5 s"):
            chunks.slots()
        assert time.monotonic() - started < 3

    def lost() -> None:
        raise ClusterLost("the Dask cluster at tcp://127.0.0.1:1 lost every worker")

    with pytest.raises(ClusterLost):  # not one candidate's error: the run stops
        run_candidate("AutoETS", lost, [], None, 7, (0.5,), "wql", None)  # type: ignore[arg-type]
