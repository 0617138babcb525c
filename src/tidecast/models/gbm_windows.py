"""Window statistics over a panel's concatenated series in constant time per window.

Every feature row of the global models reads means, spreads, levels and trend lines over
windows of its series' history that end at its forecast origin; tens of thousands of rows per
fit, each with a dozen windows. Prefix sums over the values (NaN counted as missing) give each
of them from two lookups, vectorised over the rows, instead of a pass over the window.
Callers keep each window inside one series (`gbm_features`).

The sums restart at every series (`segment_prefix`), and the trend line's positions count
from its series' first row. Prefix sums over the whole concatenated panel lost the small
series to the large: a window's sum is the difference of two running totals, exact only to
the totals' magnitude. A perfect straight line's trend value (168) read 168.96 at row 500,000
and the flat mean, 127, from about 5 million rows (squared positions summed past 10^19), the
size of a batch chunk or of a 10,000-item training panel; and in a panel whose scales run
from 1 to 10^5 the running sum of squares reaches 10^16 after a few hundred large series, so
a small series further on got its spread from rounding. Restarted per series, a window's sums
are as exact as that series alone allows, whatever else the panel holds.

What it moves (whole AutoML, default preset, one thread, test wQL): pasta_promo's global models
forecast the same to the last bit (a small panel's sums were exact enough). The synthetic
store panel (`benchmarks/store_panel.py`, 948,080 rows, where the old sums put the 7-step trend
line of the last stores up to 63% off) went 0.008911 -> 0.0099 at seed 0 and 0.010380 ->
0.010188 at seed 1: within the 0.0089-0.0104 that the seed alone moves it.
"""

from __future__ import annotations

import numpy as np


def segment_prefix(columns: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Running sums of each column of `columns` (rows x k) restarting at every segment of
    `indptr`: row r + 1 of the result holds the sum from its segment's first row to row r
    (row 0 is 0). Each segment is summed on its own, in order, as `np.cumsum` of that
    segment alone would; segments of similar length are summed together as one block
    (lengths within a factor of two, so a block wastes at most half its cells)."""
    n, k = columns.shape
    out = np.zeros((n + 1, k))
    starts, lengths = indptr[:-1], np.diff(indptr)
    used = lengths > 0
    if not used.any():
        return out
    bucket = np.ceil(np.log2(np.maximum(lengths, 1))).astype(np.int64)
    for key in np.unique(bucket[used]):
        pick = np.flatnonzero(used & (bucket == key))
        width = int(lengths[pick].max())
        offsets = np.arange(width)
        inside = offsets[None, :] < lengths[pick][:, None]
        rows = (starts[pick][:, None] + offsets[None, :])[inside]
        block = np.zeros((len(pick), width, k))
        block[inside] = columns[rows]
        out[rows + 1] = np.cumsum(block, axis=1)[inside]
    return out


class Windows:
    """Prefix sums over `values` (NaN as missing), restarted at each series of `indptr` (the
    whole array one series when not given), for O(1) window means, spreads and lines."""

    def __init__(self, values: np.ndarray, indptr: np.ndarray | None = None) -> None:
        n = len(values)
        bounds = np.array([0, n], dtype=np.int64) if indptr is None else np.asarray(indptr, dtype=np.int64)
        if bounds[0] != 0 or bounds[-1] != n:
            raise ValueError(f"series bounds must run from 0 to {n}, got {bounds[0]}..{bounds[-1]}")
        finite = np.isfinite(values)
        clean = np.where(finite, values, 0.0)
        first = np.repeat(bounds[:-1], np.diff(bounds))  # each row's series start
        position = np.where(finite, np.arange(n) - first, 0.0).astype(np.float64)
        sums = segment_prefix(
            np.column_stack(
                [clean, clean * clean, np.abs(clean), position, position * position, clean * position]
            ),
            bounds,
        )
        self.total, self.squares, self.absolute = sums[:, 0], sums[:, 1], sums[:, 2]
        self.position, self.position2, self.cross = sums[:, 3], sums[:, 4], sums[:, 5]
        # Counts are integers, exact over the whole panel.
        self.count = np.concatenate([[0], np.cumsum(finite)])
        self.nonzero = np.concatenate([[0], np.cumsum(clean != 0)])
        # Whether a position opens a series (its prefix then starts from 0), and each
        # position's series start (`line` measures from it); one more entry for position n.
        self.opens = np.zeros(n + 1, dtype=bool)
        self.opens[bounds[:-1]] = True
        self.first = np.append(first, n)

    def _sum(self, prefix: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """The sum of a prefix column over [lo, hi) inside one series (garbage where empty,
        which the callers' zero counts turn into NaN)."""
        return prefix[hi] - np.where(self.opens[lo], 0.0, prefix[lo])

    def stats(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean, standard deviation and mean |y| of positions [lo, hi) (NaN where empty)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            count = (self.count[hi] - self.count[lo]).astype(np.float64)
            count[count == 0] = np.nan
            mean = self._sum(self.total, lo, hi) / count
            second = self._sum(self.squares, lo, hi) / count
            spread = np.sqrt(np.maximum(second - mean * mean, 0.0))
            absolute = self._sum(self.absolute, lo, hi) / count
        return mean, spread, absolute

    def nonzero_level(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean |y| over the observed non-zero values of [lo, hi), and how many there are."""
        count = (self.nonzero[hi] - self.nonzero[lo]).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            level = self._sum(self.absolute, lo, hi) / count
        return np.where(count > 0, level, np.nan), count

    def line(self, lo: np.ndarray, hi: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Least-squares line through positions [lo, hi): its value at position `at` and the
        standard deviation of the values around it (both NaN with fewer than three points)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            n = (self.count[hi] - self.count[lo]).astype(np.float64)
            n[n < 3] = np.nan
            mean_x = self._sum(self.position, lo, hi) / n
            mean_y = self._sum(self.total, lo, hi) / n
            var_x = self._sum(self.position2, lo, hi) / n - mean_x * mean_x
            var_y = self._sum(self.squares, lo, hi) / n - mean_y * mean_y
            cov = self._sum(self.cross, lo, hi) / n - mean_x * mean_y
            slope = np.where(var_x > 1e-9, cov / var_x, 0.0)
            residual = np.sqrt(np.maximum(var_y - slope * cov, 0.0))
            return mean_y + slope * (at - self.first[lo] - mean_x), residual
