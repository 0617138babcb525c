"""Stopping a candidate after its first backtest window when it cannot win.

Every candidate is fitted once, before the first window, and then forecasts every window;
the windows after the first cost its forecasts (for a local model, a state update per
series: NPTS spent 5 s of a 1,100-series panel's backtest there, at 4x the best score). A
candidate whose first-window score is more than `MARGIN` times the best first-window score
of the candidates already backtested, on the same points, stops there: its error column
says why and it takes no part in the ensemble, as a screened candidate that cannot win.

Why 2.5: in the thirteen published leaderboards (`benchmarks/results/leaderboards/`), every
ensemble member with a weight of 0.06 or more scored within 1.96x of the best on the first
window (the messy demo's DynamicRegression, 0.12); beyond 2.5x only members of 0.05 (the
store panel's LightGBMHorizonLags, 5.3x) and cheap baselines, which run first and are
never stopped (SeasonalNaive, 4.0x with 0.10 on the store panel). The candidates run cheap
first (`search.run_candidates`), so the bar is set by the cheap ones when the costly ones
come, and the costly ones are what stopping saves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tidecast.automl.backtest import CandidateResult, WindowData, windowed_scorer

MARGIN = 2.5

# The first-window score of a candidate -> why it stops there, or None to go on.
FirstWindowJudge = Callable[[float], "str | None"]


def first_window_judge(
    done: Sequence[CandidateResult],
    windows: Sequence[WindowData],
    quantiles: Sequence[float],
    metric: str,
    rows: np.ndarray | None = None,
) -> FirstWindowJudge | None:
    """The judge of a candidate about to run on `windows`, against the candidates `done` on
    the whole backtest; `rows` picks the points of their first window that `windows[0]`
    holds (a screening sample), all by default. None when there is one window or no rival."""
    if len(windows) < 2:
        return None
    score = windowed_scorer(windows[:1], quantiles, metric)
    n_rows = len(rows) if rows is not None else len(windows[0].actual)
    pick = slice(None) if rows is None else rows
    rivals = []
    for c in done:
        if c.error is None and c.forecast is not None:
            own = score(c.forecast.mean[:n_rows][pick], c.forecast.quantiles[:n_rows][pick])
            if np.isfinite(own):
                rivals.append((own, c.name))
    if not rivals or min(rivals)[0] <= 0:
        return None  # nothing to compare with, or a perfect rival: no ratio to judge by
    best, name = min(rivals)

    def judge(first: float) -> str | None:
        if not np.isfinite(first) or first <= MARGIN * best:
            return None
        return (
            f"stopped after window 1: its {metric} there was {first:.4g}, {first / best:.2f}x the best "
            f"so far ({name} {best:.4g}; goes on within {MARGIN}x)"
        )

    return judge
