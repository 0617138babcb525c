"""Window statistics over a panel's concatenated series in constant time per window.

Every feature row of the global models reads means, spreads, levels and trend lines over
windows of its series' history that end at its forecast origin; tens of thousands of rows per
fit, each with a dozen windows. Prefix sums over the concatenated values (NaN counted as
missing) give each of them from two lookups, vectorised over the rows, instead of a pass over
the window. Positions are absolute in the concatenated array; callers keep windows inside
one series (`gbm_features`).
"""

from __future__ import annotations

import numpy as np


class Windows:
    """Prefix sums over `ext.values` (NaN as missing) for O(1) window means and spreads."""

    def __init__(self, values: np.ndarray) -> None:
        finite = np.isfinite(values)
        clean = np.where(finite, values, 0.0)
        self.total = np.concatenate([[0.0], np.cumsum(clean)])
        self.squares = np.concatenate([[0.0], np.cumsum(clean * clean)])
        self.absolute = np.concatenate([[0.0], np.cumsum(np.abs(clean))])
        self.count = np.concatenate([[0], np.cumsum(finite)])
        self.nonzero = np.concatenate([[0], np.cumsum(clean != 0)])
        position = np.arange(len(values), dtype=np.float64)
        self.position = np.concatenate([[0.0], np.cumsum(np.where(finite, position, 0.0))])
        self.position2 = np.concatenate([[0.0], np.cumsum(np.where(finite, position * position, 0.0))])
        self.cross = np.concatenate([[0.0], np.cumsum(clean * position)])

    def stats(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean, standard deviation and mean |y| of positions [lo, hi) (NaN where empty)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            count = (self.count[hi] - self.count[lo]).astype(np.float64)
            count[count == 0] = np.nan
            mean = (self.total[hi] - self.total[lo]) / count
            second = (self.squares[hi] - self.squares[lo]) / count
            spread = np.sqrt(np.maximum(second - mean * mean, 0.0))
            absolute = (self.absolute[hi] - self.absolute[lo]) / count
        return mean, spread, absolute

    def nonzero_level(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean |y| over the observed non-zero values of [lo, hi), and how many there are."""
        count = (self.nonzero[hi] - self.nonzero[lo]).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            level = (self.absolute[hi] - self.absolute[lo]) / count
        return np.where(count > 0, level, np.nan), count

    def line(self, lo: np.ndarray, hi: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Least-squares line through positions [lo, hi): its value at position `at` and the
        standard deviation of the values around it (both NaN with fewer than three points)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            n = (self.count[hi] - self.count[lo]).astype(np.float64)
            n[n < 3] = np.nan
            mean_x = (self.position[hi] - self.position[lo]) / n
            mean_y = (self.total[hi] - self.total[lo]) / n
            var_x = (self.position2[hi] - self.position2[lo]) / n - mean_x * mean_x
            var_y = (self.squares[hi] - self.squares[lo]) / n - mean_y * mean_y
            cov = (self.cross[hi] - self.cross[lo]) / n - mean_x * mean_y
            slope = np.where(var_x > 1e-9, cov / var_x, 0.0)
            residual = np.sqrt(np.maximum(var_y - slope * cov, 0.0))
            return mean_y + slope * (at - mean_x), residual
