"""Holiday calendars (from the offline `holidays` package or a user's events file) and features.

Demand moves for days around a holiday, not only on it: shoppers stock up before Christmas and
return gifts after it. So the features describe the distance to the nearest holidays and a
window around each frequent one, not just a same-day flag. They are pure functions of the
date and the calendar, so history rows and forecast rows with the same date get the same
values, and the set of columns depends only on the calendar, never on the timestamps asked
for (a model fitted on the history then finds the same columns in its horizon).
"""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from tidecast.data.calendar import as_datetime64
from tidecast.data.timestamps import TimestampFormatError, parse_timestamp_text
from tidecast.errors import ConfigError, DataError
from tidecast.wording import counted, plural

# How many per-holiday indicators `per_holiday=True` gives: every recurring holiday of one
# country, without flooding a model when several countries or subdivisions are merged.
DEFAULT_PER_HOLIDAY = 20
_MAX_ROWS_SHOWN = 5
# Qualifiers the `holidays` package appends to a name; the day off it marks is the same holiday.
_QUALIFIER = re.compile(r"\s*\((?:observed|estimated|approximated|[,\s])+\)", re.IGNORECASE)


@dataclass(frozen=True)
class HolidayCalendar:
    """Holidays as parallel tuples of dates, names and scopes, sorted by (date, name, scope).

    The scope says where a holiday applies: the country code ("US", "US-CA" for a
    subdivision) or a user's label. Tuples keep the calendar hashable and cheap to store
    beside a fitted model; `days` gives the numpy view the features are computed from.
    """

    dates: tuple[date, ...] = ()
    names: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not len(self.dates) == len(self.names) == len(self.scopes):
            raise ValueError("a HolidayCalendar needs as many names and scopes as dates")

    def __len__(self) -> int:
        return len(self.dates)

    @property
    def days(self) -> np.ndarray:
        """The holiday dates as datetime64[D] (with repeats when one day holds two holidays)."""
        return np.array(self.dates, dtype="datetime64[D]")

    def to_frame(self) -> pd.DataFrame:
        """Columns date, name, scope: the shape `from_events` reads back."""
        return pd.DataFrame({"date": pd.to_datetime(self.days), "name": self.names, "scope": self.scopes})

    @classmethod
    def from_countries(
        cls,
        codes: Sequence[str] | str,
        years: range | Sequence[int],
        subdivisions: Mapping[str, str] | None = None,
    ) -> HolidayCalendar:
        """Public holidays of each country (ISO code, any the `holidays` package knows) in `years`.

        `subdivisions` maps a country to a state or province code ({"US": "CA"}) for regional
        holidays. Names are asked for in English where the country offers it, so column names
        do not change with the machine's locale. `codes` may also be one "US,GB" string.
        """
        import holidays as holidays_package

        codes = [c.strip() for c in codes.split(",")] if isinstance(codes, str) else list(codes)
        codes = [c.upper() for c in codes if c]
        year_list = sorted({int(y) for y in years})
        if not codes:
            raise ConfigError("no holiday country given: pass codes such as US or GB")
        if not year_list:
            raise ConfigError("no years given for the holiday calendar")
        subdivisions = {k.upper(): v for k, v in (subdivisions or {}).items()}
        stray = sorted(set(subdivisions) - set(codes))
        if stray:
            raise ConfigError(f"subdivisions given for {stray}, which are not among the countries {codes}")
        supported = holidays_package.list_supported_countries()
        rows: list[tuple[date, str, str]] = []
        for code in codes:
            if code not in supported:
                raise ConfigError(_unknown_country(code, sorted(supported)))
            subdivision = subdivisions.get(code)
            try:
                probe = holidays_package.country_holidays(code, subdiv=subdivision)
            except NotImplementedError as exc:
                valid = ", ".join(sorted(supported[code])[:12]) or "none"
                raise ConfigError(
                    f"country {code} has no subdivision {subdivision!r}; valid ones include {valid}"
                ) from exc
            language = "en_US" if "en_US" in (probe.supported_languages or ()) else None
            with warnings.catch_warnings():  # some countries warn that far-off years are estimates
                warnings.simplefilter("ignore")
                table = holidays_package.country_holidays(
                    code, subdiv=subdivision, years=year_list, language=language
                )
            scope = f"{code}-{subdivision}" if subdivision else code
            rows.extend((day, name, scope) for day in table for name in table.get_list(day))
        return cls._from_rows(rows)

    @classmethod
    def from_events(
        cls, source: pd.DataFrame | str | Path, scope: str = "events", date_format: str | None = None
    ) -> HolidayCalendar:
        """A user's events: a frame or CSV/Parquet file with columns date and name.

        An optional `scope` (or `country`) column labels where each event applies; rows without
        one get `scope`. Times of day are dropped. Bad rows raise DataError naming them. Text
        dates are read with one format for the whole column, as the data's timestamps are
        (`tidecast.data.timestamps`): `date_format` (the run's) when they match it, else one
        inferred; ``02/01/2023`` is never read as 1 February in one row and 2 January in another.
        """
        if isinstance(source, pd.DataFrame):
            frame = source
        else:
            from tidecast.data.io import read_table

            frame = read_table(source, text_columns=("date", "name", "scope", "country"))
        frame = frame.rename(columns={c: str(c).strip().lower() for c in frame.columns})
        missing = [c for c in ("date", "name") if c not in frame.columns]
        if missing:
            raise DataError(
                f"an events table needs columns date and name; missing {missing}, got {list(frame.columns)}"
            )
        if len(frame) == 0:
            raise DataError("the events table has no rows")
        shown = [c for c in ("date", "name", "scope", "country") if c in frame.columns]
        dates = frame["date"]
        text = dates.astype("string").str.strip()
        bad = text.isna().to_numpy() | (text == "").to_numpy(dtype=bool, na_value=True)
        if bad.any():
            raise _bad_rows(
                f"{counted(int(bad.sum()), 'event')} {plural(int(bad.sum()), 'has')} a missing date",
                frame,
                bad,
                shown,
            )
        try:
            parsed = (
                dates
                if pd.api.types.is_datetime64_any_dtype(dates.dtype)
                else _event_dates(text, date_format)
            )
        except TimestampFormatError as exc:
            positions = np.zeros(len(frame), dtype=bool)
            positions[exc.positions] = True
            raise _bad_rows(f"the events' dates have {exc}", frame, positions, shown) from None
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            parsed = parsed.dt.tz_localize(None)
        names = frame["name"].astype("string").str.strip()
        bad = names.isna().to_numpy() | (names == "").to_numpy(dtype=bool, na_value=True)
        if bad.any():
            raise _bad_rows(
                f"{counted(int(bad.sum()), 'event')} {plural(int(bad.sum()), 'has')} no name",
                frame,
                bad,
                shown,
            )
        column = "scope" if "scope" in frame.columns else "country" if "country" in frame.columns else None
        scopes = (
            frame[column].astype("string").str.strip().fillna("").replace("", scope)
            if column
            else pd.Series(scope, index=frame.index)
        )
        days = parsed.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(date)
        return cls._from_rows(zip(days, names.astype(str), scopes.astype(str), strict=True))

    @classmethod
    def merge(cls, *calendars: HolidayCalendar) -> HolidayCalendar:
        """One calendar holding every holiday of `calendars`, exact duplicates removed."""
        return cls._from_rows(
            row
            for calendar in calendars
            for row in zip(calendar.dates, calendar.names, calendar.scopes, strict=True)
        )

    def restrict(self, scopes: Sequence[str]) -> HolidayCalendar:
        """Only the holidays of `scopes` (e.g. one country of a merged calendar, for its stores)."""
        wanted = set(scopes)
        return self._from_rows(
            row for row in zip(self.dates, self.names, self.scopes, strict=True) if row[2] in wanted
        )

    @classmethod
    def _from_rows(cls, rows: Iterable[tuple[date, str, str]]) -> HolidayCalendar:
        unique = sorted(set(rows))
        if not unique:
            return cls()
        dates, names, scopes = zip(*unique, strict=True)
        return cls(tuple(dates), tuple(names), tuple(scopes))


