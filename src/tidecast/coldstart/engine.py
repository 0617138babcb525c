"""Cold start with a fitted AutoForecaster: its items are the peers, their forecasts the profile.

`forecast_with_new_items` returns the model's own forecast (flagged `cold_start` False) and
the new items' (True), in the user's column names, so one file holds the whole catalogue.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tidecast.coldstart.plans import forecast_new_items
from tidecast.coldstart.profile import COLD_START, ColdStart
from tidecast.data.ingest import canonical_names, from_canonical
from tidecast.data.io import read_table
from tidecast.data.item_keys import compose, id_strings, text_columns
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.errors import ConfigError, DataError
from tidecast.wording import counted, plural


def forecast_with_new_items(
    auto: Any,
    new_items: pd.DataFrame | str | Path,
    early: pd.DataFrame | str | Path | None = None,
    attributes: Sequence[str] | None = None,
    future: pd.DataFrame | str | Path | None = None,
    min_peers: int = 3,
) -> pd.DataFrame:
    """The fitted `auto`'s forecast of its items plus the cold-start forecast of `new_items`.

    `new_items`: one row per new item, its id (the model's item column) and its attributes;
    `early`: their first observations (item, timestamp, target columns), if any; `attributes`:
    the static columns that make items alike, most important first (default: the model's
    static columns); `future`: the known covariates of the model's items, as for `predict`,
    and of the new items where it has rows of theirs: those are forecast to their own 0/1
    flags and closed days (`coldstart.plans`), the others carry their peers'. What the profile
    left out (an attribute value without peers, early sales it could not read, future columns
    it does not read) is said in the result's `attrs["notes"]`.
    """
    spec = auto.spec_
    names = {spec.item_col: ITEM_ID, spec.timestamp_col: TIMESTAMP, spec.target_col: TARGET}
    attrs = list(attributes or spec.static_columns)
    if not attrs:
        raise ConfigError("cold start needs item attributes: train with --static-columns, or name them")
    history = auto.history_
    absent = [a for a in attrs if a not in history.columns]
    if absent:
        raise ConfigError(f"the model has no static column(s) {absent}: it was trained without them")
    new = _read(new_items, spec.item_col).rename(columns=names)
    missing = [c for c in (ITEM_ID, *attrs) if c not in new.columns]
    if missing:
        raise DataError(f"the new items' table lacks column(s) {missing}")
    new[ITEM_ID] = id_strings(new[ITEM_ID])
    clash = sorted(set(new[ITEM_ID]) & set(history[ITEM_ID].astype(str)))
    if clash:
        raise DataError(
            f"{counted(len(clash), 'new item')} already {plural(len(clash), 'has')} a history in the model, "
            f"e.g. {clash[:3]}"
        )
    own = canonical_names(auto.predict(future=future), spec)
    early_frame = _rows(early, spec.item_col, names) if early is not None else None
    table = _rows(future, spec.item_col, names) if future is not None else None
    items = history[[ITEM_ID, *attrs]].drop_duplicates(ITEM_ID)
    cold = ColdStart(attrs, auto.quantiles_, min_peers=min_peers)
    new_forecast = forecast_new_items(auto, cold, items, own, new, early_frame, table, future)
    both = pd.concat([own.assign(**{COLD_START: False}), new_forecast], ignore_index=True)
    out = from_canonical(both, spec, leading=(COLD_START,))
    out.attrs["notes"] = list(new_forecast.attrs.get("notes", []))
    return out


def _rows(source: pd.DataFrame | str | Path, item_col: str, names: dict[str, str]) -> pd.DataFrame:
    """Rows by item and timestamp (early sales, future covariates) in canonical names."""
    frame = _read(source, item_col).rename(columns=names)
    frame[ITEM_ID] = id_strings(frame[ITEM_ID])
    frame[TIMESTAMP] = pd.to_datetime(frame[TIMESTAMP])
    return frame


def _read(source: pd.DataFrame | str | Path, item_col: str) -> pd.DataFrame:
    """A frame as given, or a file with its item ids read as text (leading zeros kept)."""
    frame = (
        source.copy()
        if isinstance(source, pd.DataFrame)
        else read_table(source, text_columns=text_columns(item_col))
    )
    return compose(frame, item_col)
