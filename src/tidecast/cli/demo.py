"""`tidecast demo-data`: the demo retail sales dataset (daily, 2021-2023, promotions and holidays)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from tidecast.cli.common import console, guard
from tidecast.wording import counted


def demo_data(
    out_path: Annotated[Path, typer.Option("--out", help="Where to write: .csv or .parquet")] = Path(
        "sales.csv"
    ),
    items: Annotated[int, typer.Option(help="Number of items (125 is the 5x5x5 catalogue)")] = 125,
    seed: Annotated[int, typer.Option(help="Random seed")] = 42,
    future_out: Annotated[
        Path | None, typer.Option("--future-out", help="Also write the next days' promotions and holidays")
    ] = None,
    horizon: Annotated[int, typer.Option("--horizon", help="Days in the --future-out file")] = 14,
    messy: Annotated[
        bool,
        typer.Option(
            help="Closures, gaps, ragged, short and new histories, multiplicative promotions, returns"
        ),
    ] = False,
    wide_scales: Annotated[
        bool,
        typer.Option(
            "--wide-scales", help="With --messy: item levels from 1 to 10^5, slow movers drawn as counts"
        ),
    ] = False,
) -> None:
    """Generate the demo retail sales dataset (daily, 2021-2023, promotions and holidays)."""
    from tidecast.data import demo
    from tidecast.data.io import write_table

    start = time.perf_counter()
    rows = guard(lambda: demo.write(out_path, n_items=items, seed=seed, messy=messy, wide_scales=wide_scales))
    console.print(
        f"wrote {counted(rows, 'row', grouped=True)} for {counted(items, 'item', grouped=True)} "
        f"to {out_path} in {time.perf_counter() - start:.1f}s"
    )
    if future_out is not None:
        frame = demo.future_covariates(items, seed, horizon, messy=messy)
        guard(lambda: write_table(frame, future_out))
        console.print(f"wrote the known covariates of the next {counted(horizon, 'day')} to {future_out}")
