"""What a fitted `AutoForecaster` tells and keeps: its leaderboard, its backtest forecasts,
the fingerprint of its data, and its model folder (`save` / `load`, through `artifact`).

A mixin, as `PreparesData` is, so the forecaster's fitted state stays its own attributes and
models pickled before keep loading.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, cast

import pandas as pd

from tidecast.automl.artifact import load_state, panel_fingerprint, save_forecaster
from tidecast.automl.backtest import MODEL, WINDOW
from tidecast.automl.leaderboard import backtest_forecasts, build_leaderboard
from tidecast.data.ingest import from_canonical
from tidecast.data.schema import DatasetSpec
from tidecast.errors import ModelError

if TYPE_CHECKING:
    from tidecast.automl.forecaster import AutoForecaster


class FittedResults:
    """Results and persistence of a fitted `AutoForecaster` (see the module docstring)."""

    metric: str
    quantiles_: tuple[float, ...]
    spec_: DatasetSpec
    history_: pd.DataFrame
    report_: Any

    def _check_fitted(self) -> None:
        if not hasattr(self, "members_"):
            raise ModelError("this AutoForecaster is not fitted yet: call fit() first")

    def leaderboard(self) -> pd.DataFrame:
        """One row per candidate and the ensemble: per-window and held-out scores, timings; best first."""
        if not hasattr(self, "report_"):
            raise ModelError("no leaderboard yet: call fit() or evaluate() first")
        return build_leaderboard(self.report_, self.metric)

    def backtest_forecasts(self) -> pd.DataFrame:
        """Every candidate's and the ensemble's forecasts on the backtest windows, beside the
        actuals: model, window (1 = oldest), cutoff, item, timestamp, actual, mean, quantiles.

        What a user plots to see how each model did. The ensemble's rows combine its members
        with the final weights (fitted on these same windows, so they flatter it; the
        leaderboard's score is the held-out one) and before quantile calibration. Only right
        after `fit` or `evaluate`: a loaded model has dropped the backtests.
        """
        report = getattr(self, "report_", None)  # none before fit: the ModelError says so
        table = backtest_forecasts(report, getattr(self, "quantiles_", ()))
        return from_canonical(table, self.spec_, leading=(MODEL, WINDOW))

    def fingerprint(self) -> str:
        """A digest of the training panel, to tell which data a model saw."""
        self._check_fitted()
        return panel_fingerprint(self.history_)

    def save(self, path: str | Path) -> Path:
        """Write the fitted model to the folder `path` and return it (`load` reads it back and
        forecasts to the last bit as this object does).

        The folder holds a manifest (task, scores, data fingerprint, every file's SHA-256), the
        fitted state, the training history and the known covariates' plan of its last forecast;
        it is written beside `path` and renamed into place. An earlier model there is replaced;
        a file, or a folder holding anything else, is refused (a ModelError), never deleted.
        """
        self._check_fitted()
        return save_forecaster(cast("AutoForecaster", self), path)

    @classmethod
    def load(cls, path: str | Path, *, history: bool = True, manifest_digest: str | None = None) -> Self:
        """The AutoForecaster saved in folder `path`, every file checked against the manifest's
        digests first (an altered or incomplete folder is a ModelError; see `artifact.load_state`).

        `history=False` skips the stored training history: such a model forecasts only from the
        data given to `predict`. `manifest_digest`, where a registry recorded one, must match.
        The backtests are not kept: `leaderboard()` works, `backtest_forecasts()` does not.
        """
        state, panel = load_state(path, history=history, manifest_digest=manifest_digest)
        forecaster = cls.__new__(cls)
        forecaster.__dict__.update(state)
        if panel is not None:
            forecaster.history_ = panel
        return forecaster
