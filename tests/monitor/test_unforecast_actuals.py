"""An ingest of actuals says which of its items no logged forecast names (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from tidecast.monitor.actuals import actuals_frame, ingest_actuals
from tidecast.monitor.forecast_log import Origin, row, write_rows
from tidecast.registry.db import Database
from tidecast.registry.statuses import ForecastSource


def log_forecasts(database: Database) -> None:
    """Forecasts of items "a" and "b", logged by endpoint "shop"."""
    origin = Origin(ForecastSource.ENDPOINT, "shop", 1, "D", (0.5,))
    rows = [row(origin, item, datetime(2024, 1, 3), np.ones(2), np.ones((2, 1))) for item in ("a", "b")]
    with database.transaction() as session:
        write_rows(session, rows)


def actuals(items: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(
        [{"item_id": i, "timestamp": t, "value": 1.0} for i in items for t in ("2024-01-04", "2024-01-05")]
    )
    return actuals_frame(frame)[0]


def test_when_actuals_name_items_no_forecast_names_then_the_ingest_counts_and_names_them(
    database: Database,
) -> None:
    log_forecasts(database)
    result = ingest_actuals(database.sessions, actuals(["a", "b", "c", "z", "a.0"]))
    assert (result.rows, result.inserted) == (10, 10)  # kept all the same: a forecast may come
    assert (result.unforecast, result.unforecast_examples) == (3, ["a.0", "c", "z"])
    assert result.to_dict()["notes"] == [
        "3 items have no forecast logged (e.g. 'a.0', 'c', 'z'): monitoring scores an item once "
        "an endpoint or a batch has forecast it; if these should have one, check how the ids are written"
    ]


def test_when_every_item_has_a_forecast_then_there_is_no_note(database: Database) -> None:
    log_forecasts(database)
    result = ingest_actuals(database.sessions, actuals(["b", "a"]))
    assert (result.unforecast, result.unforecast_examples, result.to_dict()["notes"]) == (0, [], [])


def test_when_no_forecast_is_logged_yet_then_the_examples_are_the_first_five_by_name(
    database: Database,
) -> None:
    result = ingest_actuals(database.sessions, actuals([f"s{k:02d}" for k in range(12, 0, -1)]))
    assert (result.unforecast, result.unforecast_examples) == (12, ["s01", "s02", "s03", "s04", "s05"])
