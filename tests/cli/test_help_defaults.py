"""Options whose help named their default in square brackets lost it: the help is Rich markup,
which took "[default: the horizon]" for a tag and printed "Steps the stock must cover", and
`serve --workers` read "Job worker processes ."."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tidecast.cli.main import app


@pytest.mark.parametrize(
    ("command", "said"),
    [
        ("serve", "Job worker processes (default: TIDECAST_WORKERS, else 1)."),
        ("report", "File to write (csv: a folder, or a .zip; default: report.FORMAT)"),
        ("report", "Steps the stock must cover (default: the horizon)"),
    ],
)
def test_when_help_is_read_then_each_option_names_its_default(command: str, said: str) -> None:
    shown = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "120"}).output
    assert said in " ".join(line.strip("│ ") for line in shown.splitlines() if "│" in line)
