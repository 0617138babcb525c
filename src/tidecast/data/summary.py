"""A JSON-ready summary of a panel: its size, span, shape of the series, and the problems noted.

The CLI prints it, the API returns it and the reports embed it, so it holds only plain
Python values (no numpy scalars, no Timestamps) and never fails on an empty panel.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from tidecast.data.arrays import series_indptr
from tidecast.data.problems import Problem
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP


def summarize(panel: pd.DataFrame, freq: str | None, problems: Iterable[Problem] = ()) -> dict[str, object]:
    """Items, rows, frequency, date range, series lengths, zeros, negatives, missing and problems.

    `zero_share` is the share of observed target values that are exactly zero: above a third or
    so, intermittent-demand models (Croston, TSB, NPTS) deserve a place in the search.
    """
    items = panel[ITEM_ID].to_numpy()
    target = panel[TARGET].to_numpy(dtype=np.float64, na_value=np.nan)
    timestamps = panel[TIMESTAMP].to_numpy(dtype="datetime64[ns]")
    lengths = np.diff(series_indptr(items))
    observed = target[~np.isnan(target)]
    return {
        "items": len(lengths),
        "rows": len(panel),
        "frequency": freq,
        "date_range": {
            "start": _iso(timestamps.min()) if len(timestamps) else None,
            "end": _iso(timestamps.max()) if len(timestamps) else None,
        },
        "series_length": {
            "min": int(lengths.min()) if len(lengths) else 0,
            "median": float(np.median(lengths)) if len(lengths) else 0.0,
            "max": int(lengths.max()) if len(lengths) else 0,
        },
        "zero_share": float(np.mean(observed == 0)) if len(observed) else 0.0,
        "negative_values": int((observed < 0).sum()),
        "missing_values": int(len(target) - len(observed)),
        "covariates": [str(c) for c in panel.columns if c not in (ITEM_ID, TIMESTAMP, TARGET)],
        "problems": [problem.to_dict() for problem in problems],
    }


def _iso(value: np.datetime64) -> str:
    return pd.Timestamp(value).isoformat()
