"""The forecast engine behind the service's endpoints: a loaded model, a request, a forecast.

Nothing here knows about HTTP or the database. `LoadedModel` wraps an `AutoForecaster` read
from a model folder, with its caches; `answers.forecast(model, request)` validates a
`ForecastRequest` against it and shapes the answer. `EndpointTable` maps endpoint names to
loaded models and swaps them atomically.

Two ways to forecast:

* stored history (``item_ids``): the items' slice of the training history is forecast with
  `AutoForecaster.predict_canonical` (never the whole panel: one item must cost milliseconds,
  not a forecast of every item). Without future covariates the result is deterministic and a
  model version is immutable, so each item's forecast is computed once, lazily, and cached;
  `answers.cached_forecast_json` answers a request whose items are all cached with each item's JSON
  serialised once per answer shape, the same bytes `forecast` would give.
* fresh history (``history`` rows): forecast from the caller's newer data without refitting,
  exactly as `AutoForecaster.predict(data=...)` does.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from tidecast.automl.forecaster import AutoForecaster
from tidecast.data.arrays import SeriesArrays, ranges, series_indptr
from tidecast.data.grid import make_grid
from tidecast.data.item_keys import item_parts
from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, quantile_columns
from tidecast.errors import ConfigError, DataError, ModelError
from tidecast.service.problems import Problem, from_tidecast_error
from tidecast.service.requests import DEFAULT_LIMITS, ForecastRequest, ItemForecastOut, validate_request

WARM_BATCH = 1_000  # items per model call when warming the cache
WARM_SECONDS = 30.0  # warming stops after this; the items left are forecast on first request
ANSWER_SHAPES = 8  # (horizon, quantiles) combinations whose per-item JSON is kept; oldest go first
ANSWER_BYTES = 256 * 1024 * 1024  # per model: past this, item answers are serialised, not kept
ANSWER_HEAD, ANSWER_SEPARATOR, ANSWER_TAIL = b'{"forecasts":[', b",", b"]}"  # ForecastResponse's JSON


# ---- the loaded model -------------------------------------------------------------------------
class ItemForecast(NamedTuple):
    """One item's forecast at the trained horizon and quantiles."""

    timestamps: list[str]
    mean: np.ndarray  # (horizon,)
    quantiles: np.ndarray  # (horizon, n_quantiles)


# What an answer asks for: (horizon, ((label, index into the trained quantiles), ...)).
AnswerShape = tuple[int, tuple[tuple[str, int], ...]]


