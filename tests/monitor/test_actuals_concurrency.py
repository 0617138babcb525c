"""Loading actuals while another connection writes: SQLite must wait for its lock, not fail."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import event, text

from tidecast.monitor.actuals import actuals_frame, ingest_actuals, load_actuals
from tidecast.registry.db import Database


def frame(value: float) -> pd.DataFrame:
    raw = pd.DataFrame(
        {
            "item_id": ["a", "b"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-01"]),
            "value": [value, 2.0],
        }
    )
    return actuals_frame(raw)[0]


def test_when_another_connection_commits_mid_load_then_the_load_waits_and_lands(database: Database) -> None:
    # The API's observation route and a worker (forecast log, challenger store) share one
    # SQLite file. A load that read the live table before its first write held a snapshot that
    # another connection's commit made stale: SQLite then refuses the write at once ("database
    # is locked", no busy wait) and the observation was a 500. The other connection commits
    # just before the load first writes to the live tables.
    ingest_actuals(database.sessions, frame(1.0))
    other = Database.from_url(database.engine.url)
    fired: list[str] = []

    def commit_elsewhere(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.startswith("INSERT INTO actual_changes") and not fired:
            fired.append(statement)
            with other.engine.begin() as connection:
                connection.execute(text("UPDATE actuals SET value = 5.0 WHERE item_id = 'b'"))

    event.listen(database.engine, "before_cursor_execute", commit_elsewhere)
    try:
        result = ingest_actuals(database.sessions, frame(3.0))
    finally:
        event.remove(database.engine, "before_cursor_execute", commit_elsewhere)
        other.dispose()
    assert fired  # the other writer did commit in between
    assert (result.rows, result.updated) == (2, 2)  # a: 1 -> 3; b: 5 (the other's) -> 2
    with database.engine.connect() as connection:
        loaded = load_actuals(connection).set_index("item_id")["value"]
    assert loaded.to_dict() == {"a": 3.0, "b": 2.0}
