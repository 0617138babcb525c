"""``/v1/actuals``: load observed values, as JSON rows or an uploaded CSV or Parquet table (either
in the canonical item_id/timestamp/value or, named in the query, in the training file's own
columns, a key of several columns joined as training joins it), and read them back (one item's,
for the dashboard's forecast explorer) and the log of replaced values. Admin keys.

Text dates such as 02/03/2012 read day or month first as the `date_format` query parameter
says (strftime codes): an upload has no other place to name it; JSON rows may give it in the
body instead, and a body and query that disagree are refused rather than one of them ignored.

Loading is idempotent: the same actual twice counts once, and a changed value replaces the
old one and is logged (``GET /v1/actuals/changes``). For files of millions of rows the CLI's
``tidecast actuals ingest FILE`` skips the HTTP body limit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from tidecast.monitor.actuals import change_log, load_actuals, named_actuals, parse_upload, user_names
from tidecast.service.dependencies import StateDep, require_admin
from tidecast.service.problems import Problem, from_validation_error, parse_json

JSON_TYPES = ("application/json", "")
UPLOAD_TYPES = (
    "text/csv",
    "application/csv",
    "application/vnd.apache.parquet",
    "application/x-parquet",
    "application/octet-stream",
)


class ActualRow(BaseModel):
    """One observation; further numeric fields are covariates observed with it."""

    model_config = ConfigDict(extra="allow")

    item_id: str | int
    timestamp: str | int
    value: float = Field(allow_inf_nan=False)


class ActualsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows: list[ActualRow] = Field(min_length=1)
    date_format: str | None = Field(default=None, max_length=64, pattern="%")


class NamedActualsRequest(BaseModel):
    """JSON rows in the training file's own column names (`item_col`, `timestamp_col`,
    `value_col` in the query), checked by `named_actuals` as an upload in those names is."""

    model_config = ConfigDict(extra="forbid")

    rows: list[dict[str, str | int | float | None]] = Field(min_length=1)
    date_format: str | None = Field(default=None, max_length=64, pattern="%")


CANONICAL_NAMES = ("item_id", "timestamp", None)
RowsRequest = TypeVar("RowsRequest", ActualsRequest, NamedActualsRequest)


def _json_rows(body: bytes, model: type[RowsRequest]) -> RowsRequest:
    """A JSON body of rows (a list, or an object with `rows`) as `model`; a 422 names what is wrong."""
    parsed = parse_json(body)
    try:
        return model.model_validate({"rows": parsed} if isinstance(parsed, list) else parsed)
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def _date_format(query: str | None, body: str | None) -> str | None:
    """The one date format of a JSON request, from the query or the body. Two that disagree are
    a 422 naming both, as taking either would silently read the dates another way than asked."""
    if query is not None and body is not None and query != body:
        raise Problem(
            422,
            "Conflicting date formats",
            f"date_format {query!r} in the query and {body!r} in the body disagree; give one of them",
            field="date_format",
        )
    return query or body


router = APIRouter(prefix="/v1/actuals", tags=["monitoring"], dependencies=[Depends(require_admin)])


@router.post(
    "",
    summary="Load actuals: JSON rows ({item_id, timestamp, value}) or a CSV/Parquet upload; either "
    "in the training file's own column names with item_col, timestamp_col, value_col",
    description="Dates that read both day and month first (02/03/2012) need `date_format`, strftime "
    "codes such as %d/%m/%Y: a query parameter, for an upload and JSON rows alike; JSON rows may "
    "give it in the body instead (a body and a query that disagree are a 422).",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": ActualsRequest.model_json_schema()},
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def ingest(
    request: Request,
    state: StateDep,
    item_col: Annotated[
        str,
        Query(
            min_length=1,
            max_length=400,
            description="The item column(s) of the rows or upload, e.g. Store,Dept",
        ),
    ] = "item_id",
    timestamp_col: Annotated[str, Query(min_length=1, max_length=200)] = "timestamp",
    value_col: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    date_format: Annotated[
        str | None,
        Query(
            max_length=64,
            pattern="%",
            description="strftime codes of text dates, e.g. %d/%m/%Y: needed where every date reads "
            "both day and month first (02/03/2012); JSON rows may give it in the body instead",
        ),
    ] = None,
) -> dict[str, Any]:
    body = await request.body()
    kind = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    names = user_names(item_col, timestamp_col, value_col)  # for problems in the caller's words
    if kind in JSON_TYPES and (item_col, timestamp_col, value_col) == CANONICAL_NAMES:
        actuals = _json_rows(body, ActualsRequest)
        frame = pd.DataFrame([r.model_dump() for r in actuals.rows])
        chosen = _date_format(date_format, actuals.date_format)
        result = await run_in_threadpool(state.monitor.ingest, frame, chosen)
    elif kind in JSON_TYPES:
        named_rows = _json_rows(body, NamedActualsRequest)
        frame = pd.DataFrame(named_rows.rows)
        named = await run_in_threadpool(named_actuals, frame, item_col, timestamp_col, value_col)
        chosen = _date_format(date_format, named_rows.date_format)
        result = await run_in_threadpool(state.monitor.ingest, named, chosen, names)
    elif kind in UPLOAD_TYPES:
        frame = await run_in_threadpool(parse_upload, body, kind, item_col)
        named = await run_in_threadpool(named_actuals, frame, item_col, timestamp_col, value_col)
        result = await run_in_threadpool(state.monitor.ingest, named, date_format, names)
    else:
        raise Problem(
            415, "Unsupported media type", f"content type {kind!r}; send JSON rows, text/csv or Parquet"
        )
    return result.to_dict()


@router.get("/changes", summary="Replaced actuals, newest first")
def changes(
    state: StateDep,
    item_id: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> dict[str, Any]:
    with state.database.engine.connect() as connection:
        return {"changes": change_log(connection, item_id, limit)}


@router.get("", summary="One item's actuals, oldest first (since a time, when given)")
def item_actuals(
    state: StateDep,
    item_id: Annotated[str, Query(min_length=1, max_length=200)],
    since: Annotated[datetime | None, Query(description="ISO 8601; naive times are UTC")] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> dict[str, Any]:
    start = None if since is None else since if since.tzinfo else since.replace(tzinfo=UTC)
    with state.database.engine.connect() as connection:
        frame = load_actuals(connection, start=start, item_id=item_id).tail(limit)
    return {
        "actuals": [
            {"item_id": str(i), "timestamp": t.isoformat(), "value": float(v)}
            for i, t, v in zip(frame["item_id"], frame["timestamp"], frame["value"], strict=True)
        ]
    }
