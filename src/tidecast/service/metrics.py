"""Prometheus metrics of one service instance, exposed at ``GET /metrics``.

Each app gets its own `CollectorRegistry`, so several apps in one process (tests) never share
or double-register series. Labels stay bounded: the endpoint label only ever holds names of
deployed endpoints (a request for an unknown name counts under ``UNKNOWN``), so a client
cannot grow the series set by inventing names.

The jobs gauge is read from the job store at scrape time rather than counted in this
process: jobs change state in worker processes, and after a restart a counter would start
from zero while the queue did not.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from tidecast.alerts.traffic import INVOCATIONS, JOBS, LATENCY
from tidecast.registry.statuses import JobStatus

log = logging.getLogger(__name__)

UNKNOWN = "_unknown"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LOAD_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class _JobsCollector(Collector):
    """``tidecast_jobs{state}``: how many jobs are in each state, counted in the database."""

    def __init__(self, count_jobs: Callable[[], Mapping[str, int]]) -> None:
        self._count = count_jobs

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(JOBS, "Training jobs by state.", labels=["state"])
        try:
            counts = self._count()
        except Exception as exc:  # a scrape must not fail because the database hiccuped
            log.warning("could not count jobs for /metrics: %s", exc)
            return
        for state in JobStatus:
            family.add_metric([state.value], float(counts.get(state.value, 0)))
        yield family

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())  # do not run the query when the collector is registered


class ServiceMetrics:
    """The service's series; `render` gives the exposition text and its content type."""

    def __init__(self, count_jobs: Callable[[], Mapping[str, int]] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.invocations = Counter(
            INVOCATIONS,
            "Forecast and SageMaker invocation requests by endpoint and HTTP status.",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            LATENCY,
            "Time to answer a forecast or invocation request, by endpoint.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "tidecast_http_errors",
            "Responses with a 4xx or 5xx status, by status.",
            ["status"],
            registry=self.registry,
        )
        self.requests = Counter(
            "tidecast_http_requests",
            "HTTP requests by method and status.",
            ["method", "status"],
            registry=self.registry,
        )
        self.model_load = Histogram(
            "tidecast_model_load_seconds",
            "Time to load a model version into an endpoint (reading and verifying its folder).",
            buckets=LOAD_BUCKETS,
            registry=self.registry,
        )
        self.endpoint_load = Gauge(
            "tidecast_endpoint_model_load_seconds",
            "Load time of the model each endpoint serves now.",
            ["endpoint"],
            registry=self.registry,
        )
        self.endpoints = Gauge("tidecast_endpoints", "Endpoints loaded and serving.", registry=self.registry)
        if count_jobs is not None:
            self.registry.register(_JobsCollector(count_jobs))
        self._per_request: dict[tuple[str, int], tuple[Counter, ...]] = {}
        self._per_invocation: dict[tuple[str | None, int], tuple[Counter, Histogram]] = {}

    def observe_request(self, method: str, status: int) -> None:
        counters = self._per_request.get((method, status))
        if counters is None:
            counters = self._per_request[(method, status)] = self._request_series(method, status)
        for counter in counters:
            counter.inc()

    def observe_invocation(self, endpoint: str | None, status: int, seconds: float) -> None:
        series = self._per_invocation.get((endpoint, status))
        if series is None:
            series = self._per_invocation[(endpoint, status)] = self._invocation_series(endpoint, status)
        series[0].inc()
        series[1].observe(seconds)

    # `labels()` validates and looks the series up under a lock, several microseconds a call,
    # three calls a request; the series of a label set never change (these metrics are never
    # cleared), so each request looks them up once in a plain dict instead. Label sets are
    # bounded: HTTP methods and statuses, deployed endpoint names (`UNKNOWN` for the rest).
    def _request_series(self, method: str, status: int) -> tuple[Counter, ...]:
        requests = self.requests.labels(method, str(status))
        return (requests, self.errors.labels(str(status))) if status >= 400 else (requests,)

    def _invocation_series(self, endpoint: str | None, status: int) -> tuple[Counter, Histogram]:
        label = endpoint or UNKNOWN
        return self.invocations.labels(label, str(status)), self.latency.labels(label)

    def observe_load(self, endpoint: str, seconds: float) -> None:
        self.model_load.observe(seconds)
        self.endpoint_load.labels(endpoint).set(seconds)

    def forget_endpoint(self, endpoint: str) -> None:
        """Drop an undeployed endpoint's load-time series (its counters stay: they are history)."""
        with contextlib.suppress(KeyError):
            self.endpoint_load.remove(endpoint)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
