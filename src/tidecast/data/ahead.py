"""Rows after a series' last target value that carry known covariates: the future, in the data.

A retailer's table often holds the plan beside the history: the promotion calendar and the
holidays of the weeks to come on rows whose sales are still empty, as an ERP or a planning sheet
exports them (and as Amazon Forecast's related time series carries its future values). Such
rows used to be dropped ("future covariates belong in a separate frame"), and a `train` with
known covariates and no `--future` then failed after the whole backtest, for want of the very
values it had read and thrown away. They are now kept apart as the future of the known
covariates, which `predict` uses when it is given none (`AutoForecaster.data_future_`); a
future given explicitly wins. Rows whose known covariates are all empty are not a plan and go
as before, with the note `prepare` gives them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tidecast.data.problems import Problem, sample_items
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP


def rows_ahead(canonical: pd.DataFrame, known: Sequence[str]) -> np.ndarray:
    """A mask of the canonical panel's rows that lie after their series' last target value,
    have no target and hold at least one known covariate (none without known covariates)."""
    columns = [c for c in known if c in canonical.columns]
    if not columns or len(canonical) == 0:
        return np.zeros(len(canonical), dtype=bool)
    target = canonical[TARGET]
    last = canonical[TIMESTAMP].where(target.notna()).groupby(canonical[ITEM_ID], sort=False).transform("max")
    planned = canonical[columns].notna().any(axis=1)
    return np.asarray(target.isna() & (canonical[TIMESTAMP] > last) & planned)


def ahead_note(rows: pd.DataFrame) -> Problem:
    """What the console and the report say of the rows kept as the future."""
    return Problem(
        "rows_ahead",
        f"{len(rows)} rows after their series' last target value hold known covariates",
        count=len(rows),
        items=sample_items(rows[ITEM_ID].unique()),
        handled="kept as the future over the horizon, used when no future is given",
    )
