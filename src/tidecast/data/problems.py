"""Problems found in the data that are noted, not fatal: what was seen, how often, what was done.

Ingest and preparation return these beside the panel so the summary, the CLI and the reports can
show the user exactly what tidecast changed or tolerated, instead of silently fixing data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

SAMPLE_SIZE = 10


@dataclass(frozen=True)
class Problem:
    """One kind of issue: `count` cells, rows or series, a few `items` as examples, and `handled`.

    `kind` is a stable identifier for programs ("negative_values", "short_series"...); `message`
    is the sentence for people.
    """

    kind: str
    message: str
    count: int = 0
    items: tuple[str, ...] = ()
    handled: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "message": self.message,
            "count": int(self.count),
            "sample_items": list(self.items),
            "handled": self.handled,
        }


def sample_items(items: Iterable[object] | np.ndarray, n: int = SAMPLE_SIZE) -> tuple[str, ...]:
    """The first `n` distinct items, in order, as strings: enough to find them, short to read."""
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(str(item), None)
        if len(seen) >= n:
            break
    return tuple(seen)
