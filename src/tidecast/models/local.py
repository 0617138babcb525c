"""Family base for local models: one small model per series, fitted in parallel over items.

A subclass writes `_fit_series(y) -> state` (any picklable object, or None for models with
nothing to learn) and `_forecast_series(state, y, horizon, quantiles) -> (mean, quantiles)`.
Keeping the fitted state per item lets `predict` forecast from newer history with the stored
parameters (statsforecast's `forward`), which is how backtest windows after the first and
forecasts from fresh history avoid refitting. Items never seen in `fit` are fitted on the fly.
Series shorter than `min_history` (`tags.min_length` by default) get `_fallback_series` and
are listed in the prediction's `fallback`.

Per-item work runs through `parallel_map`: forked processes by default (where the work is
worth a fork; cheap items, such as a naive model's forecasts, stay in the calling process),
or the chunks of a cluster's runner while one is active (`tidecast.distributed.use_dask`
sets it), so a model has one code path whichever machine does the work.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextvars import ContextVar
from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from tidecast.data.arrays import SeriesArrays
from tidecast.errors import TimeLimitExceeded
from tidecast.models.base import Forecaster, Prediction

SeriesForecast = tuple[np.ndarray, np.ndarray]

# Below this many series the cost of starting worker processes outweighs the gain.
MIN_SERIES_PER_WORKER = 8
# What forking workers costs in a process that holds a backtest's arrays: on Favorita (54
# series, 2 cores) Naive's three window forecasts took 0.28 s each forked against 0.03 s in
# the calling process, and its 7-item chunks 4-38 ms in each child. Work that would save
# less than this by spreading over the workers runs where it is.
FORK_SECONDS = 0.25
# How long `parallel_map` times the first items here before deciding whether to fork: so
# long that a cheap model's items are measured, so short that a costly model loses little
# to one core working alone.
PROBE_SECONDS = 0.05
# At most this many items, spread over the panel, are timed by the probe (`_spread`).
PROBE_ITEMS = 16
# A series' forecast with a value (mean or any quantile) beyond this many times the largest
# |value| of its history has blown up, and the series gets the model's fallback instead
# (`blown_up`). MSTL's trend model (statsforecast's AutoETS "ZZN") picks a multiplicative
# error on a declining weekly series with one spike of 100x its level, and its interval
# grows by about 15x a step: on dominicks_oj at a 39-week horizon, after 59 weeks, the p90
# of brand 7 in five stores reached 1e32-1e44 (wQL 2.5e8 on the screening pilot). No
# finite check catches that, and one such series is enough to drop a model from the
# ensemble or, once weighted, to wreck its forecast. 100x is far beyond any growth a
# local model extrapolates honestly (a linear trend from 1 to 10 over 10 steps reaches 11x
# after 100 more), so only a numerical failure crosses it.
BLOWN_UP = 100.0


def blown_up(result: SeriesForecast, y: np.ndarray) -> bool:
    """Whether a series' forecast (mean, quantiles) holds a value beyond `BLOWN_UP` times the
    largest |value| of its history `y` (at least 1, so a series of zeros may forecast small
    sales). A non-finite value counts too (its peak is NaN or inf, never within the bound)."""
    observed = np.abs(y[np.isfinite(y)])
    bound = BLOWN_UP * max(float(observed.max(initial=0.0)), 1.0)
    peak = np.abs(np.concatenate([np.ravel(part) for part in result]).astype(np.float64)).max(initial=0.0)
    return not peak <= bound


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def run_chunk(
    func: Callable[[int], Any],
    indices: Sequence[int],
    deadline: float | None,
    label: str,
    seconds: float | None = None,
) -> list[Any]:
    """`[func(i) for i in indices]` with one BLAS thread, stopping once past `deadline`.

    With `seconds`, it stops early once that long has passed (after one item at least) and
    returns the items done so far, in order: a probe of what the items cost.
    """
    out = []
    started = time.perf_counter()
    # One BLAS thread per worker: per-series matrices are tiny, and two OpenBLAS threads were
    # measured 200x slower than one on them (and oversubscribe the cores across workers).
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")
        for i in indices:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeLimitExceeded(f"{label} ran past its time budget")
            out.append(func(i))
            if seconds is not None and time.perf_counter() - started > seconds:
                break
    return out


# The task of a worker process: set by `parallel_map` before forking, read by the children.
_TASK: tuple[Callable[[int], Any], float | None, str] | None = None


def _worker(indices: Sequence[int]) -> list[Any]:
    assert _TASK is not None
    func, deadline, label = _TASK
    return run_chunk(func, indices, deadline, label)


class ChunkRunner(Protocol):
    """Runs `run_chunk` over chunks of item indices on other machines (e.g. a Dask cluster)."""

    def slots(self) -> int:
        """How many chunks can run at once (the cluster's worker threads)."""
        ...

    def __call__(
        self, func: Callable[[int], Any], chunks: list[list[int]], deadline: float | None, label: str
    ) -> list[list[Any]]:
        """The results of every chunk, in the order of `chunks`."""
        ...


# The runner of the calling context, if any; a context variable so that a cluster opened
# for one run (or one thread) is not used by another.
_RUNNER: ContextVar[ChunkRunner | None] = ContextVar("tidecast_chunk_runner", default=None)


@contextlib.contextmanager
def chunk_runner(runner: ChunkRunner) -> Iterator[ChunkRunner]:
    """Send the chunks of every `parallel_map` in this context to `runner`."""
    token = _RUNNER.set(runner)
    try:
        yield runner
    finally:
        _RUNNER.reset(token)


def parallel_map(
    func: Callable[[int], Any], n: int, n_jobs: int, deadline: float | None, label: str
) -> list[Any]:
    """`[func(i) for i in range(n)]` over forked worker processes, in order.

    Forking shares the arrays `func` closes over without pickling them; only the results
    travel back. With one job, or few series, it runs in this process; otherwise items spread
    over the panel (`_spread`) run here for `PROBE_SECONDS`, and the rest too where spreading them over the workers
    would save less than forking costs (`FORK_SECONDS`): a naive model's forecasts, say. Inside
    `chunk_runner` the runner's slots replace `n_jobs` and the chunks go to it instead of
    forked processes.
    """
    runner = _RUNNER.get()
    jobs = min(runner.slots() if runner else n_jobs, max(1, n // MIN_SERIES_PER_WORKER))
    if jobs <= 1:
        return run_chunk(func, range(n), deadline, label)
    if runner is not None:
        return [r for chunk in runner(func, _chunks(range(n), jobs), deadline, label) for r in chunk]
    started = time.perf_counter()
    probe = _spread(n)
    head = run_chunk(func, probe, deadline, label, seconds=PROBE_SECONDS)
    per_item = (time.perf_counter() - started) / len(head)
    probed = set(probe[: len(head)])
    rest = [i for i in range(n) if i not in probed]
    if per_item * len(rest) * (1 - 1 / jobs) <= FORK_SECONDS:
        others = run_chunk(func, rest, deadline, label)
    else:
        others = [r for chunk in _fork_map(func, _chunks(rest, jobs), jobs, deadline, label) for r in chunk]
    out: list[Any] = [None] * n
    for i, r in zip(probe[: len(head)], head, strict=True):  # where the probe stopped
        out[i] = r
    for i, r in zip(rest, others, strict=True):
        out[i] = r
    return out


def _spread(n: int) -> list[int]:
    """Up to `PROBE_ITEMS` indices spread evenly over 0..n-1: the items the probe times.

    The panel's first items are a poor sample of what its items cost: sorted by name, a store
    panel starts with a department that sold nothing for a year (a 4 ms Theta fit against 19 ms
    for the rest), and a probe of those kept a 100-series screening trial on one core.
    """
    return sorted({round(float(x)) for x in np.linspace(0, n - 1, min(n, PROBE_ITEMS))})


def _chunks(indices: Sequence[int] | range, jobs: int) -> list[list[int]]:
    """`indices` in about four chunks per job (so a slow chunk does not hold one back)."""
    return [c.tolist() for c in np.array_split(np.asarray(indices, dtype=np.int64), jobs * 4) if len(c)]


def _fork_map(
    func: Callable[[int], Any], chunks: list[list[int]], jobs: int, deadline: float | None, label: str
) -> list[list[Any]]:
    """The chunks' results from `jobs` forked processes, or from this process where fork is
    not the start method (e.g. inside a Dask worker, which is spawned and may not fork)."""
    global _TASK
    if multiprocessing.get_start_method(allow_none=True) not in (None, "fork"):
        return [run_chunk(func, chunk, deadline, label) for chunk in chunks]
    _TASK = (func, deadline, label)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            return list(pool.map(_worker, chunks))
    finally:
        _TASK = None


class LocalForecaster(Forecaster):
    """Template for per-series models; see the module docstring for the hooks."""

    n_jobs: int | None = None
    max_history: int | None = None
    # Modules imported in this process before the workers fork, so each child inherits them
    # rather than paying the import itself (statsforecast's takes about two seconds).
    preload: ClassVar[tuple[str, ...]] = ()

    states_: dict[str, Any]

    # ---- hooks for subclasses ----------------------------------------------------------
    def _fit_series(self, y: np.ndarray) -> Any:
        return None

    def _forecast_series(
        self, state: Any, y: np.ndarray, horizon: int, quantiles: tuple[float, ...]
    ) -> SeriesForecast:
        raise NotImplementedError

    def _fallback_series(self, y: np.ndarray, horizon: int, quantiles: tuple[float, ...]) -> SeriesForecast:
        from tidecast.models.intervals import naive_fallback

        return naive_fallback(y, horizon, quantiles)

    @property
    def _stateful(self) -> bool:
        return type(self)._fit_series is not LocalForecaster._fit_series

    # ---- per-item hooks for models that need more than the values ---------------------
    def _context(self, data: SeriesArrays, fitting: bool, future: pd.DataFrame | None = None) -> Any:
        """Anything computed once per fit or predict call and shared by every item (e.g. a
        holiday table, the covariate rows of the panel and of `future`, the horizon's known
        covariates at prediction); `None` by default."""
        return None

    def _fit_item(self, y: np.ndarray, stamps: np.ndarray, i: int, context: Any) -> Any:
        return self._fit_series(y) if len(y) >= self.min_history else None

    def _forecast_item(
        self,
        state: Any,
        y: np.ndarray,
        stamps: np.ndarray,
        i: int,
        context: Any,
        horizon: int,
        quantiles: tuple[float, ...],
    ) -> SeriesForecast:
        if state is None and self._stateful:  # an item not seen in fit
            state = self._fit_series(y)
        return self._forecast_series(state, y, horizon, quantiles)

    # ---- template ---------------------------------------------------------------------
    def _window(self, data: SeriesArrays, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Values and timestamps of series `i`, cut to the last `max_history` steps."""
        start, end = int(data.indptr[i]), int(data.indptr[i + 1])
        if self.max_history is not None:
            start = max(start, end - self.max_history)
        return data.values[start:end], data.timestamps[start:end]

    def _fit(self, data: SeriesArrays, deadline: float | None) -> None:
        self.states_ = {}
        if not self._stateful:
            return
        self._fit_states(data, deadline, self._context(data, fitting=True))

    def _fit_states(self, data: SeriesArrays, deadline: float | None, context: Any) -> None:
        """Fit every item with `context` (a subclass that needs the fit's context again after
        the items, e.g. to calibrate, builds it once and calls this)."""

        self._preload()

        def fit_one(i: int) -> Any:
            return self._fit_item(*self._window(data, i), i, context)

        states = parallel_map(fit_one, data.n_series, self._jobs(), deadline, self.name)
        self.states_ = dict(zip(data.item_ids.tolist(), states, strict=True))

    def _predict(
        self,
        data: SeriesArrays,
        future: pd.DataFrame | None,
        quantiles: tuple[float, ...],
        deadline: float | None,
    ) -> Prediction:
        self._preload()
        horizon = self.horizon_
        context = self._context(data, fitting=False, future=future)
        states = [self.states_.get(item) for item in data.item_ids.tolist()]

        def forecast_one(i: int) -> tuple[SeriesForecast, bool]:
            y, stamps = self._window(data, i)
            if not self.forecastable(y):
                return self._fallback_series(y, horizon, quantiles), True
            try:
                result = self._forecast_item(states[i], y, stamps, i, context, horizon, quantiles)
            except Exception:
                # One series the model cannot handle never fails the forecast of the others.
                return self._fallback_series(y, horizon, quantiles), True
            if blown_up(result, y):
                return self._fallback_series(y, horizon, quantiles), True
            return result, False

        results = parallel_map(forecast_one, data.n_series, self._jobs(), deadline, self.name)
        fallback = tuple(str(data.item_ids[i]) for i, (_, used) in enumerate(results) if used)
        mean = np.stack([np.asarray(r[0][0], dtype=np.float64) for r in results])
        qs = np.stack([np.asarray(r[0][1], dtype=np.float64) for r in results])
        return Prediction(mean=mean, quantiles=qs, fallback=fallback)

    def forecastable(self, y: np.ndarray) -> bool:
        """Whether the model forecasts a series of history `y` itself (else its fallback):
        `min_history` values, every one observed unless the model takes missing ones
        (`tags.handles_missing_target`), and then at least that many observed."""
        if self.tags.handles_missing_target:
            return int(np.isfinite(y).sum()) >= self.min_history
        return len(y) >= self.min_history and bool(np.isfinite(y).all())

    def _preload(self) -> None:
        for module in self.preload:
            importlib.import_module(module)

    def _jobs(self) -> int:
        return self.n_jobs if self.n_jobs is not None else default_jobs()
