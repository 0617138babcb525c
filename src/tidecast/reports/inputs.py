"""What the reports read: a training run's folder, or a model folder alone, as canonical frames.

A run folder (`reports.run`) holds everything: forecasts, leaderboard, report.json, the
backtest forecasts beside their actuals, and the model with its training history. A model
folder alone (a registered version whose run folder is gone, or one registered by hand) keeps
the history and the fitted forecaster but not the backtests (`AutoForecaster.load` drops
them), so the quality report built from it has no per-window or per-item errors; its
forecast is made again from the stored history when the model needs no future covariates,
or keeps the plan of them its forecast used (`automl.forecast_plan`). That plan is read too,
as `future`, so the explorer shows what the forecast assumed.

Frames come back in the canonical column names (`item_id`, `timestamp`, `target`), whatever
the user called them, so the computations in this package never look up user names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from tidecast.automl.artifact import HISTORY, MANIFEST, stored_plan
from tidecast.automl.selection import ENSEMBLE
from tidecast.data.ingest import from_canonical
from tidecast.data.item_keys import compose, id_strings, text_columns
from tidecast.data.missing_text import read_csv_names
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.errors import DataError
from tidecast.reports.explanations import EXPLANATIONS, IMPORTANCE
from tidecast.reports.run import (
    BACKTEST_FORECASTS,
    FORECASTS_CSV,
    FORECASTS_PARQUET,
    LEADERBOARD,
    MODEL_DIR,
    REPORT,
)

ACTUAL = "actual"  # the backtest table's observed value


@dataclass
class ReportInputs:
    """One run's artifacts as canonical frames; a piece the source lacks is None."""

    name: str
    quantiles: tuple[float, ...]
    season_length: int = 1
    horizon: int = 1
    selected: str = ""
    leaderboard: pd.DataFrame = field(default_factory=pd.DataFrame)
    report: dict[str, Any] = field(default_factory=dict)
    forecasts: pd.DataFrame | None = None
    backtests: pd.DataFrame | None = None
    history: pd.DataFrame | None = None
    # The known covariates over the horizon the forecast used (canonical item_id, timestamp
    # and one column each), where the model keeps them: `automl.forecast_plan`.
    future: pd.DataFrame | None = None
    static_columns: tuple[str, ...] = ()
    # The user's item column, or key of several ("Store,Dept"): the business report totals by each part.
    item_col: str = ITEM_ID
    # What `tidecast explain RUN` wrote into the run folder (`reports.explanations`), if it ran.
    explanations: pd.DataFrame | None = None
    explanation_importance: pd.DataFrame | None = None
    notes: dict[str, list[str]] = field(default_factory=lambda: {"quality": [], "business": []})
    """What the source lacks, per report kind ("quality", "business"), said on that report."""


def load_inputs(folder: str | Path, name: str | None = None) -> ReportInputs:
    """The report inputs of a run folder, or of a model folder (one holding manifest.json)."""
    path = Path(folder)
    if not path.is_dir():
        raise DataError(f"{path} is not a folder: give a run folder or a model folder")
    if (path / MANIFEST).is_file():
        return _from_model_folder(path, name or path.name)
    if not (path / REPORT).is_file():
        raise DataError(f"{path} holds no {REPORT} nor {MANIFEST}: it is not a tidecast run or model folder")
    return _from_run_folder(path, name or path.name)


def _renames(task_columns: dict[str, Any]) -> dict[str, str]:
    """The user's column names -> the canonical ones, from the manifest's task.columns."""
    names = {"item": ITEM_ID, "timestamp": TIMESTAMP, "target": TARGET}
    return {str(task_columns[k]): v for k, v in names.items() if task_columns.get(k)}


def _item_name(renames: dict[str, str]) -> str:
    """The user's item column (or key of several columns) among the renames."""
    return next((user for user, canonical in renames.items() if canonical == ITEM_ID), ITEM_ID)


def _read(path: Path, renames: dict[str, str]) -> pd.DataFrame:
    """An output CSV of the run, its item columns as text (store "01" stays "01", item "NA"
    stays "NA": `data.missing_text`)."""
    ids = text_columns(_item_name(renames))
    return read_csv_names(path, ids, ids)


def _canonical(frame: pd.DataFrame, renames: dict[str, str]) -> pd.DataFrame:
    frame = compose(frame, _item_name(renames))  # an item key of several columns, joined again
    out = frame.rename(columns={k: v for k, v in renames.items() if k in frame.columns and k != v})
    if TIMESTAMP in out.columns:
        out[TIMESTAMP] = pd.to_datetime(out[TIMESTAMP])
    if ITEM_ID in out.columns:
        out[ITEM_ID] = id_strings(out[ITEM_ID])  # a forecast's store 1 (or 1.0) is item "1"
    return out


