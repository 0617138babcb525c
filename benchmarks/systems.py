"""The systems under comparison, each as fit + predict on a train frame, timed.

Both return a forecast in tidecast's layout (item_id, timestamp, mean, p10, p50, p90) and the
wall-clock seconds of fit + predict. statsforecast runs directly, one model per
`StatsForecast(...).forecast(...)` call so that each model is timed on its own; its 80%
interval bounds are tidecast's p10/p90 and its point forecast is the p50.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import MSTL, AutoETS, AutoTheta, Naive, SeasonalNaive

import plain_lgbm
from common import QUANTILES, add_lgbm_ratios, add_ratios, print_rows, score, timed, write_rows
from tidecast.automl.forecaster import AutoForecaster

# statsforecast model factories by name: season_length -> model (MSTL takes a list).
STATSFORECAST: dict[str, Callable[[Any], Any]] = {
    "SeasonalNaive": lambda m: SeasonalNaive(season_length=m),
    "AutoETS": lambda m: AutoETS(season_length=m),
    "AutoTheta": lambda m: AutoTheta(season_length=m),
    "MSTL": lambda m: MSTL(season_length=m),
    "Naive": lambda _: Naive(),
}


@dataclass
class Run:
    """One system's forecast, its fit + predict seconds, and what the engine reported."""

    forecast: pd.DataFrame
    seconds: float
    leaderboard: pd.DataFrame | None = None
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: str | None = None  # the run failed: no forecast, nothing to score
    calibration: dict[str, Any] = field(default_factory=dict)  # tidecast's report.calibration


# Options every tidecast run of this process adds (a script's counterfactual, `mean_column.py`).
EXTRA_OPTIONS: dict[str, Any] = {}


def run_tidecast(
    train: pd.DataFrame,
    horizon: int,
    target_col: str = "target",
    future: pd.DataFrame | None = None,
    **options: Any,
) -> Run:
    """AutoForecaster (default preset unless `options` say otherwise): fit + predict, timed.

    `future` holds the known covariates of the forecast horizon (when `options` name some).
    A failure is returned as `Run.error` (with the leaderboard so far), so one broken dataset
    does not stop the other benchmarks.
    """
    auto = AutoForecaster(
        horizon=horizon, quantiles=QUANTILES, target_col=target_col, **{**options, **EXTRA_OPTIONS}
    )
    try:
        with timed() as watch:
            forecast = auto.fit(train).predict(future=future)
    except Exception as exc:
        error = f"failed: {type(exc).__name__}: {exc}"
        board = auto.leaderboard() if hasattr(auto, "report_") else None
        return Run(pd.DataFrame(), watch.seconds, board, notes=[error], error=error)
    report = auto.report_
    timings = {k: round(float(v), 2) for k, v in report.timings.items()}
    timings["predict_seconds"] = round(watch.seconds - timings.get("total_seconds", 0.0), 2)
    chosen = ", ".join(f"{k} {w:.2f}" for k, w in report.ensemble_weights.items())
    notes = [f"selected {report.best} ({chosen})", f"timings {timings}", *report.notes]
    return Run(
        forecast, watch.seconds, auto.leaderboard(), timings, notes, calibration=report.calibration or {}
    )


def run_plain_lgbm(
    train: pd.DataFrame,
    future: pd.DataFrame,
    horizon: int,
    season: int,
    known: list[str],
    statics: pd.DataFrame | None,
    scale_window: int,
    freq: str = "D",
    seed: int = 0,
) -> Run:
    """The plain LightGBM of `plain_lgbm.py` on `train` (target and `known`), one thread, timed;
    `seed` is LightGBM's (`seeds.py` reruns both systems over several)."""
    history = train[["item_id", "timestamp", "target", *known]]
    with timed() as watch:
        forecast = plain_lgbm.forecast(
            history, future, horizon, freq, season, known, statics, QUANTILES, 1, scale_window, seed
        )
    return Run(forecast, watch.seconds)


