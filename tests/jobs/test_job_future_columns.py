"""A training job's future covariates lacking a known covariate are refused at submission,
naming the column, whether they come as a file (`future`) or a query (`future_sql`)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from tidecast.data.locations import LocationPolicy
from tidecast.jobs.config import parse_job_body
from tidecast.jobs.request import JobConfigError


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "sales.csv").write_text("item_id,timestamp,target,promo\na,2024-01-01,1,0\n")
    (tmp_path / "future.csv").write_text("item_id,timestamp\na,2024-01-02\n")
    return tmp_path


def _refused(body: dict, root: Path) -> JobConfigError:
    settings = SimpleNamespace(location_policy=lambda: LocationPolicy.of([root], root), data_root=root)
    with pytest.raises(JobConfigError) as info:
        parse_job_body(body, settings, check_exists=True)
    return info.value


@pytest.mark.parametrize(
    ("future", "field"),
    [
        ({"future": "future.csv"}, "future"),
        ({"future_sql": "SELECT * FROM '{root}/future.csv'"}, "future_sql"),
    ],
    ids=["file", "query"],
)
def test_when_the_future_lacks_a_known_covariate_then_submission_names_it(
    root: Path, future: dict[str, str], field: str
) -> None:
    if field == "future_sql":
        pytest.importorskip("duckdb")
    body = {
        "data": "sales.csv",
        "horizon": 1,
        "covariates": {"known": ["promo"]},
        **{k: v.format(root=root) for k, v in future.items()},
    }
    error = _refused(body, root)
    assert error.field == field and "['promo']" in str(error), error.errors
