"""Schema-driven fuzzing of the HTTP API: bad input is never a 500 and never changes stored data.

For every operation of ``app.openapi()`` (method + path), Hypothesis generates requests from
the spec: path parameters (valid names such as ``sales`` and ``1``, and hostile ones: unknown
names, ``..``, very long, unicode, percent-encoded), query parameters (conforming or wrong),
and bodies from the request-body schema with ``$ref``s resolved: each property either
conforms or is hostile (wrong type, NaN/inf, huge numbers, empty or long lists, deep nesting,
long strings), required properties dropped and unknown ones added; plus raw malformed bodies
(truncated JSON, invalid UTF-8, deep nesting, wrong content type, empty).

Bodies are also drawn as mutations of a known-good body per route (`GOOD_BODIES`: one to
three positions replaced by hostile values, deleted or duplicated), which reaches far deeper
than schema-drawn bodies (real forecasts over damaged history, DeepAR instances...). Each
operation first runs explicit seeds (`seed_requests`): the plain request, every integer
parameter at the 32/64-bit overflow boundaries, each good body, and raw bodies that broke
parsers (JSON nested 5,000 deep, non-UTF-8 bytes as JSON and as JSON Lines).

Three routes parse their bodies themselves, so the spec types those only as ``object``:
``POST /v1/jobs``, ``POST /v1/endpoints/{name}/forecast`` and the SageMaker invocations. For
them the body schema is the pydantic model the route validates against (`BODY_MODELS`).

Every request carries an admin key and must answer:
* never a 5xx;
* every 4xx as ``application/problem+json`` whose ``status`` is the HTTP status, with a title
  (SageMaker's control plane, ``POST /``, in AWS's shape: ``__type`` and ``message``);
* stored data (groups, versions, endpoints, jobs, artifact files, the loaded endpoints)
  unchanged unless the answer is 2xx.

One app per module on SQLite in tmp, with the conftest's SeasonalNaive model registered,
approved and deployed as endpoint ``sales`` (redeployed before an example when an earlier
2xx deleted, rejected or rolled it back). No worker runs in this app, so jobs created from
valid bodies stay Queued: nothing trains.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tidecast.jobs.request import JobRequest
from tidecast.jobs.sagemaker import CreateAutoMLJobV2
from tidecast.registry.db import Database
from tidecast.registry.schema import Endpoint, Job, ModelGroup, ModelVersion
from tidecast.registry.settings import ServiceSettings
from tidecast.service.app import create_app
from tidecast.service.requests import ForecastRequest
from tidecast.service.runtime_contract import InferenceRequest, Instance

MAX_BODY = 50_000
PROBLEM = "application/problem+json"

Schema = dict[str, Any]

# Routes reading their own bodies (so a malformed one is the same 400 whatever the Content-Type)
# declare only {"type": "object"}; these are the models they validate against.
BODY_MODELS: dict[tuple[str, str], Schema] = {
    ("post", "/v1/jobs"): {"anyOf": [JobRequest.model_json_schema(), CreateAutoMLJobV2.model_json_schema()]},
    ("post", "/v1/endpoints/{name}/forecast"): ForecastRequest.model_json_schema(),
    ("post", "/endpoints/{name}/invocations"): InferenceRequest.model_json_schema(),
    ("post", "/invocations"): InferenceRequest.model_json_schema(),
}
# Bodies each route accepts (2xx; checked by test_good_bodies_are_accepted). The fuzzer mutates
# them a leaf at a time, which reaches much deeper than bodies drawn from the schema alone.
FRESH_HISTORY = [
    {"item_id": "fresh", "timestamp": f"2024-01-{day:02d}", "target": 10.0 + day % 7} for day in range(1, 22)
]
DEEPAR = {
    "instances": [{"start": "2024-01-01", "target": [10.0 + k % 7 for k in range(21)], "item_id": "a"}],
    "configuration": {"num_samples": 10, "output_types": ["mean", "quantiles"], "quantiles": [0.1, 0.5]},
}
GOOD_BODIES: dict[tuple[str, str], list[Any]] = {
    ("post", "/v1/jobs"): [
        {
            "name": "weekly",
            "data": "d.csv",
            "horizon": 3,
            "frequency": "D",
            "quantiles": [0.1, 0.5, 0.9],
            "metric": "wql",
            "preset": "fast",
            "models": ["SeasonalNaive"],
            "columns": {"item": "item_id", "timestamp": "timestamp", "target": "target"},
            "covariates": {"known": [], "past": [], "static": []},
            "filling": {"target": {"middlefill": "zero"}},
            "holidays": ["US"],
            "backtest_windows": 1,
        },
        {
            "AutoMLJobName": "j1",
            "AutoMLJobInputDataConfig": [{"DataSource": {"S3DataSource": {"S3Uri": "s3://b/k.csv"}}}],
            "AutoMLProblemTypeConfig": {
                "TimeSeriesForecastingJobConfig": {
                    "ForecastFrequency": "1D",
                    "ForecastHorizon": 7,
                    "ForecastQuantiles": ["p10", "p50"],
                    "TimeSeriesConfig": {
                        "TargetAttributeName": "y",
                        "TimestampAttributeName": "t",
                        "ItemIdentifierAttributeName": "i",
                    },
                }
            },
            "AutoMLJobObjective": {"MetricName": "MAPE"},
        },
    ],
    ("post", "/v1/endpoints"): [{"name": "sales", "group": "sales"}],
    ("post", "/v1/endpoints/{name}/forecast"): [
        {"item_ids": ["item_0", "item_1"], "horizon": 2, "quantiles": [0.5]},
        {"history": FRESH_HISTORY},
    ],
    ("post", "/endpoints/{name}/invocations"): [DEEPAR],
    ("post", "/invocations"): [DEEPAR],
}
JSON_LINES_OPERATIONS = {("post", "/endpoints/{name}/invocations"), ("post", "/invocations")}

# Strings that mean something to this app, so conforming values often reach past lookups.
VOCABULARY = [
    "sales",
    "item_0",
    "item_1",
    "2024-01-01",
    "2024-01-29",
    "D",
    "1D",
    "W",
    "fast",
    "wql",
    "MAPE",
    "SeasonalNaive",
    "ets",
    "p50",
    "0.5",
    "Approved",
    "Queued",
    "s3://bucket/data.csv",
    "training",
    "US",
]
HOSTILE_TEXT = [
    "",
    " ",
    "..",
    "../..",
    "../../etc/passwd",
    "/",
    "%00",
    "%2e%2e%2f",
    "%ff%fe",
    "%zz",
    "\x00",
    "\u202e",
    "\ud800",  # a lone surrogate: valid in JSON text, not encodable as UTF-8
    "☃",
    "日本語",
    "😀" * 50,
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    "1e309",
    "-0",
    "null",
    "true",
    "{}",
    "[]",
    "9" * 40,
    "-" + "9" * 40,
    "0x10",
    "1.5",
    "'; DROP TABLE jobs; --",
    "<script>alert(1)</script>",
]
# Where integer columns and conversions overflow (32- and 64-bit, float precision).
BOUNDARY_INTS = [2**31 - 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 10**30]
HOSTILE_SCALARS: list[Any] = [
    float("nan"),
    float("inf"),
    float("-inf"),
    1e308,
    -1e308,
    5e-324,
    -0.0,
    0,
    -1,
    10**30,
    -(10**30),
    2**63,
    -(2**63) - 1,
    2**31,
    True,
    False,
    None,
    [],
    {},
    [None],
    {"": None},
]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin-1",
    "application/jsonlines",
    "application/x-jsonlines",
    "text/plain",
    "text/csv",
    "application/xml",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/octet-stream",
    "",
    ";;;",
]


def _url_safe(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# ---- values from JSON schemas ---------------------------------------------------------------
def resolve(schema: Schema, root: Schema) -> Schema:
    """Follow ``$ref`` (``#/components/schemas/X`` or ``#/$defs/X``) within `root`."""
    seen = 0
    while "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
        assert seen < 50, "a $ref cycle"
    return schema


def hostile_values(depth: int = 0) -> st.SearchStrategy[Any]:
    """Values no schema here accepts where they are put, or that stretch a parser."""
    options: list[st.SearchStrategy[Any]] = [
        st.sampled_from(HOSTILE_TEXT),
        st.sampled_from(HOSTILE_SCALARS),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
        # long strings and lists without generating them character by character
        st.builds(
            lambda c, n: c * n, st.sampled_from(["a", "é", "😀", "/", ".", " "]), st.integers(200, 20_000)
        ),
        st.builds(lambda v, n: [v] * n, st.sampled_from([0, "x", None, 1.5]), st.integers(100, 6_000)),
        st.builds(_nested, st.sampled_from(["list", "dict"]), st.integers(20, 400)),
    ]
    if depth < 2:
        options.append(st.lists(st.deferred(lambda: hostile_values(depth + 1)), max_size=3))
        options.append(
            st.dictionaries(st.text(max_size=8), st.deferred(lambda: hostile_values(depth + 1)), max_size=3)
        )
    return st.one_of(options)


def _nested(kind: str, depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


HOSTILE = hostile_values()


def from_schema(schema: Schema, root: Schema, *, hostile: bool, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values for `schema`: conforming, or (`hostile`) with any part swapped for a hostile one."""
    schema = resolve(schema, root)
    if "$defs" in schema:
        root = schema
    conforming = _conforming(schema, root, hostile=hostile, depth=depth)
    if hostile and depth > 0:
        return st.one_of(conforming, HOSTILE)
    return conforming


def _conforming(schema: Schema, root: Schema, *, hostile: bool, depth: int) -> st.SearchStrategy[Any]:
    def sub(s: Schema) -> st.SearchStrategy[Any]:
        return from_schema(s, root, hostile=hostile, depth=depth + 1)

    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([sub(s) for s in schema[key]])
    if "allOf" in schema:
        merged: Schema = {}
        for part in schema["allOf"]:
            merged.update(resolve(part, root))
        return _conforming(merged, root, hostile=hostile, depth=depth)
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of(
            [_conforming({**schema, "type": k}, root, hostile=hostile, depth=depth) for k in kind]
        )
    if kind == "object" or "properties" in schema:
        return _objects(schema, root, hostile=hostile, depth=depth)
    if kind == "array":
        items = schema.get("items", {})
        fewest = int(schema.get("minItems", 0))
        most = int(schema.get("maxItems", fewest + 3))
        if depth > 6:
            return st.just([])
        return st.lists(sub(items), min_size=fewest, max_size=min(most, fewest + 3))
    if kind == "string":
        return _strings(schema)
    if kind == "integer":
        minimum, maximum = schema.get("minimum"), schema.get("maximum")
        low: int | None = None
        high: int | None = None if maximum is None else math.floor(maximum)
        if minimum is not None:
            low = math.ceil(minimum) + (1 if schema.get("exclusiveMinimum") is True else 0)
        if "exclusiveMinimum" in schema and not isinstance(schema["exclusiveMinimum"], bool):
            low = math.floor(schema["exclusiveMinimum"]) + 1
        near = (low if low is not None else 0) + 4
        small = st.integers(low, min(near, high) if high is not None else near)
        edges = [
            n
            for n in (low, high, *BOUNDARY_INTS)
            if n is not None and (low is None or n >= low) and (high is None or n <= high)
        ]
        return st.one_of(small, st.sampled_from(edges), st.integers(low, high))
    if kind == "number":
        exclusive_low = schema.get("exclusiveMinimum")
        exclusive_high = schema.get("exclusiveMaximum")
        return st.floats(
            min_value=schema.get("minimum", exclusive_low),
            max_value=schema.get("maximum", exclusive_high),
            exclude_min=exclusive_low is not None and "minimum" not in schema,
            exclude_max=exclusive_high is not None and "maximum" not in schema,
            allow_nan=False,
            allow_infinity=False,
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    # no type (e.g. any JSON value)
    return st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(VOCABULARY))


def _strings(schema: Schema) -> st.SearchStrategy[str]:
    low = int(schema.get("minLength", 0))
    high = int(schema.get("maxLength", 40))
    pattern = schema.get("pattern")
    if pattern:
        generated = st.from_regex(str(pattern), fullmatch=True)
        return st.one_of(
            st.sampled_from(VOCABULARY).filter(lambda s: re.fullmatch(pattern, s) is not None),
            generated,
        ).filter(lambda s: low <= len(s) <= high)
    words = [w for w in VOCABULARY if low <= len(w) <= high]
    text = st.text(min_size=low, max_size=min(high, low + 20))
    return st.one_of(st.sampled_from(words), text) if words else text


def _objects(schema: Schema, root: Schema, *, hostile: bool, depth: int) -> st.SearchStrategy[Any]:
    properties: dict[str, Schema] = schema.get("properties", {})
    required = set(schema.get("required", ()))

    def sub(s: Schema) -> st.SearchStrategy[Any]:
        return from_schema(s, root, hostile=hostile, depth=depth + 1)

    if depth > 6:
        return st.just({})
    extra = schema.get("additionalProperties")
    if not properties:
        values = sub(extra) if isinstance(extra, dict) else st.sampled_from(VOCABULARY)
        return st.dictionaries(st.sampled_from(VOCABULARY) | st.text(max_size=8), values, max_size=3)
    must = {k: sub(v) for k, v in properties.items() if k in required}
    may = {k: sub(v) for k, v in properties.items() if k not in required}
    base = st.fixed_dictionaries(must, optional=may)
    if not hostile:
        return base

    @st.composite
    def mangled(draw: st.DrawFn) -> dict[str, Any]:
        value: dict[str, Any] = draw(base)
        if draw(st.booleans()) and value:
            del value[draw(st.sampled_from(sorted(value)))]  # a required field missing
        if draw(st.booleans()):
            value[draw(st.text(max_size=10))] = draw(HOSTILE)  # an unknown field
        return value

    return mangled()


# ---- the app under test ----------------------------------------------------------------------
@dataclass
class Target:
    """The app, an admin key and what the examples need to restore and compare."""

    client: TestClient
    database: Database
    artifacts: Path
    headers: dict[str, str]
    model_folder: Path
    job_id: str
    seen: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    changed: bool = True  # a non-GET request answered 2xx since the last ensure_deployed

    @property
    def service(self) -> Any:
        return self.client.app.state.service  # type: ignore[attr-defined]

    def ensure_deployed(self) -> None:
        """Endpoint `sales` serves an approved version of group `sales` (a fresh one if an
        earlier example deleted, rejected or rolled back what it served). Checked only after
        a request that changed something."""
        if not self.changed:
            return
        self.changed = False
        describe = self.client.get("/v1/endpoints/sales", headers=self.headers)
        if describe.status_code == 200 and describe.json()["status"] == "InService":
            version = self.service.registry.get("sales", describe.json()["version"])
            if version.status.value == "Approved":
                return
        version = self.service.registry.register("sales", self.model_folder).version
        approved = self.client.post(f"/v1/models/sales/versions/{version}/approve", headers=self.headers)
        assert approved.status_code == 200, approved.text
        deployed = self.client.post(
            "/v1/endpoints", json={"name": "sales", "group": "sales"}, headers=self.headers
        )
        assert deployed.status_code in (200, 201), deployed.text

    def snapshot(self) -> dict[str, Any]:
        """Everything a request could corrupt: the rows, the artifact files, the loaded endpoints."""
        rows: dict[str, Any] = {}
        with self.database.sessions() as session:
            for model in (ModelGroup, ModelVersion, Endpoint, Job):
                table = model.__table__
                rows[table.name] = [
                    tuple(r) for r in session.execute(select(table).order_by(*table.primary_key))
                ]
        deployments = self.service.deployments
        rows["loaded"] = {
            name: (v.id, id(deployments.table.get(name))) for name, v in deployments.versions.items()
        }
        rows["failures"] = dict(deployments.failures)
        rows["files"] = sorted(
            (str(Path(d, f).relative_to(self.artifacts)), os.path.getsize(Path(d, f)))
            for d, _, files in os.walk(self.artifacts)
            for f in files
        )
        return rows


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory, model_folder: Path) -> Iterator[Target]:
    home = tmp_path_factory.mktemp("fuzz")
    # The good job bodies' data ("d.csv", "s3://b/k.csv") exists below the data root, with the
    # columns they name: a job whose data or columns are missing is refused at submission.
    (home / "b").mkdir()
    (home / "d.csv").write_text("item_id,timestamp,target\n")
    (home / "b" / "k.csv").write_text("i,t,y\n")
    service_settings = ServiceSettings(
        home=home, database_url=f"sqlite:///{home / 'tidecast.db'}", max_body_bytes=MAX_BODY, data_root=home
    )
    database = Database.from_url(service_settings.database_url)
    database.migrate()
    with TestClient(create_app(service_settings, database=database)) as client:
        admin = {"X-API-Key": client.app.state.service.keys.create("ops", "admin")}  # type: ignore[attr-defined]
        job = client.post("/v1/jobs", json={"data": "d.csv", "horizon": 3}, headers=admin)
        assert job.status_code == 201, job.text
        fuzz = Target(
            client, database, Path(service_settings.artifact_url), admin, model_folder, job.json()["id"]
        )
        fuzz.ensure_deployed()
        fuzz.service.registry.register("sales", model_folder)  # version 2, pending: approvable
        yield fuzz
    database.dispose()


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation in the spec; built once from a throwaway app."""
    import tempfile

    with tempfile.TemporaryDirectory() as home:
        app = create_app(ServiceSettings(home=home, database_url=f"sqlite:///{home}/spec.db"))
        spec = app.openapi()
    return [(method, path) for path, item in spec["paths"].items() for method in item]


OPERATIONS = _operations()


# ---- requests --------------------------------------------------------------------------------
@dataclass
class FuzzRequest:
    method: str
    url: str
    params: list[tuple[str, str]]
    headers: dict[str, str]
    content: bytes | None

    def __repr__(self) -> str:
        body = None if self.content is None else self.content[:300]
        return f"{self.method.upper()} {self.url[:300]} params={self.params} headers={self.headers} body={body!r}"


URL_TEXT: st.SearchStrategy[str] = st.one_of(
    st.sampled_from([t for t in HOSTILE_TEXT if _url_safe(t)]),
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=20),
    st.builds(lambda c, n: c * n, st.sampled_from(["a", "é", "."]), st.integers(200, 5_000)),
    st.integers().map(str),
)
HEADER_TEXT = st.one_of(
    st.sampled_from(["sales", "nope"]),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200),
)


def _query_text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) or value is None else str(value)


