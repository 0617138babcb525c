"""The Favorita benchmark's holiday calendar: days off per store, transfers, bridges, events."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
favorita = pytest.importorskip("favorita")

COLUMNS = ("date", "type", "locale", "locale_name", "description", "transferred")
CALENDAR = pd.DataFrame(
    [
        ("2017-08-10", "Holiday", "National", "Ecuador", "Grito", True),
        ("2017-08-11", "Transfer", "National", "Ecuador", "Traslado Grito", False),
        ("2017-08-12", "Holiday", "Regional", "Cotopaxi", "Provincia", False),
        ("2017-08-13", "Holiday", "Local", "Quito", "Fundacion", False),
        ("2017-08-14", "Bridge", "National", "Ecuador", "Puente", False),
        ("2017-08-15", "Work Day", "National", "Ecuador", "Recupero", False),
        ("2017-08-16", "Event", "National", "Ecuador", "Mundial", False),
    ],
    columns=COLUMNS,
).assign(date=lambda f: pd.to_datetime(f["date"]))
STORES = pd.DataFrame(
    {
        "item_id": ["quito", "latacunga", "cuenca"],
        "city": ["Quito", "Latacunga", "Cuenca"],
        "state": ["Pichincha", "Cotopaxi", "Azuay"],
    }
)


def flags(column: str) -> pd.DataFrame:
    """One covariate as a (date x store) 0/1 table."""
    dates = pd.date_range("2017-08-09", "2017-08-16", freq="D")
    table = favorita.holiday_covariates(CALENDAR, STORES, dates)
    return table.pivot(index="timestamp", columns="item_id", values=column).astype(int)


def test_a_transferred_holiday_is_worked_and_its_transfer_day_is_off() -> None:
    national = flags("holiday_national")
    off = national.index[national.all(axis=1)].strftime("%m-%d").tolist()
    assert off == ["08-11", "08-14"]  # the transfer and the bridge, not the 10th
    assert not national.loc["2017-08-10"].any()


def test_regional_and_local_holidays_only_for_their_stores() -> None:
    local = flags("holiday_local")
    assert local.loc["2017-08-12"].to_dict() == {"cuenca": 0, "latacunga": 1, "quito": 0}
    assert local.loc["2017-08-13"].to_dict() == {"cuenca": 0, "latacunga": 0, "quito": 1}
    assert local.sum().sum() == 2
    assert not flags("holiday_national").loc[["2017-08-12", "2017-08-13"]].any().any()


def test_work_days_and_events_are_flagged_apart_from_days_off() -> None:
    assert flags("work_day").loc["2017-08-15"].all() and flags("work_day").sum().sum() == 3
    assert flags("event").loc["2017-08-16"].all() and flags("event").sum().sum() == 3


def test_national_events_list_the_days_off_under_the_holidays_names() -> None:
    events = favorita.national_events(CALENDAR)
    assert events["date"].dt.strftime("%m-%d").tolist() == ["08-11", "08-14"]
    assert events["name"].tolist() == ["Grito", "Puente"]
