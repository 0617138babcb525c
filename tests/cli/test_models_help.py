"""`tidecast models --help` lists each command on its own lines: a description taken from a
docstring kept the docstring's line breaks there ("serve the previous" / "approved one")."""

from __future__ import annotations

from typer.testing import CliRunner

from tidecast.cli.models import models_app


def test_when_the_commands_are_listed_then_no_description_breaks_where_its_source_did() -> None:
    shown = CliRunner().invoke(models_app, ["--help"], env={"COLUMNS": "250"}).output
    lines = [line.strip("│ ").strip() for line in shown.splitlines()]
    for start in (
        "approve   Approve a version:",
        "reject    Reject a version",
        "rollback  Reject the newest",
    ):
        (line,) = [line for line in lines if line.startswith(start)]
        assert line.endswith("."), line
