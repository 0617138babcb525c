"""The API reference renders offline and describes the bodies: no page of the service refers
to another host, the job and forecast bodies are typed with examples, 4xx are problems."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tidecast.registry.db import Database
from tidecast.registry.settings import ServiceSettings
from tidecast.service.app import create_app

# Any URL with a host: http(s)://, protocol-relative //host, in attributes, CSS or script.
EXTERNAL = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}""")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = ServiceSettings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    database = Database.from_url(settings.database_url)
    database.migrate()
    with TestClient(create_app(settings, database=database)) as test_client:
        yield test_client
    database.dispose()


def test_when_the_network_is_cut_then_docs_still_render_no_page_refers_to_another_host(
    client: TestClient,
) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]
    assert EXTERNAL.findall(docs.text) == []
    for asset in re.findall(r"""(?:src|href)=["']([^"']+)["']""", docs.text):
        assert asset.startswith("/"), asset  # served by the service itself
        assert client.get(asset).status_code == 200, asset
    assert client.get("/redoc").status_code == 404  # FastAPI's CDN page is not served


def test_the_job_and_forecast_bodies_are_typed_with_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    job = spec["paths"]["/v1/jobs"]["post"]["requestBody"]["content"]["application/json"]
    assert job["schema"] == {
        "oneOf": [
            {"$ref": "#/components/schemas/JobRequest"},
            {"$ref": "#/components/schemas/CreateAutoMLJobV2"},
        ]
    }
    assert {"data", "horizon", "date_format"} <= set(schemas["JobRequest"]["properties"])
    assert set(job["examples"]) == {"native", "sql", "sagemaker"}
    forecast = spec["paths"]["/v1/endpoints/{name}/forecast"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    assert forecast["schema"] == {"$ref": "#/components/schemas/ForecastRequest"}
    assert {"item_ids", "history", "date_format"} <= set(schemas["ForecastRequest"]["properties"])
    refs = re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', client.get("/openapi.json").text)
    assert set(refs) <= set(schemas)  # every reference resolves


def test_every_4xx_is_documented_as_a_problem_and_keys_as_a_scheme(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
    }
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for code in ("400", "404", "422"):
                content = operation["responses"][code]["content"]
                assert list(content) == ["application/problem+json"], (method, path, code)
    assert spec["paths"]["/v1/jobs"]["post"]["security"] == [{"ApiKey": []}, {"Bearer": []}]
    assert "security" not in spec["paths"]["/health"]["get"]


def test_when_swagger_ui_is_not_installed_then_docs_is_the_self_contained_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tidecast.service.routes import docs as docs_route

    monkeypatch.setattr(docs_route, "swagger_assets", lambda: None)
    settings = ServiceSettings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    database = Database.from_url(settings.database_url)
    database.migrate()
    with TestClient(create_app(settings, database=database)) as client:
        page = client.get("/docs")
        assert page.status_code == 200 and "Loading the schema" in page.text
        assert EXTERNAL.findall(page.text) == [] and "<script src" not in page.text
        assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 404
    database.dispose()


def test_when_swagger_ui_is_installed_then_docs_serves_it_from_the_package(client: TestClient) -> None:
    pytest.importorskip("fastapi_offline")
    page = client.get("/docs")
    assert "/docs/assets/swagger-ui-bundle.js" in page.text
    bundle = client.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and "isOAS31" in bundle.text  # Swagger UI 5: renders OpenAPI 3.1
