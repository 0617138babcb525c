"""Endpoint name -> `LoadedModel`: the table the forecast routes read on every request.

Kept apart from the forecast engine (`tidecast.service.predictor`): the table is about
swapping models under concurrent readers, not about forecasting.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tidecast.service.predictor import LoadedModel


class EndpointTable:
    """Endpoint name -> LoadedModel, swapped atomically.

    Readers call `get` once per request and keep the reference, so a request in flight
    finishes on the model it started with while `set` installs the next version.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[str, LoadedModel] = {}

    def get(self, name: str) -> LoadedModel | None:
        return self._models.get(name)

    def set(self, name: str, loaded: LoadedModel) -> LoadedModel | None:
        """Install `loaded` under `name`; returns the model it replaced."""
        with self._lock:
            previous = self._models.get(name)
            models = dict(self._models)
            models[name] = loaded
            self._models = models  # one reference assignment: readers see old or new, whole
        return previous

    def remove(self, name: str) -> LoadedModel | None:
        with self._lock:
            models = dict(self._models)
            previous = models.pop(name, None)
            self._models = models
        return previous

    def names(self) -> list[str]:
        return sorted(self._models)

    def snapshot(self) -> Mapping[str, LoadedModel]:
        return dict(self._models)
