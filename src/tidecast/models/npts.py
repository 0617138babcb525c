"""NPTS, the Non-Parametric Time Series forecaster of GluonTS and Amazon Forecast.

Each future value is one of the past values, drawn with probability that decays with the
distance in time; sample paths are built one step at a time, and a drawn value joins the
history the next steps draw from (so paths stay coherent, as in GluonTS). The forecast is
the sample mean and the empirical quantiles of the paths. It needs no fitting, copes with
any length and with intermittent or bursty data, and never forecasts a value it has not seen.

Faithful to `gluonts.model.npts.NPTSPredictor` with its defaults, where step T draws past
step t with weight

    exp(-alpha * |T - t| / (L + H - 1))     (exponential kernel, alpha = exp_kernel_weights)
    1                                       (uniform kernel, the "climatological" forecaster)

with L the context length and H the horizon (GluonTS rescales the time index to [-0.5, 0.5]).
The seasonal variant adds the season position (day of week for daily data) as a feature
multiplied by `feature_scale=1000`, which makes every other season position a factor of at
least exp(-166) less likely; here that limit is taken exactly: only steps a whole number of
seasons back are drawn. When the history holds no such step (a series shorter than a season)
the plain kernel is used.

Determinism: the random stream of a series is seeded from `seed` and a hash of the history
the sampler sees, not from the series' position in the panel, so the same history and seed
give the same forecast whatever other items the panel holds, in any order or process.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from tidecast.data.arrays import SeriesArrays
from tidecast.errors import ConfigError
from tidecast.models.base import Tags
from tidecast.models.intervals import empirical_quantiles
from tidecast.models.local import LocalForecaster, SeriesForecast

KERNELS = ("exponential", "uniform")


def npts_weights(n_past: int, target: int, scale: float, season_length: int, exponential: bool) -> np.ndarray:
    """Unnormalised weights of the `n_past` steps before step `target` (`n_past == target`).

    `scale` is alpha / (L + H - 1). Weights are relative to the nearest step, so they never
    underflow all together.
    """
    lag = target - np.arange(n_past)
    weights = np.exp(-scale * (lag - 1)) if exponential else np.ones(n_past)
    if season_length > 1:
        same = lag % season_length == 0
        if same.any():
            weights = np.where(same, weights, 0.0)
    return weights


def npts_sample_paths(
    y: np.ndarray,
    horizon: int,
    num_samples: int,
    rng: np.random.Generator,
    *,
    alpha: float = 1.0,
    season_length: int = 1,
    exponential: bool = True,
) -> np.ndarray:
    """Sample paths (num_samples, horizon) of NPTS from the finite history `y`.

    Inverse-CDF sampling on the cumulative weights: one uniform per path and step, drawn up
    front so the stream does not depend on the weights. Step T's weights (`npts_weights`)
    are exp(scale * t) times a factor common to every t < T, which does not move an
    inverse-CDF draw; so one running sum of exp(scale * t) (per season position, in the
    seasonal variant) serves every step, instead of a new sum over the whole history per
    step: on a 1,100-series daily panel with 900 days of history and a horizon of 48, NPTS's
    backtest forecasts took 4.9-6.2 s that way. The draws are those of the per-step weights
    up to the rounding of the sums.
    """
    n = len(y)
    paths = np.empty((num_samples, n + horizon))
    paths[:, :n] = y
    rows = np.arange(num_samples)
    uniforms = rng.random((horizon, num_samples))
    scale = alpha / max(n + horizon - 1, 1)
    # Relative to the last observed step; the cap only matters for kernels steeper than any
    # default (alpha in the hundreds), where the newest steps take all the weight anyway.
    exponent = np.minimum(scale * (np.arange(n + horizon) - (n - 1)), 700.0)
    growth = np.exp(exponent) if exponential else np.ones(n + horizon)
    season = max(int(season_length), 1)
    running = [np.cumsum(growth[r::season]) for r in range(season)]  # by season position
    plain = running[0] if season == 1 else np.cumsum(growth)
    for h in range(horizon):
        target = n + h
        if season > 1 and target >= season:  # steps whole seasons back exist: only they are drawn
            position = target % season
            count = (target - position) // season  # steps position, position + season, ... < target
            cumulative = running[position][:count]
            drawn = np.searchsorted(cumulative, uniforms[h] * cumulative[-1], side="right")
            index = position + season * np.minimum(drawn, count - 1)
        else:
            cumulative = plain[:target]
            # side="right" never lands on a zero-weight step (its cumulative sum equals the previous).
            index = np.minimum(
                np.searchsorted(cumulative, uniforms[h] * cumulative[-1], side="right"), target - 1
            )
        paths[:, target] = paths[rows, index]
    return paths[:, n:]


def history_rng(seed: int, y: np.ndarray) -> np.random.Generator:
    """A generator seeded by `seed` and a stable hash of the values of `y`."""
    digest = hashlib.blake2b(np.ascontiguousarray(y, dtype=np.float64).tobytes(), digest_size=8).digest()
    return np.random.default_rng([int(seed), int.from_bytes(digest, "little")])


class NPTS(LocalForecaster):
    """Non-Parametric Time Series forecaster (GluonTS / Amazon Forecast NPTS).

    `season_length` defines the seasonal variant's season position (None or 1 disables it
    as `use_seasonal_model=False` does); `context_length` keeps only the last values (GluonTS
    default 1,100); `num_samples` paths are drawn per series; `seed` makes runs repeatable.
    """

    name = "NPTS"
    tags = Tags(cost=0.05, min_length=1, intermittent=True)

    def __init__(
        self,
        season_length: int | None = None,
        use_seasonal_model: bool = True,
        kernel_type: str = "exponential",
        exp_kernel_weights: float = 1.0,
        context_length: int | None = 1100,
        num_samples: int = 100,
        seed: int = 0,
        n_jobs: int | None = 1,
    ) -> None:
        self.season_length = season_length
        self.use_seasonal_model = use_seasonal_model
        self.kernel_type = kernel_type
        self.exp_kernel_weights = exp_kernel_weights
        self.context_length = context_length
        self.num_samples = num_samples
        self.seed = seed
        self.n_jobs = n_jobs

    def _fit(self, data: SeriesArrays, deadline: float | None) -> None:
        if self.kernel_type not in KERNELS:
            raise ConfigError(f"NPTS: kernel_type must be one of {KERNELS}, got {self.kernel_type!r}")
        if self.exp_kernel_weights <= 0:
            raise ConfigError(f"NPTS: exp_kernel_weights must be positive, got {self.exp_kernel_weights}")
        if self.num_samples < 1:
            raise ConfigError(f"NPTS: num_samples must be at least 1, got {self.num_samples}")
        if self.context_length is not None and self.context_length < 1:
            raise ConfigError(f"NPTS: context_length must be at least 1, got {self.context_length}")
        super()._fit(data, deadline)

    def _forecast_series(
        self, state: Any, y: np.ndarray, horizon: int, quantiles: tuple[float, ...]
    ) -> SeriesForecast:
        if self.context_length is not None:
            y = y[-self.context_length :]
        season = (self.season_length or 1) if self.use_seasonal_model else 1
        samples = npts_sample_paths(
            y,
            horizon,
            self.num_samples,
            history_rng(self.seed, y),
            alpha=float(self.exp_kernel_weights),
            season_length=season,
            exponential=self.kernel_type == "exponential",
        )
        return samples.mean(axis=0), empirical_quantiles(samples, quantiles)
