"""Training and forecast windows as tensors: gathered from a `Panel`, scaled per window.

Every window is divided by the mean absolute value of its context (DeepAR's scaling), and the
log of that scale is an input, so one network serves series of every size. Windows reaching
before a series' start are padding with an observed-flag of 0. Imports torch: the forecasters
import this module only inside fit and predict.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from tidecast.models.neural.features import MIN_SCALE, FeatureLayout, Panel


@dataclass(frozen=True)
class Batch:
    """Windows as tensors, target scaled by its context's mean absolute value."""

    y: torch.Tensor  # (B, W) scaled, 0 where missing
    observed: torch.Tensor  # (B, W) 1.0 where the target is observed
    known: torch.Tensor  # (B, W, n_known)
    past: torch.Tensor  # (B, W, n_past), zero over the last `horizon` steps
    static_codes: torch.Tensor  # (B, n_categorical)
    static_real: torch.Tensor  # (B, n_static_real), the normalised log scale last
    scale: torch.Tensor  # (B,)

    def to(self, where: torch.device) -> Batch:
        return Batch(*(t.to(where) for t in vars(self).values()))


def make_batch(
    panel: Panel,
    layout: FeatureLayout,
    series: np.ndarray,
    ends: np.ndarray,
    window: int,
    context: int,
    horizon: int,
) -> Batch:
    """Windows of `window` steps ending (exclusive) at column `ends` of `series`' rows.

    The scale is the mean |y| over the `context` steps before the last `horizon` ones; past
    covariates are blanked over the last `horizon` steps, as they will be when forecasting.
    """
    columns = ends[:, None] - window + np.arange(window)[None, :]
    rows = series[:, None]
    raw = panel.target[rows, columns]
    observed = np.isfinite(raw)
    head = slice(window - horizon - context, window - horizon)
    with np.errstate(all="ignore"):
        level = np.nanmean(np.abs(raw[:, head]), axis=1)
    scale = np.where(np.isfinite(level) & (level > MIN_SCALE), level, 1.0).astype(np.float32)
    y = np.where(observed, raw / scale[:, None], 0.0).astype(np.float32)
    past = panel.past[rows, columns]
    past[:, window - horizon :] = 0.0
    log_scale = layout.log_scale(np.log(np.maximum(scale, MIN_SCALE))[:, None])
    static_real = np.concatenate([panel.static_real[series], log_scale], axis=1)
    return Batch(
        torch.from_numpy(y),
        torch.from_numpy(observed.astype(np.float32)),
        torch.from_numpy(np.ascontiguousarray(panel.known[rows, columns])),
        torch.from_numpy(np.ascontiguousarray(past)),
        torch.from_numpy(panel.static_codes[series]),
        torch.from_numpy(static_real.astype(np.float32)),
        torch.from_numpy(scale),
    )


@dataclass(frozen=True)
class WindowSampler:
    """Random training windows whose targets end before the held-out last horizon.

    Ends are uniform over every (series, end) pair within the last `span` steps before the
    validation horizon that leaves at least one observed step before the window's target,
    so long series weigh more and series no longer than a horizon are left out.
    """

    panel: Panel
    layout: FeatureLayout
    window: int
    context: int
    horizon: int
    holdout: int

    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(first valid end, number of ends) per series, and their cumulative counts."""
        last = self.panel.length - self.holdout
        first = np.maximum(self.panel.length - self.panel.lengths + self.horizon + 1, self.window)
        counts = np.maximum(last - first + 1, 0)
        return first, counts, np.cumsum(counts)

    def sample(self, rng: np.random.Generator, size: int) -> Batch | None:
        first, counts, cumulative = self.pairs()
        if cumulative[-1] == 0:
            return None
        draws = rng.integers(0, int(cumulative[-1]), size)
        series = np.searchsorted(cumulative, draws, side="right")
        ends = first[series] + draws - (cumulative[series] - counts[series])
        return make_batch(self.panel, self.layout, series, ends, self.window, self.context, self.horizon)


def validation_batch(
    panel: Panel, layout: FeatureLayout, window: int, context: int, horizon: int, limit: int, seed: int
) -> Batch | None:
    """The last horizon of each series long enough to have one, at most `limit` series."""
    series = np.flatnonzero(panel.lengths > horizon)
    if len(series) == 0:
        return None
    if len(series) > limit:
        series = np.sort(np.random.default_rng(seed).choice(series, limit, replace=False))
    ends = np.full(len(series), panel.length)
    return make_batch(panel, layout, series, ends, window, context, horizon)
