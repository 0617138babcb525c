"""The Favorita benchmark's holiday calendar: days off per store, transfers, bridges, events."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
favorita = pytest.importorskip("favorita")
favorita_data = pytest.importorskip("favorita_data")

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
    table = favorita_data.holiday_covariates(CALENDAR, STORES, dates)
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
    events = favorita_data.national_events(CALENDAR)
    assert events["date"].dt.strftime("%m-%d").tolist() == ["08-11", "08-14"]
    assert events["name"].tolist() == ["Grito", "Puente"]


def test_rolling_splits_start_at_the_official_test_and_step_back_a_horizon_at_a_time():
    rolling = pytest.importorskip("favorita_rolling")
    days = pd.date_range("2017-06-01", "2017-07-30", freq="D")
    train = pd.DataFrame({"item_id": "s", "timestamp": days, "target": range(len(days))})
    for column in favorita_data.HOLIDAY_COLUMNS:
        train[column] = 0.0
    test_days = pd.date_range("2017-07-31", periods=favorita.HORIZON, freq="D")
    test = pd.DataFrame({"item_id": "s", "timestamp": test_days, "target": 1000.0})
    future = test[["item_id", "timestamp"]].assign(**{c: 1.0 for c in favorita_data.HOLIDAY_COLUMNS})
    frames = {"train": train, "test": test, "future": future}
    (h0, w0), (h1, w1) = rolling.splits(frames, 2)
    assert h0["timestamp"].max() == days[-1] and len(h0) == len(days)
    assert w0["timestamp"].tolist() == list(test_days) and (w0["target"] == 1000.0).all()
    assert (w0["holiday_national"] == 1.0).all()  # the test days' covariates come from `future`
    assert h1["timestamp"].max() == days[-1] - pd.Timedelta(days=favorita.HORIZON)
    assert w1["timestamp"].min() == h1["timestamp"].max() + pd.Timedelta(days=1)
    assert w1["timestamp"].max() == days[-1] and len(w1) == favorita.HORIZON
