"""`tidecast report`: the model quality and business reports of a run, a model or an endpoint.

A folder (a `tidecast train` output, or a model folder) is read directly; any other name is
looked up in the service's registry (`jobs.runs.locate_run`: job id, group:version, endpoint,
group), with the server running or not, like `tidecast models`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tidecast.cli.common import fail, guard, out, service_settings

DEFAULT_OUT = {"html": "report.html", "json": "report.json", "csv": "report-csv"}


def _folder(name: str) -> tuple[Path, str]:
    """The folder holding `name`'s artifacts and the label to print on the report."""
    path = Path(name)
    if path.is_dir():
        return path, path.resolve().name
    from tidecast.jobs.runs import locate_run
    from tidecast.registry.registry import open_registry

    settings = service_settings()
    if settings.missing_database() is not None:
        raise fail(f"{name!r} is not a folder, and there is no model registry at {settings.home.resolve()}")

    def find() -> tuple[Path, str]:
        with open_registry(settings) as registry:
            found = locate_run(settings, registry, name)
        return found.folder, found.label

    result: tuple[Path, str] = guard(find, 1)
    return result


def report(
    run_or_endpoint: Annotated[
        str,
        typer.Argument(help="Run folder, model folder, job id, group:version, endpoint or model group"),
    ],
    fmt: Annotated[str, typer.Option("--format", "-f", help="html, json or csv")] = "html",
    kind: Annotated[str, typer.Option(help="quality, business or all")] = "all",
    output: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="File to write (csv: a folder, or a .zip; default: report.FORMAT)"),
    ] = None,
    service_level: Annotated[
        float, typer.Option(min=0.5, max=0.999, help="Chance of no stockout, for safety stock")
    ] = 0.95,
    lead_time: Annotated[
        int | None, typer.Option(min=1, help="Steps the stock must cover (default: the horizon)")
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="Items in the high, low and worst lists")] = 10,
    items: Annotated[str | None, typer.Option(help="Items to plot, comma-separated")] = None,
) -> None:
    """Write the model quality and business reports of a run, model version or endpoint."""
    from tidecast.reports.build import KINDS, ReportOptions, reports_for_folder
    from tidecast.reports.export import FORMATS, write_reports

    if fmt not in FORMATS:
        raise fail(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if kind not in KINDS:
        raise fail(f"--kind must be one of {', '.join(KINDS)}, got {kind!r}")
    folder, label = _folder(run_or_endpoint)
    options = ReportOptions(
        service_level=service_level,
        lead_time=lead_time,
        top=top,
        items=tuple(i.strip() for i in items.split(",") if i.strip()) if items else (),
    )
    target = output or Path(DEFAULT_OUT[fmt])
    written = guard(lambda: write_reports(reports_for_folder(folder, label, kind, options), fmt, target))
    out.print(f"wrote the {kind if kind != 'all' else 'quality and business'} report of {label} to {written}")
