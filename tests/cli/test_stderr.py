"""What a script capturing stderr (not a terminal) gets from a failing command: the error line,
and nothing after it: no empty line and no `prepare 0/1` left by the progress display."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tidecast.data.demo import generate

SRC = str(Path(__file__).resolve().parents[2] / "src")


def tidecast(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    path = os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.run(
        [sys.executable, "-m", "tidecast.cli", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": path, "COLUMNS": "200"},
        capture_output=True,  # stderr is a pipe, as in a script or a CI log
        timeout=300,
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stderr")
    generate(n_items=3, seed=1).to_csv(folder / "sales.csv", index=False)
    (folder / "empty-model").mkdir()
    return folder


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["train", "sales.csv", "--horizon", "7", "--target-col", "nope"],
            b"error: missing column(s) ['nope']",
        ),
        (
            ["batch", "--model", "empty-model", "--input", "sales.csv", "--output", "out"],
            b"error: ",
        ),
    ],
    ids=["train-in-fit", "batch-in-run"],
)
def test_when_stderr_is_a_pipe_then_an_error_is_the_last_line_with_nothing_after(
    folder: Path, args: list[str], error: bytes
) -> None:
    result = tidecast(*args, cwd=folder)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(error), result.stderr
    assert result.stderr.count(b"\n") == 1 and result.stderr.endswith(b"\n"), result.stderr
    assert b"prepare" not in result.stderr and b"staging" not in result.stderr


def test_when_stderr_is_a_pipe_then_a_finished_run_ends_on_its_final_progress_line(folder: Path) -> None:
    result = tidecast(
        "train", "sales.csv", "--horizon", "7", "--target-col", "target_value", "--models", "seasonalnaive",
        "--backtest-windows", "1", "--jobs", "1", "--out", "run", cwd=folder,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    last = result.stderr.splitlines()[-1]
    assert result.stderr.endswith(last + b"\n") and last.startswith(b"forecast "), result.stderr
