"""Forecasts: ``POST /v1/endpoints/{name}/forecast`` (tidecast's request) and SageMaker's
runtime contract, ``POST /invocations`` and ``POST /endpoints/{name}/invocations`` (the path
boto3's ``sagemaker-runtime`` ``invoke_endpoint`` calls), answering DeepAR's JSON and JSON
Lines. Forecast or admin keys.

On the runtime contract a model that raises on an invocation is a `model_failed` problem
(SageMaker's ``ModelError`` to AWS clients, a 500 in the service's metrics), not the service's
unexpected 500 (``InternalFailure``): the request reached the model, and the model failed."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from starlette.concurrency import run_in_threadpool

from tidecast.errors import TidecastError
from tidecast.registry.errors import ServiceError
from tidecast.service.answers import cached_forecast_json, forecast
from tidecast.service.dependencies import ServiceState, StateDep, require_forecast, service_state
from tidecast.service.openapi import FORECAST_EXAMPLES, request_body
from tidecast.service.predictor import LoadedModel
from tidecast.service.problems import Problem, model_failed, parse_json
from tidecast.service.requests import ForecastRequest, ForecastResponse
from tidecast.service.runtime_contract import JSON, invoke
from tidecast.service.shadow import FORECAST, INVOKE

log = logging.getLogger("tidecast.service")

TARGET_MODEL_HEADER = "X-Amzn-SageMaker-Target-Model"
INLINE_BODY_BYTES = 16 * 1024  # forecast bodies up to this are parsed on the event loop

router = APIRouter(tags=["forecast"], dependencies=[Depends(require_forecast)])


def _model_for(request: Request, state: ServiceState, name: str) -> LoadedModel:
    request.state.invocation = True
    model = state.deployments.serving_model(name)  # once: the request keeps this model
    request.state.endpoint = name
    return model


@router.post(
    "/v1/endpoints/{name}/forecast",
    summary="Forecast stored items or fresh history",
    openapi_extra=request_body(ForecastRequest, examples=FORECAST_EXAMPLES),
)
async def forecast_route(name: str, request: Request) -> Response:
    state = service_state(request)  # not StateDep: one dependency fewer to solve per forecast
    model = _model_for(request, state, name)
    raw = await request.body()
    if len(raw) <= INLINE_BODY_BYTES:
        # A small body parses in microseconds; when its items are all cached, answering is
        # lookups too, and a thread hop would cost more than the work (and, with many
        # requests in flight, queue behind the threads holding the GIL).
        parsed = model.parse_request(parse_json(raw))
        cached = cached_forecast_json(model, parsed, state.limits)
        if cached is not None:
            _shadow(state, name, FORECAST, raw)
            return _json_bytes(cached)
        async with state.forecast_slots:
            answer = _json(await run_in_threadpool(forecast, model, parsed, state.limits))
        _shadow(state, name, FORECAST, raw)
        return answer

    def run() -> bytes:
        parsed = model.parse_request(parse_json(raw))
        cached = cached_forecast_json(model, parsed, state.limits)
        if cached is not None:
            return cached
        return forecast(model, parsed, state.limits).model_dump_json(warnings=False).encode()

    async with state.forecast_slots:
        answer = _json_bytes(await run_in_threadpool(run))
    _shadow(state, name, FORECAST, raw)
    return answer


def _shadow(state: ServiceState, name: str, kind: str, body: bytes, content_type: str = JSON) -> None:
    """A request answered: its challenger, if the endpoint has one, forecasts it too, later."""
    if state.challengers is not None:
        state.challengers.shadow(name, kind, body, content_type)


async def _invoke(request: Request, state: ServiceState, name: str) -> Response:
    model = _model_for(request, state, name)
    body = await request.body()
    content_type = request.headers.get("content-type") or JSON
    accept = request.headers.get("accept")
    async with state.forecast_slots:
        try:
            payload, media = await run_in_threadpool(invoke, model, body, content_type, state.limits, accept)
        except (Problem, TidecastError, ServiceError):  # the request's fault, or an expected failure
            raise
        except Exception as exc:
            log.error("endpoint %s: the model failed on an invocation", name, exc_info=exc)
            raise model_failed(name) from None
    _shadow(state, name, INVOKE, body, content_type)
    return Response(payload, media_type=media)


@router.post(
    "/endpoints/{name}/invocations",
    summary="SageMaker runtime InvokeEndpoint (DeepAR JSON or JSON Lines, or Autopilot CSV)",
    tags=["sagemaker"],
)
async def invoke_named(name: str, request: Request, state: StateDep) -> Response:
    return await _invoke(request, state, name)


@router.post(
    "/invocations", summary="SageMaker container contract: invoke the target endpoint", tags=["sagemaker"]
)
async def invoke_default(
    request: Request,
    state: StateDep,
    target: Annotated[str | None, Header(alias=TARGET_MODEL_HEADER)] = None,
) -> Response:
    return await _invoke(request, state, _target(state, target))


def _json(answer: ForecastResponse) -> Response:
    """The answer as JSON, serialised by pydantic-core: about 15 times faster than
    `JSONResponse(answer.model_dump())` for a 100-item forecast, with the same JSON values."""
    return Response(answer.model_dump_json(warnings=False), media_type="application/json")


def _json_bytes(payload: bytes) -> Response:
    """An answer already serialised (`cached_forecast_json`, or `_json`'s in a thread)."""
    return Response(payload, media_type="application/json")


def _target(state: ServiceState, header: str | None) -> str:
    """The endpoint ``/invocations`` means: the header's, the configured default, or the only one."""
    if header:
        return header
    if state.default_endpoint:
        return state.default_endpoint
    # one that failed to load counts: invoking it then says so (503), not that none is deployed
    names = sorted({*state.deployments.table.names(), *state.deployments.failures})
    if len(names) == 1:
        return names[0]
    detail = (
        "no endpoint is deployed"
        if not names
        else f"{len(names)} endpoints are deployed; name one in the {TARGET_MODEL_HEADER} header or call "
        "/endpoints/{name}/invocations"
    )
    raise Problem(404 if not names else 400, "No target endpoint", detail, field=TARGET_MODEL_HEADER)
