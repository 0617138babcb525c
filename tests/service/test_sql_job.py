"""A training job whose data is a DuckDB query, through a real `tidecast serve` on 127.0.0.1
with a data root: the demo data split into sales (Parquet parts), promotions (CSV) and items
(CSV) tables, joined back by the job's `sql`, trains to the same forecasts as the joined file;
a query reaching outside the data root, or one that does not bind, is a 422 at submission."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from test_e2e_http import Service, create_key, wait_for_job

from tidecast.data.demo import generate

pytest.importorskip("duckdb")
pytestmark = pytest.mark.timeout(180)

QUERY = """
SELECT s.item_id, s.timestamp, s.target_value, p.promotion, i.category, i.region
FROM '{root}/sales/*.parquet' AS s
JOIN '{root}/promotions.csv' AS p USING (item_id, timestamp)
JOIN '{root}/items.csv' AS i USING (item_id)
"""
TASK = {
    "horizon": 7,
    "models": ["SeasonalNaive", "LightGBM"],
    "backtest_windows": 1,
    "columns": {"target": "target_value"},
    "covariates": {"past": ["promotion"], "static": ["category", "region"]},
}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A service confined to `root`, which holds the demo data joined and as three tables."""
    base = tmp_path_factory.mktemp("sqljob")
    root, home = base / "root", base / "home"
    (root / "sales").mkdir(parents=True)
    home.mkdir()
    frame = generate(n_items=3, seed=4)
    frame = frame[frame["timestamp"] >= "2023-01-01"]
    frame[["item_id", "timestamp", "target_value", "promotion", "category", "region"]].to_csv(
        root / "joined.csv", index=False
    )
    sales = frame[["item_id", "timestamp", "target_value"]]
    half = len(sales) // 2
    sales.iloc[:half].to_parquet(root / "sales" / "part-0.parquet", index=False)
    sales.iloc[half:].to_parquet(root / "sales" / "part-1.parquet", index=False)
    frame[["item_id", "timestamp", "promotion"]].to_csv(root / "promotions.csv", index=False)
    frame[["item_id", "category", "region"]].drop_duplicates().to_csv(root / "items.csv", index=False)
    last = frame["timestamp"].max()
    history = frame[frame["timestamp"] <= last - pd.Timedelta(days=7)]
    history[["item_id", "timestamp", "target_value", "promotion"]].to_csv(root / "history.csv", index=False)
    future = frame[frame["timestamp"] > last - pd.Timedelta(days=7)][["item_id", "timestamp", "promotion"]]
    future.assign(store=future["item_id"], dept="d1").drop(columns="item_id").to_csv(
        root / "future-keyed.csv", index=False
    )
    future.assign(item_id=future["item_id"] + "_d1").to_csv(root / "future.csv", index=False)
    history.assign(item_id=history["item_id"] + "_d1")[
        ["item_id", "timestamp", "target_value", "promotion"]
    ].to_csv(root / "history-d1.csv", index=False)
    (base / "outside.csv").write_text("item_id,timestamp,target_value\nsecret,2024-01-01,1\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDECAST_")}
    env.update(TIDECAST_HOME=str(home), TIDECAST_DATA_ROOT=str(root), TIDECAST_LOG_LEVEL="INFO")
    service = Service(home=home, env=env)
    service.facts["root"] = root.resolve()
    try:
        service.admin = create_key(env, "ops", "admin")
        service.start()
        yield service
    finally:
        service.stop()


def _forecasts(service: Service, job: dict) -> pd.DataFrame:
    return pd.read_csv(service.home / "artifacts" / "jobs" / job["id"] / "forecasts.csv")


