"""Request counts and latency over a window, from the service's Prometheus series.

The service's counters only grow (from zero when the process starts), so the traffic of the
last `window` is the newest sample minus the last one taken before the window began (zero
when the process is younger than the window). Each evaluation records one sample, so a
window's start is exact to within one evaluation interval; samples older than the longest
window in use are dropped.

The series are named here, once: the service creates them under these names, the evaluator
reads them, and the exported Prometheus rules query them.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry

INVOCATIONS = "tidecast_invocations"
LATENCY = "tidecast_invocation_latency_seconds"
JOBS = "tidecast_jobs"


@dataclass
class EndpointTraffic:
    requests: float = 0.0
    errors: float = 0.0  # answered 5xx
    buckets: dict[float, float] = field(default_factory=dict)  # upper bound -> cumulative count

    def minus(self, earlier: EndpointTraffic) -> EndpointTraffic:
        return EndpointTraffic(
            self.requests - earlier.requests,
            self.errors - earlier.errors,
            {le: n - earlier.buckets.get(le, 0.0) for le, n in self.buckets.items()},
        )


def sample_traffic(registry: CollectorRegistry) -> dict[str, EndpointTraffic]:
    """Each endpoint's invocations, 5xx answers and latency buckets, as counted so far."""
    out: dict[str, EndpointTraffic] = {}
    for family in registry.collect():
        for sample in family.samples:
            endpoint = sample.labels.get("endpoint")
            if endpoint is None:
                continue
            if sample.name == f"{INVOCATIONS}_total":
                traffic = out.setdefault(endpoint, EndpointTraffic())
                traffic.requests += sample.value
                if sample.labels.get("status", "").startswith("5"):
                    traffic.errors += sample.value
            elif sample.name == f"{LATENCY}_bucket":
                bound = float(sample.labels["le"])
                out.setdefault(endpoint, EndpointTraffic()).buckets[bound] = sample.value
    return out


def quantile(buckets: dict[float, float], q: float) -> float | None:
    """The `q` quantile of a cumulative histogram, interpolated within its bucket the way
    Prometheus's ``histogram_quantile`` does; None without observations."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return None
    rank = q * buckets[bounds[-1]]
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower  # past the last finite bucket: its bound is all that is known
            return lower + (bound - lower) * (rank - below) / (count - below) if count > below else bound
        lower, below = bound, count
    return lower


class TrafficHistory:
    """Samples of `sample_traffic` over time, and the traffic within a window of the newest."""

    def __init__(self) -> None:
        self._samples: deque[tuple[float, dict[str, EndpointTraffic]]] = deque()
        self._lock = threading.Lock()

    def record(self, at: float, sample: dict[str, EndpointTraffic], keep_seconds: float) -> None:
        with self._lock:
            self._samples.append((at, sample))
            # Keep the newest sample older than the longest window: it is that window's start.
            while len(self._samples) > 1 and self._samples[1][0] <= at - keep_seconds:
                self._samples.popleft()

    def window(self, endpoint: str, seconds: float) -> EndpointTraffic:
        """The endpoint's traffic in the `seconds` before the newest sample."""
        with self._lock:
            if not self._samples:
                return EndpointTraffic()
            now, newest = self._samples[-1]
            start = _last_before(self._samples, now - seconds)
        current = newest.get(endpoint, EndpointTraffic())
        return current if start is None else current.minus(start.get(endpoint, EndpointTraffic()))

    def endpoints(self) -> set[str]:
        with self._lock:
            return set(self._samples[-1][1]) if self._samples else set()


def _last_before(
    samples: Iterable[tuple[float, dict[str, EndpointTraffic]]], at: float
) -> dict[str, EndpointTraffic] | None:
    found = None
    for when, sample in samples:
        if when > at:
            break
        found = sample
    return found
