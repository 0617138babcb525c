"""What one `fit` learned about the data and the candidates: the body of report.json.

Its own module so the search steps, the leaderboard and the forecaster read one definition
without importing the forecaster (which imports them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tidecast.automl.backtest import CandidateResult


@dataclass
class FitReport:
    """Everything `fit` learned about the data and the candidates, for report.json."""

    data_summary: dict[str, Any] = field(default_factory=dict)
    windows: list[dict[str, Any]] = field(default_factory=list)
    backtest_plan: dict[str, Any] = field(default_factory=dict)
    candidates: list[CandidateResult] = field(default_factory=list)
    # The ensemble: final weights (fitted on every window), its score on the backtest points
    # its weights did not see (NaN per window where they did), and how that was held out.
    ensemble_weights: dict[str, float] = field(default_factory=dict)
    ensemble_window_metrics: list[dict[str, float]] = field(default_factory=list)
    ensemble_window_scores: list[float] = field(default_factory=list)
    ensemble_score: float = float("nan")
    ensemble_holdout: dict[str, Any] = field(default_factory=dict)
    best: str = ""
    refit: dict[str, str] = field(default_factory=dict)
    short_series: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    calibration: dict[str, Any] = field(default_factory=dict)
    # The backtest points (window, cutoff, item, timestamp, actual) the candidates' forecasts
    # are aligned with; not saved with the model (backtest_forecasts() is a fit's output).
    backtest_points: pd.DataFrame | None = None
