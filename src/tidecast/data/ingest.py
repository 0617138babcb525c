"""Ingest: the user's table becomes a canonical panel, or a DataError that says what to fix.

This is the only module that renames the user's columns to ITEM_ID / TIMESTAMP / TARGET
(`from_canonical` renames them back on output). Every error names the problem and shows the
first offending rows in the user's own column names, so the user can find them in their file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TypeVar

import numpy as np
import pandas as pd

from tidecast.data.arrays import series_indptr
from tidecast.data.column_hints import shown_columns, wide_hint
from tidecast.data.io import SOURCE_COLUMNS
from tidecast.data.item_keys import compose, id_strings, id_texts, item_parts, missing_name, split, typed_keys
from tidecast.data.problems import Problem, sample_items
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP, DatasetSpec
from tidecast.data.timestamps import TimestampFormatError, parse_timestamp_text, without_time_zone
from tidecast.errors import ConfigError, DataError
from tidecast.wording import counted, plural

MAX_ROWS_SHOWN = 5
# Yes/no words of a flag column, as numbers (`_covariate`).
FLAG_WORDS = {
    **dict.fromkeys(("true", "t", "yes", "y", "on"), 1.0),
    **dict.fromkeys(("false", "f", "no", "n", "off"), 0.0),
}
V = TypeVar("V")


def to_canonical(
    frame: pd.DataFrame,
    item_col: str,
    timestamp_col: str,
    target_col: str | None,
    known_covariates: Sequence[str] = (),
    past_covariates: Sequence[str] = (),
    static_columns: Sequence[str] = (),
    *,
    allow_duplicates: bool = False,
    date_format: str | None = None,
    text_covariates: Sequence[str] = (),
) -> tuple[pd.DataFrame, list[Problem]]:
    """Validate `frame` and return the canonical panel plus the problems noted on the way.

    The panel has ``item_id`` (str), ``timestamp`` (datetime64[ns], time zones converted to UTC
    and dropped), ``target`` (float64), then the covariate and static columns under their own
    names, sorted by (item_id, timestamp) with a fresh index. Empty strings and NA in the target
    are missing values (filled later by `prepare`), not errors.

    `target_col=None` ingests a frame without a target: the future values of known covariates.
    `allow_duplicates=True` keeps repeated (item, timestamp) pairs for `prepare` to aggregate
    into a coarser frequency (transaction-level data); otherwise they are an error.
    `date_format` (strftime codes) reads text timestamps; without it one format is inferred
    for the whole column, and an ambiguous or mixed column is an error (`data.timestamps`).
    `text_covariates` stay text (`_covariate`): a model fitted on them as categories is given
    categories, whatever a newer table of them holds.
    """
    if len(frame) == 0:
        raise DataError("the data is empty: it has no rows")
    frame = compose(frame, item_col)
    extras = [*known_covariates, *past_covariates, *static_columns]
    columns = [item_col, timestamp_col, *([target_col] if target_col is not None else []), *extras]
    _check_names(frame, columns, extras)

    items, item_codes = _item_codes(frame, item_col, columns)
    timestamps, problems = _parse_timestamps(frame, timestamp_col, columns, date_format)
    target = _parse_numeric(frame, target_col, columns) if target_col is not None else None
    ts_ns = timestamps.view(np.int64)

    step_item, step_time = np.diff(item_codes), np.diff(ts_ns)
    if np.all((step_item > 0) | ((step_item == 0) & (step_time >= 0))):
        order = np.arange(len(frame))
    else:
        order = np.lexsort((ts_ns, item_codes))
    codes, ts_sorted = item_codes[order], ts_ns[order]
    duplicate = (codes[1:] == codes[:-1]) & (ts_sorted[1:] == ts_sorted[:-1])
    if duplicate.any() and not allow_duplicates:
        first = np.flatnonzero(duplicate)[:MAX_ROWS_SHOWN]
        positions = np.unique(np.concatenate([order[first], order[first + 1]]))
        raise _error(
            f"{int(duplicate.sum())} duplicate ({', '.join([*item_parts(item_col), timestamp_col])}) "
            f"{plural(int(duplicate.sum()), 'pair')}: each series may have one row per timestamp "
            "(aggregate them first, or ask for a coarser frequency)",
            frame,
            positions,
            columns,
        )
    if target is not None:
        valid = np.bincount(item_codes, weights=~np.isnan(target), minlength=len(items))
        empty = items[valid == 0]
        if len(empty):
            said = f"{counted(len(empty), 'series')} {plural(len(empty), 'has')}"
            raise DataError(f"{said} no {target_col!r} values at all: {list(sample_items(empty))}")

    arrays: dict[str, np.ndarray] = {
        ITEM_ID: items.astype(object)[codes],
        TIMESTAMP: ts_sorted.view("datetime64[ns]"),
    }
    if target is not None:
        arrays[TARGET] = target[order]
    for column in [*known_covariates, *past_covariates]:
        arrays[column] = _array(_covariate(frame[column], words=column not in text_covariates))[order]
    for column in static_columns:
        arrays[column] = _array(frame[column])[order]
    panel = pd.DataFrame(arrays, copy=False)
    for column in static_columns:
        _check_static(panel, column, frame, order, columns)
    return panel, problems


def from_canonical(forecast: pd.DataFrame, spec: DatasetSpec, leading: Sequence[str] = ()) -> pd.DataFrame:
    """Rename the canonical columns of a forecast (or panel) back to the user's names.

    Key columns the user's data held as numbers are numbers again (`spec.item_types`, see
    `item_keys.typed_keys`), and the rows, in the text order of the canonical ids, are put in
    theirs: store 2 before store 10, after the `leading` columns (each in its order of
    appearance: a backtest table's model and window), then by time.
    """
    names = {ITEM_ID: spec.item_col, TIMESTAMP: spec.timestamp_col, TARGET: spec.target_col}
    renamed = forecast.rename(columns={k: v for k, v in names.items() if k in forecast.columns})
    out, typed = typed_keys(split(renamed, spec.item_col), spec.item_types)
    if not typed or len(out) < 2:
        return out
    keys = [c for c in dict.fromkeys([spec.item_col, *item_parts(spec.item_col)]) if c in out.columns]
    order = [pd.factorize(out[c])[0] for c in leading] + [out[c].to_numpy() for c in keys]
    if spec.timestamp_col in out.columns:
        order.append(out[spec.timestamp_col].to_numpy())
    sorter = pd.DataFrame(dict(enumerate(order)))
    rows = sorter.sort_values(list(sorter.columns), kind="stable").index.to_numpy()
    ordered = out.iloc[rows].reset_index(drop=True)
    ordered.attrs = dict(forecast.attrs)
    return ordered


def canonical_names(frame: pd.DataFrame, spec: DatasetSpec) -> pd.DataFrame:
    """A frame in the user's names (a forecast `from_canonical` wrote) with the canonical item
    and timestamp columns again; an item key split into its parts is joined first, and ids the
    forecast gave back as numbers are text again (`id_strings`)."""
    out = compose(frame, spec.item_col).rename(
        columns={spec.item_col: ITEM_ID, spec.timestamp_col: TIMESTAMP}
    )
    return out.assign(**{ITEM_ID: id_texts(out[ITEM_ID])}) if ITEM_ID in out.columns else out


@contextmanager
def in_user_names(item_col: str, timestamp_col: str, target_col: str | None = None) -> Iterator[None]:
    """Re-raise a DataError from a check on the canonical panel or future (the grid in
    `prepare`, the future's fill) with its rows in the user's column names: they showed
    ``item_id`` and ``timestamp``, columns the user's file does not have, and an item keyed by
    several columns as one joined id instead of its parts."""
    try:
        yield
    except DataError as exc:
        if not exc.rows:
            raise
        names = {ITEM_ID: item_col, TIMESTAMP: timestamp_col, TARGET: target_col or TARGET}
        rows = split(pd.DataFrame(exc.rows).rename(columns=names), item_col)
        shown = [{str(k): _plain(v) for k, v in row.items()} for row in rows.to_dict("records")]
        raise DataError(exc.bare, shown, exc.positions) from None


def canonical_keys(options: Mapping[str, V], target_col: str) -> dict[str, V]:
    """Per-column options (filling, aggregation) keyed by the user's names -> canonical keys.

    Users write ``{"target_value": "mean"}`` with their own target name; covariates keep their
    names, so only the target key changes.
    """
    if target_col != TARGET and target_col in options and TARGET in options:
        raise ConfigError(f"options given for both {target_col!r} and {TARGET!r}: they are the same column")
    return {(TARGET if key == target_col else key): value for key, value in options.items()}


def _check_names(frame: pd.DataFrame, columns: list[str], extras: list[str]) -> None:
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise DataError(f"column(s) {repeated} are given more than one role")
    clashing = [c for c in extras if c in (ITEM_ID, TIMESTAMP, TARGET)]
    if clashing:
        raise DataError(f"covariate column(s) {clashing} clash with tidecast's own column names; rename them")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        available = dict.fromkeys([*frame.attrs.get(SOURCE_COLUMNS, []), *map(str, frame.columns)])
        hint = _near_hint(missing, available)
        near = bool(hint)
        missing = [missing_name(c, list(frame.columns)) for c in missing]
        wide = "" if near else wide_hint(list(available))
        if wide:
            hint = wide
        elif not near and any(c in (ITEM_ID, TIMESTAMP, TARGET) for c in missing if c in columns[:3]):
            hint = (
                " (name your item, time and target columns: item_col= in Python, --item-col on the "
                "command line, columns in a job; an item named by several columns joins them with "
                "commas, e.g. Store,Dept)"
            )
        raise DataError(
            f"missing column(s) {missing}; available columns: {shown_columns(list(available))}{hint}"
        )


def check_option_columns(
    options: Mapping[str, object] | None, option: str, columns: Sequence[str], also: Sequence[str] = ()
) -> None:
    """Refuse a per-column option (filling, aggregation) keyed by a column the run does not
    read, in the user's names: checked after the rename, the error listed the canonical
    'target', which the user's file does not have. `also` are keys that name no column ("*")."""
    allowed = {*columns, *also, TARGET}  # "target" names the target whatever the file calls it
    unknown = [str(c) for c in options or {} if c not in allowed]
    if unknown:
        hint = _near_hint(unknown[:1], columns) or " (a covariate needs a role: known or past covariates)"
        raise ConfigError(
            f"{option} given for unknown column {unknown[0]!r}; it may name {list(columns)}{hint}"
        )


def _near_hint(missing: Sequence[str], available: Iterable[str]) -> str:
    """The names `missing` were likely meant as, where they differ only in case or spaces."""
    near = [f"{c!r} for {m!r}" for m in missing for c in available if _same_name(c, m)]
    return f" (did you mean {', '.join(near)}? names differ in spaces or case)" if near else ""


def _same_name(a: str, b: str) -> bool:
    """Whether two column names differ only in case and surrounding spaces ("Sales " / "sales")."""
    return a != b and a.strip().casefold() == b.strip().casefold()


def _item_codes(frame: pd.DataFrame, column: str, shown: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct item ids as strings, and each row's index into them."""
    values = _array(frame[column])
    if len(values) > 1:  # fast path: rows already grouped by item in sorted order (the usual)
        indptr = series_indptr(values)
        labels = values[indptr[:-1]]
        if not pd.isna(labels).any():
            names = id_strings(labels)
            if np.all(names[1:] > names[:-1]):
                return names, np.repeat(np.arange(len(labels)), np.diff(indptr))
    codes, uniques = pd.factorize(values)
    if (codes < 0).any():
        missing = np.flatnonzero(codes < 0)
        said = counted(len(missing), "missing item id")
        raise _error(f"column {column!r} has {said}", frame, missing, shown)
    # Distinct values can share a string (1 and "1"); unique() merges them and sorts the names.
    names, inverse = np.unique(id_strings(np.asarray(uniques)), return_inverse=True)
    return names, inverse[codes].astype(np.int64)


def _parse_timestamps(
    frame: pd.DataFrame, column: str, shown: list[str], date_format: str | None = None
) -> tuple[np.ndarray, list[Problem]]:
    values = frame[column]
    missing = values.isna().to_numpy()
    if missing.any():
        raise _error(
            f"column {column!r} has {counted(int(missing.sum()), 'missing timestamp')}",
            frame,
            np.flatnonzero(missing),
            shown,
        )
    if not (pd.api.types.is_datetime64_any_dtype(values.dtype)):
        # Numbers are read as text: 2021 is a year and 20210101 a date, not nanoseconds since 1970.
        text = values.astype(str) if pd.api.types.is_numeric_dtype(values.dtype) else values
        try:
            values = parse_timestamp_text(text, date_format)
        except TimestampFormatError as exc:
            raise _error(f"column {column!r} has {exc}", frame, exc.positions, shown) from None
    problems = []
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        zone = values.dtype.tz
        values, handled = without_time_zone(values)
        problems.append(
            Problem(
                "timezone_converted",
                f"timestamps in {column!r} carried the time zone {zone}",
                count=len(values),
                handled=handled,
            )
        )
    return values.to_numpy(dtype="datetime64[ns]"), problems


def _parse_numeric(frame: pd.DataFrame, column: str, shown: list[str]) -> np.ndarray:
    values = frame[column]
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isinf(numbers)
    else:
        text = values.astype("string").str.strip()
        missing = (text.isna() | (text == "")).to_numpy(dtype=bool)
        parsed = pd.to_numeric(text.mask(missing), errors="coerce")
        numbers = parsed.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = (np.isnan(numbers) & ~missing) | np.isinf(numbers)
    if bad.any():
        shown_bad = sorted({str(v).strip() for v in values.to_numpy()[np.flatnonzero(bad)[:50]]})[:5]
        raise _error(
            f"column {column!r} has {counted(int(bad.sum()), 'value')} that {plural(int(bad.sum()), 'is')} "
            f"not {plural(int(bad.sum()), 'a finite number', 'finite numbers')}, such as "
            f"{shown_bad}: write a missing value as an empty cell (a dash is neither 0 nor missing to "
            "tidecast), a zero as 0",
            frame,
            np.flatnonzero(bad),
            shown,
        )
    return numbers


def _covariate(values: pd.Series, words: bool = True) -> pd.Series:
    """Text columns that hold only numbers (and blanks) become numbers, as do yes/no flags
    (`FLAG_WORDS`: 1 and 0) and percentages ("12%" -> 0.12); others stay categories.

    A store-open or promotion flag exported as Y/N or true/false was a category: the closure
    rule (zero sales where a 0/1 flag is 0), the flag lifts and the median filling of flags
    read numbers only, so "N" days were forecast near zero by the trees, not exactly zero.
    Without `words` a text column stays text whatever it holds: a model fitted on it as
    categories ("0", "a", "b" for state holidays) is given categories, not the number 0 for a
    future that holds only "0".
    """
    if (
        not words
        and pd.api.types.is_numeric_dtype(values.dtype)
        and not pd.api.types.is_bool_dtype(values.dtype)
    ):
        # Numbers for a column fitted as text ({"state": 0} in a JSON row): their text, "0".
        return pd.Series(id_strings(values), index=values.index, dtype=object).where(values.notna(), None)
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return values
    if not words:
        return values.astype(object)
    text = values.astype("string").str.strip()
    missing = text.isna() | (text == "")
    parsed = pd.to_numeric(text.mask(missing), errors="coerce")
    if not (parsed.isna() & ~missing).any():
        return parsed.astype(np.float64)
    flags = text.str.casefold().map(FLAG_WORDS)
    if (flags.notna() | missing).all():
        return flags.astype(np.float64)
    percent = pd.to_numeric(text.mask(missing).str.removesuffix("%"), errors="coerce")
    if (text.str.endswith("%") | missing).all() and (percent.notna() | missing).all():
        return (percent / 100).astype(np.float64)
    return values


def _check_static(
    panel: pd.DataFrame, column: str, frame: pd.DataFrame, order: np.ndarray, shown: list[str]
) -> None:
    """Static attributes must hold one value per item; name the items where they do not.

    Empty cells are no second value: an item's plan rows (`data.ahead`) or an export's padding
    often leave its attributes empty. They take the item's value, in place."""
    values = panel[column].to_numpy()
    items = panel[ITEM_ID].to_numpy()
    valid = np.flatnonzero(~pd.isna(values))
    kept, owners = values[valid], items[valid]
    changes = np.flatnonzero((kept[1:] != kept[:-1]) & (owners[1:] == owners[:-1]))
    if len(changes):
        bad_items = np.unique(owners[changes + 1])
        rows = order[valid[[changes[0], changes[0] + 1]]]
        raise _error(
            f"static column {column!r} takes several values within {counted(len(bad_items), 'series')}: "
            f"{list(sample_items(bad_items))}",
            frame,
            rows,
            shown,
        )
    if 0 < len(valid) < len(values):
        panel[column] = panel.groupby(ITEM_ID, sort=False)[column].transform("first")


def _array(values: pd.Series) -> np.ndarray:
    """Plain numpy values; pandas' nullable types give None for NA, which compares like a value."""
    if isinstance(values.dtype, pd.api.extensions.ExtensionDtype):
        if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
            return values.to_numpy(dtype=np.float64, na_value=np.nan)
        return values.to_numpy(dtype=object, na_value=None)
    return values.to_numpy()


def _error(problem: str, frame: pd.DataFrame, positions: np.ndarray, columns: list[str]) -> DataError:
    """A DataError showing the first offending rows, as dicts in the user's column names: an
    item key of several columns (`columns[0]`, joined by `compose`) as those columns again."""
    first = np.asarray(positions)[:MAX_ROWS_SHOWN]
    picked = frame.iloc[first][list(dict.fromkeys(columns))]
    if all(part in frame.columns for part in item_parts(columns[0])):  # the key was composed
        picked = split(picked, columns[0])
    rows = [{str(k): _plain(v) for k, v in row.items()} for row in picked.to_dict("records")]
    return DataError(problem, rows, first.tolist())


def _plain(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    return value
