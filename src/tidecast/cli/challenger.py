"""`tidecast endpoints challenger|challenge|promote`: an endpoint's challenger on a running
service, through its API (``/v1/endpoints/{name}/challenger`` and ``.../promote``).

`challenger NAME` shows the challenger, its evidence (both versions' scores on their paired
forecasts, the counts and window) and the latest decision; `challenge NAME --version V`
attaches a version with its promotion policy; `promote NAME` approves one that awaits it.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

from tidecast.cli.endpoints import NameArg, _print_json, endpoints_app
from tidecast.cli.service_api import DEFAULT_URL, JsonOpt, KeyOpt, UrlOpt, request
from tidecast.wording import counted

out = Console()


def _version(ref: dict[str, Any] | None) -> str:
    return "–" if not ref else f"{ref.get('group')} v{ref.get('version')} ({ref.get('status')})"


def _show(record: dict[str, Any]) -> None:
    policy = record.get("policy") or {}
    out.print(
        f"endpoint [bold]{record['endpoint']}[/]: challenger {_version(record.get('challenger'))} "
        f"against champion {_version(record.get('champion'))}, state [bold]{record['state']}[/]",
        highlight=False,
    )
    out.print(
        f"policy: {policy.get('metric')} at least {policy.get('margin', 0):.0%} lower over "
        f"{counted(policy.get('min_forecasts', 0), 'forecast')} and "
        f"{counted(policy.get('min_days', 0), 'day')}, mode {policy.get('mode')}",
        highlight=False,
    )
    evidence = record.get("evidence")
    if evidence:
        metric = evidence["metric"]
        for side in ("champion", "challenger"):
            scored = evidence[side]
            value = scored.get(metric)
            shown = "–" if value is None else f"{value:.4g}"
            out.print(
                f"  {side:<10} {metric} {shown}  ({counted(scored.get('points', 0), 'point')})",
                highlight=False,
            )
        window = evidence["window"]
        out.print(
            f"  {counted(evidence['paired_forecasts'], 'paired forecast')}, targets "
            f"{window['first_target']} .. {window['last_target']} ({counted(window['days'], 'day')})",
            highlight=False,
        )
    out.print(f"decision: {record.get('decision') or 'none yet'}", highlight=False)


@endpoints_app.command("challenger")
def challenger(
    name: NameArg, url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = None, as_json: JsonOpt = False
) -> None:
    """Show NAME's challenger: state, policy, both versions' scores and the decision."""
    record = request("GET", url, f"/v1/endpoints/{name}/challenger", api_key)
    _print_json(record) if as_json else _show(record)


@endpoints_app.command("challenge")
def challenge(
    name: NameArg,
    version: Annotated[int, typer.Option("--version", help="The challenger's version number")],
    group: Annotated[
        str | None, typer.Option("--group", help="Its model group (default: the champion's)")
    ] = None,
    metric: Annotated[str, typer.Option("--metric", help="wql, wape, mape or mase")] = "wql",
    margin: Annotated[
        float, typer.Option("--margin", help="How much lower its error must be (0.05: 5%)")
    ] = 0.05,
    min_forecasts: Annotated[int, typer.Option("--min-forecasts", help="Paired forecasts scored first")] = 20,
    min_days: Annotated[float, typer.Option("--min-days", help="Days their targets must span")] = 0.0,
    mode: Annotated[str, typer.Option("--mode", help="auto (promote at once) or approval")] = "approval",
    url: UrlOpt = DEFAULT_URL,
    api_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Attach VERSION as NAME's challenger: it shadows the endpoint and is promoted by the policy."""
    body: dict[str, Any] = {
        "version": version,
        "metric": metric,
        "margin": margin,
        "min_forecasts": min_forecasts,
        "min_days": min_days,
        "mode": mode,
    }
    if group is not None:
        body["group"] = group
    record = request("POST", url, f"/v1/endpoints/{name}/challenger", api_key, body=body)
    _print_json(record) if as_json else _show(record)


@endpoints_app.command("promote")
def promote(
    name: NameArg, url: UrlOpt = DEFAULT_URL, api_key: KeyOpt = None, as_json: JsonOpt = False
) -> None:
    """Approve NAME's challenger that awaits approval: it becomes the champion."""
    record = request("POST", url, f"/v1/endpoints/{name}/promote", api_key)
    _print_json(record) if as_json else _show(record)
