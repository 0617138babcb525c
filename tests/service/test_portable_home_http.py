"""A TIDECAST_HOME copied elsewhere serves the same forecasts; a swapped payload is refused.

Through the real service (`python -m tidecast.service.server` on loopback): a model registered,
approved and deployed in one home forecasts; the home is copied to another folder and the
original removed, and the service started on the copy answers the same numbers. Then the
copy's stored payload is swapped for one that would write a file when unpickled (its manifest
rewritten to match): after a restart the endpoint answers a problem, a redeploy is a 422
saying the folder is not the one registered, and the payload never ran.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from test_e2e_http import Service, create_key

from artifact_tampering import swap_payload
from tidecast.registry.registry import open_registry
from tidecast.registry.settings import ServiceSettings
from tidecast.service.predictor import LoadedModel

pytestmark = pytest.mark.timeout(180)


def service_on(home: Path, admin: str, forecaster: str) -> Service:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDECAST_")}
    env.update(TIDECAST_HOME=str(home), TIDECAST_LOG_LEVEL="INFO")
    service = Service(home=home, env=env, admin=admin, forecaster=forecaster)
    return service


def forecast(service: Service, items: list[str]) -> dict[str, object]:
    response = service.call(
        "POST", "/v1/endpoints/sales/forecast", key=service.forecaster, json={"item_ids": items}
    )
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


def test_a_copied_home_serves_the_same_forecasts_and_refuses_a_swapped_payload(
    tmp_path: Path, model_folder: Path
) -> None:
    first = tmp_path / "first"
    with open_registry(ServiceSettings(home=first)) as registry:
        version = registry.register("sales", model_folder)
        registry.approve("sales", version.version)
        key = version.artifact_uri
    env = service_on(first, "", "").env
    service = service_on(first, create_key(env, "ops", "admin"), create_key(env, "shop", "forecast"))
    items = sorted(LoadedModel.load(model_folder, "reference").item_ids)
    service.start()
    try:
        deployed = service.call("POST", "/v1/endpoints", json={"name": "sales", "group": "sales"})
        assert deployed.status_code == 201, deployed.text
        before = forecast(service, items)
    finally:
        service.stop()

    copy = tmp_path / "elsewhere" / "home"
    shutil.copytree(first, copy)
    shutil.rmtree(first)  # nothing may still point into the original
    moved = service_on(copy, service.admin, service.forecaster)
    moved.start()
    try:
        assert moved.call("GET", "/v1/endpoints/sales").json()["status"] == "InService"
        assert forecast(moved, items) == before
    finally:
        moved.stop()

    marker = tmp_path / "payload-ran"
    swap_payload(copy / "artifacts" / key, marker)
    moved.start()
    try:
        answer = moved.call(
            "POST", "/v1/endpoints/sales/forecast", key=moved.forecaster, json={"item_ids": items}
        )
        assert 400 <= answer.status_code < 600, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert moved.call("GET", "/v1/endpoints/sales").json()["status"] == "Failed"
        redeploy = moved.call("POST", "/v1/endpoints", json={"name": "sales", "group": "sales"})
        assert redeploy.status_code == 422, redeploy.text
        assert redeploy.headers["content-type"].startswith("application/problem+json")
        assert "not the one registered" in redeploy.json()["detail"]
    finally:
        moved.stop()
    assert not marker.exists()
