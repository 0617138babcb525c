"""Shared fixtures for the registry, jobs and service tests: databases on both backends, a
migrated store, and small real model folders.

* `database_url` - a fresh, empty database URL, once per backend: SQLite (a file in the test's
  tmp folder) and PostgreSQL (from TIDECAST_TEST_DATABASE_URL, e.g.
  postgresql+psycopg://postgres@127.0.0.1:5432/test; those cases are skipped when it is
  unset). Each PostgreSQL test gets its own schema, selected through the URL's
  `options=-csearch_path=...`, so any engine or subprocess built from the URL sees only that
  schema; the schema is dropped afterwards (connections still open are terminated first, found
  by their application_name), so parallel runs never collide.
* `database` - a `Database` on `database_url`, migrated to head, disposed after the test.
* `artifact_store` - an `ArtifactStore` in the test's tmp folder.
* `registry` - a `Registry` on `database` and `artifact_store`.
* `client` / `keys` - the HTTP app in process over the test module's own `settings` fixture
  (each service module sets its limits), and one admin and one forecast key.
* `serve_in_thread` - an app under uvicorn on 127.0.0.1, in a thread, for real HTTP clients.
* `assert_problems` - GET paths answer their statuses as problem details.
* `model_folder` / `other_model_folder` - saved AutoForecaster folders (SeasonalNaive, trained
  once per session on tiny panels; the second has horizon 4 and different data). Treat them
  as read-only.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import make_url, text

from tidecast.automl.forecaster import AutoForecaster
from tidecast.registry.artifacts import ArtifactStore
from tidecast.registry.db import Database, make_engine
from tidecast.registry.registry import Registry
from tidecast.registry.settings import ServiceSettings
from tidecast.service.app import create_app

# The service evaluates alert rules on a schedule; in tests only where a test asks for it
# (a setting passed explicitly wins over the environment).
os.environ.setdefault("TIDECAST_ALERT_INTERVAL_SECONDS", "0")

POSTGRES_ENV = "TIDECAST_TEST_DATABASE_URL"
POSTGRES_URL = os.environ.get(POSTGRES_ENV, "")

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(
            not POSTGRES_URL, reason=f"{POSTGRES_ENV} is not set: no PostgreSQL to test on"
        ),
    ),
]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database for this test only, as a URL string (see the module docstring)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tidecast.db'}"
        return
    schema = f"tc_test_{uuid.uuid4().hex[:16]}"
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(POSTGRES_URL).update_query_dict(
            {"options": f"-csearch_path={schema}", "application_name": schema}
        )
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": schema},
            )
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated database on `database_url`."""
    db = Database.from_url(database_url)
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture
def artifact_store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(str(tmp_path / "artifacts"), cache_dir=tmp_path / "cache")


@pytest.fixture
def registry(database: Database, artifact_store: ArtifactStore) -> Registry:
    return Registry(database.sessions, artifact_store)


@pytest.fixture
def client(settings: ServiceSettings, database: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, database=database)) as test_client:
        yield test_client


@pytest.fixture
def keys(client: TestClient) -> dict[str, str]:
    store = client.app.state.service.keys  # type: ignore[attr-defined]
    return {"admin": store.create("ops", "admin"), "forecast": store.create("shop", "forecast")}


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """`app` served by uvicorn on a free 127.0.0.1 port in a thread; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the test server did not start in 20 s"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def assert_problems(client: TestClient, headers: dict[str, str], cases: list[tuple[str, int]]) -> None:
    """Each GET path answers its status as a problem (RFC 9457) with a detail."""
    for path, status in cases:
        response = client.get(path, headers=headers)
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"], path


def tiny_panel(items: int = 2, length: int = 28, seed: int = 0) -> pd.DataFrame:
    """A few daily series with a weekly pattern: enough for SeasonalNaive and one backtest."""
    rng = np.random.default_rng(seed)
    timestamps = pd.date_range("2024-01-01", periods=length, freq="D")
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "item_id": f"item_{i}",
                    "timestamp": timestamps,
                    "target": 10.0 + 3 * i + np.arange(length) % 7 + rng.random(length),
                }
            )
            for i in range(items)
        ],
        ignore_index=True,
    )


def train_model(folder: Path, horizon: int = 3, seed: int = 0, items: int = 2) -> Path:
    """Fit the cheapest real AutoForecaster and save it to `folder`."""

    auto = AutoForecaster(horizon=horizon, models=["SeasonalNaive"], backtest_windows=1, n_jobs=1)
    return auto.fit(tiny_panel(items=items, seed=seed)).save(folder)


@pytest.fixture(scope="session")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_model(tmp_path_factory.mktemp("models") / "model")


@pytest.fixture(scope="session")
def other_model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_model(tmp_path_factory.mktemp("models") / "other", horizon=4, seed=1, items=3)


def fit_covariate_model(data: pd.DataFrame, horizon: int) -> AutoForecaster:
    """A DynamicRegression fitted on demo data with its known covariates (promotion,
    is_holiday) and static attributes: its forecasts need `future`."""
    auto = AutoForecaster(
        horizon=horizon,
        frequency="D",
        preset="fast",
        models=["DynamicRegression"],
        backtest_windows=1,
        target_col="target_value",
        known_covariates=["promotion", "is_holiday"],
        static_columns=["category", "region"],
        n_jobs=1,
    )
    return auto.fit(data)


# ---- receivers on 127.0.0.1 for the alert tests ---------------------------------------------
# A webhook endpoint that records each POST (and can be told to fail first), and a minimal
# SMTP server that records each message. Here, not in tests/alerts/conftest.py: a second
# conftest module would shadow this one for the `from conftest import ...` of other tests.
import contextlib  # noqa: E402
import socketserver  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402

from alert_receivers import Received, SmtpReceiver, WebhookReceiver  # noqa: E402


@contextlib.contextmanager
def serving(server: socketserver.BaseServer) -> Iterator[None]:
    """Serve in a thread for the duration of the block, then shut down and close."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.posts.append(Received(dict(self.headers.items()), body))
            status = receiver.answers.pop(0) if receiver.answers else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    with serving(server):
        yield receiver


@pytest.fixture
def smtp_server() -> Iterator[SmtpReceiver]:
    """Just enough SMTP (RFC 5321) for smtplib's send_message: greeting, EHLO, MAIL, RCPT, DATA."""
    receiver = SmtpReceiver(port=0)

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(line.encode() + b"\r\n")
            self.wfile.flush()

        def handle(self) -> None:
            self.reply("220 127.0.0.1 test SMTP")
            sender, recipients = "", []
            while line := self.rfile.readline():
                command = line.decode().strip()
                verb = command.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    self.reply("250 127.0.0.1")
                elif verb == "MAIL":
                    sender = command.split(":", 1)[1].strip(" <>")
                    self.reply("250 OK")
                elif verb == "RCPT":
                    recipients.append(command.split(":", 1)[1].strip(" <>"))
                    self.reply("250 OK")
                elif verb == "DATA":
                    self.reply("354 end with .")
                    data = b""
                    while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                        data += chunk
                    receiver.messages.append({"from": sender, "to": recipients, "data": data.decode()})
                    self.reply("250 queued")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("250 OK")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    with serving(server):
        yield receiver
