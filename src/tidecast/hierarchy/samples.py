"""A forecast's quantile function from its quantiles, for drawing from quantile forecasts.

Each row's quantile function is its forecast quantiles interpolated linearly in normal scores
z = Φ⁻¹(q), so a normal forecast is reproduced exactly, tails included, and extended below the
lowest and above the highest quantile with the outer segments' slopes. The cold start draws its
peer mixture with it. (The hierarchy drew coherent joint samples with it until its quantiles
were made each node's own, moved with its reconciled mean: `coherent` says why.)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import ndtri


def quantile_function(qvalues: np.ndarray, quantiles: Sequence[float], u: np.ndarray) -> np.ndarray:
    """Values at probability `u` of forecasts given by their quantiles, per row.

    `qvalues` is (rows, Q) with sorted `quantiles`; `u` is (rows, draws). Linear in normal
    scores between the given quantiles, extended with the outer segments' slopes.
    """
    q = np.asarray(quantiles, dtype=np.float64)
    values = np.sort(np.asarray(qvalues, dtype=np.float64), axis=1)  # crossing quantiles sorted
    if len(q) == 1:
        return np.repeat(values, u.shape[1], axis=1)
    return at_scores(values, q, ndtri(np.clip(u, 1e-6, 1 - 1e-6)))


def at_scores(values: np.ndarray, q: np.ndarray, z: np.ndarray) -> np.ndarray:
    """`quantile_function` at normal scores z = Φ⁻¹(u) (sorted values, at least two quantiles)."""
    zq = ndtri(q)
    k = np.clip(np.searchsorted(zq, z) - 1, 0, len(q) - 2)  # segment per draw
    rows = np.arange(values.shape[0])[:, None]
    lo, hi = values[rows, k], values[rows, k + 1]
    return np.asarray(lo + (hi - lo) * (z - zq[k]) / (zq[k + 1] - zq[k]))
