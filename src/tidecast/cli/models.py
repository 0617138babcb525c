"""`tidecast models ...`: the model registry from the command line.

The commands work on the store the service uses (`TIDECAST_DATABASE_URL`,
`TIDECAST_ARTIFACT_URL`, `TIDECAST_HOME`), directly rather than through the HTTP API, so an
operator can register, approve or roll back models with the server stopped. The database is
migrated to the newest schema first (idempotent), so the first command on a fresh home works.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from tidecast.cli.common import failure, service_settings
from tidecast.cli.service_api import KeyOpt, request
from tidecast.errors import TidecastError
from tidecast.registry.errors import NotFound
from tidecast.registry.registry import Registry, open_registry
from tidecast.registry.schema import ModelVersion
from tidecast.registry.settings import ServiceSettings
from tidecast.registry.statuses import ModelStatus

models_app = typer.Typer(
    name="models",
    help="List, inspect, register, approve, reject and roll back registered models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)

T = TypeVar("T")
STATUS_STYLE = {ModelStatus.APPROVED: "green", ModelStatus.REJECTED: "red", ModelStatus.PENDING: "yellow"}


def _with_registry(action: Callable[[Registry], T], settings: ServiceSettings | None = None) -> T:
    """Run `action` on the configured registry (of `settings`, when the caller already built
    them); expected errors become one line and exit 1, a name that does not exist exit 2."""
    try:
        with open_registry(settings or service_settings()) as registry:
            return action(registry)
    except TidecastError as exc:
        raise failure(exc) from None


def _read_registry(action: Callable[[Registry], T], nothing: Callable[[str], T]) -> T:
    """`action` on the configured registry, for a command that only reads: where there is no
    registry yet, `nothing(note)` instead (the note names the home looked in), and nothing is
    created on disk."""
    settings = service_settings()
    missing = settings.missing_database()
    if missing is not None:
        return nothing(
            f"no model registry at {settings.home.resolve()} (no {missing}); set TIDECAST_HOME, "
            "or run in the folder that holds .tidecast"
        )
    return _with_registry(action, settings)


def _noted(empty: T) -> Callable[[str], T]:
    def note(text: str) -> T:
        err.print(f"[yellow]note:[/] {text}", highlight=False, soft_wrap=True)
        return empty

    return note


def _absent(group: str) -> Callable[[str], Any]:
    def refuse(text: str) -> Any:
        raise failure(NotFound("model group", group, text))

    return refuse


def _status(version: ModelVersion) -> str:
    return f"[{STATUS_STYLE[version.status]}]{version.status.value}[/]"


def _time(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


def _located(registry: Registry, version: ModelVersion) -> tuple[ModelVersion, str]:
    return version, registry.artifact_url(version)


def version_dict(version: ModelVersion, artifact_url: str) -> dict[str, Any]:
    """A version as plain JSON values, for `--json` output; `artifact_url` is where its folder
    is (`Registry.artifact_url`: the row keeps it relative to the store)."""
    return {
        "group": version.group.name,
        "version": version.version,
        "status": version.status.value,
        "artifact_uri": artifact_url,
        "data_fingerprint": version.data_fingerprint,
        "source_job_id": version.source_job_id,
        "description": version.description,
        "metrics": version.metrics,
        "config": version.config,
        "created_at": version.created_at.isoformat(),
        "updated_at": version.updated_at.isoformat(),
    }


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, sort_keys=True, default=str))


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _score(version: ModelVersion) -> str:
    score = version.metrics.get("score")
    objective = version.metrics.get("objective", "")
    return "-" if score is None else f"{objective} {score:.4g}".strip()


@models_app.command("list")
def list_groups(as_json: JsonOption = False) -> None:
    """List model groups with their newest and newest approved versions."""
    groups = _read_registry(lambda registry: registry.list_groups(), _noted([]))
    if as_json:
        _print_json([dataclasses.asdict(group) for group in groups])
        return
    if not groups:
        out.print("No models registered yet: `tidecast models register GROUP MODEL_FOLDER`.")
        return
    table = Table("group", "versions", "latest", "approved", "created", "description", box=box.SIMPLE_HEAD)
    for group in groups:
        table.add_row(
            group.name,
            str(group.versions),
            str(group.latest_version or "-"),
            str(group.latest_approved or "-"),
            _time(group.created_at),
            group.description,
        )
    out.print(table)


@models_app.command("show")
def show(
    group: Annotated[str, typer.Argument(help="Model group name.")],
    version: Annotated[int | None, typer.Argument(help="Version number; all versions when omitted.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Show a group's versions, or one version in detail."""
    if version is None:
        versions = _read_registry(
            lambda registry: [(v, registry.artifact_url(v)) for v in registry.list_versions(group)],
            _absent(group),
        )
        if as_json:
            _print_json([version_dict(item, url) for item, url in versions])
            return
        table = Table(
            "version", "status", "score", "data", "source job", "created", "description", box=box.SIMPLE_HEAD
        )
        for item, _ in versions:
            table.add_row(
                str(item.version),
                _status(item),
                _score(item),
                item.data_fingerprint[:12],
                item.source_job_id or "-",
                _time(item.created_at),
                item.description,
            )
        out.print(table)
        return
    found, url = _read_registry(
        lambda registry: _located(registry, registry.get(group, version)), _absent(group)
    )
    if as_json:
        _print_json(version_dict(found, url))
        return
    table = Table(show_header=False, box=box.SIMPLE)
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in [
        ("group", found.group.name),
        ("version", str(found.version)),
        ("status", _status(found)),
        ("artifact", url),
        ("data fingerprint", found.data_fingerprint),
        ("source job", found.source_job_id or "-"),
        ("created", _time(found.created_at)),
        ("updated", _time(found.updated_at)),
        ("description", found.description),
        ("metrics", json.dumps(found.metrics, sort_keys=True)),
        ("task", json.dumps(found.config, sort_keys=True)),
    ]:
        table.add_row(f"[bold]{name}[/]", value)
    out.print(table, soft_wrap=True)


