"""`tidecast actuals --help` lists ingest's description as one paragraph: taken from a
docstring, it kept the docstring's line breaks there ("a changed value" / "replaces the old
one"), mid-sentence."""

from __future__ import annotations

import itertools

from typer.testing import CliRunner

from tidecast.cli.main import app
from tidecast.cli.monitor import ingest

HELP = (
    "Load actuals from FILE: idempotent (a row loaded twice counts once; a changed value replaces the old "
    "one and the change is logged). Further numeric columns are covariates. The columns may be named as in "
    "the training file (--item-col, --timestamp-col, --value-col)."
)


def test_when_the_actuals_commands_are_listed_then_lines_break_only_where_the_width_ends() -> None:
    lines = CliRunner().invoke(app, ["actuals", "--help"], env={"COLUMNS": "80"}).output.splitlines()
    start = next(k for k, line in enumerate(lines) if "ingest  Load actuals" in line)
    row = lines[start : next(k for k in range(start, len(lines)) if lines[k].startswith("╰"))]
    offset = row[0].index("Load")
    area = len(row[0].rstrip()) - offset - 2  # the text's column, inside " │"
    texts = [line[offset:].rstrip(" │") for line in row]
    assert " ".join(texts) == HELP
    for text, after in itertools.pairwise(texts):  # the next word would not have fitted
        assert len(text) + 1 + len(after.split()[0]) > area - 2, texts
    assert ingest.__doc__ is None or "\n" not in ingest.__doc__
