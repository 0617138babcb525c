"""Scale-out on Dask: the same in-memory work, mapped over partitions of items on a cluster.

No modelling happens here. `use_dask` hands the chunks of item indices that `parallel_map`
would give to forked processes to a Dask client instead, so every local model (and the
AutoML that backtests and refits them) runs unchanged on one machine or many:

    with open_client(workers=4) as client, use_dask(client):
        AutoForecaster(horizon=14, preset="fast").fit(panel)

The per-item function closes over the panel's arrays; it is pickled once and broadcast to
every worker, and each task carries only its list of indices. Global models (LightGBM, the
neural nets) train in the calling process as before.

Dask is imported only when a client is opened or used, so importing tidecast stays cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from tidecast.errors import ClusterLost, ConfigError
from tidecast.models.local import chunk_runner, default_jobs, run_chunk

if TYPE_CHECKING:
    from distributed import Client, Future, LocalCluster

# Seconds to wait for a scheduler given by address before reporting it unreachable.
CONNECT_TIMEOUT = 10.0
# What a failed connection most often means: the address of something else on the host.
_WRONG_PORT = "is it a Dask scheduler's address (tcp://host:8786), not its dashboard?"


class _Session(contextlib.AbstractContextManager["Client"]):
    """A connected client, and the local cluster it owns if it started one; both closed on exit."""

    def __init__(self, client: Client, cluster: LocalCluster | None = None) -> None:
        self.client = client
        self.cluster = cluster

    def __enter__(self) -> Client:
        return self.client

    def __exit__(self, *exc: object) -> None:
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()


def open_client(
    workers: int | None = None, scheduler: str | None = None
) -> contextlib.AbstractContextManager[Client]:
    """Connect to `scheduler` ("tcp://host:8786"), or start a local cluster of `workers`
    processes (default: one per core) on 127.0.0.1, which closes with the context.

    Like `open`, it connects on the call, so an unreachable scheduler fails here with a
    `ConfigError`, and the returned context only closes what was opened. One worker thread
    per process: the per-series work holds the GIL, and one BLAS thread is fastest on it.
    The local workers log only critical events: a failed task reaches the caller as its own
    exception, and an expected one (a candidate past its time budget) is no error to print.
    """
    if scheduler and workers is not None:
        raise ConfigError("give either a number of local workers or a scheduler address, not both")
    if workers is not None and workers < 1:
        raise ConfigError(f"workers must be 1 or more, got {workers}")
    from distributed import Client, LocalCluster

    if scheduler:
        _handshake(scheduler, CONNECT_TIMEOUT)
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
        try:  # without workers its tasks would wait for ever (and `slots` run them here instead)
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except TimeoutError as exc:
            client.close()
            raise ConfigError(
                f"the Dask cluster at {scheduler} has no workers: none joined within {CONNECT_TIMEOUT:g} s"
            ) from exc
        return _Session(client)
    cluster = LocalCluster(
        n_workers=workers or default_jobs(),
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        # No dashboard; the scheduler's small HTTP server (health, metrics) still starts, so it
        # takes any free local port instead of 8787, which another cluster may hold.
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.CRITICAL,
    )
    try:
        return _Session(Client(cluster), cluster)
    except BaseException:
        cluster.close()
        raise


def _handshake(address: str, timeout: float) -> None:
    """Greet `address` as a Dask client does, within `timeout` seconds all told, or raise a
    `ConfigError`.

    `Client(address, timeout=...)` bounds only the TCP connect: its handshake read waits for
    ever on a server that accepts and never answers in Dask's framing (an HTTP server, the
    dashboard's port; dask/distributed#8071), and one that speaks first (an SSH banner) has
    its bytes read as a frame length (numpy's "Unable to allocate 2.82 EiB"). The handshake
    runs on its own event loop in a thread, so a caller inside a running loop is served too.
    """
    from distributed.comm import connect, get_address_host_port

    try:  # the address as written (scheme, port), before anything is sent
        get_address_host_port(address)
    except ValueError as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc

    async def greet() -> None:
        comm = await asyncio.wait_for(connect(address, timeout=timeout), timeout)
        await comm.close()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dask-handshake") as pool:
        try:
            pool.submit(asyncio.run, greet()).result()
        except TimeoutError as exc:  # connected, and no answer within the timeout
            raise ConfigError(
                f"cannot reach the Dask scheduler at {address} after {timeout:g} s: {_WRONG_PORT}"
            ) from exc
        except OSError as exc:  # refused, or no route: connect's own message says which
            raise ConfigError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
        except Exception as exc:  # whatever the comm layer makes of bytes that are not Dask's
            raise ConfigError(
                f"cannot reach the Dask scheduler at {address}: it answered, but not as Dask does: {_WRONG_PORT}"
            ) from exc


def scale_out(
    workers: int | None = None, scheduler: str | None = None
) -> contextlib.AbstractContextManager[Client | None]:
    """The Dask session a command or job asked for, or none (local processes).

    With `workers` or `scheduler` it connects now (so a bad address fails here, as in
    `open_client`) and, inside the context, yields the client with `use_dask` active, so local
    models' per-series work and anything submitted to the client run on the cluster. Without
    either it yields None and changes nothing.
    """
    if workers is None and not scheduler:
        return contextlib.nullcontext()
    import distributed

    # Importing distributed sets its loggers to INFO; they follow the caller's level instead.
    logging.getLogger(distributed.__name__).setLevel(logging.getLogger().level)
    session = open_client(workers, scheduler)

    @contextlib.contextmanager
    def active() -> Iterator[Client | None]:
        with session as client, use_dask(client):
            yield client

    return active()


def _run_shipped(
    func: Callable[[int], Any], indices: Sequence[int], wall_deadline: float | None, label: str
) -> list[Any]:
    """A chunk on a worker. The deadline travels as wall-clock time, since another host's
    monotonic clock has another origin; here it turns back into this host's monotonic time."""
    deadline = None if wall_deadline is None else time.monotonic() + (wall_deadline - time.time())
    return run_chunk(func, indices, deadline, label)


def workers_alive(client: Client) -> bool:
    """Whether `client`'s cluster has a worker, or one joins within `CONNECT_TIMEOUT`."""
    if client.nthreads():
        return True
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
    except (TimeoutError, OSError):
        return False
    return True


def cluster_lost(client: Client) -> ClusterLost:
    return ClusterLost(
        f"the Dask cluster at {getattr(client.scheduler, 'address', '?')} lost every worker and none joined "
        f"within {CONNECT_TIMEOUT:g} s: start workers again and rerun"
    )


def require_workers(client: Client) -> None:
    """Return once `client`'s cluster has a worker; `ClusterLost` when none joins in time.

    Tasks submitted to a cluster without workers wait for one for ever, so whatever waits
    on them asks this when nothing has finished for a while."""
    if not workers_alive(client):
        raise cluster_lost(client)


class DaskChunks:
    """The `ChunkRunner` of a Dask client: one task per chunk, `func` broadcast once."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def slots(self) -> int:
        """The workers' threads; a cluster with none left is `ClusterLost` (after
        `CONNECT_TIMEOUT` for one to join), not 0: 0 slots ran every chunk in this process."""
        slots = sum(self.client.nthreads().values())
        if slots == 0:
            require_workers(self.client)
            slots = sum(self.client.nthreads().values())
        return slots

    def __call__(
        self, func: Callable[[int], Any], chunks: list[list[int]], deadline: float | None, label: str
    ) -> list[list[Any]]:
        wall_deadline = None if deadline is None else time.time() + (deadline - time.monotonic())
        shipped = self.client.scatter(func, broadcast=True, hash=False)
        futures = [
            self.client.submit(_run_shipped, shipped, chunk, wall_deadline, label, pure=False)
            for chunk in chunks
        ]
        try:
            # Raises the first failed chunk's own exception (e.g. TimeLimitExceeded).
            results: list[list[Any]] = self.client.gather(futures)
            return results
        except Exception as exc:
            # Every worker gone: the chunks were cancelled ("already forgotten"), which is no
            # fault of the model; one worker lost is recovered by Dask and never reaches here.
            if not workers_alive(self.client):
                raise cluster_lost(self.client) from exc
            raise
        finally:
            # Drop queued chunks after a failure, and the broadcast copies of `func`.
            self.client.cancel([*futures, shipped])


@contextlib.contextmanager
def use_dask(client: Client) -> Iterator[Client]:
    """Run the per-item work of local models on `client`'s workers within the context."""
    with chunk_runner(DaskChunks(client)):
        yield client


def _call(func: Callable[..., Any], *args: Any) -> Any:
    return func(*args)


def submit_all(
    client: Client, func: Callable[..., Any], args_list: Iterable[Sequence[Any]]
) -> Iterator[tuple[int, Any]]:
    """`func(*args)` for each entry of `args_list` on `client`, yielded as `(index, result)`
    in the order the tasks finish; `func` is shipped once per worker.

    A failed task raises its exception here; leaving the loop early, or a failure, cancels
    the tasks not yet done.
    """
    from distributed import as_completed

    shipped = client.scatter(func, broadcast=True, hash=False)
    futures: list[Future] = [client.submit(_call, shipped, *args, pure=False) for args in args_list]
    index = {future.key: i for i, future in enumerate(futures)}
    try:
        for future in as_completed(futures):
            yield index[future.key], future.result()
    finally:
        client.cancel([*futures, shipped])
