"""SageMaker Autopilot's CSV inference: the history as ``text/csv`` in, the forecast as CSV out.

An endpoint deployed from a SageMaker AutoML time-series job is invoked with the training
data's own layout (``invoke_endpoint(ContentType="text/csv", Body=open("history.csv"))``):
a header, then one row per item and timestamp with the target and the covariates, and rows
after an item's last target with the target empty carrying the known covariates over the
horizon. Before, tidecast answered only DeepAR's JSON and such a call was a 415.

The rows are the native forecast's ``history`` rows (`answers.forecast`: the same checks,
limits, filling and covariate plan), so the model's own column names are read, and an item
named by several columns is given by those columns. The answer has the item column(s), the
timestamp column, ``mean`` and one ``p10``-style column per trained quantile, as the run's
``forecasts.csv`` has them.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import pandas as pd

from tidecast.data.item_keys import SEPARATOR
from tidecast.data.missing_text import read_csv_names
from tidecast.data.schema import quantile_column
from tidecast.service.answers import forecast
from tidecast.service.predictor import LoadedModel
from tidecast.service.problems import Problem, invalid
from tidecast.service.requests import DEFAULT_LIMITS, Limits

CSV = "text/csv"


def invoke_csv(model: LoadedModel, body: bytes | str, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """A CSV body of history rows in the model's columns -> the forecast as CSV."""
    try:
        text = body.decode() if isinstance(body, bytes) else body
    except UnicodeDecodeError as exc:
        raise Problem(400, "Malformed CSV", f"body: not UTF-8 text: {exc}", field="body") from None
    rows = _rows(model, text)
    answer = forecast(model, model.parse_request({"history": rows}), limits)
    spec = model.forecaster.spec_
    parts = list(model.item_parts)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    labels = list(answer.forecasts[0].quantiles) if answer.forecasts else []
    writer.writerow([*parts, spec.timestamp_col, "mean", *(quantile_column(float(q)) for q in labels)])
    for item in answer.forecasts:
        key = item.item_id.split(SEPARATOR) if len(parts) > 1 else [item.item_id]
        for step, timestamp in enumerate(item.timestamps):
            values = [item.mean[step], *(item.quantiles[q][step] for q in labels)]
            writer.writerow([*key, timestamp, *values])
    return out.getvalue().encode()


def _rows(model: LoadedModel, text: str) -> list[dict[str, Any]]:
    """The CSV's rows as JSON-like history rows: ids and timestamps as text, empty cells None
    ("NA" an id and a static attribute's category, missing elsewhere: `data.missing_text`)."""
    spec = model.forecaster.spec_
    text_columns = [*model.item_parts, spec.timestamp_col]
    try:
        frame = read_csv_names(text.encode(), text_columns, [*model.item_parts, *spec.static_columns])
    except (ValueError, pd.errors.ParserError) as exc:  # EmptyDataError is a ValueError
        raise invalid("body", f"not a CSV of history rows: {str(exc).splitlines()[0]}") from None
    missing = [c for c in (*text_columns, spec.target_col) if c not in frame.columns]
    if missing:
        raise invalid(
            "body",
            f"the CSV lacks the model's column(s) {missing}: send a header row with the training "
            f"data's columns; got {list(frame.columns)}",
        )
    if frame.empty:
        raise invalid("body", "the CSV has no rows: send the history of each item to forecast")
    frame = frame.astype(object).where(frame.notna(), None)
    return [
        {k: v.item() if isinstance(v, np.generic) else v for k, v in row.items()}
        for row in frame.to_dict("records")
    ]
