"""How LightGBM runs: its thread count and the deadline callback that stops boosting.

Threads. LightGBM's OpenMP threads spin while they wait for each other, so on a machine whose
cores are busy with other work every boosting round waits for a descheduled thread. Measured
on this project's 2-core machine under other jobs' load (load average 8-12), timed over
on a fixed task, two fits of 150 rounds on 40,000 x 40 rows, medians of pairs run in turn:

| how | wall | against 1 thread, both fits in one process |
|---|---|---|
| 1 process, 1 thread | 7.5-13.2 s | 1 |
| 1 process, 2 threads | 117.9 s | 9.3x wall, 9.8x CPU (2 pairs: the rest timed out) |
| 2 processes, 1 thread, one fit each | 10.0 s | 1.35x wall, 1.31x CPU (5 pairs) |

Under load neither threads nor processes gain anything, and threads lose badly. So a fit that
was not told how many threads to use takes one inside a worker process (the workers already
share the cores out), and otherwise as many as the machine has idle cores right now
(`free_cores`), at least one. An explicit `n_jobs` is always obeyed.

Idle cores, not the load average: the 1-minute load average counts this process's own work
(and the forked workers of the local models it just ran), so on a 2-core machine with nothing
else running, a whole AutoML's busy main thread alone held it at 1.1-1.3, at or over the old
rule's threshold (half the cores), and every LightGBM fit of the noisy store panel
(`benchmarks/store_panel.py --noise 0.12`, default `n_jobs`) ran on one thread. Sampled over
`SAMPLE_SECONDS` while this thread sleeps, the machine's idle time says what other work leaves
free. On that idle machine two threads trained 100 quantile rounds on 75,000 x 53 rows in
0.72 s against 1.17 s on one (predicting 50,000 rows 0.09 s against 0.17 s). The whole
noisy store panel run, default `n_jobs`, two pairs in turn: 66.0 / 65.0 s against 66.0 / 66.3 s
with the load-average rule, the same forecast. Boosting is only part of a fit (the feature
rows, the binning and the local models stay on one thread) and its share is saved by less than
the run varies; the rule matters where boosting dominates and where more cores sit idle.

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
# How long `free_cores` watches the machine's idle time.
SAMPLE_SECONDS = 0.05
# A core counts as free when at least this share of it sat idle over the sample.
FREE_SHARE = 0.8


def _cpu_times() -> tuple[float, float] | None:
    """(idle, total) jiffies since boot of the cores this process may run on (Linux
    `/proc/stat`: their per-core lines, or the line of every core where none matches the
    affinity); None where there is no such file."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            lines = [line.split() for line in stat if line.startswith("cpu")]
    except OSError:
        return None
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    chosen = [f for f in lines if f[0][3:].isdigit() and int(f[0][3:]) in allowed]
    if not chosen:
        chosen = [f for f in lines if f[0] == "cpu"]
    if not chosen:
        return None
    idle = total = 0.0
    for fields in chosen:
        values = [float(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal
        idle += sum(values[3:5])  # idle and iowait; guest time is already counted in user
        total += sum(values)
    return idle, total


def free_cores(cores: int) -> float:
    """How many of `cores` sat idle over the last `SAMPLE_SECONDS` (this thread sleeping), read
    as the idle share of the cores this process may use; where the platform does not say,
    `cores` less the 1-minute load average; 0 when neither is known."""
    before = _cpu_times()
    if before is not None:
        time.sleep(SAMPLE_SECONDS)
        after = _cpu_times()
        if after is not None and after[1] > before[1]:
            return cores * (after[0] - before[0]) / (after[1] - before[1])
    try:
        return cores - os.getloadavg()[0]
    except OSError:
        return 0.0


def lightgbm_threads(n_jobs: int | None) -> int:
    """`n_jobs` when given; else 1 in a worker process, else the machine's free cores (at least 1)."""
    if n_jobs is not None:
        return max(1, int(n_jobs))
    cores = default_jobs()
    if cores == 1 or multiprocessing.parent_process() is not None:
        return 1
    return max(1, min(cores, int(free_cores(cores) + 1 - FREE_SHARE)))


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
