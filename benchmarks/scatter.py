"""Mean-one multiplicative scatter for the synthetic panels: what their clean generators lack.

Real sales scatter around what the calendar, promotions and holidays explain, and a store's
or department's level wanders with local events; the synthetic panels' generators scatter by
a few percent. `scatter` gives each series a day-to-day (or week-to-week) lognormal scatter of
log sd `noise` x U(0.5, 1.5), on a slow drift of its level (log AR(1) with coefficient `phi`,
innovations of sd `drift_sd`), from its own random stream so the clean panel's draws stay
as they were. `store_panel.py --noise` and `weekly_panel.py --noise` use it.
"""

from __future__ import annotations

import numpy as np


def scatter(n_items: int, n_steps: int, seed: int, noise: float, phi: float, drift_sd: float) -> np.ndarray:
    """(items, steps) mean-one multipliers: lognormal scatter on an AR(1) drift of the log level."""
    rng = np.random.default_rng([seed, 7])
    sd = noise * rng.uniform(0.5, 1.5, n_items)[:, None]
    shocks = rng.normal(0.0, drift_sd, (n_items, n_steps))
    drift = np.zeros((n_items, n_steps))
    for step in range(1, n_steps):
        drift[:, step] = phi * drift[:, step - 1] + shocks[:, step]
    return np.exp(drift + sd * rng.normal(0.0, 1.0, (n_items, n_steps)) - sd**2 / 2)
