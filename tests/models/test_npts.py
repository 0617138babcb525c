"""NPTS's sampler: the running sums draw what the per-step kernel weights draw."""

from __future__ import annotations

import numpy as np
import pytest

from tidecast.models.npts import npts_sample_paths, npts_weights


def stepwise_paths(
    y: np.ndarray,
    horizon: int,
    num_samples: int,
    rng: np.random.Generator,
    alpha: float,
    season: int,
    exponential: bool,
) -> np.ndarray:
    """The sampler written step by step from `npts_weights` (as GluonTS does): the reference."""
    n = len(y)
    paths = np.empty((num_samples, n + horizon))
    paths[:, :n] = y
    rows = np.arange(num_samples)
    uniforms = rng.random((horizon, num_samples))
    scale = alpha / max(n + horizon - 1, 1)
    for h in range(horizon):
        target = n + h
        cumulative = np.cumsum(npts_weights(target, target, scale, season, exponential))
        index = np.searchsorted(cumulative, uniforms[h] * cumulative[-1], side="right")
        paths[:, target] = paths[rows, np.minimum(index, target - 1)]
    return paths[:, n:]


@pytest.mark.parametrize(
    ("n", "horizon", "season", "exponential", "alpha"),
    [
        (50, 14, 1, True, 1.0),
        (900, 48, 7, True, 1.0),
        (30, 24, 12, True, 3.0),
        (5, 10, 7, True, 1.0),  # shorter than a season: the plain kernel until a season back exists
        (200, 13, 52, True, 1.0),
        (40, 8, 1, False, 1.0),  # uniform kernel
        (60, 12, 7, False, 1.0),
    ],
)
def test_the_sampler_draws_the_same_steps_as_the_per_step_weights(
    n: int, horizon: int, season: int, exponential: bool, alpha: float
) -> None:
    y = np.arange(n, dtype=np.float64)  # each value names its step
    fast = npts_sample_paths(
        y, horizon, 500, np.random.default_rng(n), alpha=alpha, season_length=season, exponential=exponential
    )
    slow = stepwise_paths(y, horizon, 500, np.random.default_rng(n), alpha, season, exponential)
    assert np.array_equal(fast, slow)
    if season > 1 and n >= season:  # seasonal variant: every draw is whole seasons back
        steps = np.arange(n, n + horizon)
        assert ((steps[None, :] - fast) % season == 0).all()
