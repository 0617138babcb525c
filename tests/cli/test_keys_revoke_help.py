"""`tidecast keys revoke --help` and the README promise what a running service does.

They said a revoked key was "refused at once", but each service process keeps a key it has
verified for `KEY_CACHE_SECONDS` (5 s) without asking the database again, so a key revoked by
the command (another process) still worked for up to that long.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tidecast.cli.keys import keys_app
from tidecast.service.auth import KEY_CACHE_SECONDS

README = Path(__file__).resolve().parents[2] / "README.md"


def test_when_revoke_help_is_read_then_it_states_the_cache_bound_not_at_once() -> None:
    shown = " ".join(CliRunner().invoke(keys_app, ["revoke", "--help"], terminal_width=200).output.split())
    assert f"A running service refuses them within {KEY_CACHE_SECONDS:g} seconds" in shown
    assert "at once" not in shown


def test_the_readme_states_the_same_bound() -> None:
    text = " ".join(README.read_text().split())
    assert f"a running service refuses it within {KEY_CACHE_SECONDS:g} seconds" in text
