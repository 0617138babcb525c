"""Counts in messages as English reads them: "1 item" and "3 items", "1 series is" and
"2 series are", never "1 items" or "1 series were".

Messages are f-strings all over the package, and a count of one is common (one short series,
one bad file, a horizon of one step); written as a bare plural it reads like a bug in the
message rather than a fact about the data. `counted` and `plural` are the one place that
knows English plurals, so every message agrees and none grows its own ``"s" if n != 1``.

>>> counted(1, "item")
'1 item'
>>> f"{counted(2, 'series')} {plural(2, 'is')} constant"
'2 series are constant'
>>> counted(12345, "row", grouped=True)
'12,345 rows'
"""

from __future__ import annotations

# Words whose plural is not the word and an "s": nouns that do not change, and the verbs a
# message puts after a count ("1 series has", "2 series have").
_IRREGULAR = {
    "series": "series",
    "is": "are",
    "was": "were",
    "has": "have",
    "does": "do",
    "entry": "entries",
}


def plural(n: float, singular: str, many: str | None = None) -> str:
    """`singular` when `n` is one, else `many` (by default the word's plural: `_IRREGULAR`, or
    the word and an "s")."""
    if n == 1:
        return singular
    return many if many is not None else _IRREGULAR.get(singular, singular + "s")


def counted(n: float, singular: str, many: str | None = None, *, grouped: bool = False) -> str:
    """`n` and its noun, agreeing (`plural`); `grouped` writes thousands separators."""
    number = f"{n:,}" if grouped else f"{n:g}" if isinstance(n, float) else str(n)
    return f"{number} {plural(n, singular, many)}"
