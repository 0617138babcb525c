"""Text timestamps are read with one format per column: never scrambled cell by cell."""

import numpy as np
import pandas as pd
import pytest

from tidecast import AutoForecaster
from tidecast.data.ingest import to_canonical
from tidecast.data.timestamps import TimestampFormatError, parse_timestamp_text
from tidecast.errors import DataError


def parse(values, date_format=None):
    return parse_timestamp_text(pd.Series(values), date_format)


def test_when_a_day_is_above_12_then_the_whole_column_is_read_day_first():
    out = parse(["02/01/2023", "13/01/2023", "31/01/2023"])
    assert out.dt.strftime("%Y-%m-%d").tolist() == ["2023-01-02", "2023-01-13", "2023-01-31"]


def test_when_a_month_position_is_above_12_then_the_column_is_read_month_first():
    out = parse(["01/02/2023", "01/13/2023"])
    assert out.dt.strftime("%Y-%m-%d").tolist() == ["2023-01-02", "2023-01-13"]


def test_when_both_readings_fit_every_value_then_the_error_names_both():
    with pytest.raises(TimestampFormatError) as caught:
        parse(["01/02/2023", "02/02/2023", "03/02/2023"])
    message = str(caught.value)
    assert "ambiguous" in message and "2023-02-01" in message and "2023-01-02" in message
    assert "%d/%m/%Y" in message and "%m/%d/%Y" in message and "--date-format" in message


def test_when_the_date_format_is_given_then_an_ambiguous_column_is_read_with_it():
    out = parse(["01/02/2023", "02/02/2023"], "%d/%m/%Y")
    assert out.dt.strftime("%Y-%m-%d").tolist() == ["2023-02-01", "2023-02-02"]


def test_when_formats_are_mixed_then_the_rows_that_break_the_majority_are_named():
    with pytest.raises(TimestampFormatError) as caught:
        parse(["13/01/2023", "14/01/2023", "15/01/2023", "01/16/2023"])
    assert "mixed date formats" in str(caught.value)
    np.testing.assert_array_equal(caught.value.positions, [3])


def test_when_values_are_iso_with_and_without_time_then_they_parse():
    out = parse(["2023-01-01", "2023-01-01 12:30", "2023-01-02T00:00:00"])
    assert out.dt.strftime("%Y-%m-%d %H:%M").tolist() == [
        "2023-01-01 00:00",
        "2023-01-01 12:30",
        "2023-01-02 00:00",
    ]


def test_when_a_value_does_not_match_the_given_format_then_its_row_is_named():
    with pytest.raises(TimestampFormatError) as caught:
        parse(["2023-01-01", "01/02/2023", "2023-01-03"], "%Y-%m-%d")
    np.testing.assert_array_equal(caught.value.positions, [1])


def test_when_ingest_meets_dd_mm_yyyy_then_no_date_is_scrambled():
    frame = pd.DataFrame(
        {"item": "a", "day": [f"{d:02d}/01/2023" for d in range(1, 20)], "y": np.arange(19.0)}
    )
    panel, _ = to_canonical(frame, "item", "day", "y")
    assert panel["timestamp"].is_monotonic_increasing
    assert panel["timestamp"].iloc[1] == pd.Timestamp("2023-01-02")
    np.testing.assert_array_equal(panel["target"], np.arange(19.0))


def test_when_an_ambiguous_file_is_trained_then_it_fails_before_work_and_date_format_fixes_it():
    frame = pd.DataFrame(
        {"item_id": "a", "timestamp": [f"{d:02d}/01/2023" for d in range(1, 13)], "target": 1.0}
    )
    with pytest.raises(DataError, match="ambiguous dates"):
        AutoForecaster(horizon=2, models=["Naive"]).fit(frame)
    auto = AutoForecaster(horizon=2, models=["Naive"], date_format="%d/%m/%Y").fit(frame)
    assert auto.predict()["timestamp"].tolist() == [pd.Timestamp("2023-01-13"), pd.Timestamp("2023-01-14")]


def test_iso_weeks_are_their_mondays_or_the_weekday_given():
    out = parse(["2024-W05", "2024W06", "2024-w52", "2025-W01", "2020-W53"])
    assert out.dt.strftime("%Y-%m-%d").tolist() == [
        "2024-01-29", "2024-02-05", "2024-12-23", "2024-12-30", "2020-12-28"
    ]  # fmt: skip
    assert parse(["2024-W05-3", "2024-W06-7"]).dt.strftime("%Y-%m-%d").tolist() == [
        "2024-01-31",
        "2024-02-11",
    ]


def test_a_week_that_its_year_lacks_is_named_not_moved_into_the_next_year():
    with pytest.raises(
        TimestampFormatError, match="ISO weeks that their years do not have, such as '2021-W53'"
    ) as info:
        parse(["2021-W52", "2021-W53", "2021-W52"])
    assert info.value.positions.tolist() == [1]


def test_a_weekly_file_of_iso_weeks_trains_on_a_monday_grid():
    weeks = pd.date_range("2022-01-03", periods=60, freq="W-MON")
    frame = pd.DataFrame(
        {
            "sku": "a",
            "week": [f"{d.isocalendar().year}-W{d.isocalendar().week:02d}" for d in weeks],
            "units": np.arange(60.0) % 7 + 10,
        }
    )
    panel, _ = to_canonical(frame, "sku", "week", "units")
    assert panel["timestamp"].tolist() == list(weeks)
    forecast = (
        AutoForecaster(horizon=3, models=["Naive"], item_col="sku", timestamp_col="week", target_col="units")
        .fit(frame)
        .predict()
    )
    assert forecast["week"].tolist() == list(pd.date_range("2023-02-27", periods=3, freq="W-MON"))


def test_when_day_month_dates_come_first_among_iso_ones_then_the_day_month_rows_are_named():
    """Only the first value's format and its day/month swap were tried: 110 rows of 14/06/1990
    before 6,226 ISO dates read "121 distinct values do not match '%d/%m/%Y', the format most
    values have", and the rows it named were ISO ones."""
    weeks = pd.date_range("1990-06-14", periods=80, freq="W-THU")
    values = [d.strftime("%d/%m/%Y") for d in weeks[:60]] + [d.strftime("%Y-%m-%d") for d in weeks] * 3
    with pytest.raises(TimestampFormatError) as caught:
        parse(values)
    assert str(caught.value).startswith(
        "mixed date formats: 60 rows (60 distinct values) do not match '%Y-%m-%d', the format most rows have"
    )
    np.testing.assert_array_equal(caught.value.positions, np.arange(60))
