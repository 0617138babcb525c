"""One system on a prepared panel, the same way for every synthetic and derived panel benchmark.

`store_panel.py`, `weekly_panel.py` and `visits_panel.py` each run tidecast, the plain
LightGBM, statsforecast models and AutoGluon on their own (train, future, filled, statics);
what differs between them is the panel, not how a system is called, so that lives here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import pandas as pd

from autogluon_client import run_autogluon
from systems import Run, history_grid, run_plain_lgbm, run_statsforecast, run_tidecast


class PanelFrames(Protocol):
    """What each panel script's `Panel` holds: the history, the horizon's covariates,
    statsforecast's gap-free grid and the static attributes."""

    train: pd.DataFrame
    future: pd.DataFrame
    filled: pd.DataFrame
    statics: pd.DataFrame


def run_on_panel(
    system: str,
    p: PanelFrames,
    *,
    horizon: int,
    season: int,
    freq: str,
    known: Sequence[str],
    scale_window: int,
    autogluon: str | None = None,
    origin: pd.Timestamp | None = None,
    seed: int = 0,
    **tidecast_options: Any,
) -> Run:
    """Fit + forecast `system`, timed, on one thread: "tidecast" (`tidecast_options` added to
    the panel's frequency and known covariates), "plain_lgbm", "autogluon" (`autogluon`: its
    Python; each series on its grid up to `origin`, the train's last step unless given) or a
    statsforecast model on `p.filled`. `seed` is tidecast's and the plain LightGBM's."""
    known = list(known)
    train, future, statics = p.train, p.future, p.statics
    if system == "autogluon" and autogluon:
        end = train["timestamp"].max() if origin is None else origin
        grid = history_grid(train, end, freq, known)
        return run_autogluon(autogluon, grid, future, statics, horizon, freq, known, threads=1)
    if system == "tidecast":
        return run_tidecast(
            train,
            horizon,
            future=future,
            frequency=freq,
            known_covariates=known,
            n_jobs=1,
            seed=seed,
            **tidecast_options,
        )
    if system == "plain_lgbm":
        return run_plain_lgbm(train, future, horizon, season, known, statics, scale_window, freq, seed)
    return run_statsforecast(p.filled, system, season, freq, horizon, n_jobs=1)
