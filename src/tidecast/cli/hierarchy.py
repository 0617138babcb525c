"""`tidecast reconcile`: every level of a hierarchy forecast by the AutoML engine, reconciled.

It takes every option `train` takes (built from the same declaration), plus the hierarchy and
optionally a fixed method; the levels' models and the method choice live in
`tidecast.hierarchy`, this command only reads the options and writes the files.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from tidecast.cli.common import guard, out
from tidecast.cli.options import (
    DataArg,
    FutureOpt,
    SqlOpt,
    SqlUrlOpt,
    automl_command,
    forecaster_keywords,
)

HierarchyOpt = Annotated[
    str,
    typer.Option(
        "--hierarchy",
        help="Levels from static attributes: a/b nests (total > a > a/b > item), a*b crosses "
        "(total, a, b, a*b, item), commas join parts",
    ),
]
MethodOpt = Annotated[
    str | None,
    typer.Option(
        "--method",
        help="Reconciliation method (bottom_up, top_down, ols, wls_struct, wls_var, mint_shrink); "
        "default: chosen on the backtests",
    ),
]
OutOpt = Annotated[Path, typer.Option("--out", help="Output folder")]


@automl_command(
    {"horizon": ("data", "sql", "sql_url", "hierarchy", "method", "out_dir"), "events": ("future",)}
)
def reconcile(
    data: DataArg = None,
    sql: SqlOpt = None,
    sql_url: SqlUrlOpt = None,
    hierarchy: HierarchyOpt = "",
    method: MethodOpt = None,
    out_dir: OutOpt = Path("runs/hierarchy"),
    future: FutureOpt = None,
    *,
    options: dict[str, Any],
) -> None:
    """Forecast every level of a hierarchy (e.g. --hierarchy category/product) and reconcile
    them: DIR/forecasts.csv holds every node's coherent forecast with a `level` column."""
    from tidecast.cli.train import data_source, future_source
    from tidecast.hierarchy.forecaster import HierarchicalForecaster
    from tidecast.hierarchy.output import write_hierarchy_run

    if not hierarchy:
        raise typer.BadParameter(
            "give the levels, e.g. --hierarchy category/product", param_hint="--hierarchy"
        )
    source = data_source(data, sql, sql_url)
    future_rows = future_source(future, sql_url)
    model = guard(lambda: HierarchicalForecaster(hierarchy, method=method, **forecaster_keywords(options)))
    guard(lambda: model.check(source))  # the method and the attributes, before minutes of fitting
    start = time.perf_counter()
    out.print(f"fitting every level of {hierarchy} ...")
    guard(lambda: model.fit(source, future=future_rows))
    frames = guard(lambda: model.predict_methods(future_rows))
    paths = write_hierarchy_run(model, frames[model.method_], frames["base"], out_dir)
    report = model.report_
    out.print(
        f"levels: {', '.join(f'{k} ({v})' for k, v in report['nodes'].items())}; "
        f"method: [bold]{model.method_}[/] ({report['chosen_by']})"
    )
    for name, row in model.backtest_scores().iterrows() if report["backtest_wql"] else []:
        cells = "  ".join(f"{level} {value:.4f}" for level, value in row.items())
        out.print(f"  {name:<12} {cells}", highlight=False)
    for note in report["notes"]:
        out.print(f"[yellow]note:[/] {note}", highlight=False)
    out.print(f"done in {time.perf_counter() - start:.1f}s")
    for label, path in paths.items():
        out.print(f"{label:<12} {path}")
