"""Deploying a version whose model folder is gone from the artifact store (a clean-up that went
too far, a restored backup without its artifacts) is the same 422 "Model cannot be loaded" as a
folder altered after registration, naming the version; it used to be a 404 "model artifact ...
does not exist" that read as if the caller had named something unknown."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tidecast.registry.registry import Registry
from tidecast.registry.settings import ServiceSettings


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> ServiceSettings:
    return ServiceSettings(home=tmp_path, database_url=database_url, open_mode=True)


def test_when_the_model_folder_is_gone_then_deploying_it_is_a_422_naming_the_version(
    client: TestClient, registry: Registry, model_folder: Path
) -> None:
    version = registry.register("sales", model_folder)
    assert client.post("/v1/models/sales/versions/1/approve").status_code == 200
    shutil.rmtree(registry.model_path(version))

    response = client.post("/v1/endpoints", json={"name": "shop", "group": "sales", "version": 1})

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"].endswith("/model-load-failed") and problem["field"] == "version", problem
    assert "sales version 1 could not be loaded" in problem["detail"], problem
    assert "does not exist" in problem["detail"], problem
    assert client.get("/v1/endpoints/shop").status_code == 404  # nothing half-made
