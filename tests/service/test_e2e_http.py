"""The real service end to end: `python -m tidecast.service.server` in a subprocess on loopback.

Through HTTP only (httpx, and boto3's sagemaker-runtime client): submit a training job on the
demo data, follow it to Completed, approve the model, deploy it, forecast stored items, call
the endpoint the way SageMaker clients do, and get a named 4xx problem for each kind of bad
input. Then a worker is SIGKILLed mid-job together with the server; after a restart the job is
Failed with the reason and the endpoint is served again from its persisted record. The flow
runs on SQLite, and on PostgreSQL too when TIDECAST_TEST_DATABASE_URL is set.

The forecasts are checked value for value against the same model folder loaded in this test
process, so the HTTP layer can neither drop nor alter numbers.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import make_url, text

from conftest import BACKENDS, POSTGRES_URL
from tidecast.data.demo import generate
from tidecast.jobs.processes import pid_alive
from tidecast.registry.db import make_engine
from tidecast.service.answers import forecast
from tidecast.service.auth import KEY_CACHE_SECONDS
from tidecast.service.predictor import LoadedModel
from tidecast.service.runtime_contract import predict

MAX_BODY = 1_000_000
HORIZON = 7

pytestmark = pytest.mark.timeout(120)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    """A `tidecast serve` subprocess and what the tests learned about it."""

    home: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    admin: str = ""
    forecaster: str = ""
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 40.0) -> None:
        log = (self.home / "server.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tidecast.service.server", "--port", str(self.port), "--workers", "1"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                health = httpx.get(self.url + "/health", timeout=2).json()
                if health["workers"]["alive"] == 1:
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"the server did not become healthy in {timeout}s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM: the graceful path, as a process manager would stop it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log_tail(self, lines: int = 40) -> str:
        path = self.home / "server.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def call(self, method: str, path: str, key: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        headers["X-API-Key"] = key if key is not None else self.admin
        return httpx.request(method, self.url + path, headers=headers, timeout=30, **kwargs)


def postgres_schema_url(schema: str) -> str:
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    url = make_url(POSTGRES_URL).update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": schema}
    )
    return url.render_as_string(hide_password=False)


def drop_postgres_schema(schema: str) -> None:
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
            {"name": schema},
        )
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def create_key(env: dict[str, str], name: str, role: str) -> str:
    """Through the `tidecast keys create` command, as an operator would."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from tidecast.cli.keys import keys_app; keys_app()",
            "create",
            name,
            "--role",
            role,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    token = result.stdout.strip()
    assert token.startswith("tc_") and len(token) > 40, result
    return token


def wait_for_job(service: Service, job_id: str, states: set[str], timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        job = service.call("GET", f"/v1/jobs/{job_id}").json()
        if job["status"] in states:
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} is {job.get('status')} after {timeout}s: {job}\n{service.log_tail()}")


def completed_job(service: Service, body: dict[str, Any], timeout: float = 150.0) -> dict[str, Any]:
    """Submit a training job and wait for it; it must complete."""
    created = service.call("POST", "/v1/jobs", json=body)
    assert created.status_code == 201, created.text
    done = wait_for_job(service, created.json()["id"], {"Completed", "Failed"}, timeout=timeout)
    assert done["status"] == "Completed", done
    return done


