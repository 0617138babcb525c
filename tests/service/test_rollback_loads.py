"""A rollback reads the model it rolls back to once: the registry's check that it opens read
the folder, then each endpoint moved to it read the folder again (three reads for two)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tidecast.automl.forecaster import AutoForecaster
from tidecast.registry.registry import Registry
from tidecast.registry.settings import ServiceSettings


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> ServiceSettings:
    """home=tmp_path puts artifacts in tmp_path/artifacts: the conftest registry's store."""
    return ServiceSettings(home=tmp_path, database_url=database_url, data_root=tmp_path)


def test_when_a_rollback_moves_two_endpoints_then_the_model_is_loaded_once(
    client: TestClient,
    keys: dict[str, str],
    registry: Registry,
    model_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for version in (1, 2):
        registry.register("sales", model_folder)
        registry.approve("sales", version)
    headers = {"X-API-Key": keys["admin"]}
    for name in ("north", "south"):
        assert client.post("/v1/endpoints", json={"name": name, "group": "sales"}, headers=headers).is_success
    loads: list[Any] = []
    real_load = AutoForecaster.load.__func__  # type: ignore[attr-defined]

    def counted(cls: type[AutoForecaster], path: Any, *args: Any, **kwargs: Any) -> AutoForecaster:
        loads.append(path)
        return real_load(cls, path, *args, **kwargs)

    monkeypatch.setattr(AutoForecaster, "load", classmethod(counted))
    moved = client.post("/v1/models/sales/rollback?from_version=2", headers=headers)
    assert moved.status_code == 200, moved.text
    assert len(loads) == 1
    for name in ("north", "south"):
        assert client.get(f"/v1/endpoints/{name}", headers=headers).json()["version"] == 1
        forecast = client.post(
            f"/v1/endpoints/{name}/forecast", json={"item_ids": ["item_0"]}, headers=headers
        )
        assert forecast.status_code == 200, forecast.text
