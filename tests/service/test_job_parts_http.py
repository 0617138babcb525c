"""A training job whose data is a glob of files that disagree on their columns: a 422 naming
the files at submission, not a job queued to fail in a worker (nor a 500)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tidecast.registry.settings import ServiceSettings


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> ServiceSettings:
    return ServiceSettings(home=tmp_path, database_url=database_url, data_root=tmp_path)


def test_when_a_jobs_files_differ_in_columns_then_422_naming_them_and_nothing_queued(
    client: TestClient, keys: dict[str, str], tmp_path: Path
) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "a.csv").write_text("item_id,timestamp,target\na,2024-01-01,1\n")
    (parts / "b.csv").write_text("item_id,timestamp,target,promo\nb,2024-01-01,2,0\n")
    headers = {"X-API-Key": keys["admin"]}
    response = client.post("/v1/jobs", json={"data": str(parts / "*.csv"), "horizon": 7}, headers=headers)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["field"] == "data"
    assert f"{parts / 'b.csv'} has column 'promo' that {parts / 'a.csv'} lacks" in problem["detail"]
    assert client.get("/v1/jobs", headers=headers).json()["jobs"] == []
    (parts / "b.csv").write_text("target,item_id,timestamp\n2,b,2024-01-01\n")  # the order may differ
    accepted = client.post("/v1/jobs", json={"data": str(parts / "*.csv"), "horizon": 7}, headers=headers)
    assert accepted.status_code == 201, accepted.text