@pytest.fixture(scope="module", params=BACKENDS)
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A running service that trained, approved and deployed the demo model (endpoint `demo`)."""
    home = tmp_path_factory.mktemp("service")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDECAST_")}
    env.update(TIDECAST_HOME=str(home), TIDECAST_MAX_BODY_BYTES=str(MAX_BODY), TIDECAST_LOG_LEVEL="INFO")
    env.update(TIDECAST_DATA_ROOT=str(home))  # the jobs read demo.csv from here
    with deployed_service(request.param, home, env, "tc_e2e") as service:
        yield service


@contextmanager
def deployed_service(
    backend: str, folder: Path, env: dict[str, str], schema_prefix: str
) -> Iterator[Service]:
    """A running service on `backend` (its own PostgreSQL schema, dropped after) with admin and
    forecast keys, that trained, approved and deployed the demo model as endpoint `demo`."""
    schema = None
    if backend == "postgresql":
        schema = f"{schema_prefix}_{uuid.uuid4().hex[:12]}"
        env["TIDECAST_DATABASE_URL"] = postgres_schema_url(schema)
    service = Service(home=folder, env=env)
    try:
        service.admin = create_key(env, "ops", "admin")
        service.forecaster = create_key(env, "shop", "forecast")
        service.start()
        train_and_deploy(service)
        yield service
    finally:
        service.stop()
        if schema is not None:
            drop_postgres_schema(schema)


def train_and_deploy(service: Service) -> None:
    data = generate(n_items=3)
    csv = service.home / "demo.csv"
    data.to_csv(csv, index=False)
    service.facts["data"] = data
    body = {
        "name": "demo-fast",
        "data": str(csv),
        "horizon": HORIZON,
        "preset": "fast",
        "columns": {"target": "target_value"},
        "model_group": "demo",
    }
    created = service.call("POST", "/v1/jobs", json=body)
    assert created.status_code == 201, created.text
    job = created.json()
    assert created.headers["location"] == f"/v1/jobs/{job['id']}"
    assert job["status"] == "Queued" and job["name"] == "demo-fast"
    done = wait_for_job(service, job["id"], {"Completed", "Failed"})
    assert done["status"] == "Completed", done
    service.facts["job"] = done
    approved = service.call("POST", "/v1/models/demo/versions/1/approve")
    assert approved.status_code == 200, approved.text
    service.facts["version"] = approved.json()
    deployed = service.call("POST", "/v1/endpoints", json={"name": "demo", "group": "demo"})
    assert deployed.status_code == 201, deployed.text
    service.facts["endpoint"] = deployed.json()


@pytest.fixture(scope="module")
def local_model(service: Service) -> LoadedModel:
    """The deployed version's folder, loaded in this process: the reference for exact values."""
    uri = service.facts["version"]["artifact_uri"]
    path = uri.removeprefix("file://")
    return LoadedModel.load(path, "reference")


def test_job_completes_with_a_registered_version(service: Service) -> None:
    job = service.facts["job"]
    assert job["model_version"] == {"group": "demo", "version": 1}
    assert job["error"] is None and job["stage"] == "done"
    assert job["leaderboard"] and {"model", "selected"} <= set(job["leaderboard"][0])
    assert any(row["selected"] for row in job["leaderboard"])
    listed = service.call("GET", "/v1/jobs").json()["jobs"]
    assert [j["id"] for j in listed] == [job["id"]]
    version = service.facts["version"]
    assert version["status"] == "Approved" and version["source_job_id"] == job["id"]
    assert version["config"]["horizon"] == HORIZON
    endpoint = service.facts["endpoint"]
    assert endpoint["status"] == "InService" and endpoint["version"] == 1 and endpoint["horizon"] == HORIZON
    assert endpoint["items"] == 3


