"""How LightGBM runs: its thread count and the deadline callback that stops boosting.

Threads. LightGBM's OpenMP threads spin while they wait for each other, so on a machine whose
cores are busy with other work every boosting round waits for a descheduled thread. Measured
on this project's 2-core machine under other jobs' load (load average 8-12), a fixed task of
two fits of 150 rounds on 40,000 x 40 rows (`farm-bench`, 2 pairs, medians):
2 threads 117.9 s wall against 9.3-17.2 s (median 13.2 s) for 1 thread, 9.3x slower, with 9.8x
the CPU time. Two processes of one thread each doing one fit each: see `THREADS_MEASURED`.
So a fit that was not told how many threads to use takes one when it runs inside a worker
process (the workers already share the cores out) or when the machine is loaded (1-minute
load average at least LOADED_SHARE of the cores), and every core only on an idle machine,
where threads do help. An explicit `n_jobs` is always obeyed.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from typing import Any

from tidecast.models.local import default_jobs

# The machine counts as loaded from this 1-minute load average per core.
LOADED_SHARE = 0.5


def lightgbm_threads(n_jobs: int | None) -> int:
    """`n_jobs` when given; else 1 in a worker process or on a loaded machine, else every core."""
    if n_jobs is not None:
        return max(1, int(n_jobs))
    cores = default_jobs()
    if cores == 1 or multiprocessing.parent_process() is not None:
        return 1
    try:
        load = os.getloadavg()[0]
    except OSError:  # not every platform reports a load average
        return 1
    return 1 if load >= LOADED_SHARE * cores else cores


class Deadline:
    """LightGBM callback that stops boosting once `time.monotonic()` passes `deadline`."""

    order = 30

    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline

    def __call__(self, env: Any) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            import lightgbm as lgb

            raise lgb.callback.EarlyStopException(env.iteration, env.evaluation_result_list or [])
