"""How each AutoML option is checked, and read from the command line's text.

One function per option, used by `AutoForecaster`, the job body and the command line alike
(through `automl.options`), so a bad value gets the same words whichever door it came in by.
Each check raises ConfigError, a ValueError, which pydantic reports on the body's field, and
returns the value normalised (sorted quantiles, catalog model names, upper-case countries).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tidecast.automl.preparation import names
from tidecast.automl.presets import get_preset
from tidecast.data.frequency import check_horizon
from tidecast.data.schema import parse_quantiles
from tidecast.errors import ConfigError
from tidecast.metrics import get_metric


def check_steps(value: int) -> int:
    """A horizon: a positive integer of at most `MAX_HORIZON` steps."""
    check_horizon(value)
    return value


def check_quantiles(value: Any) -> list[float]:
    return list(parse_quantiles(value))


def check_metric(value: str) -> str:
    get_metric(value)
    return value


def check_preset(value: str) -> str:
    get_preset(value)
    return value


def check_models(value: Any) -> list[str] | None:
    """Catalog names, deduplicated; None leaves the choice to the preset. One string is a
    comma list ("Naive" or "MSTLETS,AutoETS", as the other name options take), not a sequence
    of one-letter names."""
    if value is None:
        return None
    from tidecast.models.catalog import model_names

    resolved = model_names(split_names(value) or [] if isinstance(value, str) else value)
    if not resolved:
        raise ConfigError("give at least one model, or leave models out to use the preset's")
    return list(dict.fromkeys(resolved))


def check_frequency(value: str | None) -> str | None:
    if value is None:
        return None
    from tidecast.data.frequency import user_offset

    try:
        user_offset(value)
    except ValueError:
        raise ConfigError(
            f"unknown frequency {value!r}: use a pandas offset alias such as D, h, W, MS"
        ) from None
    return value


def check_date_format(value: str | None) -> str | None:
    if value is not None and "%" not in value:
        raise ConfigError(f"a date format is strftime codes such as %d/%m/%Y, got {value!r}")
    return value


def check_time_limit(value: float | None) -> float | None:
    if value is not None and value <= 0:
        raise ConfigError(f"time limit must be positive seconds, got {value}")
    return value


def check_windows(value: int | None) -> int | None:
    if value is not None and int(value) < 0:
        raise ConfigError(f"backtest windows must be 0 or more, got {value}")
    return value


def check_holidays(value: Any) -> list[str]:
    """Country codes such as US or GB-SCT, upper-cased; each one the `holidays` package knows."""
    codes = names(value, "holidays")
    bad = [c for c in codes if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,3})?", c)]
    if bad:
        from tidecast.data.holidays import country_named

        named = {c: country_named(c) for c in bad}
        hint = ", ".join(f"{code} for {c!r}" for c, code in named.items() if code)
        raise ConfigError(
            f"holiday country codes look like US or GB, got {bad}"
            + (f": did you mean {hint}?" if hint else "")
        )
    if codes:  # checked whichever models run: an unknown country would fail one candidate late
        from tidecast.data.holidays import HolidayCalendar

        HolidayCalendar.from_countries(codes, years=[2000])
    return [c.upper() for c in codes]


def check_filling(value: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The regions and method names of a filling spec; the columns are checked against the data."""
    from tidecast.data.filling import check_setting

    for column, spec in (value or {}).items():
        settings = {"middlefill": spec} if isinstance(spec, str) else spec
        if not isinstance(settings, Mapping):
            continue  # the data's check names it, with the columns
        for key, method in settings.items():
            check_setting(column, key, method)
    return value


def check_aggregation(value: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The method names of an aggregation spec, checked under the user's column names (the
    data's check, after the rename, named the target 'target'); the columns are checked
    against the data."""
    from tidecast.data.aggregation import AGGREGATIONS

    for column, method in (value or {}).items():
        if method not in AGGREGATIONS:
            raise ConfigError(f"unknown aggregation {method!r} for {column!r}: use {', '.join(AGGREGATIONS)}")
    return value


def check_model_params(value: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """Known models, each given only options it takes (`catalog.check_params`) and values its
    constructor accepts, before any fit: a bad value found when the candidate is built would
    only drop that model from the run, with its error in the leaderboard."""
    from tidecast.models.catalog import check_params, make_model, model_names

    model_names(value or {})
    for name, params in (value or {}).items():
        if not isinstance(params, Mapping):
            raise ConfigError(f"model_params for {name}: give its options as a mapping, got {params!r}")
        check_params(name, params)
        make_model(name, "D", **params)
    return value


# ---- command-line text -> keyword values ----------------------------------------------------


def split_names(text: str) -> list[str] | None:
    """ "a, b" -> ["a", "b"]; nothing named is None (the default), not an empty list."""
    return [m.strip() for m in text.split(",") if m.strip()] or None


def json_option(flag: str, keyed_by: str = "column name") -> Callable[[str], dict[str, Any] | None]:
    """A parser of `flag`'s JSON object (keyed by `keyed_by`), given inline or as a .json file."""

    def parse(value: str) -> dict[str, Any] | None:
        if not value:
            return None
        try:
            text = Path(value).read_text() if value.endswith(".json") and Path(value).is_file() else value
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{flag} must be JSON (or a .json file): {exc}") from None
        if not isinstance(parsed, dict):
            raise ConfigError(f"{flag} must be a JSON object keyed by {keyed_by}")
        return parsed

    return parse
