"""`tidecast endpoints ...`: deploy, list, show and delete the endpoints of a running service.

Through the HTTP API (``/v1/endpoints``), like `tidecast jobs`: deploying loads the model into
the serving processes, which only the service itself can do, so these commands need it running
(and an admin key). Deploying an approved version needed curl before.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from tidecast.cli.service_api import DEFAULT_URL, JsonOpt, KeyOpt, UrlOpt, request

endpoints_app = typer.Typer(
    name="endpoints",
    help="Deploy approved model versions to endpoints of a tidecast service; list, show, delete.",
    no_args_is_help=True,
)
out = Console()

NameArg = Annotated[str, typer.Argument(help="Endpoint name")]
COLUMNS = ("name", "group", "version", "status", "horizon", "items", "updated_at")


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def _table(endpoints: list[dict[str, Any]]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in COLUMNS:
        table.add_column(column, no_wrap=column != "updated_at")
    for endpoint in endpoints:
        table.add_row(*(str(endpoint.get(c, "")) if endpoint.get(c) is not None else "–" for c in COLUMNS))
    return table


@endpoints_app.command("create")
def create(
    name: NameArg,
    group: Annotated[str, typer.Option("--group", help="Model group to serve")],
    version: Annotated[
        int | None, typer.Option("--version", help="Approved version (default: the newest approved)")
    ] = None,
    url: UrlOpt = DEFAULT_URL,
    api_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Deploy an approved version of GROUP as endpoint NAME (replacing what it served)."""
    body: dict[str, Any] = {"name": name, "group": group}
    if version is not None:
        body["version"] = version
    endpoint = request("POST", url, "/v1/endpoints", api_key, body=body)
    if as_json:
        _print_json(endpoint)
        return
    out.print(
        f"endpoint [bold]{endpoint.get('name')}[/] serves {endpoint.get('group')} version "
        f"{endpoint.get('version')}: {endpoint.get('status')}",
        highlight=False,
    )


@endpoints_app.command("list")
def list_endpoints(url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = None, as_json: JsonOpt = False) -> None:
    """List the endpoints: the version each serves and whether it is in service."""
    endpoints = request("GET", url, "/v1/endpoints", api_key).get("endpoints", [])
    if as_json:
        _print_json(endpoints)
        return
    out.print(_table(endpoints))


@endpoints_app.command("describe")
def describe(name: NameArg, url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = None) -> None:
    """Show one endpoint as JSON: version, status, horizon, frequency, quantiles, items."""
    _print_json(request("GET", url, f"/v1/endpoints/{name}", api_key))


@endpoints_app.command("delete")
def delete(name: NameArg, url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = None) -> None:
    """Stop serving NAME (the model versions stay in the registry)."""
    request("DELETE", url, f"/v1/endpoints/{name}", api_key)
    out.print(f"deleted endpoint [bold]{name}[/]", highlight=False)
