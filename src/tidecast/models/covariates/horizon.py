"""The one horizon extender: a panel's arrays with the forecast horizon's rows after each series.

Every model that reads known covariates over the horizon (the dynamic regression, Prophet,
LightGBM, DeepAR and CNNQR) builds its features over history and horizon together, so that
a day just before a planned promotion or holiday knows it is coming (`event_distances` runs
across the join). They all lay the rows out the same way, here: series i's history, then its
`horizon` rows, then series i + 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays, ranges
from tidecast.data.frequency import future_timestamps


def _is_numeric(values: np.ndarray) -> bool:
    return values.dtype.kind in "biuf"


def append_horizon(
    data: SeriesArrays, horizon: int, future: pd.DataFrame | None = None, known: Sequence[str] = ()
) -> SeriesArrays:
    """`data` with `horizon` rows appended to every series.

    The new rows have missing targets, the horizon's timestamps, the `known` covariates from
    `future` (the frame `Forecaster.predict` hands a model: `horizon` rows per series, in
    `data`'s order) and every other covariate missing. A known column the history lacks
    gets missing history. A column stays float64 where both parts are numbers, else it
    becomes an object column holding each part's values as they were.
    """
    n, lengths = data.n_series, data.lengths
    indptr = np.concatenate([[0], np.cumsum(lengths + horizon)]).astype(np.int64)
    old = ranges(indptr[:-1], lengths)
    new = ranges(indptr[:-1] + lengths, np.full(n, horizon, dtype=np.int64))
    total = int(indptr[-1])
    values = np.full(total, np.nan)
    values[old] = data.values
    stamps = np.empty(total, dtype="datetime64[ns]")
    stamps[old] = data.timestamps
    if horizon:
        stamps[new] = future_timestamps(data.last_timestamps(), data.freq, horizon).reshape(-1)
    given = [c for c in known if future is not None and c in future]
    covariates: dict[str, np.ndarray] = {}
    for name in dict.fromkeys([*data.covariates, *given]):
        history = data.covariates.get(name)
        past = np.full(len(data.values), np.nan) if history is None else np.asarray(history)
        ahead = (
            future[name].to_numpy().reshape(-1)
            if future is not None and name in given
            else np.full(n * horizon, np.nan)
        )
        kind = np.float64 if _is_numeric(past) and _is_numeric(ahead) else object
        column = np.full(total, np.nan, dtype=kind)
        column[old] = past
        column[new] = ahead
        covariates[name] = column
    return SeriesArrays(data.item_ids, values, indptr, stamps, data.freq, covariates, data.static)
