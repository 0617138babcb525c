"""The errors tidecast raises on purpose: each names the problem so a user can fix it."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from pydantic import ValidationError


class TidecastError(Exception):
    """Base class: an expected failure with a message meant for the user."""


class DataError(TidecastError, ValueError):
    """The input data breaks the data contract (missing column, bad values, too short...).

    `rows` holds a few offending rows (as dicts) so the message can point at them, and
    `positions` where they stand in the table that was checked (0-based), which the message
    names after the problem.
    """

    def __init__(
        self, problem: str, rows: list[dict[str, object]] | None = None, positions: Sequence[int] = ()
    ) -> None:
        self.bare = problem
        self.positions = tuple(int(p) for p in positions)
        if self.positions:
            where = ", ".join(str(p) for p in self.positions)
            problem = f"{problem} ({'row' if len(self.positions) == 1 else 'rows'} {where}, counting from 0)"
        self.problem = problem
        self.rows = rows or []
        super().__init__(problem + self._detail())

    def _detail(self) -> str:
        return f"; first offending rows: {self.shown_rows()}" if self.rows else ""

    def unplaced(self) -> str:
        """The message without the rows' positions, for a caller whose table is not the one
        the user gave: a batch checks each item's rows apart from the file (`batch.chunk`),
        where "rows 100, 101" pointed at no row of the file. The rows themselves still show."""
        return self.bare + self._detail()

    def shown_rows(self) -> list[dict[str, object]]:
        """The offending rows as a user reads them (`_plain_row`): in the message and in an
        API problem's ``rows`` member."""
        return [_plain_row(row) for row in self.rows]


def _plain_row(row: dict[str, object]) -> dict[str, object]:
    """The row as a user reads it: dates in ISO 8601 and numpy scalars as numbers, never
    Python reprs such as ``datetime.date(2023, 1, 6)`` or ``np.float64(1.0)``."""
    return {str(key): _plain(value) for key, value in row.items()}


def _plain(value: Any) -> object:
    if isinstance(value, datetime.date):  # datetime and pandas' Timestamp are dates too
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return str(value)
    if hasattr(value, "item") and hasattr(value, "dtype"):  # a numpy scalar
        return _plain(value.item())
    return value


class ClusterLost(TidecastError):
    """The Dask cluster a run was scaled out on lost every worker. The run stops here: caught
    as one candidate's failure, it went on in this process and shipped another ensemble."""


class ConfigError(TidecastError, ValueError):
    """An option or combination of options that cannot work (unknown metric, bad quantile...)."""


class ModelError(TidecastError):
    """A model could not be fitted, loaded or used for the request."""


class TimeLimitExceeded(TidecastError):
    """A candidate ran past its share of the time budget and was stopped."""


def describe_validation(exc: ValidationError) -> str:
    """Pydantic's errors as ``rules[0].threshold: ...; ...``, the way a user finds them in the
    file they wrote (alert rules, what-if rules)."""
    parts = []
    for error in exc.errors():
        place = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".")
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{place}: {message}" if place else message)
    return "; ".join(parts)