@pytest.fixture(scope="module")
def trained(service: Service) -> dict[str, dict]:
    """The same task trained from the joined file and from the query (versions 1 and 2)."""
    root = service.facts["root"]
    jobs = {}
    for name, source in (("file", {"data": "joined.csv"}), ("sql", {"sql": QUERY.format(root=root)})):
        created = service.call("POST", "/v1/jobs", json={"name": f"demo-{name}", **source, **TASK})
        assert created.status_code == 201, created.text
        jobs[name] = wait_for_job(service, created.json()["id"], {"Completed", "Failed"}, timeout=150)
        assert jobs[name]["status"] == "Completed", jobs[name]
    return jobs


def test_when_a_job_joins_tables_by_sql_then_it_trains_as_on_the_joined_file(
    service: Service, trained: dict[str, dict]
) -> None:
    from_file, from_sql = _forecasts(service, trained["file"]), _forecasts(service, trained["sql"])
    assert len(from_file) == 3 * 7
    pd.testing.assert_frame_equal(from_file, from_sql)


def batch_pair(service: Service, model: dict, *sources: dict) -> list[pd.DataFrame]:
    """Batch forecasts of the same model from each of `sources` (a file and a query), sorted."""
    root = service.facts["root"]
    outputs = []
    for source in sources:
        output = f"batch-{'-'.join(source)}"
        created = service.call("POST", "/v1/batch", json={**model, "output": output, **source})
        assert created.status_code in (201, 202), created.text
        job = wait_for_job(service, created.json()["id"], {"Completed", "Failed"}, timeout=120)
        assert job["status"] == "Completed", job
        frame = pd.read_parquet(root / output / "forecasts")
        outputs.append(frame.sort_values(["item_id", "timestamp"], ignore_index=True))
    return outputs


