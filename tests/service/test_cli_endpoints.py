"""`tidecast endpoints`: deploy, list, describe and delete through the service's HTTP API."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tidecast.cli.main import app
from tidecast.registry.db import Database
from tidecast.registry.registry import Registry
from tidecast.registry.settings import ServiceSettings
from tidecast.service.app import create_app

runner = CliRunner()
URL = "http://service.test"


@pytest.fixture
def service(tmp_path: Path, database_url: str, database: Database, monkeypatch) -> Iterator[str]:
    """The app in process; the CLI's HTTP calls reach it, and an admin key for them."""
    settings = ServiceSettings(home=tmp_path, database_url=database_url)
    with TestClient(create_app(settings, database=database), base_url=URL) as client:

        def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
            kwargs.pop("timeout", None)
            return client.request(method, url, **kwargs)

        monkeypatch.setattr(httpx, "request", call)
        yield client.app.state.service.keys.create("ops", "admin")  # type: ignore[attr-defined]


def invoke(key: str, *args: str):
    return runner.invoke(app, ["endpoints", *args, "--url", URL, "--api-key", key])


def test_deploy_list_describe_delete(service: str, registry: Registry, model_folder: Path) -> None:
    registry.register("sales", model_folder)
    registry.approve("sales", 1)
    created = invoke(service, "create", "shop", "--group", "sales")
    assert created.exit_code == 0, created.output
    assert "shop" in created.output and "version 1" in created.output and "InService" in created.output

    listed = invoke(service, "list", "--json")
    assert [e["name"] for e in json.loads(listed.output)] == ["shop"]
    described = json.loads(invoke(service, "describe", "shop").output)
    assert described["group"] == "sales" and described["status"] == "InService"

    deleted = invoke(service, "delete", "shop")
    assert deleted.exit_code == 0 and "deleted endpoint shop" in deleted.output
    assert json.loads(invoke(service, "list", "--json").output) == []


def test_when_the_group_has_no_approved_version_then_one_line_and_exit_2(
    service: str, registry: Registry, model_folder: Path
) -> None:
    registry.register("sales", model_folder)
    result = invoke(service, "create", "shop", "--group", "sales")
    assert result.exit_code == 2 and result.output.count("error:") == 1, result.output
    assert "no version of this group is approved; `tidecast models show sales` shows its versions" in (
        result.output
    )


def test_when_models_rollback_is_given_the_service_url_then_its_endpoints_move_at_once(
    service: str, registry: Registry, model_folder: Path, other_model_folder: Path
) -> None:
    registry.register("sales", model_folder)
    registry.register("sales", other_model_folder)
    registry.approve("sales", 1)
    registry.approve("sales", 2)
    assert invoke(service, "create", "shop", "--group", "sales").exit_code == 0
    rolled = runner.invoke(app, ["models", "rollback", "sales", "--url", URL, "--api-key", service])
    assert rolled.exit_code == 0, rolled.output
    assert "version 2 rejected; version 1 is the latest approved version" in rolled.output
    assert "endpoints now serving version 1: shop" in rolled.output
    shop = json.loads(invoke(service, "describe", "shop").output)
    assert (shop["version"], shop["status"]) == (1, "InService")
