"""SageMaker's DeepAR JSON inference format, answered by any tidecast model.

The recipe this project replaces calls its endpoint with DeepAR's request body::

    {"instances": [{"start": "2023-01-01", "target": [...], "item_id": "A",
                    "dynamic_feat": [[...], ...], "cat": [...]}],
     "configuration": {"num_samples": 100, "output_types": ["mean", "quantiles"],
                       "quantiles": ["0.1", "0.5", "0.9"]}}

and reads ``{"predictions": [{"mean": [...], "quantiles": {"0.1": [...]}, "samples": [...]}]}``.
Each instance is fresh history (no refit): its timestamps are ``start`` plus the model's
frequency; ``target`` values may be ``null`` or ``"NaN"`` (DeepAR's missing value), filled
by the model's filling plan; ``dynamic_feat`` rows map, in order, onto the model's known
covariates and then its past covariates, and each covers history plus the trained horizon,
as DeepAR requires (past covariates' horizon part is ignored); ``cat`` maps onto the
model's static columns in order, and an instance of an item the model was trained on may leave
it out (its own values are used). The forecast always has the trained horizon.

Samples: tidecast's ensembles forecast quantiles, not sample paths. ``"samples"`` are drawn
from each step's quantile function, interpolated linearly between the trained levels and
flat beyond the outermost ones, with one uniform draw per sample path shared by all steps
(a comonotone path: each step's marginal follows the forecast, the dependence between steps
is not modelled). The draws are seeded by the instance's position, so the same request
always gets the same samples.

The JSON Lines variant (``application/jsonlines``) takes one instance per line, the
configuration from the caller (DeepAR reads it from ``DEEPAR_INFERENCE_CONFIG``), and
answers one prediction per line. ``Accept`` chooses the answer's format whatever the
request's: ``application/json`` (``{"predictions": [...]}``) or ``application/jsonlines``.

Quantiles the model was not trained for are refused (a 422 naming the trained ones, which
AWS clients read as a ``ValidationError``) rather than answered from the nearest trained
level: a 0.95 answered with the 0.9 would be a wrong number under the right label. A
``start`` off the model's grid is refused too: for a fixed step (days, hours...) the grid is
the training data's (a daily model trained on midnights refuses 05:00), for calendar
frequencies the anchor (a W-SUN model refuses a Tuesday).

A ``text/csv`` body is SageMaker Autopilot's layout instead, answered by `runtime_csv`.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset
from pandas.tseries.offsets import Tick
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.service.predictor import ItemForecast, LoadedModel
from tidecast.service.problems import Problem, from_validation_error, invalid, payload_too_large
from tidecast.service.requests import DEFAULT_LIMITS, FiniteNumber, Limits, TargetValue, resolve_quantiles
from tidecast.service.runtime_csv import CSV, invoke_csv

JSON = "application/json"
JSON_LINES = "application/jsonlines"
CONTENT_TYPES = (JSON, JSON_LINES, "application/jsonl", "application/x-jsonlines")
MAX_SAMPLES = 1_000


class Instance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str
    target: list[TargetValue]
    item_id: str | int | None = None
    dynamic_feat: list[list[FiniteNumber]] | None = None
    cat: list[str | int | float] | None = None


class Configuration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    num_samples: int = Field(default=100, ge=1, le=MAX_SAMPLES)
    output_types: list[Literal["mean", "quantiles", "samples"]] = ["mean", "quantiles"]
    quantiles: list[float] | None = None


class InferenceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instances: list[Instance]
    configuration: Configuration = Configuration()


def invoke(
    model: LoadedModel,
    body: bytes | str | dict[str, Any],
    content_type: str = JSON,
    limits: Limits = DEFAULT_LIMITS,
    accept: str | None = None,
) -> tuple[bytes, str]:
    """SageMaker's ``/invocations``: the body in `content_type`, the answer in the type `accept`
    asks for (JSON or JSON Lines; by default the request's type), and that type."""
    kind = _media(content_type) or JSON
    if kind == CSV:  # SageMaker Autopilot's layout: the training data's rows (`runtime_csv`)
        _csv_accepted(accept)
        return invoke_csv(model, body if not isinstance(body, dict) else json.dumps(body), limits), CSV
    if kind not in CONTENT_TYPES:
        raise Problem(
            415,
            "Unsupported media type",
            f"content type {content_type!r}; use {JSON}, {JSON_LINES} or {CSV}",
        )
    answer = answer_type(accept, JSON if kind == JSON else JSON_LINES)
    if kind == JSON:
        data = body if isinstance(body, dict) else _json(body, "body")
        predictions = predict(model, data, limits)["predictions"]
    else:
        try:
            text = body.decode() if isinstance(body, bytes) else body
        except UnicodeDecodeError as exc:
            raise Problem(400, "Malformed JSON Lines", f"body: not UTF-8 text: {exc}", field="body") from None
        if not isinstance(text, str):
            raise invalid("body", "a JSON Lines body is text, one instance per line")
        predictions = [
            json.loads(line) for line in predict_jsonlines(model, text, limits=limits).splitlines()
        ]
    if answer == JSON:
        return json.dumps({"predictions": predictions}).encode(), JSON
    return "".join(json.dumps(p) + "\n" for p in predictions).encode(), JSON_LINES


def answer_type(accept: str | None, default: str) -> str:
    """The answer's media type from an ``Accept`` header: the first of JSON and JSON Lines it
    names (with any q), `default` for none or ``*/*``; 406 when it accepts neither."""
    if not accept or not accept.strip():
        return default
    for part in accept.split(","):
        media = _media(part)
        if media in ("*/*", "application/*"):
            return default
        if media == JSON:
            return JSON
        if media in CONTENT_TYPES:
            return JSON_LINES
    raise Problem(
        406, "Not acceptable", f"Accept {accept!r}: the answer is {JSON} or {JSON_LINES}", field="Accept"
    )


def _csv_accepted(accept: str | None) -> None:
    """A CSV request is answered in CSV: 406 when ``Accept`` allows neither it nor anything."""
    medias = [_media(part) for part in (accept or "").split(",") if part.strip()]
    if medias and not any(m in (CSV, "text/*", "*/*") for m in medias):
        raise Problem(
            406, "Not acceptable", f"Accept {accept!r}: a {CSV} request is answered in {CSV}", field="Accept"
        )


def _media(value: str) -> str:
    return value.split(";")[0].strip().lower()


def predict(model: LoadedModel, body: Any, limits: Limits = DEFAULT_LIMITS) -> dict[str, Any]:
    """A DeepAR request body (parsed JSON) -> ``{"predictions": [...]}``, one per instance."""
    try:
        request = InferenceRequest.model_validate(body)
    except ValidationError as exc:
        raise from_validation_error(exc) from None
    return {"predictions": _predictions(model, request.instances, request.configuration, "instances", limits)}


def predict_jsonlines(
    model: LoadedModel,
    text: str,
    configuration: dict[str, Any] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> str:
    """One instance per line in, one prediction per line out (blank lines skipped)."""
    instances = []
    for k, line in enumerate(line for line in text.splitlines() if line.strip()):
        try:
            instances.append(Instance.model_validate(_json(line, f"instances[{k}]")))
        except ValidationError as exc:
            raise from_validation_error(exc, prefix=f"instances[{k}]") from None
    try:
        config = Configuration.model_validate(configuration or {})
    except ValidationError as exc:
        raise from_validation_error(exc, prefix="configuration") from None
    predictions = _predictions(model, instances, config, "instances", limits)
    return "".join(json.dumps(p) + "\n" for p in predictions)


def _json(body: bytes | str, field: str) -> Any:
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Problem(400, "Malformed JSON", f"{field}: {exc}", field=field) from None
    except RecursionError:  # "[[[[..." nested deeper than the parser recurses
        raise Problem(400, "Malformed JSON", f"{field}: nested too deeply", field=field) from None


def _predictions(
    model: LoadedModel, instances: Sequence[Instance], config: Configuration, field: str, limits: Limits
) -> list[dict[str, Any]]:
    if not instances:
        raise invalid(field, "no instances: send at least one")
    if len(instances) > limits.max_items:
        raise payload_too_large("instances", len(instances), limits.max_items, field)
    rows = sum(len(i.target) for i in instances)
    if rows > limits.max_history_rows:
        raise payload_too_large("target values", rows, limits.max_history_rows, field)
    quantiles = resolve_quantiles(model, config.quantiles, "configuration.quantiles")
    labels = _labels(config.quantiles, quantiles)
    ids = _item_ids(instances)
    histories, futures = [], []
    for k, instance in enumerate(instances):
        history, future = _instance_frames(model, instance, ids[k], f"{field}[{k}]")
        histories.append(history)
        futures.append(future)
    future = pd.concat(futures, ignore_index=True) if any(f is not None for f in futures) else None
    results = model.fresh(pd.concat(histories, ignore_index=True), future)
    levels = np.asarray(model.quantiles, dtype=np.float64)
    return [
        _prediction(results[ids[k]], quantiles, labels, config, levels, seed=k) for k in range(len(instances))
    ]


def _labels(asked: list[float] | None, quantiles: list[tuple[str, int]]) -> list[str]:
    """Echo the caller's quantile keys as DeepAR does ("0.1" stays "0.1", 0.5 becomes "0.5")."""
    return [label for label, _ in quantiles] if asked is None else [repr(float(q)) for q in asked]


def _item_ids(instances: Sequence[Instance]) -> list[str]:
    """The caller's item ids where unique; otherwise the instance's position names its series."""
    given = [None if i.item_id is None else str(i.item_id) for i in instances]
    counts = pd.Series([g for g in given if g is not None], dtype=object).value_counts()
    return [g if g is not None and counts[g] == 1 else f"__instance_{k:06d}" for k, g in enumerate(given)]


def _instance_frames(
    model: LoadedModel, instance: Instance, item: str, field: str
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The instance as history rows (and future rows of its known covariates)."""
    n = len(instance.target)
    if n == 0:
        raise invalid(f"{field}.target", "the target is empty: send the history to forecast from")
    target = np.array([np.nan if v is None else v for v in instance.target], dtype=np.float64)
    if np.isnan(target).all():
        raise invalid(f"{field}.target", "every target value is missing")
    stamps = _timestamps(model, instance.start, n + model.horizon, f"{field}.start")
    history = pd.DataFrame({ITEM_ID: item, TIMESTAMP: stamps[:n], TARGET: target})
    future = None
    dynamic = [*model.known_covariates, *model.past_covariates]
    feats = instance.dynamic_feat or []
    if len(feats) != len(dynamic):
        raise invalid(
            f"{field}.dynamic_feat",
            f"the model uses {len(dynamic)} time-varying covariate(s) {dynamic} (known ones first), "
            f"so each instance needs {len(dynamic)} dynamic_feat row(s); got {len(feats)}",
        )
    for j, (column, values) in enumerate(zip(dynamic, feats, strict=True)):
        if len(values) != n + model.horizon:
            raise invalid(
                f"{field}.dynamic_feat[{j}]",
                f"{column!r} needs {n + model.horizon} values (the {n} target steps plus the "
                f"{model.horizon} forecast steps); got {len(values)}",
            )
        history[column] = values[:n]
    if model.known_covariates:
        future = pd.DataFrame({ITEM_ID: item, TIMESTAMP: stamps[n:]})
        for column, values in zip(model.known_covariates, feats, strict=False):
            future[column] = values[n:]
    static = model.static_columns
    cats = instance.cat if instance.cat is not None else stored_statics(model, item)
    if len(cats) != len(static):
        raise invalid(
            f"{field}.cat",
            f"the model has {len(static)} static column(s) {list(static)}, so each instance needs "
            f"{len(static)} cat value(s) (an item the model was trained on may leave cat out); got {len(cats)}",
        )
    for column, value in zip(static, cats, strict=True):
        history[column] = value
    return history, future


def stored_statics(model: LoadedModel, item: str) -> list[Any]:
    """The static values the model holds for `item` (in `static_columns` order), or none.

    An instance of an item the model was trained on may leave `cat` out, as the recipe's
    DeepAR-style requests do (target only): its attributes are the ones it was trained with."""
    if not model.static_columns:
        return []
    table = _STATICS.get(model)
    if table is None:  # once per loaded model: a scan of its history per instance would not do
        history = model.forecaster.history_
        table = history.drop_duplicates(ITEM_ID).set_index(ITEM_ID)[list(model.static_columns)]
        _STATICS[model] = table
    return table.loc[item].tolist() if item in table.index else []


# Each loaded model's static values by item, built on first use and gone with the model.
_STATICS: weakref.WeakKeyDictionary[LoadedModel, pd.DataFrame] = weakref.WeakKeyDictionary()


def _timestamps(model: LoadedModel, start: str, periods: int, field: str) -> pd.DatetimeIndex:
    try:
        first = pd.Timestamp(start)
    except (ValueError, TypeError):
        raise invalid(
            field, f'{start!r} is not a timestamp (e.g. "2023-01-01" or "2023-01-01 00:00:00")'
        ) from None
    if pd.isna(first):
        raise invalid(field, f"{start!r} is not a timestamp")
    if first.tzinfo is not None:
        first = first.tz_convert("UTC").tz_localize(None)
    stamps = pd.date_range(first, periods=periods, freq=model.frequency)
    if stamps[0] != first:
        raise invalid(
            field, f"{start!r} is not on the model's {model.frequency!r} grid (the next step is {stamps[0]})"
        )
    offset = to_offset(model.frequency)
    if isinstance(offset, Tick):  # a fixed step: on the grid means in phase with the training data
        anchor = pd.Timestamp(model.forecaster.history_[TIMESTAMP].iloc[0])
        step = pd.Timedelta(offset)
        phase = (first - anchor) % step
        if phase != pd.Timedelta(0):
            raise invalid(
                field,
                f"{start!r} is not on the model's {model.frequency!r} grid: its steps fall at "
                f"{anchor + ((first - anchor) // step) * step} and {anchor + ((first - anchor) // step + 1) * step}",
            )
    return stamps


def _prediction(
    result: ItemForecast,
    quantiles: list[tuple[str, int]],
    labels: list[str],
    config: Configuration,
    levels: np.ndarray,
    seed: int,
) -> dict[str, Any]:
    """One instance's answer; samples use every trained level, not only the asked subset."""
    out: dict[str, Any] = {}
    if "mean" in config.output_types:
        out["mean"] = result.mean.tolist()
    if "quantiles" in config.output_types:
        out["quantiles"] = {
            label: result.quantiles[:, j].tolist() for label, (_, j) in zip(labels, quantiles, strict=True)
        }
    if "samples" in config.output_types:
        out["samples"] = sample_paths(result.quantiles, levels, config.num_samples, seed).tolist()
    return out


def sample_paths(quantiles: np.ndarray, levels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """`n` comonotone paths from per-step quantiles (horizon, levels): shape (n, horizon).

    One uniform u per path; each step's value is its quantile function at u, linear between
    `levels` and flat beyond the outermost ones.
    """
    u = np.random.default_rng(seed).uniform(size=n)
    if len(levels) == 1:
        return np.repeat(quantiles[:, 0][None, :], n, axis=0)
    k = np.clip(np.searchsorted(levels, u), 1, len(levels) - 1)
    lo, hi = levels[k - 1], levels[k]
    w = np.clip((u - lo) / (hi - lo), 0.0, 1.0)
    return quantiles[:, k - 1].T * (1 - w)[:, None] + quantiles[:, k].T * w[:, None]
