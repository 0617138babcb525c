"""Every `bash` and `python` block of the README runs, in order, in one temporary folder.

A block preceded by ``<!-- readme-test: skip (reason) -->`` is not run (it builds the
environment, or needs a running service or a PostgreSQL server), and the test checks that
every such marker gives a reason. To keep the run to a minute on two cores, the blocks run with
a small documented configuration: ``--items N`` becomes ``--items 4``, ``tidecast train`` and
``tidecast backtest`` get ``--preset fast``, and Python runs with the fast preset under the
name ``medium`` (the default). Everything else (options, files, columns) is the README's.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(
    r"(?P<marker><!-- readme-test: skip(?P<reason>[^>]*)-->\n)?```(?P<lang>\w+)\n(?P<code>.*?)```", re.S
)
PYTHON_PRELUDE = (
    "import tidecast.automl.presets as presets\npresets.PRESETS['medium'] = presets.PRESETS['fast']\n"
)


def blocks() -> list[tuple[str, str, str | None]]:
    """(language, code, skip reason or None) of every fenced block, in README order."""
    found = []
    for match in BLOCK.finditer(README.read_text()):
        reason = match["reason"].strip(" ()") if match["marker"] else None
        found.append((match["lang"], match["code"], reason))
    return found


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
    skipped = [(lang, code) for lang, code, reason in blocks() if reason is not None and not reason]
    assert not skipped, skipped


def test_the_readme_names_no_undefined_inputs():
    text = README.read_text()
    assert "newer.csv" not in text
    python = "\n".join(code for lang, code, _ in blocks() if lang == "python")
    assert "next_weeks =" in python and "newer =" in python


def test_every_bash_and_python_block_runs(env, tmp_path):
    try:
        import duckdb  # noqa: F401

        has_duckdb = True
    except ImportError:  # a declared dependency, but an older environment may lack it
        has_duckdb = False
    ran = 0
    for lang, code, reason in blocks():
        if reason is not None or lang not in ("bash", "python"):
            continue
        if "--sql" in code and not has_duckdb:
            continue
        if lang == "bash":
            command = ["bash", "-euo", "pipefail", "-c", small(code)]
        else:
            command = [sys.executable, "-c", PYTHON_PRELUDE + code]
        result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"{lang} block failed:\n{code}\n{result.stdout}\n{result.stderr}"
        ran += 1
    assert ran >= 3 + has_duckdb
    assert (tmp_path / "runs" / "demo" / "forecasts.csv").is_file()
    assert (tmp_path / "model" / "manifest.json").is_file()
