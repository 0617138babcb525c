"""Artifacts you can trust and move: relative locations, the manifest digest, migration 0004.

* A registered version keeps its folder's key relative to the store and its manifest digest.
* A payload swapped in the store after registration (its manifest rewritten to match, as
  whoever can write the store would) is refused by `model_path`, and never unpickled.
* A store copied elsewhere serves the same versions from the same rows.
* Migration 0004 turns old absolute URIs into keys; the first load records the digest.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from artifact_tampering import swap_payload
from tidecast.automl.artifact import MANIFEST
from tidecast.automl.forecaster import AutoForecaster
from tidecast.errors import ModelError
from tidecast.registry.artifacts import ArtifactStore
from tidecast.registry.db import MIGRATIONS, Database, make_engine, make_session_factory
from tidecast.registry.errors import ArtifactAltered
from tidecast.registry.registry import Registry


def test_when_registered_then_the_row_keeps_a_relative_key_and_the_manifest_digest(
    registry: Registry, model_folder: Path
) -> None:
    version = registry.register("sales", model_folder)
    stored = registry.get("sales", 1)
    assert stored.artifact_uri.startswith("models/sales/") and "://" not in stored.artifact_uri
    assert stored.manifest_digest == hashlib.sha256((model_folder / MANIFEST).read_bytes()).hexdigest()
    assert registry.artifact_url(version) == registry.artifacts.uri_for(stored.artifact_uri)
    assert AutoForecaster.load(registry.model_path(stored)).horizon == 3


def test_when_the_payload_is_swapped_after_registration_then_loading_is_refused(
    registry: Registry, model_folder: Path, tmp_path: Path
) -> None:
    version = registry.register("sales", model_folder)
    folder = registry.model_path(version)
    marker = tmp_path / "ran"
    swap_payload(folder, marker)
    with pytest.raises(ArtifactAltered, match="not the one registered"):
        registry.model_path(registry.get("sales", 1))
    # loading with the recorded digest checks the very manifest bytes it then trusts
    with pytest.raises(ModelError, match="not the manifest registered"):
        AutoForecaster.load(folder, manifest_digest=version.manifest_digest)
    assert not marker.exists()
    # the attack is real: without the registry's check the folder loads, and runs the payload
    with pytest.raises(Exception):  # noqa: B017 - the trap's result is no forecaster
        AutoForecaster.load(folder)
    assert marker.exists()


def test_when_the_store_is_copied_elsewhere_then_the_same_rows_serve(
    database: Database, tmp_path: Path, model_folder: Path
) -> None:
    first = Registry(database.sessions, ArtifactStore(str(tmp_path / "a"), cache_dir=tmp_path / "ca"))
    version = first.register("sales", model_folder)
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    shutil.rmtree(tmp_path / "a")
    moved = Registry(database.sessions, ArtifactStore(str(tmp_path / "b"), cache_dir=tmp_path / "cb"))
    folder = moved.model_path(moved.get("sales", version.version))
    assert folder.is_relative_to(tmp_path / "b")
    assert AutoForecaster.load(folder).horizon == 3


def alembic_upgrade(database: Database, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_migration_0003_makes_old_locations_relative_and_the_first_load_records_the_digest(
    database_url: str, tmp_path: Path, model_folder: Path
) -> None:
    engine = make_engine(database_url)
    database = Database(engine, make_session_factory(engine))
    try:
        store = ArtifactStore(str(tmp_path / "artifacts"), cache_dir=tmp_path / "cache")
        key = "models/sales/" + "ab" * 16
        absolute = store.put_model(model_folder, key)  # what 0002 rows held
        alembic_upgrade(database, "0002")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO model_groups (id, name, description, created_at) "
                    "VALUES (1, 'sales', '', CURRENT_TIMESTAMP)"
                )
            )
            for row, uri in [(1, absolute), (2, "s3://elsewhere/model")]:
                connection.execute(
                    text(
                        "INSERT INTO model_versions (id, group_id, version, artifact_uri, metrics, "
                        "data_fingerprint, config, status, description, created_at, updated_at) "
                        "VALUES (:id, 1, :id, :uri, '{}', '', '{}', 'Approved', '', CURRENT_TIMESTAMP, "
                        "CURRENT_TIMESTAMP)"
                    ),
                    {"id": row, "uri": uri},
                )
        alembic_upgrade(database, "head")
        registry = Registry(database.sessions, store)
        old, foreign = registry.get("sales", 1), registry.get("sales", 2)
        assert (old.artifact_uri, old.manifest_digest) == (key, None)
        assert foreign.artifact_uri == "s3://elsewhere/model"  # not under a store key: left as it was
        registry.model_path(old)  # trust on first load: the digest is recorded
        recorded = registry.get("sales", 1).manifest_digest
        assert recorded == hashlib.sha256((model_folder / MANIFEST).read_bytes()).hexdigest()
        swap_payload(tmp_path / "artifacts" / key, tmp_path / "ran")
        with pytest.raises(ArtifactAltered):
            registry.model_path(registry.get("sales", 1))
    finally:
        engine.dispose()
