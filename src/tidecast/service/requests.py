"""What a forecast request is, and the checks it gets before any model runs.

The request and answer bodies (`ForecastRequest`, `ForecastResponse`), the `Limits` one
request may not pass, and the checks against what the model was trained for: the horizon,
the quantiles, and history or future rows as a frame with parsed timestamps in item order.
Each failed check is a `Problem` (RFC 9457) naming the offending field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, TypeVar

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from tidecast.data.grid import TimeGrid
from tidecast.data.item_keys import SEPARATOR, id_strings, item_parts
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.data.timestamps import TimestampFormatError, parse_timestamp_text
from tidecast.service.problems import entry, from_validation_error, invalid
from tidecast.wording import counted, plural


class Trained(Protocol):
    """What the request checks read of a loaded model (a `predictor.LoadedModel`); a protocol
    rather than an import, so the checks do not import the predictor that imports them."""

    @property
    def horizon(self) -> int: ...

    @property
    def quantiles(self) -> Sequence[float]: ...


QUANTILE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Limits:
    """What one request may ask for; beyond it the answer is 413, not a slow server."""

    max_items: int = 1_000
    max_history_rows: int = 500_000


DEFAULT_LIMITS = Limits()


# ---- the request ----------------------------------------------------------------------------
def _missing_as_none(value: Any) -> Any:
    """A missing target: null, or the string "NaN" as DeepAR writes it. A bare NaN (which
    Python's json writes for a missing value, and JSON does not have) is refused naming them."""
    if isinstance(value, str) and value.strip().lower() == "nan":
        return None
    if isinstance(value, float) and value != value:
        raise ValueError('NaN is not JSON: write a missing value as null (or "NaN")')
    return value


FiniteNumber = Annotated[float, Field(allow_inf_nan=False)]
# A target is a finite number or missing: a missing observation, kept missing as in training
# data (filled by the model's filling plan), in history rows and SageMaker instances alike.
TargetValue = Annotated[FiniteNumber | None, BeforeValidator(_missing_as_none)]


class HistoryRow(BaseModel):
    """One observation: item, timestamp, the target (a finite number, or null where it is
    missing), then the model's covariates by name.

    The model's own column names (``target_value``...) are accepted for the three canonical
    ones when the request is parsed with `LoadedModel.parse_request`.
    """

    model_config = ConfigDict(extra="allow")

    item_id: str | int
    timestamp: str | int
    target: TargetValue

    @model_validator(mode="before")
    @classmethod
    def _user_names(cls, data: Any, info: ValidationInfo) -> Any:
        return _canonical_names(data, info)


class FutureRow(BaseModel):
    """Known covariates at one future step of one item."""

    model_config = ConfigDict(extra="allow")

    item_id: str | int
    timestamp: str | int

    @model_validator(mode="before")
    @classmethod
    def _user_names(cls, data: Any, info: ValidationInfo) -> Any:
        return _canonical_names(data, info)


def _canonical_names(data: Any, info: ValidationInfo) -> Any:
    """Rename the model's own item/timestamp/target column names (from the validation
    context) to the canonical ones, unless the row already uses the canonical name."""
    aliases: dict[str, str] = (info.context or {}).get("aliases") or {}
    if not aliases or not isinstance(data, dict):
        return data
    out = dict(data)
    for user, canonical in aliases.items():
        parts = item_parts(user)
        if len(parts) > 1 and canonical not in out and user not in out and all(p in out for p in parts):
            # an item key of several columns given as its parts: joined as on reading a file
            out[canonical] = SEPARATOR.join(id_strings(np.array([out[p] for p in parts], dtype=object)))
        elif user != canonical and user in out and canonical not in out:
            out[canonical] = out.pop(user)
    return out


Request = TypeVar("Request", bound=BaseModel)
ROW_LISTS = ("history", "future", "scenario_future")  # the request fields that hold rows


def validate_request(kind: type[Request], body: Any, aliases: Mapping[str, str]) -> Request:
    """`body` (parsed JSON) as a `kind` whose rows may use the model's own column names
    (`aliases`: the user's name -> the canonical one); a 422 otherwise, naming a row's item,
    timestamp or target in the user's names, as the caller wrote them."""
    try:
        return kind.model_validate(body, context={"aliases": aliases})
    except ValidationError as exc:
        raise from_validation_error(exc, describe=lambda error: _row_error(error, body, aliases)) from None


_ROLES = {ITEM_ID: "item", TIMESTAMP: "timestamp", TARGET: "target"}


def _row_error(error: ErrorDetails, body: Any, aliases: Mapping[str, str]) -> dict[str, str] | None:
    """A row's error on a canonical field in the model's column names: a missing item of
    columns Store,Dept is "history[0]: no 'Dept' (this model's item columns are Store, Dept)",
    a bad value points at the key the row holds it under; None for any other error."""
    location = error["loc"]
    if len(location) != 3 or location[0] not in ROW_LISTS or not isinstance(location[1], int):
        return None
    rows, k, field = location
    user = next((u for u, c in aliases.items() if c == field), None)
    if user is None:
        return None
    row = _raw_row(body, str(rows), int(k))
    if error["type"] != "missing":
        return entry([rows, k, user if user in row else field], error["msg"])
    parts = item_parts(user) if field == ITEM_ID else (user,)
    absent = [p for p in parts if p not in row] or list(parts)
    columns = f"columns are {', '.join(parts)}" if len(parts) > 1 else "column"
    hint = "; null where its value is missing" if field == TARGET else ""
    return entry(
        [rows, k], f"no {' or '.join(map(repr, absent))} (this model's {_ROLES[str(field)]} {columns}{hint})"
    )


def _raw_row(body: Any, rows: str, k: int) -> dict[str, Any]:
    """Row `k` of the body's list `rows` as sent (before the canonical renames), or {}."""
    listed = body.get(rows) if isinstance(body, dict) else None
    row = listed[k] if isinstance(listed, list) and k < len(listed) else None
    return row if isinstance(row, dict) else {}


class ForecastRequest(BaseModel):
    """Forecast stored items (``item_ids``) or fresh ``history``; optionally a shorter horizon,
    a subset of the trained quantiles and the known covariates over the horizon (``future``).

    The recipe's function body ``{"item_id": "A", "forecast_horizon": 7}`` is accepted too.
    """

    model_config = ConfigDict(extra="forbid")

    item_ids: list[str] | None = None
    history: list[HistoryRow] | None = None
    future: list[FutureRow] | None = None
    horizon: int | None = Field(default=None, ge=1)
    quantiles: list[float] | None = None
    date_format: str | None = Field(
        default=None,
        max_length=64,
        pattern="%",
        description="How the timestamps of history and future are written, in strftime codes "
        "(e.g. %d/%m/%Y); without it one format is inferred per column, ambiguous dates are a 422",
    )

    @model_validator(mode="before")
    @classmethod
    def _recipe_shape(cls, data: Any) -> Any:
        if isinstance(data, dict) and ("item_id" in data or "forecast_horizon" in data):
            data = dict(data)
            if "item_id" in data:
                item = data.pop("item_id")
                data["item_ids"] = [item] if isinstance(item, str | int) else item
            if "forecast_horizon" in data:
                data["horizon"] = data.pop("forecast_horizon")
        return data

    @field_validator("item_ids", mode="before")
    @classmethod
    def _item_ids_as_text(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
        return value

    @field_validator("quantiles", mode="before")
    @classmethod
    def _quantile_numbers(cls, value: Any) -> Any:
        if isinstance(value, str):  # "0.1,0.5"
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("quantiles")
    @classmethod
    def _quantile_range(cls, value: list[float] | None) -> list[float] | None:
        for q in value or []:
            if not 0.0 < q < 1.0:
                raise ValueError(f"quantiles must lie strictly between 0 and 1, got {q}")
        return value


class ItemForecastOut(BaseModel):
    item_id: str
    timestamps: list[str]
    mean: list[float]
    quantiles: dict[str, list[float]]


class ForecastResponse(BaseModel):
    forecasts: list[ItemForecastOut]


# ---- the request's checks --------------------------------------------------------------------
def resolve_horizon(model: Trained, horizon: int | None, field: str = "horizon") -> int:
    if horizon is None:
        return model.horizon
    if horizon > model.horizon:
        raise invalid(
            field, f"the model was trained for at most {counted(model.horizon, 'step')}, {horizon} were asked"
        )
    return horizon


def resolve_quantiles(
    model: Trained, asked: Sequence[float] | None, field: str = "quantiles"
) -> list[tuple[str, int]]:
    """(label, index into the trained quantiles) for each asked quantile, in the asked order."""
    if asked is None:
        return [(_label(q), j) for j, q in enumerate(model.quantiles)]
    out = []
    trained = np.asarray(model.quantiles)
    for k, q in enumerate(asked):
        j = int(np.argmin(np.abs(trained - q)))
        if abs(trained[j] - q) > QUANTILE_TOLERANCE:
            raise invalid(
                f"{field}[{k}]",
                f"quantile {q:g} was not trained; the model has {[_label(t) for t in model.quantiles]}",
            )
        out.append((_label(q), j))
    return out


def _label(q: float) -> str:
    """0.1 -> "0.1", 0.025 -> "0.025": the quantile as its shortest decimal."""
    return repr(float(q))


def request_frame(rows: Sequence[BaseModel], field: str, date_format: str | None = None) -> pd.DataFrame:
    """Rows (with their extra covariate columns) as a frame; timestamps parsed, item ids text.

    Timestamps follow the ingest's rule (`data.timestamps`): one format for the whole column,
    `date_format` when given, so 02/01/2023 and 13/01/2023 are never read two ways."""
    frame = pd.DataFrame([r.model_dump() for r in rows])
    frame[ITEM_ID] = frame[ITEM_ID].astype(str)
    if TARGET in frame:  # a missing target (None) as NaN, even where every one is missing
        frame[TARGET] = frame[TARGET].astype(np.float64)
    try:
        stamps = parse_timestamp_text(frame[TIMESTAMP].astype(str), date_format)
    except TimestampFormatError as exc:
        k = int(exc.positions[0]) if len(exc.positions) else 0
        raise invalid(f"{field}[{k}].timestamp", str(exc)) from None
    bad = np.flatnonzero(stamps.isna().to_numpy())
    if len(bad):
        k = int(bad[0])
        raise invalid(f"{field}[{k}].timestamp", f"{rows[k].timestamp!r} is not a timestamp")  # type: ignore[attr-defined]
    if getattr(stamps.dtype, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    frame[TIMESTAMP] = stamps
    return frame


def check_order(frame: pd.DataFrame, field: str) -> None:
    """Within each item, timestamps strictly increase in row order: no duplicates, no shuffle."""
    items = frame[ITEM_ID].to_numpy()
    stamps = frame[TIMESTAMP].to_numpy(dtype="datetime64[ns]")
    same = items[1:] == items[:-1]
    back = np.flatnonzero(same & (stamps[1:] <= stamps[:-1]))
    if len(back):
        k = int(back[0]) + 1
        what = "repeats" if stamps[k] == stamps[k - 1] else "goes back from"
        raise invalid(
            f"{field}[{k}].timestamp",
            f"the timestamp of item {items[k]!r} {what} the previous row's: rows of an item must be in "
            "strictly increasing time order",
        )
    # an item's rows must be contiguous too, or "previous row" would not be its previous step
    starts = np.r_[0, np.flatnonzero(~same) + 1]
    seen = pd.Index(items[starts])
    if seen.has_duplicates:
        k = int(starts[np.flatnonzero(seen.duplicated())[0]])
        own = items == items[k]
        repeated = np.isin(stamps[k:][own[k:]], stamps[:k][own[:k]])
        n = int(repeated.sum())
        again = plural(n, "repeats a timestamp", "repeat timestamps")
        why = f" ({n} of them {again} it already had)" if n else ""
        raise invalid(
            f"{field}[{k}].item_id",
            f"the rows of item {items[k]!r} are not contiguous: they start again at row {k}{why}; "
            "an item's rows must be together, in time order",
        )


def check_grid(frame: pd.DataFrame, grid: TimeGrid, field: str) -> None:
    """Every timestamp lies on the model's time grid: a Friday in a model of Thursday weeks
    (W-THU) would be read as its week's Thursday and move the forecast without a word."""
    stamps = frame[TIMESTAMP].to_numpy(dtype="datetime64[ns]")
    off = np.flatnonzero(~grid.aligned(stamps))
    if len(off):
        k = int(off[0])
        ordinal = grid.ordinals(stamps[k : k + 1])
        before, after = (pd.Timestamp(t) for t in grid.labels(np.r_[ordinal - 1, ordinal]))
        if after < pd.Timestamp(stamps[k]):  # labelled at the period's start: the next label follows
            before, after = after, pd.Timestamp(grid.labels(ordinal + 1)[0])
        raise invalid(
            f"{field}[{k}].timestamp",
            f"{pd.Timestamp(stamps[k]).isoformat()} is not on the model's {grid.freq!r} grid: its steps "
            f"fall at {before.isoformat()} and {after.isoformat()} "
            f"({counted(len(off), 'row')} {plural(len(off), 'is')} off it)",
        )
