"""`tidecast keys ...`: create, list and revoke the service's API keys and AWS credentials.

The commands work on the service's database directly (``TIDECAST_*`` settings), so the first
admin key can be created before the server ever ran; a key's token is printed once and only
its hash is stored. `create-aws` issues an access key pair for boto3 and the AWS CLI (SigV4),
printed once too (its secret is stored as issued: see `tidecast.service.aws.credentials`).
"""

from __future__ import annotations

import contextlib
import json
from typing import Annotated

import typer
from rich.console import Console

from tidecast.cli.common import failure, service_settings
from tidecast.errors import TidecastError
from tidecast.registry.db import Database
from tidecast.registry.errors import NotFound
from tidecast.registry.statuses import ApiKeyRole
from tidecast.service.auth import KEY_CACHE_SECONDS, KeyStore

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
        raise failure(exc) from None
    finally:
        database.dispose()
    typer.echo(token)
    err.print(f"created {role.value} key {name!r}; store it now, it is not shown again", highlight=False)


@keys_app.command("create-aws")
def create_aws_credentials(
    name: Annotated[str, typer.Argument(help="A name for the credentials (who or what uses them).")],
    role: Annotated[
        ApiKeyRole, typer.Option(help="forecast: the runtime only; admin: the control plane too.")
    ] = ApiKeyRole.ADMIN,
) -> None:
    """Issue an AWS access key pair for boto3 and the AWS CLI; printed once, as `aws configure` asks."""
    from tidecast.service.aws.credentials import CredentialStore

    settings = service_settings()
    database = Database.from_url(settings.database_url)
    try:
        database.migrate()
        issued = CredentialStore(database.sessions).create(name, role)
    except TidecastError as exc:
        raise failure(exc) from None
    finally:
        database.dispose()
    typer.echo(f"aws_access_key_id = {issued.access_key_id}")
    typer.echo(f"aws_secret_access_key = {issued.secret_access_key}")
    typer.echo(f"region = {settings.aws_region}")
    err.print(
        f"created {role.value} AWS credentials {name!r}; store the secret now, it is not shown again. "
        f"Use them with --endpoint-url http://{settings.host}:{settings.port}",
        highlight=False,
    )


@keys_app.command("list")
def list_keys(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The keys' names, roles and states (never the keys themselves)."""
    from tidecast.service.aws.credentials import CredentialStore

    keys, database = _keys()
    try:
        found = keys.list()
        pairs = CredentialStore(database.sessions).list()
    finally:
        database.dispose()
    rows = [
        {"name": k.name, "role": k.role.value, "created_at": k.created_at.isoformat(), "revoked": k.revoked}
        for k in found
    ] + [
        {
            "name": p.name,
            "role": p.role.value,
            "created_at": p.created_at.isoformat(),
            "revoked": p.revoked,
            "access_key_id": p.access_key_id,
        }
        for p in pairs
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        state = "revoked" if row["revoked"] else "active"
        kind = f"aws {row['access_key_id']}" if "access_key_id" in row else "api key"
        typer.echo(f"{row['name']}\t{row['role']}\t{state}\t{row['created_at']}\t{kind}")


REVOKE_HELP = (
    "Revoke the active API key and AWS credentials with this name (or access key id). A running "
    f"service refuses them within {KEY_CACHE_SECONDS:g} seconds: each of its processes trusts a "
    "key it has verified for that long without asking the database again."
)


@keys_app.command("revoke", help=REVOKE_HELP)
def revoke_key(name: Annotated[str, typer.Argument(help="The key's name.")]) -> None:
    """Revoke by name. The help states the true bound: it said "refused at once", but a running
    service's cache (`tidecast.service.auth.VerifiedKeys`) keeps a verified key for
    `KEY_CACHE_SECONDS`, and this command runs in another process that cannot empty it."""
    from tidecast.service.aws.credentials import CredentialStore

    keys, database = _keys()
    revoked = 0
    try:
        for revoke in (keys.revoke, CredentialStore(database.sessions).revoke):
            with contextlib.suppress(NotFound):
                revoked += revoke(name)
    finally:
        database.dispose()
    if revoked == 0:
        raise failure(NotFound("active API key or AWS credentials", name))
    err.print(f"revoked {name!r}", highlight=False)
