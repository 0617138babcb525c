"""The runs the forecast explorer reads, kept loaded between its requests.

Loading a run reads several files (and a model folder alone is forecast again, see
`reports.inputs`), while the explorer asks for item after item of the same run. So the service
keeps the last few runs read (`ServiceState.runs`), each with its item ids (listing them reads
every history row), keyed by the folder and its modification time: a run folder is written
once, and a folder replaced under the same name has a new time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from tidecast.reports.explorer import item_ids
from tidecast.reports.inputs import ReportInputs, load_inputs

CACHED_RUNS = 4


@dataclass(frozen=True)
class LoadedRun:
    """A run's inputs and its item ids, sorted (listing them reads every history row)."""

    inputs: ReportInputs
    items: list[str]
    known: frozenset[str]


class LoadedRuns:
    """The last `size` runs read, by folder, its mtime and the name it is shown under; thread-safe."""

    def __init__(self, size: int = CACHED_RUNS) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, float, str], LoadedRun] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, folder: Path, label: str) -> LoadedRun:
        key = (str(folder), folder.stat().st_mtime, label)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        inputs = load_inputs(folder, label)
        items = item_ids(inputs)
        run = LoadedRun(inputs, items, frozenset(items))
        with self._lock:
            self._entries[key] = run
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return run
