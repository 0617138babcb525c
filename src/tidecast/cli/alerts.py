"""`tidecast alerts rules-export`: the alert rules as a Prometheus rule file.

The rules are those of the rules file (``--rules``, else ``TIDECAST_ALERT_RULES``) and those
added through the API, read from the service's database when it exists. Like `tidecast
models`, it works on the service's store directly, whether or not the service is running.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from tidecast.alerts.incidents import IncidentStore
from tidecast.alerts.prometheus import prometheus_rules, to_yaml
from tidecast.alerts.rules import Rule, load_config
from tidecast.cli.common import guard, service_settings
from tidecast.registry.db import Database
from tidecast.wording import counted

alerts_app = typer.Typer(
    name="alerts",
    help="Alert rules of the service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


class ExportFormat(enum.StrEnum):
    PROMETHEUS = "prometheus"


@alerts_app.command("rules-export")
def rules_export(
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help="What to write: prometheus")
    ] = ExportFormat.PROMETHEUS,
    rules: Annotated[
        Path | None, typer.Option("--rules", help="TOML rules file (default: TIDECAST_ALERT_RULES)")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout")
    ] = None,
    group: Annotated[str, typer.Option("--group", help="Name of the Prometheus rule group")] = "tidecast",
) -> None:
    """Write the alert rules as Prometheus alerting rules (a rule file for `rule_files:`)."""
    settings = service_settings()
    path = rules or settings.alert_rules
    found: list[Rule] = list(guard(lambda: load_config(path)).rules) if path is not None else []
    if settings.missing_database() is None:
        found += [
            r
            for r in guard(lambda: _api_rules(settings.database_url))
            if r.name not in {f.name for f in found}
        ]
    text = to_yaml(prometheus_rules(found, group)) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"{counted(len(found), 'rule')} written to {output}", err=True)


def _api_rules(url: str) -> list[Rule]:
    database = Database.from_url(url)
    try:
        database.check_at_head()
        return IncidentStore(database.sessions).api_rules()
    finally:
        database.dispose()
