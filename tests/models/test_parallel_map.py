"""`parallel_map` forks workers only where that pays: cheap items run in the calling process,
costly ones spread over the workers, and either way the results come back whole and in order."""

from __future__ import annotations

import itertools
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


def test_when_the_first_items_are_cheap_then_the_probe_still_sees_the_costly_rest() -> None:
    # A store panel sorted by name starts with departments that sold nothing (cheap fits);
    # timing its first items alone kept the costly rest on one core. The probe spreads over
    # the panel, so here (the first 30 of 100 items free, the rest 15 ms) the rest forks.
    def item(i: int) -> tuple[int, int]:
        if i >= 30:
            time.sleep(0.015)
        return i, os.getpid()

    results = parallel_map(item, 100, 2, None, "sorted")
    assert [r[0] for r in results] == list(range(100))
    assert len({r[1] for r in results}) > 1


def test_the_probe_times_items_spread_over_the_panel() -> None:
    assert local._spread(1) == [0]
    assert local._spread(5) == [0, 1, 2, 3, 4]
    spread = local._spread(1000)
    assert len(spread) == local.PROBE_ITEMS and spread[0] == 0 and spread[-1] == 999
    assert max(b - a for a, b in itertools.pairwise(spread)) <= 1000 // (local.PROBE_ITEMS - 1) + 1
