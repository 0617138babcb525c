"""Values as strict JSON carries them, for every writer of JSON in the project.

A small module of its own, outside the packages that load the models: the service's problem
bodies use it, and importing `reports.run` for it loaded the model catalog (and dask, through
statsforecast) on every command line start.
"""

from __future__ import annotations

import math
from typing import Any


def json_safe(value: Any) -> Any:
    """JSON-safe values: NaN and infinities become null, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
