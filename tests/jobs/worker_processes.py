"""Real worker processes for the jobs tests: the environment of a worker on a test's database,
starting one, waiting on what it writes, and a small training request on the demo data."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from tidecast.data.demo import generate
from tidecast.jobs.request import JobRequest

WORKER = ("-m", "tidecast.jobs.worker")


def write_demo_data(tmp_path: Path) -> None:
    """The demo data `demo_request` trains on, in `tmp_path`."""
    generate(n_items=3).to_csv(tmp_path / "sales.csv", index=False)


def worker_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for `python -m tidecast.jobs.worker` on the test's database, with the
    demo data the jobs read (`demo_request`) in `tmp_path`."""
    write_demo_data(tmp_path)
    env = {
        **os.environ,
        "TIDECAST_DATABASE_URL": database_url,
        "TIDECAST_HOME": str(tmp_path / "home"),
        "TIDECAST_ARTIFACT_URL": str(tmp_path / "artifacts"),
        "TIDECAST_DATA_ROOT": str(tmp_path),  # the jobs read sales.csv from here
        "TIDECAST_LOG_LEVEL": "WARNING",
    }
    env.pop("TIDECAST_WORKERS", None)
    return env


def start_worker(env: dict[str, str], *args: str, main: Sequence[str] = WORKER) -> subprocess.Popen[str]:
    """A worker process (`main` is what Python runs: the worker module, or ``-c`` and a script)."""
    return subprocess.Popen(
        [sys.executable, *main, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def demo_request(tmp_path: Path, **changes: object) -> JobRequest:
    return JobRequest.model_validate(
        {
            "name": "demo",
            "data": str(tmp_path / "sales.csv"),
            "horizon": 7,
            "preset": "fast",
            "columns": {"target": "target_value"},
            "model_group": "demo-sales",
            **changes,
        }
    )
