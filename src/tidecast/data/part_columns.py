"""The files of a folder or glob must have the same columns, or they are not one table.

`data/*.csv` where one file adds a `promo` column, or names `sales` what the others name
`target`, was stacked with the gaps filled by missing values: the error that followed (a
target missing on some rows, a covariate missing for some items) named row numbers of the
stacked table, which point into no file the user has. Refusing the files here names the file
at fault and the columns that differ, measured against the first file (in path order), which
is the one a user reads as the table's layout. The columns' order may differ: it costs
nothing to line them up by name.
"""

from __future__ import annotations

from collections.abc import Sequence

from tidecast.errors import DataError
from tidecast.wording import counted, plural

# Files described in one message at most: a folder of parts written by two versions of an
# export differs in hundreds of files alike.
SHOWN_FILES = 5


def check_same_columns(headers: Sequence[tuple[str, Sequence[str]]], label: str) -> None:
    """A DataError naming each file whose columns are not the first file's, and how they
    differ: the columns it has that the first lacks, and those the first has that it lacks.

    `headers` is each file's display name and column names, in reading order.
    """
    if len(headers) < 2:
        return
    first_name, first = headers[0]
    differences = [
        _difference(name, columns, first_name, first)
        for name, columns in headers[1:]
        if set(columns) != set(first)
    ]
    if not differences:
        return
    more = len(differences) - SHOWN_FILES
    shown = "; ".join(differences[:SHOWN_FILES]) + (
        f"; and {counted(more, 'more file')} {plural(more, 'differs', 'differ')}" if more > 0 else ""
    )
    raise DataError(
        f"the files of {label} do not have the same columns, so they cannot be read as one table: "
        f"{shown}. Give every file the same columns (their order may differ)"
    )


def _difference(name: str, columns: Sequence[str], first_name: str, first: Sequence[str]) -> str:
    added = [c for c in columns if c not in set(first)]
    lacked = [c for c in first if c not in set(columns)]
    has = f"has {_columns(added)} that {first_name} lacks" if added else ""
    lacks = f"lacks {_columns(lacked)} that {first_name} has" if lacked else ""
    return f"{name} {', and '.join(part for part in (has, lacks) if part)}"


def _columns(names: Sequence[str]) -> str:
    return f"{plural(len(names), 'column')} {', '.join(map(repr, names))}"
