"""The leaderboard: every candidate and the ensemble, scored on the same backtest, best first.

Candidates are scored on every window (`score` is their mean). The ensemble's weights are
fitted on the backtest itself, so its row shows only what its weights did not see: `score`
and the window columns hold its held-out score (NaN on windows its weights were fitted on).
`heldout_<metric>` puts every model on those same held-out points, the like-with-like column
the choice between the ensemble and the best single model was made on (see `selection`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tidecast.automl.backtest import backtest_table
from tidecast.automl.ensemble import combine
from tidecast.automl.selection import ENSEMBLE
from tidecast.errors import ModelError

if TYPE_CHECKING:
    from tidecast.automl.fit_report import FitReport


def build_leaderboard(report: FitReport, metric: str) -> pd.DataFrame:
    """One row per candidate and one for the ensemble (when it has weights), best score first."""
    n = len(report.windows)
    held_out = report.ensemble_holdout.get("scores", {})
    rows = []
    for c in report.candidates:
        row: dict[str, Any] = {"model": c.name}
        for k in range(n):
            row[f"window_{k + 1}_{metric}"] = c.window_scores[k] if k < len(c.window_scores) else np.nan
        row["score"] = c.score if c.error is None else np.nan
        row[f"heldout_{metric}"] = held_out.get(c.name, np.nan)
        row["fit_seconds"] = round(c.fit_seconds, 3)
        row["predict_seconds"] = round(c.predict_seconds, 3)
        row["weight"] = report.ensemble_weights.get(c.name, 0.0)
        row["error"] = c.error or ""
        rows.append(row)
    if report.ensemble_weights:
        row = {"model": ENSEMBLE}
        for k in range(n):
            row[f"window_{k + 1}_{metric}"] = report.ensemble_window_scores[k]
        row["score"] = report.ensemble_score
        row[f"heldout_{metric}"] = held_out.get(ENSEMBLE, np.nan)
        members = [c for c in report.candidates if c.name in report.ensemble_weights]
        row["fit_seconds"] = round(sum(c.fit_seconds for c in members), 3)
        row["predict_seconds"] = round(sum(c.predict_seconds for c in members), 3)
        row["weight"] = 1.0
        row["error"] = ""
        rows.append(row)
    if not rows:  # no backtest (switched off, or too short): the columns still, so the CSV has them
        columns = ["model", "selected", "score", f"heldout_{metric}", "fit_seconds", "predict_seconds"]
        return pd.DataFrame(columns=[*columns, "weight", "error"])
    board = pd.DataFrame(rows)
    board = board.sort_values("score", na_position="last", kind="stable").reset_index(drop=True)
    board.insert(1, "selected", board["model"] == report.best)
    return board


def backtest_forecasts(report: FitReport | None, quantiles: tuple[float, ...]) -> pd.DataFrame:
    """Every candidate's and the ensemble's backtest forecasts beside the actuals, canonical
    columns (see `AutoForecaster.backtest_forecasts`); the ensemble's rows use its final weights."""
    points = getattr(report, "backtest_points", None)
    if report is None or points is None:
        raise ModelError("no backtest forecasts: call fit() or evaluate() first (a loaded model has none)")
    forecasts = {c.name: c.forecast for c in report.candidates if c.forecast is not None and c.error is None}
    weights = report.ensemble_weights
    if weights and all(name in forecasts for name in weights):
        forecasts = {ENSEMBLE: combine(forecasts, weights), **forecasts}
    return backtest_table(points, forecasts, quantiles)