class LoadedModel:
    """An `AutoForecaster` ready to serve: its task, an index of its stored history, a cache.

    `item_ids` is a frozenset for constant-time unknown-item checks; `_slices` gives each
    item's rows in the (sorted) history so a request forecasts only its own items.
    """

    def __init__(self, forecaster: AutoForecaster, path: str | Path | None = None, name: str = "") -> None:
        if not hasattr(forecaster, "members_"):
            raise ModelError("the AutoForecaster is not fitted: nothing to serve")
        spec = forecaster.spec_
        self.forecaster = forecaster
        self.path = None if path is None else Path(path)
        self.name = name
        self.horizon = int(forecaster.horizon)
        self.quantiles: tuple[float, ...] = tuple(float(q) for q in forecaster.quantiles_)
        self.frequency = spec.freq
        # The training data's time grid, in its phase (data recorded at 09:00 keeps 09:00).
        self.grid = make_grid(spec.freq, forecaster.history_[TIMESTAMP].to_numpy()[:1])
        self.known_covariates = spec.known_covariates
        self.past_covariates = spec.past_covariates
        self.static_columns = spec.static_columns
        self.loaded_at = datetime.now(UTC)
        self.load_seconds = 0.0  # set by `load`: reading and verifying the folder
        self._slices = _item_slices(forecaster.history_)
        self.item_ids = frozenset(self._slices)
        self.item_parts = item_parts(spec.item_col)  # the columns an id joins, for the 404's hint
        self.example_item = next(iter(self._slices), "")
        # The plan the training data held after its history (`data.ahead`), sliced by item as
        # the history is, so a request reads its items' rows, not the whole catalogue's plan.
        plan = getattr(forecaster, "data_future_", None)
        self._plan = plan if plan is not None and len(plan) else None
        self._plan_slices = _item_slices(self._plan) if self._plan is not None else {}
        self._cache: dict[str, ItemForecast] = {}
        self._answers: dict[AnswerShape, dict[str, bytes]] = {}  # item answers as JSON, by shape
        self._answer_bytes = 0
        self._answers_lock = threading.Lock()
        # Called with every batch of forecasts the model computes (the forecast log's hand-off).
        self.observer: Callable[[Mapping[str, ItemForecast]], None] | None = None
        self._aliases = {
            spec.item_col: ITEM_ID,
            spec.timestamp_col: TIMESTAMP,
            spec.target_col: TARGET,
        }

    @classmethod
    def load(cls, path: str | Path, name: str = "", manifest_digest: str | None = None) -> LoadedModel:
        """Load a model folder (digests checked by `AutoForecaster.load`, the manifest's against
        `manifest_digest`, the registry's record, when given)."""
        started = time.perf_counter()
        loaded = cls(AutoForecaster.load(path, manifest_digest=manifest_digest), path, name)
        loaded.load_seconds = time.perf_counter() - started
        return loaded

    def keep_cached(self, previous: LoadedModel, exclude: set[str]) -> None:
        """Take over `previous`'s cached forecasts, but for the `exclude`d items."""
        self._cache = {k: v for k, v in previous._cache.items() if k not in exclude}

    def parse_request(self, body: Any) -> ForecastRequest:
        """Validate a JSON body into a request, accepting the model's own column names."""
        return validate_request(ForecastRequest, body, self._aliases)

    # ---- forecasting --------------------------------------------------------------------
    def warm(self, budget_seconds: float = WARM_SECONDS, batch: int = WARM_BATCH) -> int:
        """Forecast every stored item into the cache, `batch` items per model call, until done
        or `budget_seconds` have passed; returns how many items are cached.

        A lazily filled cache makes the first request for each item a model call (tens of
        milliseconds for one item, about as long as a batch of hundreds), and under load those
        misses queue behind each other; one batched pass at deploy time costs far less. A model
        with known covariates cannot forecast without the caller's future, so nothing is warmed.
        Best effort: a batch the model cannot forecast is left to the requests, which then get
        the model's error as a problem of their own.
        """
        if self.known_covariates:
            return len(self._cache)
        started = time.perf_counter()
        todo = sorted(self.item_ids - self._cache.keys(), key=lambda i: self._slices[i])
        for k in range(0, len(todo), batch):
            if time.perf_counter() - started > budget_seconds:
                break
            try:
                self.stored(todo[k : k + batch], None)
            except Problem:
                continue
        return len(self._cache)

    def answers_from_cache(self, request: ForecastRequest) -> bool:
        """Whether `forecast(self, request)` is only dictionary lookups (stored items, all
        cached, nothing else asked): cheap enough to run on the event loop, no thread hop."""
        ids = request.item_ids
        return (
            ids is not None
            and request.history is None
            and request.future is None
            and 0 < len(ids) <= DEFAULT_LIMITS.max_items
            and all(i in self._cache for i in ids)
        )

    def answer_json(self, items: Sequence[str], horizon: int, quantiles: Sequence[tuple[str, int]]) -> bytes:
        """The JSON of `forecast`'s answer for cached stored `items` (checked, each once) at
        `horizon` and `quantiles` (as `resolve_horizon`/`resolve_quantiles` give them).

        Each item's part is serialised by pydantic as `forecast`'s answer would be, once per
        answer shape, and kept: a model version never changes, so neither does the part. At
        most `ANSWER_SHAPES` shapes and `ANSWER_BYTES` bytes are kept; past that, parts are
        serialised for the request alone.
        """
        parts = self._answer_parts((horizon, tuple(quantiles)))
        out = []
        for item in items:
            part = parts.get(item)
            if part is None:
                answer = shape_item(item, self._cache[item], horizon, quantiles)
                part = answer.model_dump_json(warnings=False).encode()
                if self._answer_bytes + len(part) <= ANSWER_BYTES:
                    # a race (a big body answered in a thread) serialises twice, the same
                    # bytes, and may count them twice: the bound errs on the safe side
                    parts[item] = part
                    self._answer_bytes += len(part)
            out.append(part)
        return ANSWER_HEAD + ANSWER_SEPARATOR.join(out) + ANSWER_TAIL

    def _answer_parts(self, shape: AnswerShape) -> dict[str, bytes]:
        parts = self._answers.get(shape)
        if parts is not None:
            return parts
        with self._answers_lock:
            if shape not in self._answers and len(self._answers) >= ANSWER_SHAPES:
                dropped = self._answers.pop(next(iter(self._answers)))
                self._answer_bytes -= sum(len(part) for part in dropped.values())
            return self._answers.setdefault(shape, {})

    def stored(
        self, items: Sequence[str], future: pd.DataFrame | None, steps: int | None = None
    ) -> dict[str, ItemForecast]:
        """Forecasts from the stored history, cached when they depend on nothing else."""
        cacheable = future is None or not self.known_covariates
        todo = [i for i in items if i not in self._cache] if cacheable else list(items)
        computed: dict[str, ItemForecast] = {}
        if todo:
            panel = _rows_of(self.forecaster.history_, self._slices, todo)
            planned = [i for i in todo if i in self._plan_slices]
            ahead = (
                _rows_of(self._plan, self._plan_slices, planned)
                if self._plan is not None and planned
                else None
            )
            computed = self._predict(panel, future, field="future", ahead=ahead, steps=steps)
            if cacheable:
                self._cache.update(computed)  # dict updates are atomic; a race computes twice
        return {i: computed[i] if i in computed else self._cache[i] for i in items}

    def fresh(
        self, history: pd.DataFrame, future: pd.DataFrame | None, steps: int | None = None
    ) -> dict[str, ItemForecast]:
        """Forecasts from the caller's history (canonical column names), without refitting."""
        frame = history.rename(columns={v: k for k, v in self._aliases.items()})
        try:
            panel, ahead = self.forecaster.prepare_newer(frame)  # its plan rows, if it holds any
        except (DataError, ConfigError) as exc:
            raise from_tidecast_error(exc, "history") from None
        return self._predict(panel, future, field="future", ahead=ahead, steps=steps)

    def _predict(
        self,
        panel: pd.DataFrame,
        future: pd.DataFrame | None,
        field: str,
        ahead: pd.DataFrame | None = None,
        steps: int | None = None,  # the steps the request reads (its future need cover no more)
    ) -> dict[str, ItemForecast]:
        forecaster = self.forecaster
        try:
            # Built once, as `AutoForecaster.predict` does: filling the future and every member
            # read these arrays; handing both the frame would build them twice per request.
            arrays = SeriesArrays.from_spec(panel, forecaster.spec_)
            user_future = None
            if future is not None and self.known_covariates:
                user_future = future.rename(
                    columns={ITEM_ID: forecaster.spec_.item_col, TIMESTAMP: forecaster.spec_.timestamp_col}
                )
            canonical_future = forecaster.future_for(user_future, arrays, ahead, steps)
            frame = forecaster.predict_canonical(arrays, canonical_future)
        except (DataError, ConfigError) as exc:
            raise from_tidecast_error(exc, field) from None
        except ModelError as exc:
            raise Problem(422, "Model cannot forecast this request", str(exc), field=field) from None
        results = _split(frame, self.horizon, self.quantiles)
        if self.observer is not None:
            self.observer(results)
        return results


