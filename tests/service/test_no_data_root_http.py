"""A service without a data root reads no local file for a job, whoever asks.

Its callers are remote: an admin key must not make the service's user read ``/etc/passwd`` or
its own database as training data. Each local path, ``file://`` URL and SQL query is a 422
naming the field and the setting to set, and no job is queued; an object-store URL keeps its
own policy (read as given), so the test can fail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tidecast.registry.settings import ServiceSettings

SETTING = "TIDECAST_DATA_ROOT"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> ServiceSettings:
    return ServiceSettings(home=tmp_path / "home", database_url=database_url)


def post(client: TestClient, keys: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    return client.post(path, json=body, headers={"X-API-Key": keys["admin"]})


def assert_refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["field"] == field, problem
    assert SETTING in problem["detail"], problem
    assert "root:x:" not in problem["detail"], problem  # nothing of the file comes back


@pytest.mark.parametrize("location", ["/etc/passwd", "file:///etc/passwd", "passwd", "../../etc/passwd"])
def test_when_a_job_names_a_local_path_then_422_names_the_data_root_setting(
    client: TestClient, keys: dict[str, str], location: str
) -> None:
    assert_refused(post(client, keys, "/v1/jobs", {"data": location, "horizon": 7}), "data")
    assert_refused(post(client, keys, "/v1/batch", {"endpoint": "demo", "input": location}), "input")
    assert client.get("/v1/jobs", headers={"X-API-Key": keys["admin"]}).json()["jobs"] == []


def test_when_a_job_gives_a_sql_query_then_422_names_the_data_root_setting(
    client: TestClient, keys: dict[str, str]
) -> None:
    sql = "SELECT column0 AS item_id, column2 AS timestamp, column3 AS target FROM read_csv('/etc/passwd')"
    assert_refused(post(client, keys, "/v1/jobs", {"sql": sql, "horizon": 7}), "sql")
    assert_refused(
        post(client, keys, "/v1/jobs", {"data": "s3://lake/sales.csv", "future_sql": sql, "horizon": 7}),
        "future_sql",
    )
    assert_refused(post(client, keys, "/v1/batch", {"endpoint": "demo", "sql": sql}), "sql")


def test_when_a_job_names_an_object_store_url_then_it_is_queued(
    client: TestClient, keys: dict[str, str]
) -> None:
    created = post(client, keys, "/v1/jobs", {"data": "s3://lake/sales.csv", "horizon": 7})
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "Queued"