def test_when_a_batch_job_reads_a_join_by_sql_then_it_forecasts_as_on_the_joined_file(
    service: Service, trained: dict[str, dict]
) -> None:
    root = service.facts["root"]
    model = {"model_group": "default", "version": 1}
    a, b = batch_pair(service, model, {"input": "joined.csv"}, {"sql": QUERY.format(root=root)})
    assert len(a) == 3 * 7
    pd.testing.assert_frame_equal(a, b)
    refused = service.call(
        "POST", "/v1/batch", json={"model_group": "default", "sql": "SELECT * FROM read_csv('/etc/passwd')"}
    )
    assert refused.status_code == 422 and refused.json()["field"] == "sql", refused.text
    assert "'/etc/passwd', outside the data root" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT * FROM read_csv('/etc/passwd', sep=':')", "'/etc/passwd', outside the data root"),
        ("SELECT * FROM '{root}/../outside.csv'", "outside.csv', outside the data root"),
        ("SELECT * FROM 'joined.csv'", "absolute path inside the data root"),
        ("SELECT * FROM '{root}/nope.parquet'", "the SQL query failed"),
        ("SELECT item_id, timestamp FROM '{root}/joined.csv'", "no column ['target_value']"),
        ("SELECT item_id, FROM WHERE", "the SQL query failed"),
        ("COPY (SELECT 1) TO '{root}/written.csv'", "one SELECT statement"),
    ],
    ids=["etc-passwd", "dot-dot", "relative", "missing-file", "missing-column", "syntax", "copy"],
)
def test_when_a_query_cannot_run_in_the_root_then_submission_is_a_422_naming_it(
    service: Service, query: str, message: str
) -> None:
    root: Path = service.facts["root"]
    body = {"sql": query.format(root=root), **TASK}
    response = service.call("POST", "/v1/jobs", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["field"] == "sql" and message in problem["detail"], problem
    assert "root:x:0:0" not in response.text
    assert not (root / "written.csv").exists()


def test_when_a_body_gives_both_data_and_sql_then_it_is_a_422(service: Service) -> None:
    body = {"data": "joined.csv", "sql": f"SELECT * FROM '{service.facts['root']}/joined.csv'", **TASK}
    response = service.call("POST", "/v1/jobs", json=body)
    assert response.status_code == 422 and "exactly one" in response.json()["detail"], response.text


KNOWN_TASK = {**TASK, "covariates": {"known": ["promotion"]}}
FUTURE_QUERY = "SELECT store || '_' || dept AS item_id, timestamp, promotion FROM '{root}/future-keyed.csv'"


@pytest.fixture(scope="module")
def future_jobs(service: Service) -> dict[str, dict]:
    """The known-covariate task trained with its future as a file and as a query."""
    root = service.facts["root"]
    jobs = {}
    for name, future in (
        ("file", {"future": "future.csv"}),
        ("sql", {"future_sql": FUTURE_QUERY.format(root=root)}),
    ):
        body = {"name": f"future-{name}", "data": "history-d1.csv", **future, **KNOWN_TASK}
        created = service.call("POST", "/v1/jobs", json=body)
        assert created.status_code == 201, created.text
        jobs[name] = wait_for_job(service, created.json()["id"], {"Completed", "Failed"}, timeout=150)
        assert jobs[name]["status"] == "Completed", jobs[name]
    return jobs


def test_when_a_job_reads_its_future_by_sql_then_it_trains_as_with_the_future_file(
    service: Service, future_jobs: dict[str, dict]
) -> None:
    """A store-department file's future rows get the joined item id from `future_sql`."""
    jobs = future_jobs
    from_file, from_sql = _forecasts(service, jobs["file"]), _forecasts(service, jobs["sql"])
    assert len(from_file) == 3 * 7 and from_file["item_id"].str.endswith("_d1").all()
    pd.testing.assert_frame_equal(from_file, from_sql)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"future_sql": "SELECT * FROM '{root}/../outside.csv'"}, "outside.csv', outside the data root"),
        ({"future_sql": "SELECT promotion FROM '{root}/future.csv'"}, "no column ['item_id', 'timestamp']"),
        ({"future_sql": "SELECT * FROM '{root}/future.csv'", "future": "future.csv"}, "not both"),
        ({"future_sql": "SELECT item_id, timestamp FROM '{root}/future.csv'"}, "no column ['promotion']"),
    ],
    ids=["outside", "missing-columns", "both", "missing-known-covariate"],
)
def test_when_a_future_query_cannot_serve_then_submission_is_a_422_naming_it(
    service: Service, extra: dict[str, str], message: str
) -> None:
    root: Path = service.facts["root"]
    body = {"data": "history-d1.csv", **{k: v.format(root=root) for k, v in extra.items()}, **KNOWN_TASK}
    response = service.call("POST", "/v1/jobs", json=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["field"] == "future_sql" and message in problem["detail"], problem


def test_when_a_batch_reads_its_future_by_sql_then_it_forecasts_as_with_the_future_file(
    service: Service, future_jobs: dict[str, dict]
) -> None:
    root = service.facts["root"]
    version = future_jobs["file"]["model_version"]
    model = {"model_group": version["group"], "version": version["version"], "input": "history-d1.csv"}
    a, b = batch_pair(
        service, model, {"future": "future.csv"}, {"future_sql": FUTURE_QUERY.format(root=root)}
    )
    assert len(a) == 3 * 7
    pd.testing.assert_frame_equal(a, b)
    both = {"model_group": version["group"], "input": "history-d1.csv", "future": "future.csv"}
    refused = service.call("POST", "/v1/batch", json={**both, "future_sql": FUTURE_QUERY.format(root=root)})
    assert refused.status_code == 422 and refused.json()["field"] == "future_sql", refused.text
    outside = {
        **both,
        "future": None,
        "future_sql": f"SELECT * FROM '{root}/../outside.csv'",
    }
    refused = service.call("POST", "/v1/batch", json=outside)
    assert refused.status_code == 422 and refused.json()["field"] == "future_sql", refused.text
    lacking = {**model, "future_sql": f"SELECT item_id, timestamp FROM '{root}/future.csv'"}
    refused = service.call("POST", "/v1/batch", json=lacking)
    assert refused.status_code == 422 and refused.json()["field"] == "future_sql", refused.text
    assert "no column(s) ['promotion']" in refused.json()["detail"], refused.text
