"""`parallel_map` forks workers only where that pays: cheap items run in the calling process,
costly ones spread over the workers, and either way the results come back whole and in order."""

from __future__ import annotations

import os
import time

import pytest

from tidecast.errors import TimeLimitExceeded
from tidecast.models import local
from tidecast.models.local import parallel_map


def test_when_the_items_are_cheap_then_they_run_here_and_come_back_in_order() -> None:
    results = parallel_map(lambda i: (i * i, os.getpid()), 200, 2, None, "cheap")
    assert [r[0] for r in results] == [i * i for i in range(200)]
    assert {r[1] for r in results} == {os.getpid()}


def test_when_the_items_are_costly_then_the_rest_go_to_forked_workers_in_order() -> None:
    # 40 x 20 ms is 0.8 s, of which two workers would save 0.4 s: more than forking costs.
    results = parallel_map(lambda i: (time.sleep(0.02), i, os.getpid())[1:], 40, 2, None, "costly")
    assert [r[0] for r in results] == list(range(40))
    pids = {r[1] for r in results}
    assert os.getpid() in pids  # the probe ran here
    assert len(pids) > 1  # and the rest in workers


def test_when_forking_would_save_less_than_it_costs_then_nothing_forks(monkeypatch) -> None:
    monkeypatch.setattr(local, "FORK_SECONDS", 60.0)
    results = parallel_map(lambda i: (time.sleep(0.02), os.getpid())[1], 40, 2, None, "patient")
    assert set(results) == {os.getpid()}


def test_when_the_probe_outlives_the_deadline_then_the_time_limit_is_raised() -> None:
    started = time.monotonic()
    with pytest.raises(TimeLimitExceeded, match="slow ran past its time budget"):
        parallel_map(lambda i: time.sleep(0.05), 100, 2, started + 0.3, "slow")
    assert time.monotonic() - started < 2.0
