"""Inventory guidance from the forecast quantiles: safety stock and order-up-to level.

Method: the normal approximation, z(service level) based, with each step's spread read from
the forecast's own outer quantiles:

    sigma_t        = (p_hi,t − p_lo,t) / (z(hi) − z(lo))        e.g. (p90 − p10) / 2.563
    lead demand    = sum of mean_t over the first `lead_time` steps
    safety stock   = z(service level) · sqrt(sum of sigma_t²)
    order-up-to    = lead demand + safety stock

Why not interpolate the forecast's quantiles instead: a planner sets service levels of 95% or
99%, beyond the p10–p90 the models forecast, where interpolation would have to extrapolate
anyway; and demand over a lead time is a sum of steps, whose quantile is not the sum of the
steps' quantiles (adding p95s assumes every step runs high together and overstocks). The
normal sum treats steps as independent, which understates risk when errors persist over
time; the accuracy warnings flag items whose bands missed in the backtests.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
import pandas as pd

from tidecast.data.schema import ITEM_ID, MEAN, TIMESTAMP, quantile_column
from tidecast.errors import ConfigError


def spread_sigma(lo: np.ndarray, hi: np.ndarray, lo_level: float, hi_level: float) -> np.ndarray:
    """The standard deviation of a normal whose `lo_level` and `hi_level` quantiles are lo, hi."""
    unit = NormalDist()
    return (np.asarray(hi, dtype=np.float64) - np.asarray(lo, dtype=np.float64)) / (
        unit.inv_cdf(hi_level) - unit.inv_cdf(lo_level)
    )


def inventory_guidance(
    forecasts: pd.DataFrame, quantiles: Sequence[float], service_level: float, lead_time: int
) -> pd.DataFrame:
    """Per item: lead-time demand, its sigma, safety stock and order-up-to level (see module).

    `lead_time` is in forecast steps, at most the horizon; `service_level` is the chance of
    not running out over the lead time (0.95 = one stockout in twenty cycles).
    """
    if not 0.5 <= service_level < 1:
        raise ConfigError(f"the service level must be in [0.5, 1), got {service_level}")
    qs = sorted(float(q) for q in quantiles)
    if len(qs) < 2:
        raise ConfigError("inventory guidance needs at least two forecast quantiles to read a spread")
    if lead_time < 1:
        raise ConfigError(f"the lead time must be at least one step, got {lead_time}")
    lo, hi = qs[0], qs[-1]
    frame = (
        forecasts.sort_values([ITEM_ID, TIMESTAMP], kind="stable").groupby(ITEM_ID, sort=True).head(lead_time)
    )
    sigma = spread_sigma(frame[quantile_column(lo)].to_numpy(), frame[quantile_column(hi)].to_numpy(), lo, hi)
    grouped = frame.assign(_var=np.clip(sigma, 0, None) ** 2).groupby(ITEM_ID, sort=True)
    out = pd.DataFrame({"steps": grouped[MEAN].size(), "lead_time_demand": grouped[MEAN].sum()})
    out["sigma"] = np.sqrt(grouped["_var"].sum())
    z = NormalDist().inv_cdf(service_level)
    out["safety_stock"] = z * out["sigma"]
    out["order_up_to"] = out["lead_time_demand"] + out["safety_stock"]
    out["service_level"] = service_level
    return out.reset_index()
