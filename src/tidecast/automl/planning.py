"""How many backtest windows, how far apart, after how much history: chosen to fit the panel.

The ideal plan is the preset's windows, spaced one horizon apart, each after at least two
seasons of history (so seasonal models can estimate their season in every window). Short
histories cannot hold it: a weekly panel of 104 weeks with a 39-week horizon and a 52-week
season would need 104 + 39 + 2·39 steps. Rather than skipping the backtest (and with it every
model), the plan gives ground one thing at a time, in this order:

1. fewer windows (down to two) at the full step;
2. two windows a step below the horizon apart (overlapping, but at least a quarter horizon
   apart), because the ensemble needs a window its weights did not see;
3. one window;
4. then all of the above again with a shorter minimum history: one season plus an eighth of
   one (at least two points), so that the seasonal lag still exists in every window, or a
   small absolute floor when the data has no season;
5. when not one series holds a whole horizon after that history, one window cut short: it
   scores the first steps of the horizon, as many as fit after the shortest history (at
   least a quarter of the horizon), while every model still forecasts the whole horizon.
   A weekly panel of two years with a 52-week horizon is the case: rather than giving every
   series SeasonalNaive untried, the candidates are scored on the 45 weeks after 59.

The first plan under which at least `min_coverage` of the series are long enough is taken for
the whole panel, so every candidate is scored on the same series and windows; the series too
short for it are forecast without a score. When no plan reaches that coverage, the plan that
backtests the most series wins (earliest in the order above on ties). There is no backtest
only when not one series holds a quarter of the horizon beside the shortest minimum history.

>>> plan = plan_backtest([104] * 10, horizon=39, n_windows=3, season_length=52)
>>> (plan.n_windows, plan.step, plan.min_train)
(1, 39, 59)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tidecast.automl.windows import BacktestWindow, backtest_windows
from tidecast.errors import ConfigError
from tidecast.models.statistical import MIN_LENGTH
from tidecast.wording import counted, plural

# The shortest history a window may have when the data has no season: statsforecast's
# exponential smoothing needs MIN_LENGTH (7) points, and one more leaves a difference to
# estimate the spread from.
MIN_TRAIN_FLOOR = MIN_LENGTH + 1
# The history the plan asks for first when there is no season (or a season under 5).
MIN_TRAIN_DEFAULT = 10


@dataclass(frozen=True)
class BacktestPlan:
    """The chosen windows, their spacing and minimum history, and whom they leave out.

    `eligible` holds the positions (into the `lengths` given) of the series long enough for
    every window; `needed` is that length. `reasons` says, in words, what was given up from
    the ideal plan and why; empty when the ideal plan fits.
    """

    n_windows: int
    step: int
    min_train: int
    horizon: int
    needed: int
    eligible: np.ndarray
    n_series: int
    reasons: tuple[str, ...] = ()
    # Steps each window scores: the horizon, or fewer for a window cut short (rung 5).
    scored: int | None = None

    @property
    def window_steps(self) -> int:
        """Steps each window scores (the horizon unless the window is cut short)."""
        return self.scored or self.horizon

    @property
    def windows(self) -> tuple[BacktestWindow, ...]:
        if self.n_windows == 0:
            return ()
        return backtest_windows(self.window_steps, self.n_windows, self.step)

    @property
    def n_excluded(self) -> int:
        return self.n_series - len(self.eligible)

    def summary(self) -> dict[str, object]:
        """The plan as plain values, for report.json."""
        return {
            "windows": self.n_windows,
            "step": self.step,
            "min_train_length": self.min_train,
            "needed_length": self.needed,
            "scored_steps": self.window_steps,
            "series_backtested": len(self.eligible),
            "series_excluded": self.n_excluded,
            "reasons": list(self.reasons),
        }


def min_train_lengths(season_length: int) -> tuple[int, int]:
    """The preferred and the shortest history a backtest window may have.

    Preferred: two seasons (at least 10 points), what a seasonal model needs to estimate its
    season. Shortest: one season plus an eighth of one (at least 2 points): the seasonal lag
    exists (SeasonalNaive repeats a real season, MASE has its seasonal scale) and a few
    seasonal differences give the spread; seasonal ETS/Theta fall back to their non-seasonal
    form there. Never under MIN_TRAIN_FLOOR.

    >>> min_train_lengths(52), min_train_lengths(4), min_train_lengths(1)
    ((104, 59), (10, 8), (10, 8))
    """
    m = max(int(season_length), 1)
    preferred = max(2 * m, MIN_TRAIN_DEFAULT)
    shortest = MIN_TRAIN_FLOOR if m == 1 else max(m + max(2, math.ceil(m / 8)), MIN_TRAIN_FLOOR)
    return preferred, min(shortest, preferred)


def plan_backtest(
    lengths: Sequence[int] | np.ndarray,
    horizon: int,
    n_windows: int,
    season_length: int = 1,
    step: int | None = None,
    min_coverage: float = 0.5,
) -> BacktestPlan:
    """The backtest plan for series of these `lengths` (see the module docstring).

    `step=None` lets the plan shorten the step below the horizon; a step given by the user is
    kept as it is (only the number of windows and the minimum history give way).

    >>> plan = plan_backtest([40, 40, 12], horizon=7, n_windows=3, season_length=7)
    >>> (plan.n_windows, plan.step, plan.needed, plan.n_excluded)
    (3, 7, 35, 1)
    """
    if horizon < 1:
        raise ConfigError(f"horizon must be at least 1, got {horizon}")
    if step is not None and step < 1:
        raise ConfigError(f"backtest step must be at least 1, got {step}")
    lengths = np.asarray(lengths, dtype=np.int64)
    base_step = horizon if step is None else int(step)
    preferred, shortest = min_train_lengths(season_length)
    if n_windows <= 0:
        off = ("backtests switched off (0 windows asked for)",)
        return BacktestPlan(0, base_step, preferred, horizon, 0, np.zeros(0, np.int64), len(lengths), off)
    target = max(1, math.ceil(min_coverage * len(lengths)))
    # The length that `target` series reach: a plan needing no more covers enough of the panel.
    reach = int(np.sort(lengths)[::-1][target - 1]) if len(lengths) >= target else 0
    best: tuple[int, int, int] | None = None
    best_count = 0
    for min_train in dict.fromkeys((preferred, shortest)):
        for n, s in _rungs(n_windows, base_step, horizon, min_train, reach, shrink=step is None):
            needed = min_train + horizon + (n - 1) * s
            count = int((lengths >= needed).sum())
            if count >= target:
                return _plan(lengths, horizon, n_windows, base_step, preferred, (n, s, min_train))
            if count > best_count:
                best, best_count = (n, s, min_train), count
    if best is None:
        return _short_window(lengths, horizon, base_step, shortest, reach)
    return _plan(lengths, horizon, n_windows, base_step, preferred, best)


def _short_window(lengths: np.ndarray, horizon: int, step: int, shortest: int, reach: int) -> BacktestPlan:
    """One window scoring the first steps of the horizon (rung 5), or no backtest at all.

    It scores as many steps as the series that `reach` covers hold after `shortest`, or
    failing that the longest series, and at least a quarter of the horizon: fewer steps say
    too little about a forecast of the whole horizon.
    """
    least = max(1, math.ceil(horizon / 4))
    longest = int(lengths.max()) if len(lengths) else 0
    for length in (reach, longest):
        scored = min(horizon - 1, length - shortest)
        if scored >= least:
            needed = shortest + scored
            reasons = (
                f"no series holds a whole {horizon}-step window after {counted(shortest, 'step')} of "
                f"history ({counted(shortest + horizon, 'step')}); one window scores the first "
                f"{counted(scored, 'step')} of the horizon instead (every model still forecasts all of it)",
            )
            eligible = np.flatnonzero(lengths >= needed)
            return BacktestPlan(1, step, shortest, horizon, needed, eligible, len(lengths), reasons, scored)
    return BacktestPlan(
        0,
        step,
        shortest,
        horizon,
        shortest + least,
        np.zeros(0, np.int64),
        len(lengths),
        (
            f"no series holds {counted(shortest + least, 'step')} (a window scoring {least} of the "
            f"{counted(horizon, 'step')} after {counted(shortest, 'step')} of history); no backtest",
        ),
    )


def _rungs(
    n_windows: int, step: int, horizon: int, min_train: int, reach: int, shrink: bool
) -> list[tuple[int, int]]:
    """(windows, step) to try for one minimum history, most wanted first."""
    rungs = [(n, step) for n in range(n_windows, 1, -1)]
    if shrink and n_windows > 1:
        # Two windows, the widest step below `step` that fits within `reach` (more windows
        # would only fit with a narrower step, overlapping each other more).
        fitting = reach - min_train - horizon
        if max(1, math.ceil(horizon / 4)) <= fitting < step:
            rungs.append((2, int(fitting)))
    rungs.append((1, step))
    return rungs


def _plan(
    lengths: np.ndarray,
    horizon: int,
    n_wanted: int,
    step_wanted: int,
    preferred: int,
    chosen: tuple[int, int, int],
) -> BacktestPlan:
    n, step, min_train = chosen
    needed = min_train + horizon + (n - 1) * step
    eligible = np.flatnonzero(lengths >= needed)
    reasons = []
    ideal = preferred + horizon + (n_wanted - 1) * step_wanted
    if (n, step, min_train) != (n_wanted, step_wanted, preferred):
        holding = int((lengths >= ideal).sum())
        reasons.append(
            f"the ideal {counted(n_wanted, 'window')} {counted(step_wanted, 'step')} apart after "
            f"{counted(preferred, 'step')} of history {plural(n_wanted, 'needs', 'need')} "
            f"{counted(ideal, 'step')}, which {holding} of {counted(len(lengths), 'series')} "
            f"{plural(holding, 'holds', 'hold')}"
        )
    if n < n_wanted:
        reasons.append(f"{counted(n, 'backtest window')} instead of {n_wanted}")
    if n > 1 and step < step_wanted:
        reasons.append(
            f"windows {counted(step, 'step')} apart, below the {horizon}-step horizon: they overlap"
        )
    if min_train < preferred:
        reasons.append(
            f"windows start after {counted(min_train, 'step')} of history instead of {preferred}: "
            "seasonal models may fit without their season in the backtest (they keep it in the final "
            "fit when it fits)"
        )
    return BacktestPlan(n, step, min_train, horizon, needed, eligible, len(lengths), tuple(reasons))
