"""Leading zeros: the cells before an item's first sale are not demand when they cannot be.

Retail data often writes every item on every day: a wide planning sheet or an M5-style export
(one column per day) holds 0 for the days before a product was listed, and a catalogue
cross-joined with a calendar (`COALESCE(sales, 0)`) does the same. Read as demand, those runs
tell every model the wrong story: a product launched three weeks ago looks like a long series
that sold nothing for years, so it gets no new-item treatment (`automl.short_items`), its
recent-level features average launch weeks with years of zeros, and a local model fitted to
the whole series draws a trend from nothing to its current level. On the messy demo
(`benchmarks/messy.py`), writing 0 before the start of its 44 late-starting items took
tidecast's wQL from 0.0135 to 0.125: the new items from 0.029 to 0.41, the short histories from
0.020 to 0.22, the late starts from 0.005 to 0.14 (and the ensemble lost its best member).

So a series whose observed values open with a run of zeros is read as starting at its first
sale when the run is at least `MIN_LEAD` observations long and longer than `RATIO` times every
later run of zeros in the same series. The second condition keeps slow movers whole: an item
that sells every few weeks opens with a run like its others, and a seasonal item whose history
starts in its off-season meets the same off-season again later. Runs count observed values
(an absent row neither extends nor breaks a run), so a gap in the data is not read as zeros.
A series that never sold is left as it is (dormant items are their own rule). Only the target
decides; the rows go with all their columns, as rows before a series' first value always do.
"""

from __future__ import annotations

import numpy as np

from tidecast.data.problems import Problem, sample_items

MIN_LEAD = 3
RATIO = 2.0


def prelaunch_rows(target: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """A mask of the rows (sorted by series, then time; `indptr` the series' boundaries) that
    lie before their series' first sale and are to be left out, per the rule above."""
    n_rows, n_series = len(target), len(indptr) - 1
    drop = np.zeros(n_rows, dtype=bool)
    if n_rows == 0:
        return drop
    series = np.repeat(np.arange(n_series), np.diff(indptr))
    observed = np.flatnonzero(~np.isnan(target))
    if len(observed) == 0:
        return drop
    obs_series = series[observed]
    sold = target[observed] != 0
    positions = np.arange(len(observed))
    # The first sale of each series, as a position among the observed values.
    first = np.full(n_series, len(observed))
    np.minimum.at(first, obs_series[sold], positions[sold])
    obs_start = np.searchsorted(obs_series, np.arange(n_series))
    lead = np.where(first < len(observed), first - obs_start, 0)
    # Every later run of zeros: consecutive observed zeros after the first sale.
    later_zero = ~sold & (positions > first[obs_series])
    zeros = positions[later_zero]
    longest = np.zeros(n_series, dtype=np.int64)
    if len(zeros):
        zero_series = obs_series[later_zero]
        breaks = np.r_[True, (np.diff(zeros) != 1) | (np.diff(zero_series) != 0)]
        starts = np.flatnonzero(breaks)
        lengths = np.diff(np.append(starts, len(zeros)))
        np.maximum.at(longest, zero_series[starts], lengths)
    trims = (lead >= MIN_LEAD) & (lead > RATIO * longest)
    if not trims.any():
        return drop
    # Every row (observed or not) of a trimmed series before its first sale's row.
    first_row = observed[np.minimum(first, len(observed) - 1)]
    return trims[series] & (np.arange(n_rows) < first_row[series])


def prelaunch_note(names: np.ndarray, dropped_series: np.ndarray) -> Problem:
    """What the console and the report say of the rows `prelaunch_rows` left out."""
    series = np.unique(dropped_series)
    return Problem(
        "leading_zeros",
        f"{len(series)} series open with {len(dropped_series)} rows of zeros before their first sale, "
        f"a run longer than {RATIO:g}x any later run of zeros in the series",
        count=len(dropped_series),
        items=sample_items(names[series]),
        handled="read as before launch, so each starts at its first sale (the target's filling "
        '{"leadingzeros": "keep"} keeps them as sales)',
    )