def run_statsforecast(
    train: pd.DataFrame, model: str, season: Any, freq: str, horizon: int, n_jobs: int = -1
) -> Run:
    """One statsforecast model used directly: `StatsForecast(...).forecast(h, level=[80])`."""
    sf = StatsForecast(models=[STATSFORECAST[model](season)], freq=freq, n_jobs=n_jobs)
    with timed() as watch:
        raw = sf.forecast(
            df=train[["item_id", "timestamp", "target"]],
            h=horizon,
            level=[80],
            id_col="item_id",
            time_col="timestamp",
            target_col="target",
        )
    return Run(_to_tidecast(raw, model), watch.seconds)


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages: how shared the machine was."""
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def run_in_turn(
    dataset: str,
    labels: dict[str, str],
    run_one: Callable[[str], Run],
    train: pd.DataFrame,
    test: pd.DataFrame,
    history: pd.DataFrame,
    season: int,
) -> tuple[list[dict[str, Any]], pd.DataFrame | None]:
    """Each system of `labels` (name -> row label) on one panel, one after another, scored.

    Returns the result rows (the first one's note opens with the load average at the start and
    the end of the run, since the machine may be shared) and tidecast's leaderboard.
    """
    start_load = load_average()
    print(f"  {dataset}: {train['item_id'].nunique()} series, {len(train)} rows; {start_load}", flush=True)
    rows: list[dict[str, Any]] = []
    board = None
    for system, label in labels.items():
        run = run_one(system)
        metrics = score(test, None if run.error else run.forecast, history, season)
        print(
            f"  {system} {run.seconds:.1f}s wQL {metrics.get('wql', np.nan):.4f}; {load_average()}",
            flush=True,
        )
        for line in run.notes:
            print("    " + line, flush=True)
        if system == "tidecast" and run.leaderboard is not None:
            board = run.leaderboard
        note = "; ".join(run.notes[:2])
        rows.append({"dataset": dataset, "system": label, **metrics, "seconds": run.seconds, "note": note})
    rows[0]["note"] = f"{start_load} at start, {load_average()} at end; " + rows[0]["note"]
    return rows, board


def history_grid(
    train: pd.DataFrame, origin: pd.Timestamp, freq: str, known: Sequence[str] = ()
) -> pd.DataFrame:
    """Each item's rows on its regular grid from its first step to `origin`: NaN targets where a
    row is absent, the `known` covariates carried forward (then back) within the item. Every
    series then ends at the origin, so a future's covariates cover each one's horizon (an early
    end would otherwise be forecast from its own last step)."""
    first = train.groupby("item_id")["timestamp"].min()
    grid = pd.concat(
        [
            pd.DataFrame({"item_id": i, "timestamp": pd.date_range(a, origin, freq=freq)})
            for i, a in first.items()
        ],
        ignore_index=True,
    ).astype({"timestamp": "datetime64[ns]"})
    columns = ["item_id", "timestamp", "target", *known]
    grid = grid.merge(train[columns], on=["item_id", "timestamp"], how="left")
    if known:
        grid[list(known)] = grid.groupby("item_id", sort=False)[list(known)].transform(
            lambda s: s.ffill().bfill()
        )
    return grid


def statsforecast_grid(train: pd.DataFrame, origin: pd.Timestamp, freq: str) -> pd.DataFrame:
    """Each item's target on its regular grid from its first step to the origin, absent steps
    interpolated and an early end carried forward (statsforecast reads consecutive steps)."""
    grid = history_grid(train, origin, freq)
    grid["target"] = grid.groupby("item_id", sort=False)["target"].transform(
        lambda s: s.interpolate(limit_direction="both")
    )
    return grid


def compare_systems(
    name: str,
    dataset: str,
    labels: dict[str, str],
    run_one: Callable[[str], Run],
    frames: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
    season: int,
    bars_of: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`run_in_turn` on a panel's (train, test, history), then the ratio columns (against the
    `plain_lgbm` row of `labels`), `bars_of(rows)`, `results/<name>.csv` and the printed table."""
    rows, board = run_in_turn(dataset, labels, run_one, *frames, season)
    add_ratios(rows)
    add_lgbm_ratios(rows, labels["plain_lgbm"])
    bars = bars_of(rows)
    write_rows(name, rows, bars, {name: board} if board is not None else {})
    print_rows(rows, bars)
    return rows, bars


def run_with_naive(
    filled: pd.DataFrame, model: str, season: int, freq: str, horizon: int, min_seasons: float = 2.0
) -> Run:
    """statsforecast's `model` on the series of `min_seasons` seasons or more, its Naive on the
    others (SeasonalNaive has no season to copy on shorter ones, and AutoETS may fail on them)."""
    length = filled.groupby("item_id")["target"].transform("size")
    long = length >= min_seasons * season
    parts = [(model, filled[long]), ("Naive", filled[~long])]
    runs = [
        run_statsforecast(part, name, season, freq, horizon, n_jobs=1) for name, part in parts if len(part)
    ]
    forecast = pd.concat([r.forecast for r in runs], ignore_index=True)
    short = filled.loc[~long, "item_id"].nunique()
    note = f"Naive on {short} series under {min_seasons:g} seasons"
    return Run(forecast, sum(r.seconds for r in runs), notes=[note])


def _to_tidecast(raw: pd.DataFrame, alias: str) -> pd.DataFrame:
    """statsforecast's `<alias>`, `<alias>-lo-80`, `<alias>-hi-80` as mean/p10/p50/p90."""
    raw = raw.reset_index() if "item_id" not in raw.columns else raw
    return pd.DataFrame(
        {
            "item_id": raw["item_id"].astype(str),
            "timestamp": pd.to_datetime(raw["timestamp"]).astype("datetime64[ns]"),
            "mean": raw[alias].to_numpy(),
            "p10": raw[f"{alias}-lo-80"].to_numpy(),
            "p50": raw[alias].to_numpy(),
            "p90": raw[f"{alias}-hi-80"].to_numpy(),
        }
    )


def warm_up(train: pd.DataFrame, freq: str, horizon: int, models: dict[str, Any]) -> None:
    """Run every system once on three series spread over the panel, untimed.

    This compiles numba kernels and loads modules, so no timed run pays for JIT compilation.
    """
    items = train["item_id"].drop_duplicates()
    small = train[train["item_id"].isin(items.iloc[:: max(1, len(items) // 3)][:3])]
    for name, season in models.items():
        run_statsforecast(small, name, season, freq, horizon, n_jobs=1)
    warm = run_tidecast(small, horizon)
    if warm.error:
        print(f"  warm-up: tidecast {warm.error}", flush=True)
