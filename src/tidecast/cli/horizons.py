"""`tidecast horizons`: several horizons (daily 14, weekly 13, monthly 12) from one dataset.

The models live in `tidecast.temporal`; the options are the AutoML options' own declarations
(`option_type`), the horizon replaced by `--horizons`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from tidecast.automl.options import BY_NAME
from tidecast.cli.common import guard, out
from tidecast.cli.options import DataArg, FutureOpt, option_type
from tidecast.wording import plural


def horizons(
    data: DataArg = None,
    horizons: Annotated[
        str,
        typer.Option(
            "--horizons",
            help="FREQUENCY:STEPS pairs, e.g. D:14,W-SUN:13,MS:12, taken finest first: the finest "
            "(best the data's own) keeps the known covariates",
        ),
    ] = "",
    item_col: option_type(BY_NAME["item_col"]) = BY_NAME["item_col"].default,  # type: ignore[valid-type]
    timestamp_col: option_type(BY_NAME["timestamp_col"]) = BY_NAME["timestamp_col"].default,  # type: ignore[valid-type]
    target_col: option_type(BY_NAME["target_col"]) = BY_NAME["target_col"].default,  # type: ignore[valid-type]
    preset: option_type(BY_NAME["preset"]) = BY_NAME["preset"].default,  # type: ignore[valid-type]
    models: option_type(BY_NAME["models"]) = None,  # type: ignore[valid-type]
    known_covariates: option_type(BY_NAME["known_covariates"]) = None,  # type: ignore[valid-type]
    static_columns: option_type(BY_NAME["static_columns"]) = None,  # type: ignore[valid-type]
    n_jobs: option_type(BY_NAME["n_jobs"]) = None,  # type: ignore[valid-type]
    future: FutureOpt = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder")] = Path("runs/horizons"),
) -> None:
    """Forecast several frequencies of one dataset, each by its own AutoML model: DIR/forecasts.csv
    (with a `frequency` column), DIR/model/ (one folder holding every frequency's model)."""
    from tidecast.cli.train import future_source
    from tidecast.temporal import MultiHorizonForecaster

    if data is None or not horizons:
        raise typer.BadParameter("give DATA and --horizons, e.g. D:14,W-SUN:13,MS:12")
    values: dict[str, Any] = {
        "item_col": item_col,
        "timestamp_col": timestamp_col,
        "target_col": target_col,
        "preset": preset,
        "models": models,
        "known_covariates": known_covariates,
        "static_columns": static_columns,
        "n_jobs": n_jobs,
    }
    options = {k: BY_NAME[k].from_cli(v) for k, v in values.items()}
    future_rows = future_source(future)
    model = guard(lambda: MultiHorizonForecaster(horizons, **options))
    start = time.perf_counter()
    guard(lambda: model.fit(data, future=future_rows))
    forecast = guard(lambda: model.predict(future=future_rows))
    out_dir.mkdir(parents=True, exist_ok=True)
    forecast.to_csv(out_dir / "forecasts.csv", index=False)
    model.save(out_dir / "model")
    for freq, board in model.leaderboards().items():
        board.to_csv(out_dir / f"leaderboard_{freq}.csv", index=False)
        out.print(
            f"{freq:<8} {model.models_[freq].horizon:>3} {plural(model.models_[freq].horizon, 'step'):<5}  "
            f"selected {model.models_[freq].report_.best}"
        )
    for note in model.notes_:
        out.print(f"[yellow]note:[/] {note}", highlight=False)
    out.print(f"done in {time.perf_counter() - start:.1f}s -> {out_dir}/forecasts.csv, {out_dir}/model")
