"""Data preparation for the AutoForecaster: the user's columns in, the canonical panel out.

`Preparer` holds the column configuration (item, time and target columns, covariate roles,
item metadata, holidays and events, filling and aggregation) and reads, checks and prepares
training data, newer history and future covariates exactly the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tidecast.data.ahead import ahead_note, rows_ahead, zero_tail_note, zero_written_tail
from tidecast.data.arrays import SeriesArrays
from tidecast.data.filling import EVERY, keeps_zero_runs
from tidecast.data.frequency import check_horizon
from tidecast.data.ingest import canonical_keys, check_option_columns, in_user_names, to_canonical
from tidecast.data.io import READ_AS_TEXT, read_table, table_columns
from tidecast.data.item_keys import (
    compose,
    id_strings,
    item_parts,
    key_of,
    key_types,
    missing_name,
    partial_key,
    text_columns,
)
from tidecast.data.prepare import PreparedData, prepare
from tidecast.data.problems import Problem
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP, DatasetSpec
from tidecast.data.summary import summarize
from tidecast.data.zero_runs import KEEP_HINT
from tidecast.errors import ConfigError, DataError
from tidecast.wording import counted, plural


@dataclass
class Preparer:
    """The column configuration an AutoForecaster prepares its data with.

    `static_cache` is the item-metadata table once read; the forecaster keeps it between
    calls (and never saves it with the model).
    """

    item_col: str
    timestamp_col: str
    target_col: str
    date_format: str | None = None
    filling: dict[str, Any] | None = None
    aggregation: dict[str, str] | None = None
    known_covariates: Sequence[str] | str | None = None
    past_covariates: Sequence[str] | str | None = None
    static_columns: Sequence[str] | str | None = None
    static_data: pd.DataFrame | str | Path | None = None
    holidays: Sequence[str] | str | None = None
    events: pd.DataFrame | str | Path | None = None
    static_cache: pd.DataFrame | None = None
    # Covariates a fitted model read as text (`to_canonical`'s `text_covariates`).
    text_covariates: tuple[str, ...] = ()
    # The last table's rows after its last target date that hold known covariates
    # (`data.ahead`), canonical: the future the data itself gives.
    ahead: pd.DataFrame | None = None
    # The number types of the last table's key columns (`item_keys.key_types`).
    item_types: tuple[tuple[str, str], ...] = ()

    def training(
        self, data: pd.DataFrame | str | Path, frequency: str | None, horizon: int
    ) -> tuple[PreparedData, DatasetSpec, dict[str, Any]]:
        """The training data prepared, its spec and its summary."""
        prepared, problems = self.canonical(data, frequency, horizon)
        roles = self.roles()
        spec = DatasetSpec(
            freq=prepared.freq,
            known_covariates=roles["known"],
            past_covariates=roles["past"],
            static_columns=roles["static"],
            holidays=names(self.holidays, "holidays"),
            events=self.event_list(),
            item_col=self.item_col,
            timestamp_col=self.timestamp_col,
            target_col=self.target_col,
            item_types=self.item_types,
        )
        if len(prepared.panel):
            check_horizon(horizon, prepared.panel[TIMESTAMP].max(), prepared.freq)
        summary = summarize(prepared.panel, prepared.freq, [*problems, *prepared.problems])
        return prepared, spec, summary

    def canonical(
        self, data: pd.DataFrame | str | Path, freq: str | None, horizon: int | None
    ) -> tuple[PreparedData, list[Problem]]:
        """Read, validate and prepare data given in the user's columns (training or newer)."""
        roles = self.roles()
        varying = [self.target_col, *roles["known"], *roles["past"]]
        check_option_columns(self.filling, "filling", varying, also=(EVERY,))
        check_option_columns(self.aggregation, "aggregation", [*varying, *roles["static"]])
        if isinstance(data, str | Path):
            used = [
                *text_columns(self.item_col),
                self.timestamp_col,
                self.target_col,
                *(c for cs in roles.values() for c in cs),
            ]
            frame = read_table(
                data, text_columns=text_columns(self.item_col), only=used, names=roles["static"]
            )
        else:
            frame = data
        self.item_types = key_types(frame, self.item_col, frame.attrs.get(READ_AS_TEXT, ()))
        frame = self.with_static_data(compose(frame, self.item_col), roles["static"])
        canonical, problems = to_canonical(
            frame,
            item_col=self.item_col,
            timestamp_col=self.timestamp_col,
            target_col=self.target_col,
            known_covariates=roles["known"],
            past_covariates=roles["past"],
            static_columns=roles["static"],
            allow_duplicates=bool(self.aggregation),
            date_format=self.date_format,
            text_covariates=self.text_covariates,
        )
        filling = canonical_mapping(self.filling, self.target_col)
        if not keeps_zero_runs((filling or {}).get(TARGET)):  # a plan whose sales were written 0
            tail = zero_written_tail(canonical)
            if tail.any():
                problems.append(zero_tail_note(canonical, tail, KEEP_HINT))
                canonical = canonical.assign(**{TARGET: canonical[TARGET].mask(tail)})
        later = rows_ahead(canonical, roles["known"])
        self.ahead = canonical.loc[later, [ITEM_ID, TIMESTAMP, *roles["known"]]].reset_index(drop=True)
        if later.any():
            problems.append(ahead_note(self.ahead))
            canonical = canonical.loc[~later].reset_index(drop=True)
        with in_user_names(self.item_col, self.timestamp_col, self.target_col):
            prepared = prepare(
                canonical,
                freq=freq,
                filling=filling,
                aggregation=canonical_mapping(self.aggregation, self.target_col),
                static_columns=roles["static"],
                horizon=horizon,
            )
        return prepared, problems

    # ---- covariates ------------------------------------------------------------------
    def roles(self) -> dict[str, tuple[str, ...]]:
        """The covariate columns by role, checked: a column has one role, never the target's."""
        roles = {
            "known": names(self.known_covariates, "known covariates"),
            "past": names(self.past_covariates, "past covariates"),
            "static": names(self.static_columns, "static columns"),
        }
        if self.static_data is not None and not roles["static"]:
            table = self.static_table()
            key = (self.item_col, *item_parts(self.item_col))
            roles["static"] = tuple(str(c) for c in table.columns if c not in key)
        seen: dict[str, str] = {}
        for role, columns in roles.items():
            for column in columns:
                if column in (self.item_col, self.timestamp_col, self.target_col):
                    raise ConfigError(
                        f"{column!r} cannot be a covariate: it is the item, time or target column"
                    )
                label = {
                    "known": "a known covariate",
                    "past": "a past covariate",
                    "static": "a static column",
                }[role]
                if column in seen:
                    raise ConfigError(f"column {column!r} is given as both {seen[column]} and {label}")
                seen[column] = label
        return roles

    def static_table(self) -> pd.DataFrame:
        """The item-metadata table (cached), keys as text, one row per key.

        It is keyed by the item column or, for an item key made of several columns, by the
        whole key or by some of its parts (a store table for store x department series).
        """
        if self.static_cache is None:
            source = self.static_data
            # every column but the key is an attribute: its "NA" is a name (`data.missing_text`)
            table = (
                read_table(
                    source, text_columns=text_columns(self.item_col), names=table_columns(source) or ()
                )
                if isinstance(source, str | Path)
                else source
            )
            assert isinstance(table, pd.DataFrame)
            table = compose(table, self.item_col)
            key = partial_key(table, self.item_col)
            if not key:
                raise DataError(
                    f"the item metadata lacks the item column {self.item_col!r}; it has {list(table.columns)}"
                )
            table = table.assign(**{k: id_strings(table[k]) for k in key})
            keys = key_of(table, key, ",".join(key))
            duplicated = keys[keys.duplicated()].unique()
            if len(duplicated):
                raise DataError(
                    f"the item metadata has {self._keys(key, len(duplicated))} on several rows: "
                    f"{list(duplicated[:5])}"
                )
            self.static_cache = table
        return self.static_cache

    def with_static_data(self, frame: pd.DataFrame, static: tuple[str, ...]) -> pd.DataFrame:
        """Join the item-metadata table's static columns onto the rows; every item needs a row."""
        if self.static_data is None:
            return frame
        table = self.static_table()
        key = partial_key(table, self.item_col)
        columns = [c for c in static if c in table.columns and c not in key]
        missing = [c for c in static if c not in table.columns and c not in frame.columns]
        if missing:
            raise DataError(f"static column(s) {missing} are neither in the data nor in the item metadata")
        if not columns:
            return frame
        if any(c not in frame.columns for c in key):
            return frame  # to_canonical names the missing item column
        label = ",".join(key)
        keys = key_of(frame, key, label)
        table_keys = key_of(table, key, label)
        unknown = pd.Index(keys.unique()).difference(table_keys)
        own = all(c in frame.columns for c in columns)  # the rows carry the attributes themselves
        if len(unknown) and not own:
            raise DataError(
                f"{self._keys(key, len(unknown))} {plural(len(unknown), 'has')} no row in the item metadata: "
                f"{sorted(unknown)[:5]}; give {plural(len(unknown), 'its', 'their')} {columns} in the item metadata or as columns of the data"
            )
        lookup = table.set_index(pd.Index(table_keys.to_numpy()))[columns]
        listed = keys.isin(table_keys).to_numpy()
        joined = frame.drop(columns=[c for c in columns if c in frame.columns]).copy()
        for column in columns:
            values = keys.map(lookup[column]).to_numpy()
            # An item new since the table was read (fresher history) keeps its rows' own values.
            joined[column] = values if listed.all() else np.where(listed, values, frame[column].to_numpy())
        return joined

    def _keys(self, key: tuple[str, ...], n: int) -> str:
        """`n` of what an item-metadata table's rows are, for errors: items, or keys of some parts."""
        if key == (self.item_col,):
            return counted(n, "item")
        return counted(n, f"key of {list(key)}", f"keys of {list(key)}")

    def event_list(self) -> tuple[tuple[str, str], ...]:
        if self.events is None:
            return ()
        from tidecast.data.features import events_from_calendar
        from tidecast.data.holidays import HolidayCalendar

        return events_from_calendar(HolidayCalendar.from_events(self.events, date_format=self.date_format))

    def future(
        self,
        future: pd.DataFrame | str | Path,
        panel: pd.DataFrame | SeriesArrays,
        spec: DatasetSpec,
        horizon: int,
        plan: Any,
        steps: int | None = None,
    ) -> pd.DataFrame:
        """The user's future covariates, validated and filled onto each series' horizon (the
        first `steps` of it given, when fewer are read: `fill_future`)."""
        from tidecast.data.future import fill_future

        known = spec.known_covariates
        frame = (
            read_table(future, text_columns=text_columns(self.item_col))
            if isinstance(future, str | Path)
            else future
        )
        frame = compose(frame, self.item_col)
        missing = [c for c in (self.item_col, self.timestamp_col, *known) if c not in frame.columns]
        if missing:
            missing = [missing_name(c, list(frame.columns)) for c in missing]
            raise DataError(
                f"the future covariates lack column(s) {missing}; they need {self.item_col!r}, "
                f"{self.timestamp_col!r} and every known covariate {list(known)}"
            )
        if len(frame):
            try:
                canonical, _ = to_canonical(
                    frame,
                    item_col=self.item_col,
                    timestamp_col=self.timestamp_col,
                    target_col=None,
                    known_covariates=known,
                    date_format=self.date_format,
                    text_covariates=self.text_covariates,
                )
            except DataError as exc:  # the data and its future share their columns: say which
                raise DataError(f"the future covariates: {exc.bare}", exc.rows, exc.positions) from None
        else:  # no row for these items (a batch chunk): each column's futurefill, or an error naming them
            canonical = pd.DataFrame({ITEM_ID: [], TIMESTAMP: pd.to_datetime([]), **{c: [] for c in known}})
        with in_user_names(spec.item_col, spec.timestamp_col):
            return fill_future(canonical, panel, spec.freq, horizon, known, plan, steps)

    @staticmethod
    def future_in_data(
        ahead: pd.DataFrame, panel: pd.DataFrame | SeriesArrays, spec: DatasetSpec, horizon: int, plan: Any
    ) -> pd.DataFrame:
        """The future the data itself held (`ahead`, already canonical), filled onto each
        series' horizon as a given future is, with a note that it came from the data."""
        from tidecast.data.future import fill_future

        with in_user_names(spec.item_col, spec.timestamp_col):
            future = fill_future(ahead, panel, spec.freq, horizon, spec.known_covariates, plan)
        note = (
            f"known covariates over the horizon: the data's own {counted(len(ahead), 'row')} after its last "
            "target date"
        )
        future.attrs["notes"] = [*future.attrs.get("notes", []), note]
        return future


def names(value: Sequence[str] | str | None, what: str) -> tuple[str, ...]:
    """Column names or codes from a list or one comma-separated string, stripped, in order."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    if any(not isinstance(v, str) for v in items):
        raise ConfigError(f"{what} must be names, got {value!r}")
    return tuple(dict.fromkeys(v.strip() for v in items if v.strip()))


def canonical_mapping(mapping: dict[str, Any] | None, target_col: str) -> dict[str, Any] | None:
    return canonical_keys(mapping, target_col) if mapping else None
