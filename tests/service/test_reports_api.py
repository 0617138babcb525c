"""``GET /v1/reports/{run_or_model}``: a job's run folder, a version (group:version), an endpoint
and a group all lead to the same run's report; a version without its run folder gets what its
model folder holds; keys and bad names answer problem details."""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from conftest import assert_problems, tiny_panel
from tidecast.automl.forecaster import AutoForecaster
from tidecast.jobs.worker import run_folder
from tidecast.registry.registry import Registry
from tidecast.registry.settings import ServiceSettings
from tidecast.reports.run import write_run


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> ServiceSettings:
    return ServiceSettings(home=tmp_path, database_url=database_url)  # artifacts: tmp_path/artifacts


@pytest.fixture
def job_id(settings: ServiceSettings, registry: Registry, client: TestClient, keys: dict[str, str]) -> str:
    """A job's run folder where the worker writes it, its model registered as sales:1, approved
    and deployed as endpoint `shop`."""
    job = uuid.uuid4().hex
    auto = AutoForecaster(horizon=3, models=["SeasonalNaive"], backtest_windows=2, n_jobs=1).fit(tiny_panel())
    folder = run_folder(settings, job)
    write_run(auto, auto.predict(), folder)
    registry.register("sales", folder / "model", source_job_id=job)
    registry.approve("sales", 1)
    deployed = client.post("/v1/endpoints", json={"name": "shop", "group": "sales"}, headers=admin(keys))
    assert deployed.status_code == 201, deployed.text
    return job


def admin(keys: dict[str, str]) -> dict[str, str]:
    return {"X-API-Key": keys["admin"]}


def reports(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    found: list[dict[str, Any]] = response.json()["reports"]
    return found


def test_when_a_job_version_endpoint_or_group_is_named_then_each_reports_the_same_run(
    client: TestClient, keys: dict[str, str], job_id: str, settings: ServiceSettings
) -> None:
    forecasts = pd.read_csv(run_folder(settings, job_id) / "forecasts.csv")
    by_name = {}
    for name in (job_id, "sales:1", "shop", "sales"):
        quality, business = reports(client.get(f"/v1/reports/{name}?format=json", headers=admin(keys)))
        windows = next(s for s in quality["sections"] if s["title"] == "Errors per backtest window")
        assert [w["window"] for w in windows["tables"]["window_errors"]] == [1, 2]
        assert business["summary"]["forecast_total"] == pytest.approx(forecasts["mean"].sum())
        by_name[name] = (quality["source"], quality["sections"])
    assert by_name[job_id][0] == f"job {job_id}" and by_name["shop"][0] == "sales:1"
    assert by_name["sales:1"][1] == by_name["shop"][1] == by_name["sales"][1] == by_name[job_id][1]


def test_when_html_or_csv_is_asked_then_a_page_or_a_zip_comes_back(
    client: TestClient, keys: dict[str, str], job_id: str
) -> None:
    page = client.get("/v1/reports/shop", headers=admin(keys))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text.startswith("<!DOCTYPE html>") and page.text.count("<svg") >= 4
    tables = client.get("/v1/reports/shop?format=csv&kind=business&service_level=0.9", headers=admin(keys))
    assert tables.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(tables.content)) as archive:
        names = archive.namelist()
        inventory = pd.read_csv(archive.open("business_inventory.csv"))
    assert names and all(n.startswith("business_") for n in names)
    assert set(inventory["service_level"]) == {0.9} and len(inventory) == 2


def test_without_a_format_the_accept_header_chooses_and_a_browser_gets_the_page(
    client: TestClient, keys: dict[str, str], job_id: str
) -> None:
    asked = client.get("/v1/reports/shop", headers={**admin(keys), "Accept": "application/json"})
    quality, business = reports(asked)
    assert quality["source"] == "sales:1" and "summary" in business
    browser = {**admin(keys), "Accept": "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8"}
    assert client.get("/v1/reports/shop", headers=browser).headers["content-type"].startswith("text/html")
    zipped = client.get("/v1/reports/shop", headers={**admin(keys), "Accept": "application/zip"})
    assert zipped.headers["content-type"] == "application/zip"
    pinned = client.get("/v1/reports/shop?format=html", headers={**admin(keys), "Accept": "application/json"})
    assert pinned.headers["content-type"].startswith("text/html")  # the query wins


def test_when_a_version_has_no_run_folder_then_its_model_folder_is_reported(
    client: TestClient, keys: dict[str, str], registry: Registry, model_folder: Path
) -> None:
    registry.register("plain", model_folder)
    quality, business = reports(client.get("/v1/reports/plain:1?format=json", headers=admin(keys)))
    assert quality["sections"][0]["title"] == "Leaderboard"
    assert not any(s["title"] == "Errors per backtest window" for s in quality["sections"])
    assert any("no backtest forecasts" in n for n in quality["notes"])
    assert business["summary"]["items"] == 2  # no covariates: forecast again from its history


def test_when_the_key_or_the_name_is_wrong_then_a_problem_says_so(
    client: TestClient, keys: dict[str, str], job_id: str
) -> None:
    assert client.get("/v1/reports/shop").status_code == 401
    assert client.get("/v1/reports/shop", headers={"X-API-Key": keys["forecast"]}).status_code == 403
    assert_problems(
        client,
        admin(keys),
        [
            ("/v1/reports/nothing-here", 404),
            ("/v1/reports/sales:9", 404),
            ("/v1/reports/sales:x", 422),
            ("/v1/reports/shop?kind=bogus", 422),
            ("/v1/reports/shop?format=pdf", 422),
            ("/v1/reports/shop?service_level=1.5", 422),
        ],
    )
