"""What a training run leaves in its output folder, always under the same names.

DIR/forecasts.csv, DIR/forecasts.parquet   the forecast in the user's column names
DIR/leaderboard.csv                         candidates and ensemble, best first
DIR/report.json                             config, data summary, per-window metrics, weights
DIR/backtest_forecasts.csv                  every model's forecasts on every backtest window
DIR/model/                                  the fitted AutoForecaster (see automl.artifact)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from tidecast.jsonable import json_safe
from tidecast.models.base import FALLBACK_ITEMS
from tidecast.reports.missing import missing_report

if TYPE_CHECKING:
    from tidecast.automl.forecaster import AutoForecaster

FORECASTS_CSV = "forecasts.csv"
FORECASTS_PARQUET = "forecasts.parquet"
LEADERBOARD = "leaderboard.csv"
REPORT = "report.json"
MODEL_DIR = "model"
BACKTEST_FORECASTS = "backtest_forecasts.csv"


def _config_value(value: Any) -> Any:
    """An option as JSON: tables given in memory (item metadata, events) by their shape."""
    if isinstance(value, pd.DataFrame):
        return {"table_rows": len(value), "columns": [str(c) for c in value.columns]}
    if isinstance(value, Path):
        return str(value)
    return list(value) if isinstance(value, tuple) else value


def build_report(auto: AutoForecaster, forecasts: pd.DataFrame | None = None) -> dict[str, Any]:
    """The run's report: configuration, data, windows, every candidate's metrics, the ensemble.

    `forecasts` is the run's forecast frame, whose `attrs` say which items got a fallback.
    """
    by_model = {} if forecasts is None else forecasts.attrs.get(FALLBACK_ITEMS, {})
    report = auto.report_
    config = {
        k: _config_value(v) for k, v in vars(auto).items() if not k.endswith("_") and not k.startswith("_")
    }
    config["quantiles"] = list(auto.quantiles_)
    candidates = []
    for c in report.candidates:
        candidates.append(
            {
                "model": c.name,
                "score": c.score,
                "window_scores": c.window_scores,
                "window_metrics": c.window_metrics,
                "fit_seconds": c.fit_seconds,
                "predict_seconds": c.predict_seconds,
                "error": c.error,
                "fallback_items": c.fallback_items,
            }
        )
    return json_safe(
        {
            "config": config,
            "frequency": auto.spec_.freq,
            "season_length": auto.season_length_,
            "data": report.data_summary,
            "missing_values": missing_report(report.data_summary, [c.name for c in report.candidates]),
            "backtest_windows": report.windows,
            "backtest_plan": report.backtest_plan,
            "metric": auto.metric,
            "candidates": candidates,
            "ensemble": {
                "weights": report.ensemble_weights,
                "score": report.ensemble_score,
                "scored_on": report.ensemble_holdout.get("scored_on", ""),
                "in_sample": report.ensemble_holdout.get("in_sample", False),
                "fit_weights": report.ensemble_holdout.get("fit_weights", {}),
                "weighted_by": report.ensemble_holdout.get("weighted_by", auto.metric),
                "heldout_scores": report.ensemble_holdout.get("scores", {}),
                "earlier_duel": report.ensemble_holdout.get("earlier_duel", {}),
                "window_scores": report.ensemble_window_scores,
                "window_metrics": report.ensemble_window_metrics,
            },
            "selected": report.best,
            "final_weights": auto.weights_,
            "refit": report.refit,
            "quantile_calibration": report.calibration,
            "short_series": {"count": len(report.short_series), "items": report.short_series[:100]},
            "fallback_forecasts": {
                "how": "series too short for a model get its naive fallback (last value, random-walk spread)",
                "by_model": {k: {"count": len(v), "items": v[:100]} for k, v in by_model.items()},
            },
            "notes": report.notes,
            "timings": report.timings,
        }
    )


def write_run(auto: AutoForecaster, forecasts: pd.DataFrame, out: str | Path) -> dict[str, Path]:
    """Write forecasts, leaderboard, report and model into `out`; returns their paths."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "forecasts": folder / FORECASTS_CSV,
        "forecasts_parquet": folder / FORECASTS_PARQUET,
        "leaderboard": folder / LEADERBOARD,
        "report": folder / REPORT,
        "model": folder / MODEL_DIR,
    }
    forecasts.to_csv(paths["forecasts"], index=False)
    forecasts.to_parquet(paths["forecasts_parquet"], index=False)
    auto.leaderboard().to_csv(paths["leaderboard"], index=False)
    paths["report"].write_text(json.dumps(build_report(auto, forecasts), indent=2, default=str))
    auto.save(paths["model"])
    paths.update(_write_backtests(auto, folder))
    return paths


def write_evaluation(auto: AutoForecaster, out: str | Path) -> dict[str, Path]:
    """Write the leaderboard and report of a backtest-only run into `out`."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"leaderboard": folder / LEADERBOARD, "report": folder / REPORT}
    auto.leaderboard().to_csv(paths["leaderboard"], index=False)
    paths["report"].write_text(json.dumps(build_report(auto), indent=2, default=str))
    paths.update(_write_backtests(auto, folder))
    return paths


def _write_backtests(auto: AutoForecaster, folder: Path) -> dict[str, Path]:
    """`backtest_forecasts.csv` when the run had backtest windows (none without them)."""
    table = auto.backtest_forecasts()
    if table.empty:
        return {}
    path = folder / BACKTEST_FORECASTS
    table.to_csv(path, index=False)
    return {"backtests": path}
