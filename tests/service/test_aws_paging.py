"""The List calls page as boto3's paginators and the AWS CLI expect: ``MaxResults`` rows per
answer, a ``NextToken`` while rows remain, ``SortBy`` honoured; over HTTP, signed by boto3
(no worker runs: the jobs stay queued)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from test_aws_automl_jobs import job

from aws_calls import aws_client
from conftest import serve_in_thread, tiny_panel
from tidecast.registry.db import Database
from tidecast.registry.settings import ServiceSettings
from tidecast.service.app import create_app
from tidecast.service.aws.paging import paginate

NAMES = ["job-c", "job-a", "job-e", "job-b", "job-d"]  # created in this order


@pytest.fixture
def sagemaker(tmp_path: Path, database_url: str, database: Database) -> Iterator[Any]:
    lake = tmp_path / "lake"
    (lake / "bucket" / "train").mkdir(parents=True)
    tiny_panel().to_csv(lake / "bucket" / "train" / "data.csv", index=False)
    settings = ServiceSettings(home=tmp_path, database_url=database_url, data_root=lake)
    app = create_app(settings, database=database)
    with serve_in_thread(app) as url:
        pair = app.state.service.auth.signatures.store.create("ci", "admin")
        yield aws_client("sagemaker", url, pair)


def test_when_a_paginator_asks_two_jobs_a_page_then_it_sees_every_job_once(sagemaker: Any) -> None:
    for name in NAMES:
        sagemaker.create_auto_ml_job_v2(**job(name))

    pages = list(sagemaker.get_paginator("list_auto_ml_jobs").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["AutoMLJobSummaries"]) for p in pages] == [2, 2, 1]
    # no SortBy/SortOrder: the API reference's defaults, Name and Descending (it was creation time)
    assert [s["AutoMLJobName"] for p in pages for s in p["AutoMLJobSummaries"]] == sorted(NAMES, reverse=True)
    assert "NextToken" in pages[0] and "NextToken" not in pages[-1]
    by_time = sagemaker.list_auto_ml_jobs(SortBy="CreationTime")
    assert [s["AutoMLJobName"] for s in by_time["AutoMLJobSummaries"]] == NAMES[::-1]

    by_name = sagemaker.list_auto_ml_jobs(SortBy="Name", SortOrder="Ascending")
    assert [s["AutoMLJobName"] for s in by_name["AutoMLJobSummaries"]] == sorted(NAMES)
    assert "NextToken" not in by_name

    first = sagemaker.list_auto_ml_jobs(SortBy="Name", SortOrder="Descending", MaxResults=3)
    rest = sagemaker.list_auto_ml_jobs(
        SortBy="Name", SortOrder="Descending", MaxResults=3, NextToken=first["NextToken"]
    )
    assert [s["AutoMLJobName"] for s in first["AutoMLJobSummaries"] + rest["AutoMLJobSummaries"]] == sorted(
        NAMES, reverse=True
    )

    with pytest.raises(ClientError) as caught:
        sagemaker.list_auto_ml_jobs(NextToken="not-a-token")
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "Invalid pagination token" in caught.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as caught:
        sagemaker.list_auto_ml_jobs(MaxResults=101)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "between 1 and 100" in caught.value.response["Error"]["Message"]


def test_a_candidates_page_carries_the_token_of_the_next() -> None:
    rows = [{"CandidateName": f"c{i}"} for i in range(5)]
    first = paginate(rows, {"MaxResults": 4}, "Candidates")
    assert [c["CandidateName"] for c in first["Candidates"]] == ["c0", "c1", "c2", "c3"]
    last = paginate(rows, {"MaxResults": 4, "NextToken": first["NextToken"]}, "Candidates")
    assert last == {"Candidates": [{"CandidateName": "c4"}]}
