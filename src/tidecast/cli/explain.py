"""`tidecast explain` and `tidecast whatif`: why a run forecasts what it does, and what it
would forecast with other known covariates, from a trained run without refitting.

Thin adapters over `tidecast.explain.explain` and `tidecast.scenarios.whatif` (imported on
use: the AutoML engine is heavy to load).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from tidecast.cli.common import console, fail, guard, out
from tidecast.cli.options import DateFormatOpt, FutureOpt
from tidecast.reports.explanations import EXPLANATIONS, IMPORTANCE, ITEM_TOTALS
from tidecast.wording import counted

RunArg = Annotated[Path, typer.Argument(help="A run folder (with model/) or a model folder")]
ItemsOpt = Annotated[
    str | None, typer.Option("--items", help="Comma-separated item ids (default: every item)")
]
DataOpt = Annotated[str | None, typer.Option("--data", help="Newer history to forecast from (no refit)")]


def _load(run: Path, date_format: str | None) -> Any:
    from tidecast.automl.forecaster import AutoForecaster

    folder = run / "model" if (run / "model" / "manifest.json").is_file() else run
    auto = guard(lambda: AutoForecaster.load(folder))
    if date_format is not None:
        auto.date_format = date_format
    return auto


def _items(items: str | None) -> list[str] | None:
    return None if items is None else [i.strip() for i in items.split(",") if i.strip()]


def explain(
    run: RunArg,
    items: ItemsOpt = None,
    future: FutureOpt = None,
    data: DataOpt = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for explanations.csv, explanation_importance.csv and explanation_items.csv (default: the run folder; for a model folder, the current one)",
        ),
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Features shown")] = 10,
    date_format: DateFormatOpt = None,
) -> None:
    """Contributions of covariates, holidays, attributes, level, trend and seasonality to each
    forecast (per item and step), and their global importance."""
    from tidecast.cli.train import future_source
    from tidecast.data.item_keys import item_ids
    from tidecast.explain import explain as run_explain

    auto = _load(run, date_format)
    future_rows = future_source(future)
    explanation = guard(lambda: run_explain(auto, data=data, future=future_rows, items=_items(items)))
    folder = out_dir or (run if (run / "model").is_dir() else Path("."))
    folder.mkdir(parents=True, exist_ok=True)
    explanation.contributions.to_csv(folder / EXPLANATIONS, index=False)
    ranking = explanation.importance()
    ranking.to_csv(folder / IMPORTANCE, index=False)
    explanation.per_item().to_csv(folder / ITEM_TOTALS, index=False)
    table = Table(
        box=box.SIMPLE_HEAD, title="What moves the forecast (mean |contribution| per item and step)"
    )
    for column in ("feature", "kind", "mean |contribution|", "share", "mean"):
        table.add_column(column, justify="left" if column in ("feature", "kind") else "right")
    for row in ranking.head(top).itertuples():
        table.add_row(row.feature, row.kind, f"{row.mean_abs:,.3f}", f"{row.share:.1%}", f"{row.mean:,.3f}")
    out.print(table)
    methods = ", ".join(
        f"{name} ({method}, weight {explanation.weights[name]:.2f})"
        for name, method in explanation.methods.items()
    )
    out.print(f"members: {methods}")
    items_n = item_ids(explanation.forecast, auto.spec_.item_col).nunique()
    console.print(
        f"explained {counted(items_n, 'item', grouped=True)} x {counted(auto.horizon, 'step')} in "
        f"{explanation.seconds:.2f}s; "
        f"largest |sum of contributions - forecast| {explanation.additivity_error():.2e}"
    )
    for label, name in (
        ("explanations", EXPLANATIONS),
        ("importance", IMPORTANCE),
        ("per item", ITEM_TOTALS),
    ):
        out.print(f"{label:<12} {folder / name}")


def whatif(
    run: RunArg,
    rules: Annotated[str | None, typer.Option("--rules", help="Scenario rules (.json or .toml)")] = None,
    scenario_future: Annotated[
        str | None, typer.Option("--scenario-future", help="A replacement future file instead of rules")
    ] = None,
    future: FutureOpt = None,
    items: ItemsOpt = None,
    data: DataOpt = None,
    out_path: Annotated[
        Path, typer.Option("--out", help="Baseline and scenario per item and step (.csv or .parquet)")
    ] = Path("whatif.csv"),
    top: Annotated[int, typer.Option("--top", min=1, help="Items shown, largest change first")] = 10,
    date_format: DateFormatOpt = None,
) -> None:
    """Forecast again with changed known covariates (rules or a replacement future), beside
    the baseline: difference in units and percent per item and in total. No refit."""
    from tidecast.cli.train import future_source
    from tidecast.data.io import write_table
    from tidecast.data.item_keys import item_ids
    from tidecast.scenarios import whatif as run_whatif

    if (rules is None) == (scenario_future is None):
        raise fail("give --rules FILE or --scenario-future FILE (one of them)")
    auto = _load(run, date_format)
    answer = guard(
        lambda: run_whatif(
            auto,
            rules,
            future=future_source(future),
            replacement=scenario_future,
            data=data,
            items=_items(items),
        )
    )
    guard(lambda: write_table(answer.comparison, out_path))
    for count in answer.rules:
        out.print(
            f"rule {count['rule']} ({count['covariate']}): {counted(count['matched'], 'row')} matched, "
            f"{count['changed']} changed",
            highlight=False,
        )
    changed = answer.items.reindex(answer.items["difference"].abs().sort_values(ascending=False).index)
    shown = changed.head(top)
    table = Table(box=box.SIMPLE_HEAD, title=f"{answer.name}: forecast over the horizon")
    for column in ("item", "baseline", "scenario", "difference", "%"):
        table.add_column(column, justify="left" if column == "item" else "right")
    for item, row in zip(item_ids(shown, auto.spec_.item_col), shown.itertuples(), strict=True):
        table.add_row(
            str(item),
            f"{row.baseline:,.2f}",
            f"{row.scenario:,.2f}",
            f"{row.difference:+,.2f}",
            _pct(row.percent),
        )
    total = answer.total
    table.add_row(
        "total",
        f"{total['baseline']:,.2f}",
        f"{total['scenario']:,.2f}",
        f"{total['difference']:+,.2f}",
        _pct(total["percent"]),
    )
    out.print(table)
    for note in answer.notes:
        out.print(f"note: {note}", highlight=False)
    out.print(f"{'comparison':<12} {out_path}")


def _pct(value: float) -> str:
    return "-" if value != value else f"{value:+.2f}%"
