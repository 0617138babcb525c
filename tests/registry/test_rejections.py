"""What an operator is told when a version is withdrawn: a reject names the endpoints that keep
serving it, and a rollback sent twice says the first one did the work."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tidecast.cli.models import models_app
from tidecast.registry.errors import Conflict
from tidecast.registry.registry import Registry
from tidecast.registry.schema import Endpoint
from tidecast.registry.statuses import ModelStatus


def _approved(registry: Registry, folder: Path, count: int) -> None:
    for _ in range(count):
        registry.approve("sales", registry.register("sales", folder).version)


def test_when_a_rollback_naming_its_version_is_sent_twice_then_the_second_says_it_was_rolled_back(
    registry: Registry, model_folder: Path
) -> None:
    """With two approved versions the second click was told "version 1 is the only approved
    version: there is no earlier approved version to roll back to", as if it had found nothing
    to do, rather than that its version was rolled back already."""
    _approved(registry, model_folder, 2)
    assert registry.rollback("sales", from_version=2).current.version == 1
    with pytest.raises(
        Conflict, match=r"sales version 2 is not the latest approved version \(version 1 is\)"
    ):
        registry.rollback("sales", from_version=2)
    registry.reject("sales", 1)
    with pytest.raises(Conflict, match=r"version 1 is not the latest approved version \(none is\)"):
        registry.rollback("sales", from_version=1)
    with pytest.raises(Conflict, match="sales has no approved version to roll back"):
        registry.rollback("sales")
    assert [v.status for v in registry.list_versions("sales")] == [ModelStatus.REJECTED] * 2


def test_when_the_cli_rejects_a_version_endpoints_serve_then_it_names_them(
    registry: Registry, model_folder: Path, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tidecast models reject` said only "is now Rejected", while the endpoints kept serving
    the version (the API's answer names them in `still_serving`)."""
    monkeypatch.setenv("TIDECAST_DATABASE_URL", database_url)
    monkeypatch.setenv("TIDECAST_ARTIFACT_URL", str(tmp_path / "artifacts"))
    monkeypatch.setenv("TIDECAST_HOME", str(tmp_path / "home"))
    _approved(registry, model_folder, 2)
    with registry.sessions.begin() as session:
        for name, version in (("web", 2), ("shop", 2), ("old", 1)):
            session.add(Endpoint(name=name, model_version_id=registry.get("sales", version).id))

    def reject(version: str) -> str:
        result = CliRunner().invoke(models_app, ["reject", "sales", version], terminal_width=300)
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split())

    said = reject("2")
    assert "sales version 2 is now Rejected" in said
    assert "endpoints still serving version 2: shop, web (deploy an approved version to them" in said
    registry.register("sales", model_folder)
    assert "still serving" not in reject("3")
