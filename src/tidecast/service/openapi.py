"""The OpenAPI document: typed request bodies with examples, problem answers, the key scheme.

The job and forecast routes read their own bodies (a malformed body is the same 400 whatever
the Content-Type), so FastAPI knows their schema only as ``{"type": "object"}``. Each declares
`request_body` instead, naming the pydantic models it validates against; `install_openapi`
puts those models in ``components.schemas``, documents every 4xx as an RFC 9457
``application/problem+json`` body, and declares the API-key scheme the routes check.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from tidecast.jobs.request import JobRequest
from tidecast.jobs.sagemaker import CreateAutoMLJobV2
from tidecast.service.requests import ForecastRequest

REF = "#/components/schemas/{model}"
PROBLEM_MEDIA = "application/problem+json"
BODY_MODELS: tuple[type[BaseModel], ...] = (JobRequest, CreateAutoMLJobV2, ForecastRequest)

JOB_EXAMPLES = {
    "native": {
        "summary": "tidecast's job body",
        "value": {
            "name": "weekly-sales",
            "data": "data/sales.csv",
            "future": "data/future.csv",
            "horizon": 14,
            "frequency": "D",
            "quantiles": [0.1, 0.5, 0.9],
            "columns": {"item": "item_id", "timestamp": "timestamp", "target": "target_value"},
            "covariates": {"known": ["promotion"], "static": ["category"]},
            "holidays": ["US"],
            "preset": "medium",
            "model_group": "sales",
        },
    },
    "sql": {
        "summary": "tidecast's job body with a DuckDB query over files below the data root",
        "value": {
            "name": "weekly-sales-sql",
            "sql": "SELECT s.item_id, s.timestamp, s.target_value, p.promotion, i.category "
            "FROM '/srv/data/sales/*.parquet' AS s "
            "JOIN '/srv/data/promotions.csv' AS p USING (item_id, timestamp) "
            "JOIN '/srv/data/items.csv' AS i USING (item_id)",
            "horizon": 14,
            "columns": {"target": "target_value"},
            "covariates": {"past": ["promotion"], "static": ["category"]},
            "model_group": "sales",
        },
    },
    "sagemaker": {
        "summary": "SageMaker CreateAutoMLJobV2 body",
        "value": {
            "AutoMLJobName": "weekly-sales",
            "AutoMLJobInputDataConfig": [
                {"ChannelType": "training", "DataSource": {"S3DataSource": {"S3Uri": "s3://bucket/sales/"}}}
            ],
            "AutoMLProblemTypeConfig": {
                "TimeSeriesForecastingJobConfig": {
                    "ForecastFrequency": "1D",
                    "ForecastHorizon": 14,
                    "ForecastQuantiles": ["p10", "p50", "p90"],
                    "TimeSeriesConfig": {
                        "TargetAttributeName": "target_value",
                        "TimestampAttributeName": "timestamp",
                        "ItemIdentifierAttributeName": "item_id",
                    },
                }
            },
        },
    },
}
FORECAST_EXAMPLES = {
    "stored": {
        "summary": "Forecast stored items",
        "value": {"item_ids": ["item_0", "item_1"], "horizon": 7, "quantiles": [0.1, 0.5, 0.9]},
    },
    "history": {
        "summary": "Forecast from fresh history (day-first dates)",
        "value": {
            "history": [
                {"item_id": "new", "timestamp": "13/01/2024", "target": 12.0},
                {"item_id": "new", "timestamp": "14/01/2024", "target": 9.0},
            ],
            "date_format": "%d/%m/%Y",
        },
    },
}

_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details; `field` and `pointer` name the offending input.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "field": {"type": "string"},
        "pointer": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}
_ANSWERS = {
    "400": "Malformed body (not JSON, empty)",
    "401": "No or unknown API key",
    "403": "The key's role may not do this",
    "404": "No such resource",
    "409": "The current state forbids it (a taken job name, an approved version)",
    "413": "Body or request too large",
    "422": "A value breaks a rule; `field` names it",
}


def request_body(*models: type[BaseModel], examples: dict[str, Any]) -> dict[str, Any]:
    """`openapi_extra` for a route that reads its own body, validated as one of `models`."""
    refs = [{"$ref": REF.format(model=m.__name__)} for m in models]
    schema = refs[0] if len(refs) == 1 else {"oneOf": refs}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema, "examples": examples}},
        }
    }


def install_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` the document described in the module docstring (built once)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document(app: FastAPI) -> dict[str, Any]:
    spec = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for model in BODY_MODELS:
        schema = model.model_json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    schemas["Problem"] = _PROBLEM_SCHEMA
    for unused in ("HTTPValidationError", "ValidationError"):  # 422s are problems, not these
        schemas.pop(unused, None)
    components["securitySchemes"] = {
        "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        "Bearer": {"type": "http", "scheme": "bearer", "description": "The same API key as a bearer token"},
    }
    problem = {PROBLEM_MEDIA: {"schema": {"$ref": REF.format(model="Problem")}}}
    for path, operations in spec.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, description in _ANSWERS.items():
                responses[code] = {"description": description, "content": problem}
            if not _open(path):
                operation["security"] = [{"ApiKey": []}, {"Bearer": []}]
    return spec


def _open(path: str) -> bool:
    """The routes that need no key: operations and the docs."""
    return path in ("/health", "/metrics", "/ping", "/docs", "/openapi.json")
