"""Why and what if, for an endpoint's stored items (forecast or admin keys):

* ``POST /v1/endpoints/{name}/explain``: each forecast taken apart into the contributions of
  covariates, holidays, attributes, level, trend and seasonality (`tidecast.explain`);
* ``POST /v1/endpoints/{name}/whatif``: the forecast again with changed known covariates,
  by rules or a replacement future, beside the baseline (`tidecast.scenarios`).

Unknown items are 404s; bad rules, unknown covariates or attributes and unusable future rows
are 422s naming the field, like every other request of the service.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from tidecast.data.schema import ITEM_ID, MEAN, TIMESTAMP
from tidecast.errors import ConfigError, DataError, ModelError
from tidecast.service.answers import stored_items
from tidecast.service.dependencies import require_forecast, service_state
from tidecast.service.predictor import LoadedModel
from tidecast.service.problems import Problem, from_tidecast_error, parse_json
from tidecast.service.requests import FutureRow, Limits, request_frame, validate_request

router = APIRouter(prefix="/v1/endpoints", tags=["explain"], dependencies=[Depends(require_forecast)])


class ExplainRequest(BaseModel):
    """Stored items to explain, and the known covariates over the horizon when the model has any."""

    model_config = ConfigDict(extra="forbid")

    item_ids: list[str] = Field(min_length=1)
    future: list[FutureRow] | None = None
    date_format: str | None = Field(default=None, max_length=64, pattern="%")


class WhatIfRequest(ExplainRequest):
    """`rules` (a list, or {"name", "rules"}: see `tidecast.scenarios.rules`) or a replacement
    `scenario_future`, applied to the baseline `future`."""

    rules: list[dict[str, Any]] | dict[str, Any] | None = None
    scenario_future: list[FutureRow] | None = None


def _parse(model: LoadedModel, raw: bytes, kind: type[ExplainRequest]) -> Any:
    return validate_request(kind, parse_json(raw), model._aliases)


def _user_future(
    model: LoadedModel, rows: list[FutureRow] | None, field: str, date_format: str | None
) -> pd.DataFrame | None:
    if not rows:
        return None
    spec = model.forecaster.spec_
    frame = request_frame(rows, field, date_format)
    return frame.rename(columns={ITEM_ID: spec.item_col, TIMESTAMP: spec.timestamp_col})


def _stamps(values: Any) -> list[str]:
    return [str(s) for s in np.datetime_as_string(np.asarray(values, dtype="datetime64[s]"), unit="s")]


def _floats(values: Any) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, dtype=np.float64)]


def explain_answer(model: LoadedModel, request: ExplainRequest, limits: Limits) -> dict[str, Any]:
    """The explanation of the request's items, per item (contributions by feature, per step)."""
    from tidecast.explain import explain

    items = stored_items(model, request.item_ids, limits)
    future = _user_future(model, request.future, "future", request.date_format)
    explanation = _guard(
        lambda: explain(model.forecaster, future=future, items=items, canonical=True), "future"
    )
    table = explanation.contributions
    out = []
    for item, rows in explanation.forecast.groupby(ITEM_ID, sort=False):
        parts = table[table[ITEM_ID] == item]
        wide = parts.pivot_table(index="step", columns="feature", values="contribution", sort=False).fillna(
            0.0
        )
        kinds = dict(zip(parts["feature"], parts["kind"], strict=False))
        out.append(
            {
                "item_id": str(item),
                "timestamps": _stamps(rows[TIMESTAMP]),
                "forecast": _floats(rows[MEAN]),
                "contributions": {str(f): _floats(wide[f]) for f in wide.columns},
                "kinds": kinds,
            }
        )
    importance = explanation.importance()
    return {
        "items": out,
        "importance": [
            {"feature": r.feature, "kind": r.kind, "mean_abs": r.mean_abs, "share": r.share, "mean": r.mean}
            for r in importance.itertuples()
        ],
        "methods": explanation.methods,
        "weights": explanation.weights,
    }


def whatif_answer(model: LoadedModel, request: WhatIfRequest, limits: Limits) -> dict[str, Any]:
    """Baseline and scenario side by side for the request's items."""
    from tidecast.scenarios import whatif

    items = stored_items(model, request.item_ids, limits)
    future = _user_future(model, request.future, "future", request.date_format)
    replacement = _user_future(model, request.scenario_future, "scenario_future", request.date_format)
    if request.rules is None and replacement is None:
        raise from_tidecast_error(ConfigError("give rules or scenario_future"), "rules")
    answer = _guard(
        lambda: whatif(
            model.forecaster,
            request.rules,
            future=future,
            replacement=replacement,
            items=items,
            canonical=True,
        ),
        "rules",
    )
    per_item = answer.items.set_index(ITEM_ID)
    out = []
    for item, rows in answer.comparison.groupby(ITEM_ID, sort=False):
        totals = per_item.loc[item]
        out.append(
            {
                "item_id": str(item),
                "timestamps": _stamps(rows[TIMESTAMP]),
                **{k: _floats(rows[k]) for k in ("baseline", "scenario", "difference", "percent")},
                "total": {
                    k: _floats([totals[k]])[0] for k in ("baseline", "scenario", "difference", "percent")
                },
            }
        )
    total = {k: _floats([v])[0] for k, v in answer.total.items()}
    return {"name": answer.name, "rules": answer.rules, "items": out, "total": total, "notes": answer.notes}


def _guard(action: Any, field: str) -> Any:
    """Run `action`: tidecast's data and configuration errors as 422 problems on `field`
    (future rows for data, the rules for configuration)."""
    try:
        return action()
    except DataError as exc:
        raise from_tidecast_error(exc, "future" if field == "rules" else field) from None
    except ConfigError as exc:
        raise from_tidecast_error(exc, field) from None
    except ModelError as exc:
        raise Problem(422, "Model cannot answer this request", str(exc), field=field) from None


async def _answer(name: str, request: Request, kind: type[ExplainRequest], answer: Any) -> dict[str, Any]:
    state = service_state(request)
    model = state.deployments.serving_model(name)
    raw = await request.body()
    async with state.forecast_slots:
        return await run_in_threadpool(lambda: answer(model, _parse(model, raw, kind), state.limits))


@router.post("/{name}/explain", summary="Contributions to the forecasts of stored items")
async def explain_route(name: str, request: Request) -> dict[str, Any]:
    return await _answer(name, request, ExplainRequest, explain_answer)


@router.post("/{name}/whatif", summary="Forecast stored items again under changed known covariates")
async def whatif_route(name: str, request: Request) -> dict[str, Any]:
    return await _answer(name, request, WhatIfRequest, whatif_answer)
