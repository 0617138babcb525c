"""The errors tidecast raises on purpose: each names the problem so a user can fix it."""

from __future__ import annotations


class TidecastError(Exception):
    """Base class: an expected failure with a message meant for the user."""


class DataError(TidecastError, ValueError):
    """The input data breaks the data contract (missing column, bad values, too short...).

    `rows` holds a few offending rows (as dicts) so the message can point at them.
    """

    def __init__(self, problem: str, rows: list[dict[str, object]] | None = None) -> None:
        self.problem = problem
        self.rows = rows or []
        detail = f"; first offending rows: {self.rows}" if self.rows else ""
        super().__init__(problem + detail)


class ConfigError(TidecastError, ValueError):
    """An option or combination of options that cannot work (unknown metric, bad quantile...)."""


class ModelError(TidecastError):
    """A model could not be fitted, loaded or used for the request."""


class TimeLimitExceeded(TidecastError):
    """A candidate ran past its share of the time budget and was stopped."""