def requests_for(method: str, path: str, spec: Schema, target: Target) -> st.SearchStrategy[FuzzRequest]:
    """Requests for one operation. Every strategy is built here, once: building them per
    example is what would make the fuzzing slow."""
    operation = spec["paths"][path][method]
    known = {"name": ["sales", "nope"], "group": ["sales", "nope"], "job_id": [target.job_id, "nope"]}
    path_params: dict[str, st.SearchStrategy[str]] = {}
    query_params: dict[str, tuple[bool, st.SearchStrategy[str]]] = {}
    header_params: dict[str, st.SearchStrategy[str]] = {}
    for parameter in (resolve(p, spec) for p in operation.get("parameters", [])):
        name, where, schema = parameter["name"], parameter["in"], resolve(parameter.get("schema", {}), spec)
        if where == "path":
            valid = (
                st.sampled_from(["1", "2", "0", "-1", *map(str, BOUNDARY_INTS)]) | st.integers().map(str)
                if schema.get("type") == "integer"
                else st.sampled_from(known.get(name, VOCABULARY))
            )
            path_params[name] = st.one_of(valid, valid, valid, URL_TEXT).filter(
                bool
            )  # 3:1 reach past lookups
        elif where == "query":
            values = from_schema(schema, spec, hostile=False).map(_query_text) | URL_TEXT
            query_params[name] = (bool(parameter.get("required")), values)
        elif where == "header":
            header_params[name] = HEADER_TEXT
    body = None
    body_schema = BODY_MODELS.get((method, path))
    root = body_schema
    if body_schema is None and "requestBody" in operation:
        body_schema, root = operation["requestBody"]["content"]["application/json"]["schema"], spec
    if body_schema is not None or method == "post":
        body = bodies(body_schema or {"type": "object"}, root or spec, (method, path))

    @st.composite
    def draw_request(draw: st.DrawFn) -> FuzzRequest:
        url = path
        for name, values in path_params.items():
            safe = draw(st.sampled_from(["", "", "/", "%/.:@"]))
            url = url.replace("{" + name + "}", quote(draw(values), safe=safe))
        params = [
            (name, draw(values))
            for name, (required, values) in query_params.items()
            if required or draw(st.booleans())
        ]
        if draw(st.integers(0, 5)) == 0:  # unknown and repeated query parameters
            params.append((draw(st.sampled_from(["x", "limit", "status", "a"])), draw(URL_TEXT)))
        headers = dict(target.headers)
        for name, values in header_params.items():
            if draw(st.booleans()):
                headers[name] = draw(values)
        content = None
        if body is not None:
            content, content_type = draw(body)
            if content_type is not None:
                headers["Content-Type"] = content_type
        return FuzzRequest(method, url, params, headers, content)

    return draw_request()