def _item_slices(frame: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """Each item's (start, end) rows in a frame grouped by item (the history, its plan)."""
    items = frame[ITEM_ID].to_numpy()
    return {str(items[s]): (int(s), int(e)) for s, e in pairwise(series_indptr(items))}


def _rows_of(
    frame: pd.DataFrame, slices: Mapping[str, tuple[int, int]], items: Sequence[str]
) -> pd.DataFrame:
    """The items' rows of `frame`, in its order: a view when they are adjacent (one item, or a
    run of neighbours), else one gather of their ranges."""
    bounds = np.array(sorted(slices[i] for i in items), dtype=np.int64)
    if np.array_equal(bounds[1:, 0], bounds[:-1, 1]):
        return frame.iloc[int(bounds[0, 0]) : int(bounds[-1, 1])]
    rows = ranges(bounds[:, 0], bounds[:, 1] - bounds[:, 0])
    return frame.take(rows).reset_index(drop=True)


def _split(frame: pd.DataFrame, horizon: int, quantiles: Sequence[float]) -> dict[str, ItemForecast]:
    """The long forecast frame (item-major, `horizon` rows each) as per-item arrays."""
    n = len(frame) // horizon
    items = frame[ITEM_ID].to_numpy()[::horizon]
    mean = frame[MEAN].to_numpy(dtype=np.float64).reshape(n, horizon)
    qs = frame[quantile_columns(quantiles)].to_numpy(dtype=np.float64).reshape(n, horizon, len(quantiles))
    stamps = np.datetime_as_string(frame[TIMESTAMP].to_numpy(dtype="datetime64[s]"), unit="s").reshape(
        n, horizon
    )
    return {str(items[k]): ItemForecast(stamps[k].tolist(), mean[k], qs[k]) for k in range(n)}


def shape_item(
    item: str, result: ItemForecast, horizon: int, quantiles: Sequence[tuple[str, int]]
) -> ItemForecastOut:
    return ItemForecastOut.model_construct(
        item_id=item,
        timestamps=result.timestamps[:horizon],
        mean=floats(result.mean[:horizon]),
        quantiles={label: floats(result.quantiles[:horizon, j]) for label, j in quantiles},
    )


def floats(values: np.ndarray) -> list[float]:
    """Plain floats for JSON; a non-finite forecast value (a broken member) becomes None."""
    out = values.tolist()
    # a finite sum means every value is finite (an overflowing sum only takes the slow path);
    # cheaper than a numpy reduction on arrays this short, and this runs 4 times per item
    if not math.isfinite(sum(out)):
        out = [v if math.isfinite(v) else None for v in out]
    return out
