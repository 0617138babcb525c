"""The training rows of the global LightGBM (`gbm`): a uniform sample of (origin, step) pairs,
drawn without listing them all.

A training row is a forecast origin of a series and a step after it whose target is observed.
On a long, wide panel there are tens of millions of them (1,100 daily series of 900 days and
a 48-day horizon: 47 million) and the model keeps `max_rows` (60,000). Listing every pair and
then sampling took 12 s per fit there, more than the boosting; here each observed target
carries its count of rows (the steps whose origin lies in the series' origin range), and the
sample is drawn as row ranks over those counts (Floyd's algorithm, without replacement), then
mapped back to (origin, step) by a cumulative count. Same distribution as listing and
sampling: every row equally likely, none twice. When a part (training or validation) has no
more rows than its budget, every row is kept, as before.
"""

from __future__ import annotations

import numpy as np

from tidecast.data.arrays import ranges
from tidecast.models.gbm_features import Extended


def spares_holdout(lengths: np.ndarray, horizon: int, min_context: int, holdout: int) -> np.ndarray:
    """Which series are long enough to hold out their last `holdout` steps for validation and
    still train on a horizon after `min_context` steps."""
    return (np.asarray(lengths) - holdout) >= min_context + horizon


def row_targets(
    ext: Extended, horizon: int, n_origins: int, min_context: int, n_steps: int, holdout: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each observed target that some training row reads, with its row count.

    Origins of series i run from its `first` origin (at least `min_context` steps in, at
    most `n_origins` + `horizon` - 1 before its end) to its last step; a row (origin o, step
    k in 1..`n_steps`) reads the target at o + k - 1, so a target t has min(n_steps, t -
    first + 1) rows. Returns targets (absolute positions), their counts, and the validation
    flag: targets in the last `holdout` steps of a series long enough to spare them.
    """
    lengths = ext.ends - ext.starts
    first = np.maximum(min_context, lengths - n_origins - horizon + 1)
    counts = np.maximum(lengths - first, 0)
    lowest = np.repeat(ext.starts + first, counts)
    series = np.repeat(np.arange(len(lengths)), counts)
    targets = ranges(ext.starts + first, counts)
    observed = np.isfinite(ext.values[targets])
    targets, lowest, series = targets[observed], lowest[observed], series[observed]
    rows = np.minimum(n_steps, targets - lowest + 1)
    spare = spares_holdout(lengths, horizon, min_context, holdout)[series]
    validation = spare & (targets >= ext.ends[series] - holdout)
    return targets, rows, validation


def _expand(targets: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (origin, step) of these targets."""
    steps = ranges(np.ones(len(rows), dtype=np.int64), rows)
    return np.repeat(targets, rows) - steps + 1, steps


def _draw(
    targets: np.ndarray, rows: np.ndarray, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """`size` distinct (origin, step) pairs drawn uniformly among the rows of these targets."""
    bounds = np.cumsum(rows)
    rank = rng.choice(int(bounds[-1]), size, replace=False)
    which = np.searchsorted(bounds, rank, side="right")
    steps = rank - (bounds[which] - rows[which]) + 1
    return targets[which] - steps + 1, steps


def sample_training_rows(
    ext: Extended,
    horizon: int,
    n_origins: int,
    min_context: int,
    n_steps: int,
    holdout: int,
    budgets: tuple[int, int],
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Origins, steps and validation flags of at most `budgets` (training, validation) rows,
    each part sampled uniformly when larger; rows in (origin, step) order."""
    targets, rows, validation = row_targets(ext, horizon, n_origins, min_context, n_steps, holdout)
    rng = np.random.default_rng(seed)
    parts = []
    for flag, budget in zip((False, True), budgets, strict=True):
        part = validation == flag
        t, r = targets[part], rows[part]
        total = int(r.sum())
        origins, steps = _expand(t, r) if total <= budget else _draw(t, r, budget, rng)
        parts.append((origins, steps, np.full(len(origins), flag)))
    origins, steps, flags = (np.concatenate(a) for a in zip(*parts, strict=True))
    order = np.lexsort((steps, origins))
    return origins[order], steps[order], flags[order]
