"""`tidecast keys ...`: create, list and revoke the service's API keys.

The commands work on the service's database directly (``TIDECAST_*`` settings), so the first
admin key can be created before the server ever ran; a key's token is printed once and only
its hash is stored.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from tidecast.cli.common import fail, service_settings
from tidecast.errors import TidecastError
from tidecast.registry.db import Database
from tidecast.registry.schema import ApiKeyRole
from tidecast.service.auth import KeyStore

err = Console(stderr=True)


keys_app = typer.Typer(
    name="keys", help="Create, list and revoke API keys.", no_args_is_help=True, add_completion=False
)


def _keys() -> tuple[KeyStore, Database]:
    database = Database.from_url(service_settings().database_url)
    database.migrate()
    return KeyStore(database.sessions), database


@keys_app.command("create")
def create_key(
    name: Annotated[str, typer.Argument(help="A name for the key (who or what uses it).")],
    role: Annotated[
        ApiKeyRole, typer.Option(help="forecast: forecasts only; admin: everything.")
    ] = ApiKeyRole.FORECAST,
) -> None:
    """Create a key and print it once: it cannot be shown again."""
    keys, database = _keys()
    try:
        token = keys.create(name, role)
    except TidecastError as exc:
        raise fail(str(exc), 1) from None
    finally:
        database.dispose()
    typer.echo(token)
    err.print(f"created {role.value} key {name!r}; store it now, it is not shown again", highlight=False)


@keys_app.command("list")
def list_keys(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The keys' names, roles and states (never the keys themselves)."""
    keys, database = _keys()
    try:
        found = keys.list()
    finally:
        database.dispose()
    rows = [
        {"name": k.name, "role": k.role.value, "created_at": k.created_at.isoformat(), "revoked": k.revoked}
        for k in found
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        state = "revoked" if row["revoked"] else "active"
        typer.echo(f"{row['name']}\t{row['role']}\t{state}\t{row['created_at']}")


@keys_app.command("revoke")
def revoke_key(name: Annotated[str, typer.Argument(help="The key's name.")]) -> None:
    """Revoke the active key with this name; requests using it get 401 at once."""
    keys, database = _keys()
    try:
        keys.revoke(name)
    except TidecastError as exc:
        raise fail(str(exc), 1) from None
    finally:
        database.dispose()
    err.print(f"revoked {name!r}", highlight=False)
