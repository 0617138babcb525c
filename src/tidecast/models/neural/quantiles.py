"""Quantiles at any level from a network's fixed grid of quantile levels (torch-free)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import norm


def interpolate_quantiles(grid: Sequence[float], values: np.ndarray, wanted: Sequence[float]) -> np.ndarray:
    """Quantiles at `wanted` levels from values (..., len(grid)) at the sorted `grid` levels.

    Linear in the normal score z = Phi^-1(q), extrapolated beyond the grid with the slope of
    its outer segments: a Gaussian tail whose spread matches the outermost grid levels.
    """
    z = norm.ppf(np.asarray(grid, dtype=np.float64))
    target = norm.ppf(np.asarray(wanted, dtype=np.float64))
    flat = values.reshape(-1, len(grid)).astype(np.float64)
    out = np.empty((len(flat), len(target)))
    low_slope = np.maximum((flat[:, 1] - flat[:, 0]) / (z[1] - z[0]), 0.0)
    high_slope = np.maximum((flat[:, -1] - flat[:, -2]) / (z[-1] - z[-2]), 0.0)
    for j, t in enumerate(target):
        if t < z[0]:
            out[:, j] = flat[:, 0] + (t - z[0]) * low_slope
        elif t > z[-1]:
            out[:, j] = flat[:, -1] + (t - z[-1]) * high_slope
        else:
            k = int(np.clip(np.searchsorted(z, t, side="right") - 1, 0, len(z) - 2))
            w = (t - z[k]) / (z[k + 1] - z[k])
            out[:, j] = (1 - w) * flat[:, k] + w * flat[:, k + 1]
    return out.reshape(*values.shape[:-1], len(target))
