"""Tables that fit the terminal with every value in full, for the commands that list things.

Letting Rich shrink columns to the width cut headers and scores to `poin…` and `0.04…`, and
folding them split 32-character job ids over three lines that could no longer be copied into
the next command. A table here keeps its `fixed` columns, adds as many of its `optional`
ones, most telling first, as the width leaves room for, and names the rest in its title
(the command's --json has them). No cell wraps.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich import box
from rich.console import Console
from rich.table import Table

Columns = tuple[str, ...]
UNBOUNDED = 10_000  # columns: wider than any table


def fitted_table(
    console: Console,
    title: str,
    cells: list[dict[str, str]],
    fixed: Columns,
    optional: Columns,
    *,
    headers: Mapping[str, str] | None = None,
    left: Columns = (),
) -> Table:
    """`cells` (a row per dict, a string per column) as a table that fits `console`: the
    `fixed` columns, then as many `optional` ones, in order, as its width leaves room for.
    Columns are named by their keys in the command's --json; `headers` gives shorter headers
    for some. The `left` columns are justified left, the others right."""
    headers = headers or {}
    for shown in range(len(optional), 0, -1):
        columns, left_out = (*fixed, *optional[:shown]), optional[shown:]
        table = _layout(title, cells, columns, left_out, headers, left)
        if natural_width(console, table) <= console.width:
            return table
    return _layout(title, cells, fixed, optional, headers, left)


def natural_width(console: Console, table: Table) -> int:
    """The width `table` takes unshrunk (a measure within the terminal stops at its width)."""
    return console.measure(table, options=console.options.update(max_width=UNBOUNDED)).maximum


def _layout(
    title: str,
    cells: list[dict[str, str]],
    columns: Columns,
    left_out: Columns,
    headers: Mapping[str, str],
    left: Columns,
) -> Table:
    if left_out:
        note = f"{', '.join(left_out)} with --json"  # the keys, as --json has them
        title = f"{title}; {note}" if title else note
    table = Table(
        title=title or None,
        box=box.SIMPLE_HEAD,
        title_justify="left",
        pad_edge=False,
        collapse_padding=True,
    )
    for column in columns:
        table.add_column(
            headers.get(column, column), justify="left" if column in left else "right", no_wrap=True
        )
    for row in cells:
        table.add_row(*(row[column] for column in columns))
    return table
