"""Every `bash` and `python` block of the README runs, in order, in one temporary folder.

A block preceded by ``<!-- readme-test: skip (reason) -->`` is not run (it builds the
environment, or needs a PostgreSQL server), and the test checks that every such marker gives a
reason. A block preceded by ``<!-- readme-test: file NAME -->`` (a job body) is written to
NAME in the folder, with ``/srv/data`` (the README's data root) replaced by the folder. A block
preceded by ``<!-- readme-test: service (reason) -->`` runs against a `tidecast serve` the test
starts with that folder as its data root and an admin key, named by ``TIDECAST_URL`` and
``TIDECAST_API_KEY``; after it, every job the service ran must be Completed. To keep the run
to a minute on two cores, the blocks run with
a small documented configuration: ``--items N`` becomes ``--items 4``, ``tidecast train`` and
``tidecast backtest`` get ``--preset fast``, and Python runs with the fast preset under the
name ``medium`` (the default). Everything else (options, files, columns) is the README's.
"""

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(
    r"(?:<!-- readme-test: (?P<verb>skip|file|service)(?P<arg>[^>]*)-->\n)?```(?P<lang>\w+)\n(?P<code>.*?)```",
    re.S,
)
DATA_ROOT = "/srv/data"
PYTHON_PRELUDE = (
    "import tidecast.automl.presets as presets\npresets.PRESETS['medium'] = presets.PRESETS['fast']\n"
)


def blocks() -> list[tuple[str, str, str | None, str]]:
    """(language, code, marker verb or None, its argument) of every fenced block, in README order."""
    return [
        (match["lang"], match["code"], match["verb"], (match["arg"] or "").strip(" ()"))
        for match in BLOCK.finditer(README.read_text())
    ]


def small(code: str) -> str:
    """The block with the small configuration the module docstring describes."""
    code = re.sub(r"--items \d+", "--items 4", code)
    return re.sub(r"tidecast (train|backtest) ", r"tidecast \1 --preset fast ", code)


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    """`tidecast` on PATH as this interpreter's module, with the source under test first."""
    bin_dir = tmp_path_factory.mktemp("bin")
    shim = bin_dir / "tidecast"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tidecast.cli "$@"\n')
    shim.chmod(0o755)
    src = str(Path(__file__).resolve().parents[2] / "src")
    path = os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": path,
        "COLUMNS": "120",
    }


def test_every_skipped_block_says_why():
    unexplained = [(lang, code) for lang, code, verb, arg in blocks() if verb is not None and not arg]
    assert not unexplained, unexplained


def test_the_readme_names_no_undefined_inputs():
    text = README.read_text()
    assert "newer.csv" not in text
    python = "\n".join(code for lang, code, _, _ in blocks() if lang == "python")
    assert "next_weeks =" in python and "newer =" in python


@contextmanager
def readme_service(env: dict[str, str], folder: Path) -> Iterator[dict[str, str]]:
    """A `tidecast serve` with `folder` as its data root; the environment the blocks get for it."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
    from test_e2e_http import Service, create_key

    home = folder.parent / f"{folder.name}-service"
    home.mkdir()
    service_env = {k: v for k, v in env.items() if not k.startswith("TIDECAST_")}
    service_env.update(TIDECAST_HOME=str(home), TIDECAST_DATA_ROOT=str(folder))
    service = Service(home=home, env=service_env)
    try:
        key = create_key(service_env, "readme", "admin")
        service.start()
        yield {"TIDECAST_URL": service.url, "TIDECAST_API_KEY": key}
    finally:
        service.stop()


def ended_jobs(service_env: dict[str, str], timeout: float = 300) -> list[dict[str, Any]]:
    """Every job of the service, once none is queued or running."""
    deadline = time.monotonic() + timeout
    while True:
        jobs: list[dict[str, Any]] = httpx.get(
            service_env["TIDECAST_URL"] + "/v1/jobs", headers={"X-API-Key": service_env["TIDECAST_API_KEY"]}
        ).json()["jobs"]
        if (
            all(job["status"] in ("Completed", "Failed", "Stopped") for job in jobs)
            or time.monotonic() > deadline
        ):
            return jobs
        time.sleep(0.5)


def test_every_bash_and_python_block_runs(env, tmp_path):
    try:
        import duckdb  # noqa: F401

        has_duckdb = True
    except ImportError:  # a declared dependency, but an older environment may lack it
        has_duckdb = False
    ran = 0
    with ExitStack() as stack:
        service_env: dict[str, str] | None = None
        for lang, code, verb, arg in blocks():
            if verb == "file":
                (tmp_path / arg).write_text(code.replace(DATA_ROOT, str(tmp_path)))
                continue
            if verb == "skip" or lang not in ("bash", "python"):
                continue
            if ("--sql" in code or "sql.json" in code or "demo-sql" in code) and not has_duckdb:
                continue
            run_env = env
            if verb == "service":
                if service_env is None:
                    service_env = stack.enter_context(readme_service(env, tmp_path))
                run_env = {**env, **service_env}
            if lang == "bash":
                command = ["bash", "-euo", "pipefail", "-c", small(code)]
            else:
                command = [sys.executable, "-c", PYTHON_PRELUDE + code]
            result = subprocess.run(
                command, cwd=tmp_path, env=run_env, capture_output=True, text=True, timeout=600
            )
            assert result.returncode == 0, f"{lang} block failed:\n{code}\n{result.stdout}\n{result.stderr}"
            ran += 1
        assert service_env is not None, "no README block ran against the service"
        jobs = ended_jobs(service_env)
        assert sorted(job["name"] for job in jobs) == ["demo", "demo-sql"][: 1 + has_duckdb]
        assert all(job["status"] == "Completed" for job in jobs), jobs
    assert ran >= 4 + has_duckdb
    assert (tmp_path / "runs" / "demo" / "forecasts.csv").is_file()
    assert (tmp_path / "model" / "manifest.json").is_file()


def test_the_readme_says_how_to_run_the_postgresql_tests():
    from conftest import POSTGRES_ENV

    commands = [code for lang, code, _, _ in blocks() if lang == "bash" and POSTGRES_ENV in code]
    assert commands and "make test" in commands[0]
    assert "postgresql+psycopg://" in commands[0]