# Bodies that broke parsers: seeded into every operation that takes a body, not left to chance.
RAW_SEEDS = [
    b"",
    b"[" * 5_000 + b"]" * 5_000,  # deeper than json.loads recurses
    b'{"a":' * 3_000 + b"1" + b"}" * 3_000,
    b"\xff\xfe\x00",  # not UTF-8
    b'{"instances": [{"start": "2024-01-01", "target": [1' + b"]}]",  # truncated
]


def seed_requests(method: str, path: str, spec: Schema, target: Target) -> list[FuzzRequest]:
    """Requests every run sends first: valid path values (version 2 is the pending one), then
    each integer parameter at the overflow boundaries, each good body, and each raw seed body in
    each JSON content type the route reads."""
    operation = spec["paths"][path][method]
    valid = {"name": "sales", "group": "sales", "job_id": target.job_id}
    parameters = [resolve(p, spec) for p in operation.get("parameters", [])]
    ints = [p for p in parameters if resolve(p.get("schema", {}), spec).get("type") == "integer"]

    def url(overrides: dict[str, str]) -> str:
        out = path
        for p in parameters:
            if p["in"] == "path":
                out = out.replace("{" + p["name"] + "}", overrides.get(p["name"], valid.get(p["name"], "2")))
        return out

    def params(overrides: dict[str, str]) -> list[tuple[str, str]]:
        query = [
            p for p in parameters if p["in"] == "query" and (p.get("required") or p["name"] in overrides)
        ]
        return [(p["name"], overrides.get(p["name"], "1")) for p in query]

    seeds = [
        FuzzRequest(method, url({}), params({}), dict(target.headers), None)
    ]  # plain: reaches the action
    for parameter in ints:
        for big in (2**63, 10**30):
            overrides = {parameter["name"]: str(big)}
            seeds.append(FuzzRequest(method, url(overrides), params(overrides), dict(target.headers), None))
    if method == "post":
        types = [
            "application/json",
            *(["application/jsonlines"] if (method, path) in JSON_LINES_OPERATIONS else []),
        ]
        for good in GOOD_BODIES.get((method, path), []):
            content = json.dumps(good).encode()
            headers = {**target.headers, "Content-Type": "application/json"}
            seeds.append(FuzzRequest(method, url({}), params({}), headers, content))
        for raw in RAW_SEEDS:
            for content_type in types:
                headers = {**target.headers, "Content-Type": content_type}
                seeds.append(FuzzRequest(method, url({}), params({}), headers, raw))
    return seeds


