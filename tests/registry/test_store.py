"""The metadata store (settings, engines, migrations, tables) and the artifact store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fsspec import AbstractFileSystem
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from tidecast.data.locations import LocationRefused, check_location
from tidecast.registry import artifacts as artifacts_module
from tidecast.registry.artifacts import MARKER, ArtifactStore
from tidecast.registry.db import (
    Database,
    check_at_head,
    current_revision,
    head_revision,
    make_engine,
    migrate,
)
from tidecast.registry.errors import Conflict, DatabaseNotReady, InvalidInput, NotFound
from tidecast.registry.schema import TABLES, ApiKey, Base, Job, ModelGroup, ModelVersion
from tidecast.registry.settings import ServiceSettings
from tidecast.registry.statuses import ApiKeyRole, JobStatus

# ---- settings ----------------------------------------------------------------------------


def test_settings_derive_urls_from_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env file
    monkeypatch.setenv("TIDECAST_HOME", str(tmp_path / "svc"))
    settings = ServiceSettings()
    assert settings.database_url == f"sqlite:///{tmp_path / 'svc' / 'tidecast.db'}"
    assert settings.artifact_url == str(tmp_path / "svc" / "artifacts")
    assert settings.cache_dir == tmp_path / "svc" / "cache"
    assert (settings.open_mode, settings.workers, settings.max_body_bytes) == (False, 1, 10 * 1024 * 1024)
    assert (settings.host, settings.port, settings.cors_origins, settings.data_root) == (
        "127.0.0.1",
        8080,
        [],
        None,
    )


def test_when_tidecast_log_level_is_set_then_the_settings_carry_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TIDECAST_LOG_LEVEL", raising=False)
    assert ServiceSettings().log_level == "INFO"
    monkeypatch.setenv("TIDECAST_LOG_LEVEL", "warning")
    settings = ServiceSettings()
    assert settings.log_level == "warning"
    # what a spawned worker process rebuilds its settings from
    assert ServiceSettings.model_validate_json(settings.model_dump_json()).log_level == "warning"


def test_settings_read_every_field_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TIDECAST_DATABASE_URL", "postgresql+psycopg://u@db/tidecast")
    monkeypatch.setenv("TIDECAST_ARTIFACT_URL", "s3://bucket/tidecast")
    monkeypatch.setenv("TIDECAST_OPEN_MODE", "true")
    monkeypatch.setenv("TIDECAST_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("TIDECAST_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("TIDECAST_WORKERS", "3")
    monkeypatch.setenv("TIDECAST_PORT", "9000")
    monkeypatch.setenv("TIDECAST_DATA_ROOT", str(tmp_path))
    settings = ServiceSettings()
    assert settings.database_url == "postgresql+psycopg://u@db/tidecast"
    assert settings.artifact_url == "s3://bucket/tidecast"
    assert settings.open_mode is True
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert (settings.max_body_bytes, settings.workers, settings.port) == (2048, 3, 9000)
    monkeypatch.setenv("TIDECAST_CORS_ORIGINS", '["https://c.example"]')
    assert ServiceSettings().cors_origins == ["https://c.example"]


def test_the_location_policy_of_the_settings_maps_s3_onto_the_data_root(tmp_path: Path) -> None:
    settings = ServiceSettings(home=tmp_path, data_root=tmp_path / "data", data_urls="s3://lake/in")
    policy = settings.location_policy()
    assert settings.data_urls == ["s3://lake/in/"]
    assert check_location("s3://bucket/sales/train.csv", policy) == str(
        (tmp_path / "data" / "bucket" / "sales" / "train.csv").resolve()
    )
    assert check_location("s3://lake/in/sales.csv", policy) == "s3://lake/in/sales.csv"
    with pytest.raises(LocationRefused):
        check_location("s3://bucket/../../etc/passwd", policy)
    assert ServiceSettings(home=tmp_path, data_root="").location_policy().confined is False
    with pytest.raises(ValueError, match="segment"):
        ServiceSettings(home=tmp_path, data_urls="https://host/a/../b/")


# ---- database and migrations -------------------------------------------------------------


def test_migrations_create_every_table_and_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with pytest.raises(DatabaseNotReady, match="has no tidecast schema"):
            check_at_head(engine)
        assert current_revision(engine) is None
        migrate(database_url)
        migrate(database_url)  # idempotent: a second run changes nothing and does not fail
        assert current_revision(engine) == head_revision() == "0008"
        check_at_head(engine)
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == {*TABLES, "alembic_version"}
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            # The migrations create exactly what schema.py declares: nothing missing, nothing extra.
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_sqlite_connections_use_wal_and_enforce_foreign_keys(tmp_path: Path) -> None:
    db = Database.from_url(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'x.db'}")  # folders are created
    try:
        db.migrate()
        with db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        with pytest.raises(IntegrityError), db.transaction() as session:
            session.add(ModelVersion(group_id=999, version=1, artifact_uri="x"))
    finally:
        db.dispose()


def test_rows_round_trip_with_defaults_and_utc_times(database: Database) -> None:
    naive = datetime(2025, 3, 1, 12, 0)  # naive means UTC
    paris = datetime(2025, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=1)))
    with database.transaction() as session:
        job = Job(name="train-sales", config={"horizon": 7}, started_at=naive, heartbeat_at=paris)
        session.add(job)
        session.add(ApiKey(name="ci", role=ApiKeyRole.ADMIN, key_hash="h1"))
    with database.sessions() as session:
        stored = session.scalars(select(Job)).one()
        assert len(stored.id) == 32 and int(stored.id, 16) >= 0
        assert stored.status is JobStatus.QUEUED and stored.stop_requested is False
        assert stored.config == {"horizon": 7} and stored.leaderboard is None
        assert stored.started_at == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
        assert stored.heartbeat_at == datetime(2025, 3, 1, 13, 0, tzinfo=UTC)
        assert stored.created_at.tzinfo is not None
        assert abs(stored.created_at - datetime.now(UTC)) < timedelta(minutes=1)
        assert session.scalars(select(ApiKey)).one().revoked is False
    with pytest.raises(IntegrityError), database.transaction() as session:
        session.add(ApiKey(name="dup", role=ApiKeyRole.FORECAST, key_hash="h1"))
    with pytest.raises(IntegrityError), database.transaction() as session:
        session.add_all([ModelGroup(name="g"), ModelGroup(name="g")])


def test_status_columns_refuse_unknown_values(database: Database) -> None:
    with pytest.raises(IntegrityError), database.transaction() as session:
        session.execute(
            text(
                "INSERT INTO jobs (id, name, status, config, stop_requested, created_at) VALUES "
                "('x', 'n', 'Exploded', '{}', false, CURRENT_TIMESTAMP)"
            )
        )


# ---- artifact store ------------------------------------------------------------------------


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    (source / "sub").mkdir(parents=True)
    (source / "manifest.json").write_text(json.dumps({"a": 1}))
    (source / "forecaster.pkl").write_bytes(b"\x00\x01" * 1000)
    (source / "sub" / "extra.txt").write_text("nested")
    return source


def test_local_store_round_trip(tmp_path: Path, folder: Path) -> None:
    store = ArtifactStore(str(tmp_path / "artifacts"))
    key = store.new_key("models", "sales")
    uri = store.put_model(folder, key)
    assert uri == f"file://{tmp_path / 'artifacts'}/{key}"
    assert store.exists(uri)
    local = store.get_model(uri)
    assert local == tmp_path / "artifacts" / key
    got = _files(local)
    assert got.pop(MARKER)
    assert got == _files(folder)
    with pytest.raises(Conflict):
        store.put_model(folder, key)
    assert store.delete(uri) is True
    assert not store.exists(uri) and not local.exists()
    assert store.delete(uri) is False
    with pytest.raises(NotFound, match="model artifact"):
        store.get_model(uri)
    assert [p.name for p in (tmp_path / "artifacts" / "models" / "sales").iterdir()] == []


def test_object_store_round_trip_through_the_cache(tmp_path: Path, folder: Path) -> None:
    store = ArtifactStore(f"memory://tc-{tmp_path.name}/artifacts", cache_dir=tmp_path / "cache")
    assert not store.local
    uri = store.put_model(folder, store.new_key("models", "sales"))
    assert uri.startswith(f"memory:///tc-{tmp_path.name}/artifacts/models/sales/")
    local = store.get_model(uri)
    assert local.parent == tmp_path / "cache"
    got = _files(local)
    assert json.loads(got.pop(MARKER))["files"] == ["forecaster.pkl", "manifest.json", "sub/extra.txt"]
    assert got == _files(folder)
    assert store.get_model(uri) == local  # cached
    assert store.delete(uri) and not local.exists() and not store.exists(uri)


@pytest.mark.parametrize("kind", ["local", "object"])
def test_a_crash_mid_copy_leaves_nothing_visible(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    url = str(tmp_path / "artifacts") if kind == "local" else f"memory://crash-{tmp_path.name}/artifacts"
    store = ArtifactStore(url)
    real_copy = artifacts_module._copy_file
    copied: list[str] = []

    def copy_then_crash(fs: AbstractFileSystem, source: Path, destination: str) -> None:
        if copied:
            raise OSError("disk full")
        real_copy(fs, source, destination)
        copied.append(destination)

    monkeypatch.setattr(artifacts_module, "_copy_file", copy_then_crash)
    key = store.new_key("models", "sales")
    with pytest.raises(OSError, match="disk full"):
        store.put_model(folder, key)
    assert len(copied) == 1  # the crash came after a file was really written
    uri = store.uri_for(key)
    assert not store.exists(uri)
    with pytest.raises(NotFound):
        store.get_model(uri)
    # No partial folder anywhere: neither under the key nor as a staging folder beside it.
    assert store.fs.find(store.root) == []

    # Even if the cleanup itself is lost (the process died), a folder without its marker is absent.
    monkeypatch.setattr(artifacts_module, "_copy_file", real_copy)
    if kind == "object":
        store.fs.pipe_file(f"{store.root}/{key}/manifest.json", b"{}")
        assert not store.exists(uri)
        with pytest.raises(NotFound):
            store.get_model(uri)
    assert store.exists(store.put_model(folder, store.new_key("models", "sales")))


@pytest.mark.parametrize(
    "key", ["", "../escape", "models/../../etc", "/abs", "a//b", ".hidden", "a\\b", "a/b c"]
)
def test_keys_from_outside_are_refused(tmp_path: Path, folder: Path, key: str) -> None:
    store = ArtifactStore(str(tmp_path / "artifacts"))
    with pytest.raises(InvalidInput, match="not a valid artifact key"):
        store.put_model(folder, key)
    assert not (tmp_path / "etc").exists() and not (tmp_path / "escape").exists()


def test_uris_outside_the_store_are_refused(tmp_path: Path, folder: Path) -> None:
    store = ArtifactStore(str(tmp_path / "artifacts"))
    for uri in [f"file://{folder}", f"file://{tmp_path}/artifacts/../source", "s3://other/models/x"]:
        with pytest.raises(InvalidInput):
            store.get_model(uri)
        with pytest.raises(InvalidInput):
            store.delete(uri)
    assert folder.exists()


def test_model_folders_must_be_plain_non_empty_folders(tmp_path: Path, folder: Path) -> None:
    store = ArtifactStore(str(tmp_path / "artifacts"))
    (folder / "link").symlink_to("/etc/passwd")
    with pytest.raises(InvalidInput, match="symbolic link"):
        store.put_model(folder, store.new_key("m"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInput, match="is empty"):
        store.put_model(tmp_path / "empty", store.new_key("m"))
    with pytest.raises(NotFound):
        store.put_model(tmp_path / "missing", store.new_key("m"))
