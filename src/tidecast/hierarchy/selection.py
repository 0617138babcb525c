"""Choosing the reconciliation method on the backtest windows the levels' models were judged on.

Every level's AutoForecaster leaves its ensemble's forecasts on its backtest windows (calibrated
here as its forecasts are). Window by window, every method reconciles those base forecasts and
is scored per level by wQL against the actuals; the chosen method has the lowest mean over the
levels (each level counts once, so the few aggregates weigh as much as the many items) among
those no worse than the base forecasts at the top level (`choose`). The methods that learn from
errors (wls_var, mint_shrink) learn them on the other windows when there are several, so a
window never scores errors it was fitted on; with a single window they are in-sample there (the
report says so).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tidecast.automl.backtest import ACTUAL, MODEL, WINDOW
from tidecast.automl.selection import ENSEMBLE
from tidecast.data.ingest import canonical_names
from tidecast.data.schema import MEAN, quantile_columns
from tidecast.hierarchy.aggregate import stack
from tidecast.hierarchy.coherent import Reconciler
from tidecast.hierarchy.structure import Structure
from tidecast.metrics.kernels import wql

BASE = "base"  # the unreconciled forecasts, scored for reference; never chosen (incoherent)


def ensemble_backtests(auto: object) -> pd.DataFrame:
    """A fitted AutoForecaster's ensemble forecasts on its backtest windows, canonical columns,
    with its quantile calibration applied (as `predict` applies it)."""
    table = auto.backtest_forecasts()  # type: ignore[attr-defined]
    spec = auto.spec_  # type: ignore[attr-defined]
    table = canonical_names(table, spec)
    name = ENSEMBLE if (table[MODEL] == ENSEMBLE).any() else auto.report_.best  # type: ignore[attr-defined]
    table = table[table[MODEL] == name].reset_index(drop=True)
    calibration = getattr(auto, "calibration_", None)
    qcols = quantile_columns(auto.quantiles_)  # type: ignore[attr-defined]
    if calibration is not None:
        mean, q = calibration.calibrated(table[MEAN].to_numpy(), table[qcols].to_numpy())
        table[MEAN], table[qcols] = mean, q
    return table


def window_arrays(
    tables: Sequence[pd.DataFrame], structure: Structure, quantiles: Sequence[float]
) -> tuple[list[np.ndarray], list[str]]:
    """Per backtest window every node's (actual, mean, quantiles) as (n_nodes, steps, 2 + Q);
    windows where some node has no backtest (a short item) are left out, with a note."""
    table = pd.concat(tables, ignore_index=True)
    columns = [ACTUAL, MEAN, *quantile_columns(quantiles)]
    out, notes = [], []
    for window, rows in table.groupby(WINDOW, sort=True):
        try:
            out.append(stack({"all": rows}, structure, columns))
        except ValueError as exc:
            notes.append(f"backtest window {window} left out of the method choice: {exc}")
    return out, notes


def residuals_of(windows: Sequence[np.ndarray]) -> np.ndarray | None:
    """Base errors (n_nodes, points) of the mean over `windows` (missing actuals count as 0)."""
    if not windows:
        return None
    errors = np.concatenate([w[:, :, 0] - w[:, :, 1] for w in windows], axis=1)
    return np.nan_to_num(errors)


def level_wql(
    structure: Structure, actual: np.ndarray, qvalues: np.ndarray, quantiles: Sequence[float]
) -> dict[str, float]:
    """wQL per level of quantile forecasts (n_nodes, steps, Q) against actuals (n_nodes, steps)."""
    out = {}
    for name in structure.level_names:
        rows = structure.level_rows(name)
        y = actual[rows].ravel()
        q = qvalues[rows].reshape(-1, len(quantiles))
        keep = ~np.isnan(y)
        out[name] = wql(y[keep], q[keep], quantiles) if keep.any() else float("nan")
    return out


def score_methods(
    windows: Sequence[np.ndarray],
    structure: Structure,
    methods: Sequence[str],
    quantiles: Sequence[float],
    nonnegative: bool,
) -> pd.DataFrame:
    """One row per method (and `base`) per window per level: wQL."""
    rows = []
    for k, window in enumerate(windows):
        others = [w for j, w in enumerate(windows) if j != k] or [window]
        residuals = residuals_of(others)
        actual, base = window[:, :, 0], window[:, :, 1:]
        for level, value in level_wql(structure, actual, base[:, :, 1:], quantiles).items():
            rows.append((BASE, k + 1, level, value))
        for method in methods:
            rec = Reconciler(structure, method, residuals, nonnegative)
            _, qvalues = rec.apply(base)
            for level, value in level_wql(structure, actual, qvalues, quantiles).items():
                rows.append((method, k + 1, level, value))
    return pd.DataFrame(rows, columns=["method", "window", "level", "wql"])


def choose(scores: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """The chosen method, and the table of mean wQL per method (rows) and level (columns), with
    the mean over levels.

    The choice: the lowest mean over levels among the methods that are no worse than the base
    forecast at the top level (the total a plan is made from must not lose for coherence); if
    none is, the method best at the top level.
    """
    levels = list(dict.fromkeys(scores["level"]))
    table = scores.groupby(["method", "level"], sort=False)["wql"].mean().unstack("level")[levels]
    table["mean"] = table[levels].mean(axis=1)
    candidates = table.drop(index=BASE, errors="ignore")
    top = levels[0]
    if BASE in table.index:
        safe = candidates[candidates[top] <= table.loc[BASE, top] + 1e-12]
        if safe.empty:
            return str(candidates[top].idxmin()), table
        candidates = safe
    return str(candidates["mean"].idxmin()), table