def holiday_key(name: str) -> str:
    """The snake_case key of a holiday name: "Christmas Day (observed)" -> "christmas_day".

    Observed and estimated days are keyed with the holiday they stand for; apostrophes and
    accents are dropped ("New Year's Day" -> "new_years_day"); names with no Latin letters
    get a stable hash, so every key is a valid column name.
    """
    plain = _QUALIFIER.sub("", name).replace("'", "").replace("\u2019", "")
    ascii_name = unicodedata.normalize("NFKD", plain).encode("ascii", "ignore").decode()
    key = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")
    return key or "h" + hashlib.sha1(name.encode()).hexdigest()[:8]


def holiday_features(
    timestamps: object,
    calendar: HolidayCalendar,
    window: int = 7,
    per_holiday: bool | int = True,
    *,
    cap: int = 30,
    radius: int = 2,
) -> pd.DataFrame:
    """Holiday columns aligned with `timestamps` (any frequency: only the date counts).

    - `days_to_holiday`, `days_since_holiday`: days to the next / since the previous holiday
      (0 on one), capped at `cap`, also where the calendar ends, so far-away values stay bounded;
    - `is_holiday`; `holiday_window`: 1 within `window` days of a holiday, either side;
    - `hol_<key>`: 1 within `radius` days of that holiday (or of its observed day), for the
      most frequent holidays of the calendar: all up to DEFAULT_PER_HOLIDAY when
      `per_holiday` is True, the top n when it is n, none when False or 0.

    The values are computed once per calendar day of the span covered (searchsorted over the
    sorted holiday days) and gathered, so a panel of 10 million rows costs a few gathers.
    """
    if window < 0 or cap < 1 or radius < 0:
        raise ConfigError(
            f"holiday window, cap and radius must be >= 0, >= 1, >= 0; got {window}, {cap}, {radius}"
        )
    day = as_datetime64(timestamps).astype("datetime64[D]").view(np.int64)
    holidays_ = np.unique(calendar.days.view(np.int64))
    indicators = _indicators(calendar, per_holiday)
    if len(day) and int(day.max() - day.min()) < len(day):
        low = int(day.min())
        grid = np.arange(low, int(day.max()) + 1, dtype=np.int64)
        table = _day_features(grid, holidays_, indicators, window, cap, radius)
        position = day - low
        return pd.DataFrame({name: values[position] for name, values in table.items()})
    return pd.DataFrame(_day_features(day, holidays_, indicators, window, cap, radius))


