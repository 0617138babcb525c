"""How LightGBM runs: its thread count and the deadline callback that stops boosting.

Threads. LightGBM's OpenMP threads spin while they wait for each other, so on a machine whose
cores are busy with other work every boosting round waits for a descheduled thread. Measured
on this project's 2-core machine under other jobs' load (load average 8-12) with `farm-bench`
on a fixed task, two fits of 150 rounds on 40,000 x 40 rows, medians of pairs run in turn:

| how | wall | against 1 thread, both fits in one process |
|---|---|---|
| 1 process, 1 thread | 7.5-13.2 s | 1 |
| 1 process, 2 threads | 117.9 s | 9.3x wall, 9.8x CPU (2 pairs: the rest timed out) |
| 2 processes, 1 thread, one fit each | 10.0 s | 1.35x wall, 1.31x CPU (5 pairs) |

Under load neither threads nor processes gain anything, and threads lose badly. So a fit that
was not told how many threads to use takes one inside a worker process (the workers already
share the cores out) or on a loaded machine (1-minute load average at least LOADED_SHARE of
the cores), and every core only on an idle machine, where threads help (not measured here:
this machine was never idle). An explicit `n_jobs` is always obeyed.

Histograms. LightGBM builds each round's gradient histograms either feature by feature
(col-wise) or row by row over all features at once (row-wise); its docs say row-wise suits
few threads and few bins per feature, which is this project's case (one or two threads, 63
bins, dozens of sparse calendar and event flags). Both give the same sums, so the same trees:
every backtest score and forecast was identical to the last digit on Favorita (wQL 0.02573),
dominicks_oj and pasta_promo (origin 0: 0.3058, 0.3755). On Favorita's quantile-booster rows
(73,824 x 82, one thread, 200 rounds) a round took 7.6 ms row-wise against 11.6 ms col-wise,
and the whole AutoML 34.5 s against 40.1 s; dominicks_oj origin 0 26.7 s against 31.3 s,
pasta_promo 42.2 s against 46.1 s (same machine, one after the other). Forcing it also
skips LightGBM's own trial of both on every Dataset. Beyond `ROW_WISE_MAX_THREADS` threads
LightGBM's parameter docs recommend col-wise instead (many threads share one row's bins);
no machine here has that many cores to measure it, so that limit is theirs.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from typing import Any

from tidecast.models.local import default_jobs

# Row-wise histograms up to this many threads, col-wise beyond (module docstring).
ROW_WISE_MAX_THREADS = 16
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


def run_params(n_jobs: int | None, seed: int) -> dict[str, Any]:
    """LightGBM's run settings shared by every booster: threads, reproducible, quiet."""
    threads = lightgbm_threads(n_jobs)
    histograms = "force_row_wise" if threads <= ROW_WISE_MAX_THREADS else "force_col_wise"
    return {
        "num_threads": threads,
        "deterministic": True,
        histograms: True,
        "seed": int(seed),
        "verbosity": -1,
    }


class Deadline:
    """LightGBM callback that stops boosting once `time.monotonic()` passes `deadline`."""

    order = 30

    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline

    def __call__(self, env: Any) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            import lightgbm as lgb

            raise lgb.callback.EarlyStopException(env.iteration, env.evaluation_result_list or [])
