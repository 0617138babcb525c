"""A forecast request answered by a loaded model: the checks every request gets, and the
stored or fresh forecast (each item's answer shaped by `predictor.shape_item`, which the
model's answer cache serialises too).

`forecast(model, request)` validates a `ForecastRequest` against what the model was trained
for (`predictor.LoadedModel`) and returns a `ForecastResponse`, or raises a `Problem` (RFC
9457) naming the offending field; `cached_forecast_json` gives the same bytes from the model's
cache when every item is in it. Apart from `predictor`, which holds the model and its caches,
so that each file keeps one concern.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from tidecast.data.item_keys import SEPARATOR
from tidecast.data.schema import ITEM_ID
from tidecast.service.predictor import LoadedModel, shape_item
from tidecast.service.problems import invalid, payload_too_large, unknown_items
from tidecast.service.requests import (
    DEFAULT_LIMITS,
    ForecastRequest,
    ForecastResponse,
    Limits,
    check_grid,
    check_order,
    request_frame,
    resolve_horizon,
    resolve_quantiles,
)


def forecast(
    model: LoadedModel, request: ForecastRequest, limits: Limits = DEFAULT_LIMITS
) -> ForecastResponse:
    """Validate `request` against `model`, forecast, and shape the answer; Problems on bad input."""
    horizon, quantiles, future = checked_request(model, request, limits)
    steps = horizon if horizon < model.horizon else None
    if request.item_ids is not None:
        items = stored_items(model, request.item_ids, limits)
        results = model.stored(items, future, steps)
    else:
        assert request.history is not None
        if not request.history:
            raise invalid("history", "the history is empty: send at least one row per item")
        if len(request.history) > limits.max_history_rows:
            raise payload_too_large("history rows", len(request.history), limits.max_history_rows, "history")
        frame = request_frame(request.history, "history", request.date_format)
        check_order(frame, "history")
        check_grid(frame, model.grid, "history")
        items = list(dict.fromkeys(frame[ITEM_ID].tolist()))
        if len(items) > limits.max_items:
            raise payload_too_large("items", len(items), limits.max_items, "history")
        results = model.fresh(frame, future, steps)
    return ForecastResponse.model_construct(
        forecasts=[shape_item(item, results[item], horizon, quantiles) for item in items]
    )


def cached_forecast_json(
    model: LoadedModel, request: ForecastRequest, limits: Limits = DEFAULT_LIMITS
) -> bytes | None:
    """`forecast(model, request, limits)` serialised as JSON, when `model` answers the request
    from its cache (`LoadedModel.answers_from_cache`); None when the request needs the model.

    The same checks in the same order, and the same bytes as serialising `forecast`'s answer
    with pydantic, but assembled from each item's answer serialised once (`answer_json`):
    for 100 items that is tens of microseconds instead of most of a millisecond, which is
    what lets the event loop answer cached requests itself.
    """
    if not model.answers_from_cache(request):
        return None
    horizon, quantiles, _ = checked_request(model, request, limits)
    assert request.item_ids is not None
    return model.answer_json(stored_items(model, request.item_ids, limits), horizon, quantiles)


def checked_request(
    model: LoadedModel, request: ForecastRequest, limits: Limits
) -> tuple[int, list[tuple[str, int]], pd.DataFrame | None]:
    """The checks every request gets: (horizon, quantiles, future frame or None)."""
    horizon = resolve_horizon(model, request.horizon)
    quantiles = resolve_quantiles(model, request.quantiles)
    future = None
    if request.future:
        if len(request.future) > limits.max_history_rows:
            raise payload_too_large("future rows", len(request.future), limits.max_history_rows, "future")
        future = request_frame(request.future, "future", request.date_format)
    if (request.item_ids is None) == (request.history is None):
        raise invalid(
            "item_ids", "give either item_ids (stored history) or history (fresh rows), not both or neither"
        )
    return horizon, quantiles, future


def stored_items(model: LoadedModel, item_ids: Sequence[str], limits: Limits) -> list[str]:
    """The asked stored items, each once, in the asked order; Problems for none, too many or
    unknown ones."""
    items = list(dict.fromkeys(item_ids))
    if not items:
        raise invalid("item_ids", "the list is empty: name at least one item")
    if len(items) > limits.max_items:
        raise payload_too_large("items", len(items), limits.max_items, "item_ids")
    unknown = [i for i in items if i not in model.item_ids]
    if unknown:
        raise unknown_items(unknown, key_format=key_format(model), guesses=key_guesses(model, unknown))
    return items


# Separators a caller may write between the parts of a composite id ("1,1", "1_1", "1 1"),
# each tried alone: a part may hold one of the others ("item_1,A" means "item_1|A").
LOOSE_SEPARATORS = tuple(re.compile(p) for p in (r"\s*,\s*", r"\s*\|\s*", r"\s*_\s*", r"\s+"))


def key_format(model: LoadedModel) -> str:
    """How the ids of a model keyed by several columns are written; "" for one column."""
    if len(model.item_parts) < 2:
        return ""
    return (
        f"this model's item ids are its columns {', '.join(model.item_parts)} joined by "
        f"{SEPARATOR!r}, e.g. {model.example_item!r}"
    )


def key_guesses(model: LoadedModel, unknown: Sequence[str]) -> dict[str, str]:
    """The known id each unknown one names with other separators between its parts ("1,1"
    or "1_1" for "1|1"), for a model keyed by several columns."""
    if len(model.item_parts) < 2:
        return {}
    guesses = {}
    for item in unknown:
        known = (separator.sub(SEPARATOR, item.strip()) for separator in LOOSE_SEPARATORS)
        guess = next((k for k in known if k in model.item_ids), None)
        if guess is not None:
            guesses[item] = guess
    return guesses