@models_app.command(
    "approve",
    help="Approve a version: only approved versions are deployed, and a deploy that names no version "
    "takes the newest approved one. Endpoints deployed before keep the version they serve.",
)
def approve(group: str, version: int) -> None:
    found = _with_registry(lambda registry: registry.approve(group, version))
    out.print(f"{found.group.name} version {found.version} is now {_status(found)}")


@models_app.command(
    "reject",
    help="Reject a version (an approved one is withdrawn). Endpoints serving it keep serving it: "
    "the command names them.",
)
def reject(group: str, version: int) -> None:

    def rejected(registry: Registry) -> tuple[ModelVersion, tuple[str, ...]]:
        found = registry.reject(group, version)
        return found, registry.serving_endpoints(found)

    found, serving = _with_registry(rejected)
    out.print(f"{found.group.name} version {found.version} is now {_status(found)}")
    if serving:
        out.print(
            f"endpoints still serving version {found.version}: {', '.join(serving)} (deploy an "
            f"approved version to them: tidecast endpoints create NAME --group {found.group.name})",
            highlight=False,
            soft_wrap=True,
        )


@models_app.command(
    "rollback",
    help="Reject the newest approved version; the endpoints that served it serve the previous approved "
    "one. Nothing changes when that version's model cannot be loaded.",
)
def rollback(
    group: str,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="Roll back through this running service, which moves its endpoints at once "
            "(without it, on the registry: a running service moves them when it restarts).",
        ),
    ] = None,
    api_key: KeyOpt = None,
    from_version: Annotated[
        int | None,
        typer.Option(
            "--from-version",
            min=1,
            help="The version meant to be rolled back: nothing changes unless it is still the latest "
            "approved one (a rollback run twice rejects one version, not two).",
        ),
    ] = None,
) -> None:
    if url is not None:
        query = "" if from_version is None else f"?from_version={from_version}"
        done = request("POST", url, f"/v1/models/{group}/rollback{query}", api_key)
        rejected, current = done["rejected"]["version"], done["current"]["version"]
        moved = list(done["redeployed_endpoints"])
    else:
        offline = _with_registry(lambda registry: registry.rollback(group, from_version=from_version))
        rejected, current, moved = offline.rejected.version, offline.current.version, list(offline.endpoints)
    out.print(f"{group}: version {rejected} rejected; version {current} is the latest approved version")
    if moved:
        later = "" if url is not None else " (a running service from its next start)"
        out.print(f"endpoints now serving version {current}{later}: {', '.join(moved)}", highlight=False)


@models_app.command("register")
def register(
    group: Annotated[str, typer.Argument(help="Model group name (created when new).")],
    model_folder: Annotated[
        Path, typer.Argument(help="A folder written by AutoForecaster.save or `tidecast train` (RUN/model).")
    ],
    description: Annotated[str, typer.Option(help="A note stored with the version.")] = "",
) -> None:
    """Copy a saved model folder into the registry as the group's next version."""
    found, url = _with_registry(
        lambda registry: _located(registry, registry.register(group, model_folder, description=description))
    )
    out.print(
        f"registered {found.group.name} version {found.version} ({_status(found)}): {url}",
        soft_wrap=True,
    )
