"""Where a batch's chunks run: inline, in local worker processes, or on a Dask cluster.

Every executor runs the same `forecast_chunk` and yields, in completion order, each chunk's
record or the chunk and the exception that failed it, so the batch (`tidecast.batch.runner`)
handles results the same way whichever ran them; a caller that stops early cancels the
chunks not yet started.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import CancelledError, ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from multiprocessing.connection import wait as wait_ready
from typing import Any

from tidecast.batch.chunk import BatchPlan, ChunkRecord, forecast_chunk

# Seconds a Dask batch waits with no chunk finished before it checks the cluster has workers.
POLL_SECONDS = 5.0


def execute(
    plan: BatchPlan, chunks: list[int], workers: int | None, client: Any
) -> Iterable[ChunkRecord | tuple[int, BaseException]]:
    if not chunks:
        return []
    if client is not None:
        return _dask(plan, chunks, client)
    executor, count = placement(len(chunks), workers, None)
    return _inline(plan, chunks) if executor == "inline" else _processes(plan, chunks, count)


def placement(pending: int, workers: int | None, client: Any) -> tuple[str, int]:
    """Where `execute` runs `pending` chunks, as (executor, workers): ("dask", the cluster's
    workers), ("processes", the pool's size: no more than the chunks) or ("inline", 1), in
    this process with no pool started, for one worker or one chunk (or none)."""
    if client is not None:
        return "dask", len(client.scheduler_info().get("workers", {}))
    from tidecast.models.local import default_jobs

    count = min(pending, workers or default_jobs())
    return ("inline", 1) if count <= 1 else ("processes", count)


def _inline(plan: BatchPlan, chunks: list[int]) -> Iterator[ChunkRecord | tuple[int, BaseException]]:
    for k in chunks:
        try:
            yield forecast_chunk(plan, k)
        except Exception as exc:
            yield k, exc


def _results(
    completed: Iterable[Any], chunks: dict[Any, int]
) -> Iterator[ChunkRecord | tuple[int, BaseException]]:
    """Each finished future's record, or its chunk and the exception that failed it."""
    for future in completed:
        try:
            yield future.result()
        except Exception as exc:
            yield chunks[future], exc


def _processes(
    plan: BatchPlan, chunks: list[int], workers: int
) -> Iterator[ChunkRecord | tuple[int, BaseException]]:
    # Spawned, not forked: the parent may run a progress thread, and a fresh interpreter
    # per worker costs a second once per batch.
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context("spawn"), initializer=exit_with_parent
    )
    try:
        futures = {pool.submit(forecast_chunk, plan, k): k for k in chunks}
        yield from _results(as_completed(futures), futures)
    finally:
        # A caller that stops early (a stopped job) drops the chunks not yet started.
        pool.shutdown(wait=True, cancel_futures=True)


def exit_with_parent() -> None:
    """In a local worker process: end it as soon as the process that started it ends.

    A pool worker waits for its next chunk on a queue it holds both ends of, so it never
    learns that the batch is gone: a batch killed outright (kill -9, the OOM killer, a job's
    timeout) left its workers waiting for ever, each holding its model in memory. The chunk a
    worker was forecasting is redone by the next run, as every chunk without a record is."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait_ready([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _dask(
    plan: BatchPlan, chunks: list[int], client: Any
) -> Iterator[ChunkRecord | tuple[int, BaseException]]:
    """The chunks on `client`'s cluster, in completion order.

    A cluster that loses every worker keeps its tasks waiting for one for ever, so whenever
    `POLL_SECONDS` pass with no chunk finished, the cluster must still have a worker (or gain
    one within `distributed.CONNECT_TIMEOUT`), else the batch stops with `ClusterLost`: the
    chunks already finished keep their records, and a rerun resumes from them."""
    from distributed import wait

    from tidecast.distributed import require_workers

    futures = {client.submit(forecast_chunk, plan, k, pure=False): k for k in chunks}
    pending = set(futures)
    try:
        while pending:
            with contextlib.suppress(TimeoutError, CancelledError):  # read from the futures below
                wait(list(pending), timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
            done = {f for f in pending if f.status != "pending"}
            if not done or any(f.cancelled() for f in done):
                # Nothing finished for a while, or chunks cancelled under us: workers gone?
                require_workers(client)
            pending -= done
            yield from _results(done, futures)
    finally:
        client.cancel(list(futures))
