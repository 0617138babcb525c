"""Favorita's data for `favorita.py` and `favorita_rolling.py`: the store grid, Ecuador's
holiday calendar as known covariates, the national days off as events, the oil price.

How the calendar is read (transferred holidays, bridges, work days, events; national, regional
and local rows) is told in `favorita.py`'s docstring, with the systems that use it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from common import data_dir, load_dataset
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP

DATASET = "favorita_transactions"

# Calendar rows that give the day off (a transferred holiday's own row does not: see `days_off`).
DAY_OFF_TYPES = ("Holiday", "Transfer", "Additional", "Bridge")
HOLIDAY_COLUMNS = ("holiday_national", "holiday_local", "work_day", "event")
STATIC_COLUMNS = ("city", "state", "type", "cluster")
OIL = "oil"


# ---- data ------------------------------------------------------------------------------------
def read_calendar(path: Path) -> pd.DataFrame:
    """`holidays_events.csv` with `date` as datetime64[ns] and `transferred` as bool."""
    calendar = pd.read_csv(path)
    calendar["date"] = pd.to_datetime(calendar["date"]).astype("datetime64[ns]")
    calendar["transferred"] = calendar["transferred"].astype(str).str.lower().eq("true")
    return calendar


def read_stores(path: Path) -> pd.DataFrame:
    """`stores.csv`: item_id and the static attributes; the cluster number is a label, not a size."""
    stores = pd.read_csv(path, dtype={ITEM_ID: str})
    stores["cluster"] = stores["cluster"].astype(str)
    return stores[[ITEM_ID, *STATIC_COLUMNS]]


def days_off(calendar: pd.DataFrame) -> pd.Series:
    """Which calendar rows are a day off: holidays kept on their date, transfers, extra days, bridges.

    A holiday moved to another date (`transferred=True`) is a normal working day; the row of
    type `Transfer` marks the day actually taken off.
    """
    return calendar["type"].isin(DAY_OFF_TYPES) & ~calendar["transferred"].astype(bool)


def _applies(grid: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """Per (store, day) of `grid`: whether one of the calendar `rows` holds there.

    National rows hold for every store, regional ones where the store's state is the row's
    `locale_name`, local ones where its city is.
    """
    national = rows.loc[rows["locale"] == "National", "date"]
    hit = grid[TIMESTAMP].isin(national).to_numpy()
    for locale, attribute in (("Regional", "state"), ("Local", "city")):
        scoped = rows[rows["locale"] == locale]
        keys = pd.MultiIndex.from_arrays([scoped["locale_name"], scoped["date"]])
        hit |= pd.MultiIndex.from_arrays([grid[attribute], grid[TIMESTAMP]]).isin(keys)
    return hit


def holiday_covariates(calendar: pd.DataFrame, stores: pd.DataFrame, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """The calendar as per-store known covariates: one row per store and date in `dates`.

    Columns item_id, timestamp and the 0/1 flags `holiday_national` (a national day off),
    `holiday_local` (a day off in the store's state or city only), `work_day` (a compensating
    working day) and `event` (a national event that is no day off).
    """
    grid = pd.MultiIndex.from_product([stores[ITEM_ID], dates], names=[ITEM_ID, TIMESTAMP]).to_frame(
        index=False
    )
    grid[TIMESTAMP] = grid[TIMESTAMP].astype("datetime64[ns]")
    grid = grid.merge(stores[[ITEM_ID, "city", "state"]], on=ITEM_ID, how="left")
    off = calendar[days_off(calendar)]
    flags = {
        "holiday_national": off[off["locale"] == "National"],
        "holiday_local": off[off["locale"] != "National"],
        "work_day": calendar[calendar["type"] == "Work Day"],
        "event": calendar[calendar["type"] == "Event"],
    }
    for column, rows in flags.items():
        grid[column] = _applies(grid, rows).astype(np.float64)
    return grid[[ITEM_ID, TIMESTAMP, *HOLIDAY_COLUMNS]]


def national_events(calendar: pd.DataFrame) -> pd.DataFrame:
    """The national days off as an events table (date, name) for `AutoForecaster(events=...)`.

    A transfer day carries its holiday's name ("Traslado X" -> "X"), so one holiday keeps one
    name whichever date it falls on in a given year.
    """
    rows = calendar[days_off(calendar) & (calendar["locale"] == "National")]
    names = rows["description"].str.removeprefix("Traslado ").str.strip()
    return pd.DataFrame({"date": rows["date"].to_numpy(), "name": names.to_numpy()}).drop_duplicates()


def oil_prices(path: Path, dates: pd.DatetimeIndex) -> pd.Series:
    """Daily WTI price over `dates`: the last quote carried forward, the first one carried back.

    A price holds until the next quote, so carrying it forward uses nothing from the future;
    only the days before the first quote (New Year 2013) borrow the next one.
    """
    oil = pd.read_csv(path, parse_dates=["date"]).set_index("date")["dcoilwtico"]
    oil.index = oil.index.astype("datetime64[ns]")
    span = pd.date_range(min(oil.index.min(), dates.min()), dates.max(), freq="D")
    return oil.reindex(span).ffill().bfill().reindex(dates).rename(OIL)


def store_grid(train: pd.DataFrame) -> pd.DataFrame:
    """Every store's daily grid from its first day to the panel's last; NaN target on closed days."""
    last = train[TIMESTAMP].max()
    first = train.groupby(ITEM_ID, sort=True)[TIMESTAMP].min()
    parts = [
        pd.DataFrame({ITEM_ID: item, TIMESTAMP: pd.date_range(start, last, freq="D")})
        for item, start in first.items()
    ]
    grid = pd.concat(parts, ignore_index=True).astype({TIMESTAMP: "datetime64[ns]"})
    return grid.merge(train[[ITEM_ID, TIMESTAMP, TARGET]], on=[ITEM_ID, TIMESTAMP], how="left")


def load(max_series: int | None = None) -> dict[str, pd.DataFrame]:
    """The benchmark's frames: `train` (grid with NaN on closed days and every covariate),
    `filled` (the same with zeros, what statsforecast gets), `test`, `future` (the known
    covariates over the test days), `stores` and `events`."""
    folder = data_dir() / DATASET
    train, test = load_dataset(DATASET)
    if max_series is not None:
        keep = train[ITEM_ID].drop_duplicates().iloc[:max_series]
        train, test = train[train[ITEM_ID].isin(keep)], test[test[ITEM_ID].isin(keep)]
    stores = read_stores(folder / "stores.csv")
    stores = stores[stores[ITEM_ID].isin(train[ITEM_ID].unique())].reset_index(drop=True)
    calendar = read_calendar(folder / "holidays_events.csv")
    dates = pd.date_range(train[TIMESTAMP].min(), test[TIMESTAMP].max(), freq="D")
    flags = holiday_covariates(calendar, stores, dates)
    grid = store_grid(train).merge(flags, on=[ITEM_ID, TIMESTAMP], how="left")
    grid[OIL] = oil_prices(folder / "oil.csv", dates).reindex(grid[TIMESTAMP]).to_numpy()
    future = test[[ITEM_ID, TIMESTAMP]].merge(flags, on=[ITEM_ID, TIMESTAMP], how="left")
    return {
        "train": grid,
        "filled": grid.assign(**{TARGET: grid[TARGET].fillna(0.0)}),
        "test": test,
        "future": future,
        "stores": stores,
        "events": national_events(calendar),
    }