def _from_run_folder(path: Path, name: str) -> ReportInputs:
    report = json.loads((path / REPORT).read_text())
    config = report.get("config", {})
    manifest = _manifest(path / MODEL_DIR)
    task = manifest.get("task", {})
    columns = task.get("columns") or {
        "item": config.get("item_col") or ITEM_ID,
        "timestamp": config.get("timestamp_col") or TIMESTAMP,
        "target": config.get("target_col") or TARGET,
    }
    renames = _renames(columns)
    inputs = ReportInputs(
        name=name,
        quantiles=tuple(float(q) for q in config.get("quantiles") or task.get("quantiles") or ()),
        season_length=int(report.get("season_length") or 1),
        horizon=int(config.get("horizon") or task.get("horizon") or 1),
        selected=str(report.get("selected") or ""),
        report=report,
        static_columns=tuple(task.get("covariates", {}).get("static", ())),
        item_col=_item_name(renames),
    )
    if (path / LEADERBOARD).is_file():
        try:
            inputs.leaderboard = pd.read_csv(path / LEADERBOARD)
        except pd.errors.EmptyDataError:  # a run without backtests, written before its columns were
            inputs.notes["quality"].append("no backtest in this run: no leaderboard")
    if (path / FORECASTS_PARQUET).is_file():
        inputs.forecasts = _canonical(pd.read_parquet(path / FORECASTS_PARQUET), renames)
    elif (path / FORECASTS_CSV).is_file():
        inputs.forecasts = _canonical(_read(path / FORECASTS_CSV, renames), renames)
    else:
        inputs.notes["business"].append("no forecasts in this run (a backtest-only evaluation)")
    if (path / BACKTEST_FORECASTS).is_file():
        inputs.backtests = _canonical(_read(path / BACKTEST_FORECASTS, renames), renames)
    else:
        inputs.notes["quality"].append("no backtest forecasts in this run: no per-window or per-item errors")
    if (path / MODEL_DIR / HISTORY).is_file():
        inputs.history = pd.read_parquet(path / MODEL_DIR / HISTORY)
    if manifest:
        inputs.future = stored_plan(path / MODEL_DIR)
    if (path / EXPLANATIONS).is_file():
        inputs.explanations = _canonical(_read(path / EXPLANATIONS, renames), renames)
    if (path / IMPORTANCE).is_file():
        inputs.explanation_importance = pd.read_csv(path / IMPORTANCE)
    return inputs


def _manifest(model: Path) -> dict[str, Any]:
    file = model / MANIFEST
    return json.loads(file.read_text()) if file.is_file() else {}


def _from_model_folder(path: Path, name: str) -> ReportInputs:
    from tidecast.automl.forecaster import AutoForecaster
    from tidecast.reports.run import build_report

    auto = AutoForecaster.load(path)
    task = _manifest(path).get("task", {})
    report = build_report(auto)
    inputs = ReportInputs(
        name=name,
        quantiles=tuple(float(q) for q in auto.quantiles_),
        season_length=int(auto.season_length_),
        horizon=int(auto.horizon),
        selected=str(report.get("selected") or ""),
        leaderboard=auto.leaderboard(),
        report=report,
        history=auto.history_,
        static_columns=tuple(task.get("covariates", {}).get("static", ())),
        item_col=auto.item_col,
        notes={
            "quality": ["a model folder keeps no backtest forecasts: no per-window or per-item errors"],
            "business": ["a model folder keeps no backtests: no accuracy warnings"],
        },
    )
    plan = auto.forecast_future_
    if auto.spec_.known_covariates and plan is None:
        inputs.notes["business"].append(
            "the model needs future covariates, and this model folder keeps no plan of them: "
            "no business report"
        )
    else:  # the stored history's forecast, again with the plan it used where the model keeps one
        if plan is None:
            frame = auto.predict()
        else:
            frame = from_canonical(auto.predict_canonical(auto.history_, plan), auto.spec_)
        inputs.forecasts = _canonical(frame, _renames(task.get("columns", {})))
        inputs.future = plan
    return inputs


def selected_backtests(inputs: ReportInputs) -> pd.DataFrame | None:
    """The backtest rows of the model that forecasts (the ensemble's when it was selected)."""
    table = inputs.backtests
    if table is None or table.empty:
        return None
    models = set(table["model"].unique())
    chosen = inputs.selected if inputs.selected in models else ENSEMBLE if ENSEMBLE in models else None
    if chosen is None:
        return None
    rows = table[table["model"] == chosen]
    return rows.sort_values([ITEM_ID, "window", TIMESTAMP], kind="stable").reset_index(drop=True)
