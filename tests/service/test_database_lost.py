"""A database connection lost mid-request (PostgreSQL restarting, a failover, an administrator's
`pg_terminate_backend`) is a 503 with Retry-After, not a 500 "see its logs".

The connection pool replaces a dropped connection, so the caller's retry succeeds; what the
caller needs is to know that retrying is right. PostgreSQL only (the `database_url` fixture):
the request is held on a table lock so its backend can be terminated while it is in flight.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from conftest import serve_in_thread
from tidecast.registry.db import Database, make_engine
from tidecast.registry.settings import ServiceSettings
from tidecast.service.app import create_app

pytestmark = pytest.mark.timeout(120)


def test_when_the_database_drops_the_connection_mid_request_then_the_answer_is_503_and_a_retry_works(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: pg_terminate_backend ends one request's connection")
    settings = ServiceSettings(home=tmp_path, open_mode=True, database_url=database_url)
    admin = make_engine(database_url, isolation_level="AUTOCOMMIT")
    holder = make_engine(database_url)
    answers: list[httpx.Response] = []
    try:
        with serve_in_thread(create_app(settings, database=database)) as url:
            assert httpx.get(url + "/v1/jobs", timeout=10).status_code == 200  # the pool is warm
            with holder.connect() as hold:
                hold.execute(text("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE"))  # until rolled back
                request = threading.Thread(
                    target=lambda: answers.append(httpx.get(url + "/v1/jobs", timeout=30)), daemon=True
                )
                request.start()
                waiting = _backend_waiting_on_a_lock(
                    admin, hold.execute(text("SELECT pg_backend_pid()")).scalar()
                )
                with admin.connect() as connection:
                    connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": waiting})
                hold.rollback()  # the lock goes; the terminated request has already failed
            request.join(30)
            assert answers, "the request did not come back within 30 s"
            again = httpx.get(url + "/v1/jobs", timeout=10)
    finally:
        admin.dispose()
        holder.dispose()
    lost = answers[0]
    assert lost.status_code == 503, lost.text
    assert lost.headers.get("retry-after") == "1"
    assert lost.json()["type"].endswith("/database-unavailable"), lost.json()
    assert again.status_code == 200, again.text


def _backend_waiting_on_a_lock(admin: object, holder_pid: int, timeout: float = 20.0) -> int:
    """The pid of the service's connection that waits on the lock `holder_pid` holds."""
    deadline = time.monotonic() + timeout
    query = text(
        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND :holder = ANY(pg_blocking_pids(pid))"
    )
    while time.monotonic() < deadline:
        with admin.connect() as connection:  # type: ignore[attr-defined]
            pid = connection.execute(query, {"holder": holder_pid}).scalar()
        if pid is not None:
            return int(pid)
        time.sleep(0.05)
    raise AssertionError("the request never waited on the lock")