def test_forecast_stored_items_matches_the_model(service: Service, local_model: LoadedModel) -> None:
    items = sorted(service.facts["data"]["item_id"].unique())
    response = service.call(
        "POST", "/v1/endpoints/demo/forecast", key=service.forecaster, json={"item_ids": items}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    expected = forecast(local_model, local_model.parse_request({"item_ids": items})).model_dump(
        warnings=False
    )
    assert body == json.loads(json.dumps(expected))
    first = body["forecasts"][0]
    assert first["item_id"] == items[0]
    assert first["timestamps"][0] == "2024-01-01T00:00:00" and len(first["timestamps"]) == HORIZON
    assert set(first["quantiles"]) == {"0.1", "0.5", "0.9"}
    # a shorter horizon and a quantile subset are slices of the same forecast
    short = service.call(
        "POST",
        "/v1/endpoints/demo/forecast",
        key=service.forecaster,
        json={"item_ids": [items[0]], "horizon": 3, "quantiles": [0.9]},
    ).json()["forecasts"][0]
    assert short["mean"] == first["mean"][:3]
    assert short["quantiles"] == {"0.9": first["quantiles"]["0.9"][:3]}


def test_boto3_sagemaker_runtime_gets_deepar_predictions(service: Service, local_model: LoadedModel) -> None:
    boto3 = pytest.importorskip("boto3")
    client = boto3.client(
        "sagemaker-runtime",
        endpoint_url=service.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    def add_key(request: Any, **_: Any) -> None:
        request.headers["X-API-Key"] = service.forecaster

    client.meta.events.register("before-send.sagemaker-runtime.InvokeEndpoint", add_key)
    data = service.facts["data"]
    item = data[data["item_id"] == data["item_id"].iloc[0]].tail(60)
    request = {
        "instances": [
            {"start": str(item["timestamp"].iloc[0])[:10], "target": item["target_value"].tolist()}
        ],
        "configuration": {"output_types": ["mean", "quantiles"], "quantiles": ["0.1", "0.9"]},
    }
    answer = client.invoke_endpoint(
        EndpointName="demo", ContentType="application/json", Body=json.dumps(request)
    )
    assert answer["ContentType"] == "application/json"
    predictions = json.loads(answer["Body"].read())
    assert predictions == predict(local_model, request)
    assert len(predictions["predictions"][0]["mean"]) == HORIZON
    assert set(predictions["predictions"][0]["quantiles"]) == {"0.1", "0.9"}

    # an unknown endpoint is SageMaker's ValidationError, with its status (the native API's is 404)
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as raised:
        client.invoke_endpoint(EndpointName="nope", ContentType="application/json", Body=json.dumps(request))
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert raised.value.response["Error"]["Code"] == "ValidationError"


def _history(service: Service, n: int = 30) -> list[dict[str, Any]]:
    data = service.facts["data"]
    item = data[data["item_id"] == data["item_id"].iloc[0]].tail(n)
    return [
        {"item_id": "fresh", "timestamp": str(t)[:10], "target": float(v)}
        for t, v in zip(item["timestamp"], item["target_value"], strict=True)
    ]


BAD_INPUTS = [
    # (name, path, body (JSON or raw bytes), status, field)
    ("unknown endpoint", "/v1/endpoints/nope/forecast", {"item_ids": ["x"]}, 404, None),
    ("unknown item", "/v1/endpoints/demo/forecast", {"item_ids": ["no-such-item"]}, 404, "item_ids"),
    (
        "horizon too long",
        "/v1/endpoints/demo/forecast",
        {"item_ids": ["ITEM"], "horizon": HORIZON + 1},
        422,
        "horizon",
    ),
    (
        "untrained quantile",
        "/v1/endpoints/demo/forecast",
        {"item_ids": ["ITEM"], "quantiles": [0.25]},
        422,
        "quantiles[0]",
    ),
    ("malformed JSON", "/v1/endpoints/demo/forecast", b'{"item_ids": [', 400, "body"),
    ("wrong type", "/v1/endpoints/demo/forecast", {"item_ids": ["ITEM"], "horizon": "soon"}, 422, "horizon"),
    ("empty history", "/v1/endpoints/demo/forecast", {"history": []}, 422, "history"),
    ("NaN target", "/v1/endpoints/demo/forecast", "NAN", 422, "history[1].target"),
    ("huge body", "/v1/endpoints/demo/forecast", b"[" + b"1," * MAX_BODY + b"1]", 413, "body"),
    (
        "bad DeepAR start",
        "/endpoints/demo/invocations",
        {"instances": [{"start": "someday", "target": [1.0]}]},
        400,  # SageMaker's ValidationError: the runtime answers AWS's statuses
        "instances[0].start",
    ),
    ("bad job", "/v1/jobs", {"data": "x.csv", "horizon": 0}, 422, "horizon"),
]


@pytest.mark.parametrize(
    ("name", "path", "body", "status", "field"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_is_a_problem_naming_the_field(
    service: Service, name: str, path: str, body: Any, status: int, field: str | None
) -> None:
    item = str(service.facts["data"]["item_id"].iloc[0])
    if body == "NAN":  # JSON has no NaN, but Python's json (and many clients) write it
        rows = _history(service)
        raw = json.dumps({"history": rows}).replace(str(rows[1]["target"]), "NaN", 1).encode()
        kwargs: dict[str, Any] = {"content": raw, "headers": {"Content-Type": "application/json"}}
    elif isinstance(body, bytes):
        kwargs = {"content": body, "headers": {"Content-Type": "application/json"}}
    else:
        kwargs = {"json": json.loads(json.dumps(body).replace('"ITEM"', json.dumps(item)))}
    response = service.call("POST", path, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    if field is not None:
        assert problem["field"] == field, problem


def test_auth_metrics_and_health(service: Service) -> None:
    assert service.call("GET", "/v1/jobs", key="").status_code == 401
    assert service.call("GET", "/v1/jobs", key=service.forecaster).status_code == 403
    assert service.call("GET", "/v1/jobs", key="tc_not-a-key").status_code == 401
    health = httpx.get(service.url + "/health").json()
    assert health["status"] == "ok" and health["database"]["ok"] is True
    assert health["endpoints"]["loaded"] == {"demo": {"group": "demo", "version": 1}}
    assert httpx.get(service.url + "/ping").status_code == 200
    metrics = httpx.get(service.url + "/metrics").text
    assert 'tidecast_jobs{state="Completed"} 1.0' in metrics
    assert 'tidecast_invocations_total{endpoint="demo",status="200"}' in metrics
    assert 'tidecast_invocations_total{endpoint="demo",status="422"}' in metrics
    assert 'tidecast_http_errors_total{status="413"} 1.0' in metrics
    assert "tidecast_model_load_seconds_count 1.0" in metrics
    # the structured access log: one JSON line per request
    lines = [json.loads(line) for line in service.log_tail(2000).splitlines() if line.startswith("{")]
    access = [e for e in lines if e.get("logger") == "tidecast.access"]
    forecast_lines = [e for e in access if e["path"] == "/v1/endpoints/demo/forecast" and e["status"] == 200]
    assert forecast_lines and forecast_lines[0]["endpoint"] == "demo" and forecast_lines[0]["latency_ms"] > 0


def test_a_key_revoked_by_the_command_stops_working_within_the_cache_ttl(service: Service) -> None:
    """`tidecast keys revoke` runs in its own process: the server's cache of verified keys
    may accept the key for at most KEY_CACHE_SECONDS more, and never after."""
    token = create_key(service.env, "short-lived", "forecast")
    body = {"item_ids": [str(service.facts["data"]["item_id"].iloc[0])]}
    assert service.call("POST", "/v1/endpoints/demo/forecast", key=token, json=body).status_code == 200
    revoke = ["revoke", "short-lived"]
    subprocess.run(
        [sys.executable, "-c", "from tidecast.cli.keys import keys_app; keys_app()", *revoke],
        env=service.env,
        capture_output=True,
        timeout=60,
        check=True,
    )
    revoked_at = time.monotonic()
    while service.call("POST", "/v1/endpoints/demo/forecast", key=token, json=body).status_code == 200:
        assert time.monotonic() - revoked_at < KEY_CACHE_SECONDS + 1.0, "the revoked key still works"
        time.sleep(0.1)
    assert service.call("POST", "/v1/endpoints/demo/forecast", key=token, json=body).status_code == 401


def test_a_client_hanging_up_mid_body_is_not_an_error(service: Service) -> None:
    """A client that disconnects before sending its whole body gets a debug line and a 499
    in the access log, not an error with a traceback."""
    head = (
        f"POST /v1/endpoints/demo/forecast HTTP/1.1\r\nHost: 127.0.0.1:{service.port}\r\n"
        f"X-API-Key: {service.forecaster}\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
        sock.sendall(head.encode() + b'{"item_ids": [')
        time.sleep(0.2)  # the server has read the head and waits for the rest of the body
    deadline = time.monotonic() + 10
    hung_up: list[dict[str, Any]] = []
    while not hung_up and time.monotonic() < deadline:
        time.sleep(0.1)
        lines = [json.loads(line) for line in service.log_tail(2000).splitlines() if line.startswith("{")]
        hung_up = [e for e in lines if e.get("logger") == "tidecast.access" and e.get("status") == 499]
    assert hung_up and hung_up[-1]["endpoint"] == "demo", service.log_tail()
    assert not [e for e in lines if e["level"] in ("ERROR", "CRITICAL")], service.log_tail()
    serving = [e["message"] for e in lines if e["message"].startswith("tidecast serving on")]
    assert serving and serving[-1].endswith("(uvloop, httptools)")


def test_killed_worker_fails_its_job_and_restart_reloads_endpoints(service: Service) -> None:
    """SIGKILL the worker mid-job and the server with it; the restarted server fails the job
    with the reason and serves the persisted endpoint again."""
    body = {
        "name": "slow",
        "data": str(service.home / "demo.csv"),
        "horizon": HORIZON,
        "preset": "best",
        "columns": {"target": "target_value"},
        "model_group": "demo",
    }
    job = service.call("POST", "/v1/jobs", json=body).json()
    running = wait_for_job(service, job["id"], {"InProgress", "Completed", "Failed"}, timeout=30)
    assert running["status"] == "InProgress", running
    os.kill(running["worker_pid"], signal.SIGKILL)
    assert service.process is not None
    service.process.kill()  # the whole service goes down hard, no shutdown code runs
    service.process.wait(timeout=10)
    service.process = None
    service.start()
    failed = service.call("GET", f"/v1/jobs/{job['id']}").json()
    assert failed["status"] == "Failed"
    assert f"worker process {running['worker_pid']} died" in failed["error"]
    endpoint = service.call("GET", "/v1/endpoints/demo").json()
    assert endpoint["status"] == "InService" and endpoint["version"] == 1
    item = str(service.facts["data"]["item_id"].iloc[0])
    again = service.call(
        "POST", "/v1/endpoints/demo/forecast", key=service.forecaster, json={"item_ids": [item]}
    )
    assert again.status_code == 200 and len(again.json()["forecasts"][0]["mean"]) == HORIZON
    # a graceful stop (SIGTERM) exits cleanly and takes the workers with it: no orphans
    workers = [w["pid"] for w in httpx.get(service.url + "/health").json()["workers"]["processes"]]
    assert service.process is not None
    process = service.process
    service.stop()
    assert process.returncode == 0, service.log_tail()
    assert workers and not any(pid_alive(pid) for pid in workers)
    assert "tidecast stopped" in service.log_tail(5)
