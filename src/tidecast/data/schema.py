"""The data contract: canonical column names, the dataset description, forecast column names.

Only ingest renames the user's columns to these constants, and only output renames them back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

ITEM_ID = "item_id"
TIMESTAMP = "timestamp"
TARGET = "target"
MEAN = "mean"


@dataclass(frozen=True)
class DatasetSpec:
    """What travels beside a panel: its frequency, covariate roles and the user's column names.

    `freq` is a pandas offset alias ("D", "h", "W-SUN", "MS"...). `holidays` are country codes
    of the `holidays` package ("US", "US-CA" for a subdivision) and `events` the user's own
    calendar as (ISO date, name) pairs: both are known for any date, so models that use them
    build the same holiday features for the history and the horizon. The `*_col` fields keep
    the user's original names so outputs can be written back in the user's vocabulary, and
    `item_types` the number types of the user's key columns ((column, dtype) pairs, e.g.
    ("Store", "int64")) so outputs give them back as numbers (`item_keys.typed_keys`); a key
    column that is not there is text, as is every key of a spec saved before it existed.
    """

    freq: str
    known_covariates: tuple[str, ...] = ()
    past_covariates: tuple[str, ...] = ()
    static_columns: tuple[str, ...] = ()
    holidays: tuple[str, ...] = ()
    events: tuple[tuple[str, str], ...] = ()
    item_col: str = ITEM_ID
    timestamp_col: str = TIMESTAMP
    target_col: str = TARGET
    item_types: tuple[tuple[str, str], ...] = ()
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, object]:
        return {
            "freq": self.freq,
            "known_covariates": list(self.known_covariates),
            "past_covariates": list(self.past_covariates),
            "static_columns": list(self.static_columns),
            "holidays": list(self.holidays),
            "events": [list(e) for e in self.events],
            "item_col": self.item_col,
            "timestamp_col": self.timestamp_col,
            "target_col": self.target_col,
            "item_types": dict(self.item_types),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> DatasetSpec:
        def names(key: str) -> tuple[str, ...]:
            value = data.get(key) or ()
            assert isinstance(value, list | tuple)
            return tuple(str(v) for v in value)

        types = data.get("item_types") or {}
        assert isinstance(types, dict)
        return cls(
            freq=str(data["freq"]),
            known_covariates=names("known_covariates"),
            past_covariates=names("past_covariates"),
            static_columns=names("static_columns"),
            holidays=names("holidays"),
            events=tuple((str(d), str(n)) for d, n in data.get("events") or ()),  # type: ignore[attr-defined]
            item_col=str(data.get("item_col", ITEM_ID)),
            timestamp_col=str(data.get("timestamp_col", TIMESTAMP)),
            target_col=str(data.get("target_col", TARGET)),
            item_types=tuple((str(c), str(t)) for c, t in types.items()),
        )


def quantile_column(q: float) -> str:
    """The forecast column for quantile `q`: 0.1 -> "p10", 0.5 -> "p50", 0.025 -> "p2.5"."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"quantile must be strictly between 0 and 1, got {q}")
    percent = round(q * 100, 6)
    return f"p{percent:g}"


def quantile_columns(quantiles: Sequence[float]) -> list[str]:
    return [quantile_column(q) for q in quantiles]


def is_quantile_column(name: str) -> bool:
    """Whether `name` is a forecast's quantile column as `quantile_column` writes one ("p10",
    "p2.5"), not merely a column whose name starts with p (a price, a peer group)."""
    return re.fullmatch(r"p\d+(\.\d+)?", name) is not None


def parse_quantiles(text: str | Sequence[float]) -> tuple[float, ...]:
    """Parse "0.1,0.5,0.9" (or a sequence) into sorted unique quantiles, each in (0, 1)."""
    from tidecast.errors import ConfigError

    items = text.split(",") if isinstance(text, str) else list(text)
    try:
        values = sorted({float(str(v).strip()) for v in items if str(v).strip()})
    except ValueError as exc:
        raise ConfigError(f"quantiles must be numbers between 0 and 1, got {text!r}") from exc
    if not values or any(not 0.0 < v < 1.0 for v in values):
        raise ConfigError(f"quantiles must be numbers strictly between 0 and 1, got {text!r}")
    return tuple(values)
