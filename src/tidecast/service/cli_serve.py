"""`tidecast serve` and `tidecast keys ...`: run the service, manage its API keys.

`serve` is a plain Typer command function (the main CLI mounts it); its options override the
``TIDECAST_*`` settings. `keys_app` works on the service's database directly, so the first
admin key can be created before the server ever ran; a key's token is printed once and only
its hash is stored.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from tidecast.errors import TidecastError
from tidecast.registry.db import Database
from tidecast.registry.schema import ApiKeyRole
from tidecast.registry.settings import ServiceSettings
from tidecast.service.auth import KeyStore

err = Console(stderr=True)


def serve(
    host: Annotated[str, typer.Option(help="Address to bind; loopback unless told otherwise.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind (8080 is SageMaker's).")] = 8080,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Job worker processes [default: TIDECAST_WORKERS or 1].")
    ] = None,
    open_mode: Annotated[
        bool, typer.Option("--open-mode", help="Serve WITHOUT API keys (trusted networks only).")
    ] = False,
    default_endpoint: Annotated[
        str | None, typer.Option(help="Endpoint that POST /invocations serves without a target header.")
    ] = None,
) -> None:
    """Run the forecasting service: REST API, SageMaker runtime contract and job workers."""
    from tidecast.service.server import configure_logging
    from tidecast.service.server import serve as run_server

    overrides: dict[str, object] = {"host": host, "port": port}
    if workers is not None:
        overrides["workers"] = workers
    if open_mode:
        overrides["open_mode"] = True
    configure_logging()
    try:
        settings = ServiceSettings(**overrides)  # type: ignore[arg-type]
        run_server(settings, default_endpoint=default_endpoint)
    except TidecastError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


keys_app = typer.Typer(
    name="keys", help="Create, list and revoke API keys.", no_args_is_help=True, add_completion=False
)


def _keys() -> tuple[KeyStore, Database]:
    database = Database.from_url(ServiceSettings().database_url)
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
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
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
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        database.dispose()
    err.print(f"revoked {name!r}", highlight=False)
