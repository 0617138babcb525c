"""The model registry on both backends, from real saved models, and `tidecast models ...`."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fsspec import AbstractFileSystem
from sqlalchemy import select
from typer.testing import CliRunner

from tidecast.automl.artifact import read_manifest
from tidecast.automl.forecaster import AutoForecaster
from tidecast.cli.models import models_app
from tidecast.errors import ModelError
from tidecast.registry import artifacts as artifacts_module
from tidecast.registry.db import Database
from tidecast.registry.errors import Conflict, InvalidInput, NotFound
from tidecast.registry.registry import Registry, open_registry
from tidecast.registry.schema import Endpoint
from tidecast.registry.settings import ServiceSettings
from tidecast.registry.statuses import ModelStatus

APPROVED, REJECTED, PENDING = ModelStatus.APPROVED, ModelStatus.REJECTED, ModelStatus.PENDING


def test_register_numbers_versions_and_copies_the_model(
    registry: Registry, model_folder: Path, other_model_folder: Path
) -> None:
    manifest = read_manifest(model_folder)
    before = datetime.now(UTC)
    first = registry.register("sales", model_folder, source_job_id="a" * 32, description="first try")
    second = registry.register("sales", other_model_folder)
    other_group = registry.register("returns", model_folder)

    assert (first.group.name, first.version, second.version, other_group.version) == ("sales", 1, 2, 1)
    assert first.status is PENDING and first.source_job_id == "a" * 32 and first.description == "first try"
    assert first.metrics == manifest["metrics"] and first.metrics["objective"] == "wql"
    assert first.config == manifest["task"] and first.config["horizon"] == 3
    assert second.config["horizon"] == 4
    assert first.data_fingerprint == manifest["data_fingerprint"] != second.data_fingerprint
    assert before <= first.created_at <= second.created_at <= datetime.now(UTC)
    assert len({first.artifact_uri, second.artifact_uri, other_group.artifact_uri}) == 3

    # The stored copy is a complete, loadable model, independent of the source folder.
    stored = registry.model_path(first)
    assert stored != model_folder and registry.artifacts.exists(first.artifact_uri)
    forecast = AutoForecaster.load(stored).predict()
    assert len(forecast) == 2 * 3

    assert [v.version for v in registry.list_versions("sales")] == [1, 2]
    assert registry.get("sales", 2).artifact_uri == second.artifact_uri
    assert registry.get_by_id(first.id).version == 1
    groups = {g.name: g for g in registry.list_groups()}
    assert list(groups) == ["returns", "sales"]
    assert (groups["sales"].versions, groups["sales"].latest_version, groups["sales"].latest_approved) == (
        2,
        2,
        None,
    )


def test_concurrent_registrations_get_distinct_numbers(registry: Registry, model_folder: Path) -> None:
    results: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def work() -> None:
        start.wait(timeout=30)  # all four reach the version numbering together
        try:
            results.append(registry.register("busy", model_folder).version)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(results) == [1, 2, 3, 4]
    assert [v.version for v in registry.list_versions("busy")] == [1, 2, 3, 4]


def test_approve_reject_and_illegal_transitions(registry: Registry, model_folder: Path) -> None:
    for _ in range(3):
        registry.register("sales", model_folder)
    with pytest.raises(NotFound, match="approved model version 'sales'"):
        registry.latest_approved("sales")

    pending = registry.get("sales", 1)
    approved = registry.approve("sales", 1)
    assert approved.status is APPROVED and approved.updated_at > pending.updated_at
    assert registry.get("sales", 1).status is APPROVED  # persisted, not just returned
    with pytest.raises(Conflict, match="is Approved: it cannot become Approved"):
        registry.approve("sales", 1)

    assert registry.reject("sales", 2).status is REJECTED
    with pytest.raises(Conflict, match="is Rejected"):
        registry.reject("sales", 2)
    assert registry.approve("sales", 2).status is APPROVED  # a rejected version may be re-approved
    assert registry.latest_approved("sales").version == 2
    assert [v.version for v in registry.list_versions("sales", status=PENDING)] == [3]
    assert {g.name: g.latest_approved for g in registry.list_groups()} == {"sales": 2}


def test_rollback_hands_over_to_the_previous_approved_version(registry: Registry, model_folder: Path) -> None:
    for _ in range(4):
        registry.register("sales", model_folder)
    with pytest.raises(Conflict, match="no approved version"):
        registry.rollback("sales")
    registry.approve("sales", 1)
    with pytest.raises(Conflict, match="only approved version"):
        registry.rollback("sales")
    registry.approve("sales", 3)
    registry.reject("sales", 4)
    assert registry.latest_approved("sales").version == 3

    done = registry.rollback("sales")
    assert (done.rejected.version, done.rejected.status, done.current.version) == (3, REJECTED, 1)
    assert registry.latest_approved("sales").version == 1
    assert [(v.version, v.status) for v in registry.list_versions("sales")] == [
        (1, APPROVED),
        (2, PENDING),
        (3, REJECTED),
        (4, REJECTED),
    ]
    with pytest.raises(Conflict):
        registry.rollback("sales")  # version 1 is the last approved one: nothing to go back to
    assert registry.latest_approved("sales").version == 1


def serve(registry: Registry, endpoints: dict[str, int], group: str = "sales") -> None:
    """Endpoint rows, as a deploy writes them: name -> version of `group`."""
    with registry.sessions.begin() as session:
        for name, version in endpoints.items():
            session.add(Endpoint(name=name, model_version_id=registry.get(group, version).id))


def served(registry: Registry) -> dict[str, int]:
    with registry.sessions() as session:
        return {e.name: e.model_version.version for e in session.scalars(select(Endpoint))}


def test_when_rolled_back_then_the_endpoints_of_the_rejected_version_serve_the_previous_one(
    registry: Registry, model_folder: Path, other_model_folder: Path
) -> None:
    for folder in (model_folder, model_folder, other_model_folder):
        registry.approve("sales", registry.register("sales", folder).version)
    serve(registry, {"shop": 3, "web": 3, "old": 1})
    done = registry.rollback("sales")
    assert (done.rejected.version, done.current.version, done.endpoints) == (3, 2, ("shop", "web"))
    assert served(registry) == {"shop": 2, "web": 2, "old": 1}
    kept = registry.rollback("sales", redeploy=False)  # the reply then names none and moves none
    assert (kept.rejected.version, kept.endpoints) == (2, ())
    assert served(registry) == {"shop": 2, "web": 2, "old": 1}


def test_when_a_rollback_names_the_version_it_means_then_a_second_one_changes_nothing(
    registry: Registry, model_folder: Path
) -> None:
    """Four rollbacks sent at once (a double click, two operators) rejected versions 5, 4 and 3
    of five approved; naming the version meant, only the first does anything."""
    for version in range(1, 4):
        registry.register("sales", model_folder)
        registry.approve("sales", version)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def click() -> None:
        barrier.wait()
        try:
            outcomes.append(str(registry.rollback("sales", from_version=3).rejected.version))
        except Conflict as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("3") == 1, outcomes
    assert all(
        o == "3" or "sales version 3 is not the latest approved version" in o or "changed" in o
        for o in outcomes
    )
    assert [v.status for v in registry.list_versions("sales")] == [APPROVED, APPROVED, REJECTED]
    with pytest.raises(Conflict, match=r"version 3 is not the latest approved version \(version 2 is\)"):
        registry.rollback("sales", from_version=3)
    assert registry.rollback("sales", from_version=2).current.version == 1


def test_when_the_previous_version_cannot_load_then_rollback_changes_nothing(
    registry: Registry, model_folder: Path, other_model_folder: Path
) -> None:
    first = registry.register("sales", model_folder)
    registry.register("sales", other_model_folder)
    registry.approve("sales", 1)
    registry.approve("sales", 2)
    serve(registry, {"shop": 2})

    def refuse(plan: object, forecaster: object) -> None:  # the service readying the endpoints, failing
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        registry.rollback("sales", prepare=refuse)
    assert [v.status for v in registry.list_versions("sales")] == [APPROVED, APPROVED]
    assert served(registry) == {"shop": 2}

    registry.artifacts.delete(first.artifact_uri)
    with pytest.raises(Conflict, match="cannot roll back sales to version 1: its model cannot be loaded"):
        registry.rollback("sales")
    assert [v.status for v in registry.list_versions("sales")] == [APPROVED, APPROVED]
    assert served(registry) == {"shop": 2}


def test_compare_puts_metrics_side_by_side(
    registry: Registry, model_folder: Path, other_model_folder: Path
) -> None:
    registry.register("sales", model_folder)
    registry.register("sales", other_model_folder)
    registry.register("sales", model_folder)
    score1 = read_manifest(model_folder)["metrics"]["score"]
    score2 = read_manifest(other_model_folder)["metrics"]["score"]

    diff = registry.compare("sales", 1, 2)
    assert diff.metrics["score"].v1 == score1 and diff.metrics["score"].v2 == score2
    assert diff.metrics["score"].difference == pytest.approx(score2 - score1)
    assert diff.metrics["objective"].difference is None  # not a number
    assert diff.config_changes == {"horizon": (3, 4)}
    assert diff.same_data is False
    as_json = json.loads(json.dumps(diff.to_dict()))
    assert as_json["config_changes"] == {"horizon": {"v1": 3, "v2": 4}}
    assert as_json["versions"] == [1, 2]

    same = registry.compare("sales", 1, 3)
    assert same.config_changes == {} and same.same_data is True
    assert same.metrics["score"].difference == 0.0


def test_unknown_names_and_bad_input_are_clear_errors(
    registry: Registry, model_folder: Path, tmp_path: Path
) -> None:
    registry.register("sales", model_folder)
    with pytest.raises(NotFound, match="model group 'nope'") as missing:
        registry.list_versions("nope")
    assert (missing.value.kind, missing.value.name) == ("model group", "nope")
    for call in (
        lambda: registry.get("nope", 1),
        lambda: registry.approve("nope", 1),
        lambda: registry.rollback("nope"),
        lambda: registry.latest_approved("nope"),
        lambda: registry.compare("nope", 1, 2),
    ):
        with pytest.raises(NotFound, match="'nope'"):
            call()
    with pytest.raises(NotFound, match="model version 'sales/7'"):
        registry.approve("sales", 7)
    with pytest.raises(NotFound, match="model version 'sales/2'"):
        registry.compare("sales", 1, 2)
    with pytest.raises(NotFound, match="model version id"):
        registry.get_by_id(12345)

    for name in ["", "../etc", "a/b", ".hidden", "x" * 129, "spaces here"]:
        with pytest.raises(InvalidInput) as bad:
            registry.register(name, model_folder)
        assert bad.value.field == "group"
    with pytest.raises(InvalidInput) as bad_job:
        registry.register("sales", model_folder, source_job_id="j" * 40)
    assert bad_job.value.field == "source_job_id"
    (tmp_path / "not_a_model").mkdir()
    (tmp_path / "not_a_model" / "data.csv").write_text("a,b\n")
    with pytest.raises(ModelError, match=r"manifest\.json is missing"):
        registry.register("sales", tmp_path / "not_a_model")
    # Nothing was half-registered by the refused calls.
    assert [v.version for v in registry.list_versions("sales")] == [1]
    assert [g.name for g in registry.list_groups()] == ["sales"]


def test_a_failed_copy_registers_nothing(
    registry: Registry, model_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(fs: AbstractFileSystem, source: Path, destination: str) -> None:
        raise OSError("connection reset")

    monkeypatch.setattr(artifacts_module, "_copy_file", crash)
    with pytest.raises(OSError, match="connection reset"):
        registry.register("sales", model_folder)
    assert registry.list_groups() == []
    assert registry.artifacts.fs.find(registry.artifacts.root) == []


# ---- the CLI -------------------------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Database:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TIDECAST_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TIDECAST_DATABASE_URL", database_url)
    monkeypatch.setenv("TIDECAST_ARTIFACT_URL", str(tmp_path / "artifacts"))
    database = Database.from_url(database_url)
    yield database
    database.dispose()


def test_cli_manages_the_registry(cli_env: Database, model_folder: Path, other_model_folder: Path) -> None:
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(models_app, list(args), catch_exceptions=False, terminal_width=200)
        assert result.exit_code == code, result.output
        return result.output

    assert "No models registered yet" in run("list")
    assert "registered sales version 1" in run(
        "register", "sales", str(model_folder), "--description", "baseline"
    )
    assert "registered sales version 2" in run("register", "sales", str(other_model_folder))
    assert "version 1 is now Approved" in run("approve", "sales", "1")
    assert "version 2 is now Approved" in run("approve", "sales", "2")

    listing = run("list")
    assert "sales" in listing and "2" in listing
    versions = run("show", "sales")
    assert "Approved" in versions and "baseline" in versions and "wql" in versions
    assert "data fingerprint" in run("show", "sales", "1")
    detail = json.loads(run("show", "sales", "1", "--json"))
    manifest = read_manifest(model_folder)
    assert (detail["group"], detail["version"], detail["status"]) == ("sales", 1, "Approved")
    assert detail["config"] == manifest["task"] and detail["metrics"] == manifest["metrics"]
    assert detail["data_fingerprint"] == manifest["data_fingerprint"] and detail["description"] == "baseline"
    # the row keeps the key relative to the store; the command shows where the folder is
    assert Path(detail["artifact_uri"].removeprefix("file://"), "manifest.json").is_file()
    assert [v["version"] for v in json.loads(run("show", "sales", "--json"))] == [1, 2]
    groups = json.loads(run("list", "--json"))
    assert [(g["name"], g["versions"], g["latest_approved"]) for g in groups] == [("sales", 2, 2)]

    assert "version 2 rejected; version 1 is the latest approved version" in run("rollback", "sales")
    assert "is now Rejected" in run("reject", "sales", "1")

    assert "model group 'nope' does not exist" in run("show", "nope", code=2)
    assert "cannot become Rejected" in run("reject", "sales", "1", code=1)
    assert "no approved version" in run("rollback", "sales", code=1)
    assert "not a valid model group name" in run("register", "../x", str(model_folder), code=1)

    # The commands changed the real store.
    registry = Registry(cli_env.sessions, artifacts_module.ArtifactStore(str(Path.cwd() / "artifacts")))
    assert [(v.version, v.status) for v in registry.list_versions("sales")] == [(1, REJECTED), (2, REJECTED)]


def test_when_the_cli_rolls_back_then_the_endpoints_move_unless_the_previous_version_cannot_load(
    cli_env: Database, model_folder: Path, other_model_folder: Path
) -> None:
    """`tidecast models rollback` on the registry: the endpoint rows move with the rejection
    (a service started afterwards serves the previous version), or nothing changes at all."""
    registry = Registry(cli_env.sessions, artifacts_module.ArtifactStore(str(Path.cwd() / "artifacts")))
    cli_env.migrate()
    first = registry.register("sales", model_folder)
    for folder in (other_model_folder, other_model_folder):
        registry.register("sales", folder)
    for version in (1, 2, 3):
        registry.approve("sales", version)
    serve(registry, {"shop": 3, "web": 2})

    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(models_app, list(args), catch_exceptions=False, terminal_width=200)
        assert result.exit_code == code, result.output
        return result.output

    rolled = run("rollback", "sales")
    assert "version 3 rejected; version 2 is the latest approved version" in rolled
    assert "endpoints now serving version 2" in rolled and "shop" in rolled and "web" not in rolled
    assert served(registry) == {"shop": 2, "web": 2}

    registry.artifacts.delete(first.artifact_uri)
    refused = run("rollback", "sales", code=1)
    assert "cannot roll back sales to version 1" in refused and "nothing was changed" in refused
    assert [v.status for v in registry.list_versions("sales")] == [APPROVED, APPROVED, REJECTED]
    assert served(registry) == {"shop": 2, "web": 2}


def test_when_models_are_listed_where_no_home_exists_then_none_is_created_and_the_home_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TIDECAST_HOME", "TIDECAST_DATABASE_URL", "TIDECAST_ARTIFACT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    listed = runner.invoke(models_app, ["list"], terminal_width=400)
    assert listed.exit_code == 0, listed.output
    assert f"no model registry at {tmp_path / '.tidecast'}" in listed.output
    shown = runner.invoke(models_app, ["show", "sales"], terminal_width=400)
    assert shown.exit_code == 2 and "model group 'sales' does not exist" in shown.output
    assert list(tmp_path.iterdir()) == []  # no empty ./.tidecast left behind by a read


def test_a_cli_command_reads_the_settings_once(cli_env: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    import tidecast.cli.models as models_cli

    with open_registry(ServiceSettings()):  # a registry exists: `list` reads it
        pass
    built = []

    def counted(**overrides: object) -> ServiceSettings:
        built.append(overrides)
        return ServiceSettings()

    monkeypatch.setattr(models_cli, "service_settings", counted)
    result = CliRunner().invoke(models_app, ["list"], catch_exceptions=False)
    assert "No models registered yet" in result.output
    assert built == [{}]
