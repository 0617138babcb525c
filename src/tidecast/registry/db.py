"""Engines, sessions and migrations for the service's metadata database.

SQLite is the default (one file under the service home) and PostgreSQL the choice for several
hosts. SQLite connections are tuned for several processes (the API and job workers) sharing
one file: WAL journaling so readers never block the writer, a busy timeout so a writer waits
for the lock instead of failing at once, and foreign keys enforced (SQLite ignores them by
default). SQLAlchemy's pysqlite driver keeps its default transaction handling (the driver
starts a transaction at the first write), so there are no SAVEPOINTs on SQLite: retry whole
transactions instead.

The schema is owned by Alembic: `migrate(url)` runs `upgrade head` from the migrations shipped
inside the package, and `check_at_head` tells a server it may start.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from tidecast.registry.errors import DatabaseNotReady

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalize_url(url: str | URL) -> URL:
    """Parse `url`; a bare `postgresql://` means psycopg 3 (SQLAlchemy would pick psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for `url`, with the SQLite pragmas above; creates a SQLite file's folder."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"check_same_thread": False, **kwargs.pop("connect_args", {})}
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)  # survive a PostgreSQL restart between requests
    return create_engine(parsed, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable enough with WAL, much faster
    finally:
        cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit: the registry hands them to callers."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@dataclass
class Database:
    """An engine and its session factory: what the registry, the job queue and the API share."""

    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def from_url(cls, url: str | URL, **engine_kwargs: Any) -> Database:
        engine = make_engine(url, **engine_kwargs)
        return cls(engine, make_session_factory(engine))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self.sessions.begin() as session:
            yield session

    def migrate(self) -> None:
        migrate(self.engine)

    def check_at_head(self) -> None:
        check_at_head(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


# ---- migrations ------------------------------------------------------------------------
def _alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # The connection travels in `attributes`, not as a URL option: configparser would choke on
    # a '%' in a password, and the caller's engine keeps its pragmas and pool.
    config.attributes["connection"] = connection
    return config


def migrate(target: str | URL | Engine) -> None:
    """Bring the database at `target` (a URL or an engine) to the newest schema; idempotent."""
    from alembic import command

    engine = target if isinstance(target, Engine) else make_engine(target)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "head")
    finally:
        if engine is not target:
            engine.dispose()


def head_revision() -> str:
    """The newest migration shipped with this tidecast."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS}")
    return head


def current_revision(target: str | URL | Engine) -> str | None:
    """The database's migration revision, or None when it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    engine = target if isinstance(target, Engine) else make_engine(target)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if engine is not target:
            engine.dispose()


def check_at_head(target: str | URL | Engine) -> None:
    """Raise DatabaseNotReady unless the database is at this tidecast's newest migration."""
    current, head = current_revision(target), head_revision()
    if current != head:
        url = target.url if isinstance(target, Engine) else normalize_url(target)
        state = "has no tidecast schema" if current is None else f"is at revision {current}"
        raise DatabaseNotReady(
            f"the database {url.render_as_string(hide_password=True)} {state}, this tidecast needs {head}: "
            "run `tidecast serve` once with migrations enabled or call tidecast.registry.db.migrate"
        )
