"""Gap-filling kernels: missing cells of a panel's values filled from the same series' observed ones.

Pure functions on ``values`` (float64, NaN where missing) and ``indptr`` (series boundaries), no
pandas, no loop over series. They serve two callers: models that cannot take a missing target
get a panel filled by `fill_missing` inside `Forecaster.fit`/`predict`, and `prepare` offers them
as the ``interpolate`` and ``seasonal`` fill methods.

* ``interpolate``: the straight line between the observed values on either side of a gap; the
  nearest observed value before a series' first or after its last observation.
* ``seasonal``: the observed value at the same phase of the nearest earlier season (``t - m``,
  ``t - 2m``, ...), else of the nearest later one; cells with neither (a series shorter than two
  seasons, a phase never observed) fall back to ``interpolate``. A missing Saturday becomes the
  Saturday before, where a line between Friday and Sunday would cut through the weekly pattern.
* ``auto``: ``interpolate`` across gaps shorter than a season, ``seasonal`` across the others.

Why ``auto`` is what models get (`MODEL_FILL`), measured in `benchmarks/missing.py` (wQL of the
fast preset on the demo, its results table has the rest): across scattered one-day gaps a line
between the neighbours wins (0.0187 against the seasonal copy's 0.0222: a day's neighbours are
closer than the same weekday a week earlier, whose promotion or noise the copy repeats); across
four-week gaps the seasonal copy wins (0.0177 against 0.0186; 0.0073 against 0.0122 with
LightGBM), because a line there erases the weekly cycle for weeks. Zero, the old default, turns
every gap into a day without demand (0.0555). A series with no observed value at all is filled
with 0: there is nothing else to go on.
"""

from __future__ import annotations

import numpy as np

METHODS = ("interpolate", "seasonal", "auto")
# The fill models that cannot take a missing target get (see benchmarks/missing.py).
MODEL_FILL = "auto"


def fill_missing(values: np.ndarray, indptr: np.ndarray, method: str, season: int = 1) -> np.ndarray:
    """A copy of `values` with every NaN filled by `method` (one of `METHODS`)."""
    if method == "interpolate":
        return interpolate(values, indptr)
    if method == "seasonal":
        return seasonal(values, indptr, season)
    if method == "auto":
        return auto(values, indptr, season)
    raise ValueError(f"unknown gap fill {method!r}: use {', '.join(METHODS)}")


def interpolate(values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Linear interpolation within each series; edges take the nearest observed value.

    >>> interpolate(np.array([1.0, np.nan, 3.0, np.nan, 5.0, np.nan]), np.array([0, 4, 6])).tolist()
    [1.0, 2.0, 3.0, 3.0, 5.0, 5.0]
    """
    out = np.array(values, dtype=np.float64, copy=True)
    gaps = np.flatnonzero(np.isnan(out))
    if len(gaps) == 0:
        return out
    observed = np.flatnonzero(~np.isnan(out))
    series = _series_of(gaps, indptr)
    start, end = indptr[series], indptr[series + 1]
    after = np.searchsorted(observed, gaps)
    prev = observed[np.maximum(after - 1, 0)] if len(observed) else np.zeros(len(gaps), np.int64)
    nxt = observed[np.minimum(after, len(observed) - 1)] if len(observed) else prev
    has_prev = (after > 0) & (prev >= start)
    has_next = (after < len(observed)) & (nxt < end)
    both = has_prev & has_next
    weight = np.where(both, (gaps - prev) / np.where(both, nxt - prev, 1), 0.0)
    filled = np.where(
        both,
        out[prev] + weight * (out[nxt] - out[prev]),
        np.where(has_prev, out[prev], np.where(has_next, out[nxt], 0.0)),
    )
    out[gaps] = filled
    return out


def seasonal(values: np.ndarray, indptr: np.ndarray, season: int) -> np.ndarray:
    """The same phase of the nearest earlier season, else the nearest later one, else a line.

    >>> y = np.array([1.0, 2.0, 3.0, np.nan, 20.0, 30.0])
    >>> seasonal(y, np.array([0, 6]), 3).tolist()
    [1.0, 2.0, 3.0, 1.0, 20.0, 30.0]
    """
    if season <= 1:
        return interpolate(values, indptr)
    out = np.array(values, dtype=np.float64, copy=True)
    gaps = np.flatnonzero(np.isnan(out))
    if len(gaps) == 0:
        return out
    line = interpolate(values, indptr)
    out[gaps] = _seasonal_fill(values, indptr, season, gaps, line)
    return out


def auto(values: np.ndarray, indptr: np.ndarray, season: int) -> np.ndarray:
    """`interpolate` across runs of fewer than `season` missing cells, `seasonal` across longer.

    Only the long runs' cells search for a season's value: on a store panel with every closed
    Sunday missing, the short runs are most of the gaps, and each of them would walk back
    through every earlier (closed) Sunday before its line replaced what it found.

    >>> y = np.array([1.0, 2.0, 3.0, 4.0, np.nan, 6.0, np.nan, np.nan, np.nan, 10.0])
    >>> auto(y, np.array([0, 10]), 3).tolist()
    [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 4.0, 2.0, 6.0, 10.0]
    """
    gaps = np.flatnonzero(np.isnan(values))
    if season <= 1 or len(gaps) == 0:
        return interpolate(values, indptr)
    series = _series_of(gaps, indptr)
    run = np.cumsum(np.r_[True, (np.diff(gaps) != 1) | (series[1:] != series[:-1])]) - 1
    long = np.bincount(run)[run] >= season
    out = interpolate(values, indptr)
    if long.any():
        out[gaps[long]] = _seasonal_fill(values, indptr, season, gaps[long], out)
    return out


def _seasonal_fill(
    values: np.ndarray, indptr: np.ndarray, season: int, gaps: np.ndarray, line: np.ndarray
) -> np.ndarray:
    """For the missing positions `gaps`: the observed value at the same phase of the nearest
    earlier season of the same series, else of the nearest later one, else `line` there."""
    missing = np.isnan(values)
    series = _series_of(gaps, indptr)
    start, end = indptr[series], indptr[series + 1]
    source = np.full(len(gaps), -1, dtype=np.int64)
    for direction in (-1, 1):  # earlier seasons first; later ones only where none was found
        todo = np.flatnonzero(source < 0)
        step = direction * season
        position = gaps[todo] + step
        while len(todo):
            inside = (position >= start[todo]) & (position < end[todo])
            todo, position = todo[inside], position[inside]
            found = ~missing[position]
            source[todo[found]] = position[found]
            todo, position = todo[~found], position[~found] + step
    return np.where(source >= 0, values[np.maximum(source, 0)], line[gaps])


def _series_of(positions: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    return np.searchsorted(indptr, positions, side="right") - 1
