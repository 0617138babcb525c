"""`tidecast cold-start`: a trained model's forecast plus new items', from similar items.

The profile method lives in `tidecast.coldstart`; this command only reads the files and
writes the forecast, flagged by its `cold_start` column, and prints the profile's notes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from tidecast.cli.common import console, guard
from tidecast.cli.options import FutureOpt
from tidecast.wording import counted


def cold_start(
    model: Annotated[Path, typer.Argument(help="A run folder (with model/) or a model folder")],
    items: Annotated[
        str, typer.Option("--items", help="New items: the item column and their attributes (CSV/Parquet)")
    ],
    early: Annotated[
        str | None,
        typer.Option("--early", help="Their first observations, if any (item, timestamp, target columns)"),
    ] = None,
    attributes: Annotated[
        str | None,
        typer.Option(
            "--attributes",
            help="Attributes that make items alike, most important first (default: the model's static columns)",
        ),
    ] = None,
    min_peers: Annotated[
        int, typer.Option("--min-peers", min=1, help="Fewest items a peer group may hold")
    ] = 3,
    future: FutureOpt = None,
    out_path: Annotated[Path, typer.Option("--out", help="Forecast file (.csv or .parquet)")] = Path(
        "forecasts.csv"
    ),
) -> None:
    """Forecast new items (no or little history) from the items that share their attributes."""
    from tidecast.automl.forecaster import AutoForecaster
    from tidecast.cli.train import future_source
    from tidecast.coldstart.engine import forecast_with_new_items
    from tidecast.data.io import write_table
    from tidecast.data.item_keys import item_ids

    folder = model / "model" if (model / "model" / "manifest.json").is_file() else model
    auto = guard(lambda: AutoForecaster.load(folder))
    start = time.perf_counter()
    names = [a.strip() for a in attributes.split(",") if a.strip()] if attributes else None
    future_rows = future_source(future)
    frame = guard(lambda: forecast_with_new_items(auto, items, early, names, future_rows, min_peers))
    guard(lambda: write_table(frame, out_path))
    ids = item_ids(frame, auto.spec_.item_col)
    new = ids[frame["cold_start"]].nunique()
    console.print(
        f"forecast {counted(new, 'new item', grouped=True)} beside {ids.nunique() - new:,} known "
        f"in {time.perf_counter() - start:.1f}s -> {out_path}"
    )
    for note in frame.attrs.get("notes", []):
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