def _indicators(calendar: HolidayCalendar, per_holiday: bool | int) -> dict[str, np.ndarray]:
    """The sorted day numbers of each holiday key that gets its own column, most frequent first."""
    top = DEFAULT_PER_HOLIDAY if per_holiday is True else int(per_holiday)
    if top <= 0 or len(calendar) == 0:
        return {}
    keys = np.array([holiday_key(n) for n in calendar.names])
    days = calendar.days.view(np.int64)
    unique, counts = np.unique(keys, return_counts=True)
    order = np.lexsort((unique, -counts))[:top]  # by count, then name, so columns are stable
    return {f"hol_{unique[i]}": np.unique(days[keys == unique[i]]) for i in order}


def _distances(day: np.ndarray, holidays_: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days to the next holiday and since the previous one, with a huge value where there is none."""
    far = np.iinfo(np.int64).max // 4
    if len(holidays_) == 0:
        return np.full(len(day), far), np.full(len(day), far)
    after = np.searchsorted(holidays_, day, side="left")
    before = np.searchsorted(holidays_, day, side="right") - 1
    to_next = np.where(after < len(holidays_), holidays_[np.minimum(after, len(holidays_) - 1)] - day, far)
    since = np.where(before >= 0, day - holidays_[np.maximum(before, 0)], far)
    return to_next, since


def _day_features(
    day: np.ndarray,
    holidays_: np.ndarray,
    indicators: dict[str, np.ndarray],
    window: int,
    cap: int,
    radius: int,
) -> dict[str, np.ndarray]:
    to_next, since = _distances(day, holidays_)
    nearest = np.minimum(to_next, since)
    columns = {
        "days_to_holiday": np.minimum(to_next, cap).astype(np.int16),
        "days_since_holiday": np.minimum(since, cap).astype(np.int16),
        "is_holiday": (nearest == 0).astype(np.int8),
        "holiday_window": (nearest <= window).astype(np.int8),
    }
    for name, days in indicators.items():
        to_next, since = _distances(day, days)
        columns[name] = (np.minimum(to_next, since) <= radius).astype(np.int8)
    return columns


def country_named(text: str) -> str | None:
    """The ISO code of a country given by its English name or its three-letter code
    ("Germany", "united kingdom", "DEU" -> "DE"), from the holidays package's registry."""
    from holidays.registry import COUNTRIES

    wanted = re.sub(r"[\s_\-]", "", text).casefold()
    for key, (name, code, alpha3, *_) in COUNTRIES.items():
        if wanted in (key.replace("_", ""), name.casefold(), alpha3.casefold()):
            return str(code)
    return None


def _unknown_country(code: str, supported: list[str]) -> str:
    named = country_named(code)
    if named is not None:
        return f"unknown holiday country {code!r}: did you mean {named}? use ISO two-letter codes"
    close = difflib.get_close_matches(code, supported, n=3, cutoff=0.5)
    common = [c for c in ("US", "GB", "DE", "FR", "CA", "BR", "IN", "CN", "JP", "AU") if c in supported]
    hint = f"did you mean {', '.join(close)}? " if close else ""
    return (
        f"unknown holiday country {code!r}: {hint}use an ISO code the holidays package knows, "
        f"such as {', '.join(common)} ({len(supported)} in all)"
    )


def _event_dates(text: pd.Series, date_format: str | None) -> pd.Series:
    """The dates with `date_format` when they all match it, else with one inferred format (an
    events file may be written unlike the data); a `TimestampFormatError` when neither reads them."""
    try:
        return parse_timestamp_text(text, date_format)
    except TimestampFormatError:
        if date_format is None:
            raise
    return parse_timestamp_text(text)


def _bad_rows(problem: str, frame: pd.DataFrame, bad: np.ndarray, columns: list[str]) -> DataError:
    positions = np.flatnonzero(bad)[:_MAX_ROWS_SHOWN]
    rows: list[dict[str, object]] = [
        {str(k): (None if pd.isna(v) else str(v)) for k, v in row.items()}
        for row in frame.iloc[positions][columns].to_dict("records")
    ]
    return DataError(problem, rows, positions.tolist())
