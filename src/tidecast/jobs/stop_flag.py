"""How the service asks a job worker process to stop, in a way that can never hang the service.

The request is one byte of shared memory, not a `multiprocessing.Event`. Setting an Event
takes a lock shared with the worker and then waits for every process asleep in `wait()` to
wake; a worker killed while asleep there (SIGKILL, or SIGTERM to the whole process group as
systemd's default KillMode, `timeout` or ``kill -- -PGID`` send it) never wakes, so the
service's signal handler blocked in `set()` for ever and the service ignored every later
SIGTERM. Writing a byte takes no lock, and the worker reads it while it waits between jobs.

`finish_on_sigterm` is the worker's SIGTERM handler: a SIGTERM reaching a worker comes from
outside (the process group's signal, which the service got too, or an operator's ``kill``) and
means what it means to the service: finish the current job, then exit. The service itself ends
a worker still busy after its grace period with SIGKILL (`tidecast.jobs.pool`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

WAIT_STEP_SECONDS = 0.1


class StopFlag:
    """A stop request shared with spawned processes: `set`, `is_set`, `wait` (polling)."""

    def __init__(self, context: Any) -> None:
        self._value = context.RawValue("b", 0)  # no lock: a set can never wait on a dead process

    def set(self) -> None:
        self._value.value = 1

    def is_set(self) -> bool:
        return bool(self._value.value)

    def wait(self, timeout: float | None = None) -> bool:
        """True once set; False when `timeout` seconds pass first (None: wait until set)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.is_set():
            left = WAIT_STEP_SECONDS if deadline is None else deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(WAIT_STEP_SECONDS, left))
        return True


def finish_on_sigterm(flag: StopFlag) -> Callable[[int, object], None]:
    """The worker's SIGTERM handler (see the module docstring)."""

    def on_term(signum: int, frame: object) -> None:
        flag.set()  # the run loop exits after the job in hand

    return on_term