def _leaves(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every position in a JSON value, as the keys and indexes leading to it."""
    if at:
        yield at
    children = (
        value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    )
    for key, child in children:
        yield from _leaves(child, (*at, key))


def mutations(good: Any) -> st.SearchStrategy[Any]:
    """`good` with one to three positions replaced by hostile values, deleted or duplicated."""
    positions = list(_leaves(good))

    @st.composite
    def mutate(draw: st.DrawFn) -> Any:
        value = copy.deepcopy(good)
        for _ in range(draw(st.integers(1, 3))):
            *parents, last = draw(st.sampled_from(positions))
            try:
                container = value
                for key in parents:
                    container = container[key]
                action = draw(st.sampled_from(["replace", "replace", "delete", "duplicate"]))
                if action == "replace":
                    container[last] = draw(HOSTILE)
                elif action == "delete":
                    del container[last]
                elif isinstance(container, list):
                    container.insert(last, copy.deepcopy(container[last]))
                else:
                    container[draw(st.text(max_size=8))] = copy.deepcopy(container[last])
            except (KeyError, IndexError, TypeError):
                pass  # an earlier mutation removed or replaced this position
        return value

    return mutate()


def bodies(
    schema: Schema, root: Schema, operation: tuple[str, str]
) -> st.SearchStrategy[tuple[bytes, str | None]]:
    """A body and its Content-Type: JSON from the schema (conforming or mangled), or raw junk."""
    conforming = from_schema(schema, root, hostile=False)
    mangled = from_schema(schema, root, hostile=True)
    as_json = st.tuples(
        conforming | mangled | mangled, st.sampled_from(["application/json"] * 6 + CONTENT_TYPES)
    ).map(lambda v: (json.dumps(v[0]).encode(), v[1]))
    options: list[st.SearchStrategy[tuple[bytes, str | None]]] = [as_json]
    for good in GOOD_BODIES.get(operation, []):
        mutated = mutations(good).map(lambda v: (json.dumps(v).encode(), "application/json"))
        options += [mutated, mutated]
    if operation in JSON_LINES_OPERATIONS:
        instance = Instance.model_json_schema()
        lines = st.lists(from_schema(instance, instance, hostile=True), max_size=3)
        options.append(
            st.tuples(lines, st.sampled_from(["application/jsonlines", "application/x-jsonlines"])).map(
                lambda v: ("\n".join(json.dumps(line) for line in v[0]).encode(), v[1])
            )
        )

    @st.composite
    def junk(draw: st.DrawFn) -> tuple[bytes, str | None]:
        valid = json.dumps(draw(conforming)).encode()
        raw = draw(
            st.one_of(
                st.just(b""),
                st.sampled_from(
                    [b" ", b"\n", b"null", b"0", b"-1", b'"text"', b"[]", b"{}", b"NaN", b"true", b"\x00"]
                ),
                st.integers(0, max(len(valid) - 1, 0)).map(lambda n: valid[:n]),  # truncated
                st.just(b"\xef\xbb\xbf" + valid),  # a byte-order mark
                st.just(valid + b"}garbage"),
                st.binary(max_size=40),
                st.sampled_from(
                    [b"\xff\xfe\x00", b'{"a": "\xff"}', b"\x80\n\x81", b'{"item_ids": ["\xc3\x28"]}']
                ),
                st.sampled_from(RAW_SEEDS),
                st.integers(100, 20_000).map(lambda n: b"[" * n + b"]" * n),  # deeper than parsers recurse
                st.integers(100, 8_000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
                st.integers(1, 3).map(lambda n: b"{" * n),
            )
        )
        return raw, draw(st.sampled_from(["application/json", "application/json", None, *CONTENT_TYPES]))

    options.append(junk())
    return st.one_of(options)


# ---- the property ----------------------------------------------------------------------------
def check(target: Target, request: FuzzRequest) -> int:
    before = target.snapshot()
    response = target.client.request(
        request.method.upper(),
        request.url,
        params=request.params,
        headers=request.headers,
        content=request.content,
    )
    status = response.status_code
    assert status < 500, f"{status} for {request!r}: {response.text[:2000]}"
    if 400 <= status < 500 and request.url == "/":  # SageMaker's control plane answers AWS's shape
        assert response.headers.get("content-type") == "application/x-amz-json-1.1", request
        error = response.json()
        assert error["__type"] == response.headers["x-amzn-errortype"] and error["message"], request
    elif 400 <= status < 500:
        assert response.headers.get("content-type") == PROBLEM, (
            f"{status} for {request!r}: {response.headers}"
        )
        problem = response.json()
        assert problem["status"] == status, f"{problem} for {request!r}"
        assert isinstance(problem.get("title"), str) and problem["title"], f"{problem} for {request!r}"
    if not 200 <= status < 300:
        assert target.snapshot() == before, f"{status} changed stored data: {request!r}"
    return status


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m.upper()} {p}" for m, p in OPERATIONS])
def test_bad_input_is_never_a_500_and_never_changes_data(target: Target, method: str, path: str) -> None:
    spec = target.client.app.openapi()  # type: ignore[attr-defined]
    strategy = requests_for(method, path, spec, target)

    @settings(
        max_examples=examples_for(spec["paths"][path][method], (method, path)),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(request=strategy)
    def run(request: FuzzRequest) -> None:
        target.ensure_deployed()
        status = check(target, request)
        target.changed = target.changed or (request.method != "get" and 200 <= status < 300)
        target.seen.setdefault((method, path), set()).add(status)

    for seed in seed_requests(method, path, spec, target):
        run = example(request=seed)(run)
    run()
    statuses = target.seen[(method, path)]
    operation = spec["paths"][path][method]
    if operation.get("parameters") or (method, path) in BODY_MODELS or "requestBody" in operation:
        assert any(400 <= s < 500 for s in statuses), f"never refused: {sorted(statuses)}"


def examples_for(operation: Schema, key: tuple[str, str]) -> int:
    """More examples where there is more to vary: parameters and above all bodies."""
    body = key in BODY_MODELS or "requestBody" in operation
    return 6 + 10 * len(operation.get("parameters", [])) + (40 if body else 0)


def test_good_bodies_are_accepted(target: Target) -> None:
    """The bodies the fuzzer mutates are valid, so mutations start from deep inside each route."""
    target.changed = True
    for (method, path), goods in GOOD_BODIES.items():
        for good in goods:
            target.ensure_deployed()
            url = path.replace("{name}", "sales")
            if path == "/v1/jobs":  # a job name is unique: the fuzzer may have used this one
                key = "AutoMLJobName" if "AutoMLJobName" in good else "name"
                good = {**good, key: f"good-{uuid.uuid4().hex[:12]}"}
            response = target.client.request(method.upper(), url, json=good, headers=target.headers)
            assert 200 <= response.status_code < 300, (path, response.text)
            target.changed = True


def test_the_spec_has_the_operations_fuzzed_with_model_bodies() -> None:
    assert set(BODY_MODELS) <= set(OPERATIONS)
    assert len(OPERATIONS) >= 20
