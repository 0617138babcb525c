"""A name that does not exist is the user's input error: every command that looks one up, on
the store directly or through a running service, exits 2 with one line naming it and how to
list those that exist; a failure that is not the input's still exits 1.

`tidecast monitor nosuch` and `tidecast models show nosuch` exited 1 (any registry error was
exit 1), and so did every 404 of `tidecast endpoints` and `tidecast jobs`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from live_service import live_service
from tidecast.registry.registry import open_registry
from tidecast.registry.settings import ServiceSettings
from tidecast.service.auth import KeyStore

pytestmark = pytest.mark.timeout(180)
SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture
def env(tmp_path: Path, model_folder: Path, database_url: str) -> dict[str, str]:
    """A home with `sales` v1 (approved), endpoint `shop` not deployed, an admin key."""
    home = tmp_path / "home"
    with open_registry(ServiceSettings(home=home, database_url=database_url)) as registry:
        registry.register("sales", model_folder)
        registry.approve("sales", 1)
        key = KeyStore(registry.sessions).create("ops", "admin")
    path = os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {
        **os.environ,
        "TIDECAST_HOME": str(home),
        "TIDECAST_DATABASE_URL": database_url,
        "TIDECAST_API_KEY": key,
        "PYTHONPATH": path,
        "COLUMNS": "200",
    }


@pytest.fixture
def service(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """`env` with TIDECAST_URL naming a running service on it."""
    with live_service(env, Path(env["TIDECAST_HOME"]) / "server.log", start_seconds=40) as url:
        yield {**env, "TIDECAST_URL": url}


def tidecast(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tidecast.cli", *args], env=env, capture_output=True, text=True, timeout=60
    )


CASES = [
    # On the store directly.
    (["monitor", "nosuch"], "endpoint 'nosuch' does not exist; `tidecast endpoints list` shows them"),
    (["models", "show", "nosuch"], "model group 'nosuch' does not exist; `tidecast models list` shows them"),
    (
        ["models", "show", "sales", "7"],
        "model version 'sales/7' does not exist; `tidecast models show sales` shows its versions",
    ),
    (["models", "approve", "nosuch", "1"], "model group 'nosuch' does not exist; `tidecast models list`"),
    (["models", "rollback", "nosuch"], "model group 'nosuch' does not exist; `tidecast models list`"),
    (["keys", "revoke", "nosuch"], "'nosuch' does not exist; `tidecast keys list` shows them"),
    (["report", "nosuch"], "run, model or endpoint 'nosuch' does not exist: give a job id"),
    # Through the running service's API.
    (["endpoints", "describe", "nosuch"], "'nosuch' does not exist; `tidecast endpoints list` shows them"),
    (["endpoints", "delete", "nosuch"], "'nosuch' does not exist; `tidecast endpoints list` shows them"),
    (["endpoints", "create", "shop", "--group", "nosuch"], "'nosuch' does not exist; `tidecast models list`"),
    (["endpoints", "challenger", "nosuch"], "'nosuch'"),
    (["jobs", "describe", "0" * 32], f"job '{'0' * 32}' does not exist; `tidecast jobs list` shows them"),
    (["jobs", "stop", "0" * 32], "`tidecast jobs list` shows them"),
]


def test_when_a_name_does_not_exist_then_every_command_exits_2_with_one_line_saying_how_to_list(
    service: dict[str, str],
) -> None:
    for args, line in CASES:
        done = tidecast(service, *args)
        assert done.returncode == 2, (args, done.returncode, done.stderr)
        assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, (args, done.stderr)
        assert line in done.stderr, (args, done.stderr)


def test_when_the_service_or_the_database_cannot_be_reached_then_exit_1(env: dict[str, str]) -> None:
    unreachable = tidecast({**env, "TIDECAST_URL": "http://127.0.0.1:9"}, "endpoints", "describe", "shop")
    assert unreachable.returncode == 1 and "cannot reach" in unreachable.stderr, unreachable.stderr
    down = {**env, "TIDECAST_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:9/none"}
    for args in (["monitor", "shop"], ["models", "show", "sales"]):
        done = tidecast(down, *args)
        assert done.returncode == 1, (args, done.returncode, done.stderr)
