"""What an error about missing columns shows of the table: its columns in brief, and what its
layout suggests.

Retail exports are often wide: one row per item and one column per day (M5's `d_1` ...
`d_1941`, a planning sheet with a column per date). Such a file has no timestamp or target
column, and the error listed all of its names, thousands of them, without saying why they did
not fit. Here the list is cut to its ends, and a table whose columns are mostly one per date or
per numbered period is named as wide, with the query that turns it long (DuckDB's UNPIVOT
through `--sql`, or pandas' `melt`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import pandas as pd

# At most this many names are listed (the first ones and the last two).
MAX_SHOWN = 12
# A table is wide when at least this many columns are one per date, or as many and at least
# `NUMBERED_SHARE` of its columns one per numbered period (a long table may carry a few
# numbered covariates, promo_1 ... promo_10, beside its own columns; no long table names its
# columns by dates).
WIDE_MIN = 8
NUMBERED_SHARE = 0.8
_NUMBERED = re.compile(r"^(.*?\D)(\d+)$")
_DATE_LIKE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")


def shown_columns(columns: Sequence[object]) -> str:
    """The column names as a list, cut to the first and last ones beyond `MAX_SHOWN`."""
    names = [str(c) for c in columns]
    if len(names) <= MAX_SHOWN:
        return str(names)
    head, tail = names[: MAX_SHOWN - 2], names[-2:]
    return f"[{', '.join(map(repr, head))}, ..., {', '.join(map(repr, tail))}] ({len(names)} columns)"


def wide_columns(columns: Sequence[object]) -> tuple[list[str], str]:
    """The columns that hold one date or numbered period each ("date" or "period"), if the
    table has enough of them (`WIDE_MIN`, `NUMBERED_SHARE`); else ([], "")."""
    names = [str(c) for c in columns]
    dated = [n for n in names if _DATE_LIKE.match(n)]
    if (
        len(dated) >= WIDE_MIN
        and pd.to_datetime(pd.Series(dated), errors="coerce", format="mixed").notna().all()
    ):
        return dated, "date"
    prefixes = Counter(m.group(1) for n in names if (m := _NUMBERED.match(n)))
    if prefixes:
        prefix, count = prefixes.most_common(1)[0]
        if count >= max(WIDE_MIN, NUMBERED_SHARE * len(names)):
            return [n for n in names if (m := _NUMBERED.match(n)) and m.group(1) == prefix], "period"
    return [], ""


def wide_hint(columns: Sequence[object]) -> str:
    """Why a wide table has no timestamp or target column and how to read it long; "" when
    the table does not look wide."""
    wide, kind = wide_columns(columns)
    if not wide:
        return ""
    keep = [str(c) for c in columns if str(c) not in set(wide)]
    exclude = f"* EXCLUDE ({', '.join(map(_sql_name, keep))})" if keep else "*"
    name = "timestamp" if kind == "date" else "period"
    query = f"UNPIVOT 'FILE' ON COLUMNS({exclude}) INTO NAME {name} VALUE target"
    then = (
        "" if kind == "date" else ", then each period's date from a calendar table joined in the same query"
    )
    return (
        f". The table looks wide, one column per {kind} ({wide[0]!r} to {wide[-1]!r}, {len(wide)} columns): "
        f'tidecast reads one row per item and timestamp; unpivot it, e.g. --sql "{query}"{then} '
        f"(pandas: frame.melt(id_vars={keep}, var_name={name!r}, value_name='target'))"
    )


def _sql_name(name: str) -> str:
    """A column name as SQL writes it: bare where it is a plain identifier, else quoted."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        return name
    return '"' + name.replace('"', '""') + '"'
