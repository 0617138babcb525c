"""The known covariates' plan a stored forecast used, kept beside the model.

A forecast of a model with known covariates (a promotion, an open flag) depends on their values
over the horizon, which the caller gives (`--future`) or the data holds after its last date.
A planner reading that forecast later (the dashboard's explorer) needs to see what it assumed:
a flat forecast over ten days of promotion reads differently once the promotion is shown. So
the forecast from the stored history (`AutoForecaster.predict()` without data: the training
run's own forecast) keeps its plan as `forecast_future_`, and the model folder stores it
(`artifact.FUTURE`, covered by the manifest's digests). Only the known covariate columns over
the horizon are kept: a few values per item and step, never the caller's whole table.
"""

from __future__ import annotations

import pandas as pd

from tidecast.data.schema import ITEM_ID, TIMESTAMP, DatasetSpec


def kept_plan(future: pd.DataFrame | None, spec: DatasetSpec) -> pd.DataFrame | None:
    """Of the canonical future a forecast used (one row per item and horizon step, as
    `PreparesData.future_for` returns it), the item, timestamp and known covariate columns;
    None without known covariates or a future."""
    if future is None or not spec.known_covariates or not len(future):
        return None
    columns = [ITEM_ID, TIMESTAMP, *(c for c in spec.known_covariates if c in future.columns)]
    plan = future[columns].reset_index(drop=True)
    plan.attrs = {}  # the notes of how it was read stay with the forecast's report
    return plan
