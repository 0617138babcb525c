"""The challengers' worker: one daemon thread that runs, in the order they were handed over,
the shadow forecasts of the endpoints' challengers and the evaluations an ingest asks for.

The request path hands a shadow forecast over with one `queue.put_nowait` (the request's body
and the challenger model it was served beside), so a challenger adds no latency to the
champion's answer. Order matters: an evaluation queued after an ingest runs after every
shadow forecast of the requests answered before it, so both versions' forecasts are in the
log when the actuals are scored. Past `max_pending` waiting forecasts new ones are dropped
and counted: a slow challenger must not grow the service's memory without bound.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from tidecast.service.answers import forecast
from tidecast.service.predictor import LoadedModel
from tidecast.service.problems import Problem, parse_json
from tidecast.service.requests import DEFAULT_LIMITS, Limits
from tidecast.service.runtime_contract import JSON, invoke

log = logging.getLogger("tidecast.champion")

FORECAST, INVOKE = "forecast", "invoke"  # the two request formats an endpoint answers


class ShadowWorker:
    def __init__(self, limits: Limits = DEFAULT_LIMITS, max_pending: int = 10_000) -> None:
        self.limits = limits
        self.max_pending = max_pending
        # Per endpoint: shadow forecasts made, requests the challenger could not answer, and
        # requests dropped because `max_pending` were waiting.
        self.stats: dict[str, dict[str, int]] = {}
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # ---- the request path -------------------------------------------------------------------
    def forecast(self, model: LoadedModel, kind: str, body: bytes, content_type: str = JSON) -> None:
        """Forecast `body` with `model` later, on the worker: O(1), safe from any thread."""
        if self._queue.qsize() >= self.max_pending:
            self._count(model.name, "dropped")
            return
        self._queue.put_nowait(("forecast", (model, kind, body, content_type)))

    def call(self, action: Callable[[], Any]) -> None:
        """Run `action` on the worker after everything handed over before it."""
        self._queue.put(("call", action))

    def drain(self, timeout: float = 60.0) -> bool:
        """Wait until everything handed over so far has run; False on timeout."""
        if self._thread is None:
            self._run_pending()
            return True
        done = threading.Event()
        self.call(done.set)
        return done.wait(timeout)

    # ---- the thread ---------------------------------------------------------------------------
    def start(self, interval_seconds: float = 0.0, tick: Callable[[], Any] | None = None) -> None:
        """Start the thread; with an interval, `tick` also runs when that long passes idle."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, args=(interval_seconds, tick), name="tidecast-challengers", daemon=True
        )
        self._thread.start()

    def close(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._queue.put(("stop", None))
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self, interval_seconds: float, tick: Callable[[], Any] | None) -> None:
        while not self._stop.is_set():
            try:
                item = self._queue.get(timeout=interval_seconds if interval_seconds > 0 else None)
            except queue.Empty:
                if tick is not None:
                    self._guarded(tick)
                continue
            self._run(item)

    def _run_pending(self) -> None:
        while True:
            try:
                self._run(self._queue.get_nowait())
            except queue.Empty:
                return

    def _run(self, item: tuple[str, Any]) -> None:
        what, payload = item
        if what == "forecast":
            self._shadow(*payload)
        elif what == "call":
            self._guarded(payload)

    def _shadow(self, model: LoadedModel, kind: str, body: bytes, content_type: str) -> None:
        try:
            if kind == INVOKE:
                invoke(model, body, content_type, self.limits)
            else:
                forecast(model, model.parse_request(parse_json(body)), self.limits)
            self._count(model.name, "forecasts")
        except Problem as exc:  # a request the champion answered and the challenger cannot
            self._count(model.name, "failures")
            log.debug("challenger of %s could not answer a request: %s", model.name, exc.detail)
        except Exception:
            self._count(model.name, "failures")
            log.exception("challenger of %s failed on a request", model.name)

    def _count(self, endpoint: str, what: str) -> None:
        counts = self.stats.setdefault(endpoint, {"forecasts": 0, "failures": 0, "dropped": 0})
        counts[what] += 1

    @staticmethod
    def _guarded(action: Callable[[], Any]) -> None:
        try:
            action()
        except Exception:
            log.exception("challengers: a scheduled evaluation failed")
