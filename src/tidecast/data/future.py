"""Known covariates over the forecast horizon: the future grid of each series, gaps filled.

A model that uses a known covariate (a planned promotion, a holiday flag) needs its value at
every forecast step. This builds the exact steps the history implies and fills what the user
did not provide with the column's ``futurefill`` (SageMaker's vocabulary, see `filling`).

A series that ended before the panel's last timestamp (a discontinued product) is forecast
from its own last observation, so its horizon lies in days that a future file, which starts
after the panel's end, has no rows for. Such cells get the series' own historical mean (a
flag becomes the share of days it was on) and a note in `frame.attrs["notes"]`, rather than
failing the whole fit: on the messy demo, 12 discontinued items of 125 stopped every
`--future` run. Missing cells of series that reach the panel's end stay an error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays
from tidecast.data.fill_cells import array_values, column_values, fill_value
from tidecast.data.filling import (
    EVERY,
    Fill,
    FillingOptions,
    is_flag,
    resolve_filling,
)
from tidecast.data.frequency import future_timestamps
from tidecast.data.item_keys import id_strings
from tidecast.data.schema import ITEM_ID, TIMESTAMP
from tidecast.errors import DataError
from tidecast.wording import counted, plural

# Where a forecast's known covariates can come from, as the errors that ask for them say it.
FUTURE_WAYS = (
    'future= in Python, --future on the command line, "future" in an API request, '
    "or rows after the data's last target date, the target empty"
)


def fill_future(
    future: pd.DataFrame,
    history: pd.DataFrame | SeriesArrays,
    freq: str,
    horizon: int,
    known_covariates: Sequence[str],
    filling: FillingOptions | None = None,
    steps: int | None = None,
) -> pd.DataFrame:
    """Known covariates for the `horizon` steps after each series of `history`, gaps filled.

    `steps` (a request for fewer steps than the model's horizon) are the steps the caller
    reads: past them, a cell not given carries its item's last value over the steps before,
    so a forecast of 2 of a model's 4 weeks needs 2 weeks of plan, not 4.

    `history` is the panel or its arrays (`SeriesArrays.from_spec`, with the known covariates),
    so a model handed arrays fills its future without building them again.
    Returns one row per item and future step (the steps `history` implies; rows of `future`
    outside them are ignored), filled with each column's ``futurefill`` (mean/median/min/max
    from the item's history). `filling` is the same option as for `prepare`, or
    `PreparedData.filling`; its entries for other columns are ignored. Cells still missing raise
    DataError: a model that uses a known covariate cannot forecast without its future values,
    except numeric cells of series that ended before the others (see the module's docstring).
    """
    known = list(known_covariates)
    missing = [c for c in (ITEM_ID, TIMESTAMP, *known) if c not in future.columns]
    if missing:
        raise DataError(f"future covariates lack column(s) {missing}; available: {list(future.columns)}")
    if isinstance(history, SeriesArrays):
        arrays = history
        absent = [c for c in known if c not in history.covariates]
        if absent:
            raise DataError(f"the history arrays lack the known covariate(s) {absent}")
        past = {c: array_values(history.covariates[c]) for c in known}
    else:
        arrays = SeriesArrays.from_panel(history, freq)
        past = {c: column_values(history[c]) for c in known}
    options = {k: v for k, v in (filling or {}).items() if k in known or k == EVERY}  # the rest is prepare's
    numeric = {c: v.dtype.kind == "f" for c, v in past.items()}
    plans = resolve_filling(options, numeric, [c for c, v in past.items() if numeric[c] and is_flag(v)])
    expected = pd.DataFrame(
        {
            ITEM_ID: np.repeat(arrays.item_ids.astype(object), horizon),
            TIMESTAMP: future_timestamps(arrays.last_timestamps(), freq, horizon).ravel(),
        }
    )
    given = future[[ITEM_ID, TIMESTAMP, *known]].astype({TIMESTAMP: "datetime64[ns]"})
    given[ITEM_ID] = id_strings(given[ITEM_ID])
    for column in known:
        if past[column].dtype.kind == "f":
            given[column] = _numbers(given, column)
    try:
        frame = expected.merge(
            given, on=[ITEM_ID, TIMESTAMP], how="left", validate="one_to_one", indicator=True
        )
    except pd.errors.MergeError as exc:
        raise DataError("future covariates have duplicate (item_id, timestamp) rows") from exc
    present = (frame.pop("_merge") == "both").to_numpy()
    row_series = np.repeat(np.arange(arrays.n_series), horizon)
    for column in known:
        values = (
            column_values(frame[column]) if past[column].dtype.kind == "f" else frame[column].to_numpy(object)
        )
        gap = pd.isna(values)
        fill = plans[column].futurefill
        if gap.any() and fill.method != "none":
            value = fill_value(fill, past[column], arrays.indptr)
            values[gap] = value[row_series[gap]] if isinstance(value, np.ndarray) else value
        frame[column] = values
    if steps is not None and steps < horizon:  # steps nobody reads: the last value carries on
        beyond = np.tile(np.arange(1, horizon + 1), arrays.n_series) > steps
        carried = frame.groupby(ITEM_ID, sort=False)[known].ffill()
        frame.loc[beyond, known] = frame.loc[beyond, known].fillna(carried.loc[beyond])
    # A text covariate left empty in its history (M5's event_name_1 on days without an event)
    # has "empty" as one of its states: a future row given with it empty means the same.
    empty_state = [c for c in known if past[c].dtype.kind != "f" and pd.isna(past[c]).any()]

    def unknown_cells() -> pd.DataFrame:
        cells = frame[known].isna()
        cells[empty_state] = cells[empty_state] & ~present[:, None]
        return cells

    unknown = unknown_cells()
    still = unknown.any(axis=1).to_numpy()
    last = arrays.last_timestamps()
    ended = (last < last.max())[row_series] if len(last) else np.zeros(0, dtype=bool)
    if (still & ended).any():
        _fill_ended(frame, past, arrays.indptr, row_series, still & ended)
        unknown = unknown_cells()
        still = unknown.any(axis=1).to_numpy()
    if still.any():
        rows = frame.loc[still].head(5).to_dict("records")
        columns = [c for c in known if unknown[c].any()]
        items = pd.unique(frame.loc[still, ITEM_ID])
        n_unknown = int(unknown.to_numpy().sum())
        raise DataError(
            f"{counted(n_unknown, 'future value')} of the known covariates {columns} "
            f"{plural(n_unknown, 'is')} missing for {counted(len(items), 'item')} (e.g. {list(items[:5])}); "
            "provide them or set a "
            f"futurefill method, e.g. the filling {_futurefill_hint(columns, past)}"
            f"{_unmatched_hint(given, frame.loc[still], arrays.item_ids)}",
            [{str(k): _plain(v) for k, v in row.items()} for row in rows],
        )
    strangers = pd.unique(given.loc[~given[ITEM_ID].isin(arrays.item_ids), ITEM_ID])
    if len(strangers):  # a typo, or a new item: nothing forecasts it, so say so
        frame.attrs["notes"] = [
            *frame.attrs.get("notes", []),
            f"the future's rows name {counted(len(strangers), 'item')} the data does not have, and are "
            f"ignored (e.g. {[str(u) for u in strangers[:5]]}): an item needs history to be "
            "forecast; a new one is forecast from similar items by `tidecast cold-start`",
        ]
    return frame


def _numbers(given: pd.DataFrame, column: str) -> pd.Series:
    """The future's `column`, numeric in the history, as numbers; DataError naming the values
    that are not. Passed on as text, "x" read as no deal and "0,0411" as a price of 411."""
    values = given[column]
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return values.astype(np.float64)
    text = values.astype("string").str.strip()
    parsed = pd.to_numeric(text, errors="coerce").astype(np.float64)
    bad = parsed.isna() & text.notna() & (text != "")
    if bad.any():
        shown = list(dict.fromkeys(str(v) for v in values[bad]))[:5]
        rows = given.loc[bad, [ITEM_ID, TIMESTAMP, column]].head(5).to_dict("records")
        raise DataError(
            f"the known covariate {column!r} is numeric in the history, but {int(bad.sum())} of its "
            f"future values {plural(int(bad.sum()), 'is not a number', 'are not numbers')} (e.g. {shown}); "
            "write them as numbers with a decimal point",
            [{str(k): _plain(v) for k, v in row.items()} for row in rows],
        )
    return parsed


def _unmatched_hint(given: pd.DataFrame, missing: pd.DataFrame, items: np.ndarray) -> str:
    """Why the future rows did not reach the missing cells, where the file says: it names items
    the history does not have (ids written differently, another key), or its rows of a missing
    item lie on other dates than the horizon's."""
    unknown = pd.unique(given.loc[~given[ITEM_ID].isin(items), ITEM_ID])
    if len(unknown):
        return (
            f"; the future's rows name {counted(len(unknown), 'item')} the data does not have "
            f"(e.g. {[str(u) for u in unknown[:5]]})"
        )
    item = missing[ITEM_ID].iloc[0]
    dates = given.loc[given[ITEM_ID] == item, TIMESTAMP]
    if not len(dates):
        return ""
    wanted = missing.loc[missing[ITEM_ID] == item, TIMESTAMP]
    return (
        f"; the future's rows of {item!r} run {_day(dates.min())} to {_day(dates.max())}, "
        f"its missing steps {_day(wanted.min())} to {_day(wanted.max())}"
    )


def _day(stamp: pd.Timestamp) -> str:
    return stamp.isoformat() if stamp != stamp.normalize() else stamp.strftime("%Y-%m-%d")


def _futurefill_hint(columns: list[str], past: dict[str, np.ndarray]) -> str:
    """Filling specs that would fill the gaps, as the user writes them (JSON): for a number, each
    item's median or a value; for text, the history's most common value (its first one was a
    state holiday's "a" on a store panel: copied, the hint would have made every missing day a
    holiday); for several numbers, the same for every covariate at once (`EVERY`)."""
    column = columns[0]
    if all(past[c].dtype.kind == "f" for c in columns):
        key = EVERY if len(columns) > 1 else column
        median = json.dumps({key: {"futurefill": "median"}})
        value = json.dumps({column: {"futurefill": "value", "futurefill_value": 1}})
        return f"{median} (each item's median{', every covariate' if key == EVERY else ''}) or {value}"
    text = next(c for c in columns if past[c].dtype.kind != "f")
    values = pd.Series(past[text]).dropna().astype(str)
    seen = values.value_counts(sort=True).index[0] if len(values) else ""
    return json.dumps({text: {"futurefill": "value", "futurefill_value": _plain(seen)}})


def _fill_ended(
    frame: pd.DataFrame,
    past: dict[str, np.ndarray],
    indptr: np.ndarray,
    row_series: np.ndarray,
    rows: np.ndarray,
) -> None:
    """Fill the numeric known covariates of `rows` (series that ended early) with each series'
    historical mean, in place, and say so in `frame.attrs["notes"]`."""
    for column, history in past.items():
        if history.dtype.kind != "f":
            continue
        values = frame[column].to_numpy(np.float64, na_value=np.nan, copy=True)
        gap = rows & np.isnan(values)
        mean = fill_value(Fill("mean"), history, indptr)
        values[gap] = np.asarray(mean)[row_series[gap]]
        frame[column] = values
    n_series = len(np.unique(row_series[rows]))
    frame.attrs["notes"] = [
        f"{counted(n_series, 'series')} ended before the panel's last timestamp: "
        f"{plural(n_series, 'its', 'their')} known covariates over {plural(n_series, 'its', 'their')} own "
        "horizon, absent from the future, are each series' historical mean"
    ]


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, pd.Timestamp) else value
