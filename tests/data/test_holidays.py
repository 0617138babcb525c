from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tidecast.automl.option_checks import check_holidays
from tidecast.data.holidays import HolidayCalendar, country_named, holiday_features, holiday_key
from tidecast.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def us_2023() -> HolidayCalendar:
    return HolidayCalendar.from_countries(["US"], [2023])


def days(start: str, end: str) -> np.ndarray:
    return pd.date_range(start, end, freq="D").to_numpy()


def column(frame: pd.DataFrame, name: str) -> list[int]:
    return frame[name].astype(int).tolist()


def test_when_us_2023_then_july_4_is_a_holiday_with_distances_either_side(us_2023: HolidayCalendar) -> None:
    features = holiday_features(days("2023-07-01", "2023-07-07"), us_2023)
    assert column(features, "is_holiday") == [0, 0, 0, 1, 0, 0, 0]
    assert column(features, "days_to_holiday") == [3, 2, 1, 0, 30, 30, 30]  # Labor Day is 60 days on
    assert column(features, "days_since_holiday") == [12, 13, 14, 0, 1, 2, 3]  # Juneteenth is June 19
    assert column(features, "hol_independence_day") == [0, 1, 1, 1, 1, 1, 0]
    assert features["days_to_holiday"].dtype == np.int16
    assert features["is_holiday"].dtype == np.int8


def test_when_near_christmas_then_the_window_spans_seven_days_either_side(us_2023: HolidayCalendar) -> None:
    features = holiday_features(days("2023-12-17", "2023-12-31"), us_2023)
    # Dec 17 is 8 days before Christmas and 24 after Thanksgiving: outside every window.
    assert column(features, "holiday_window") == [0] + [1] * 14
    assert column(features, "hol_christmas_day") == [0] * 6 + [1] * 5 + [0] * 4
    assert column(features, "hol_thanksgiving_day") == [0] * 15


def test_when_the_calendar_ends_then_distances_are_capped(us_2023: HolidayCalendar) -> None:
    features = holiday_features(days("2023-12-28", "2024-01-02"), us_2023, cap=10)
    # 2024's New Year is not in a 2023 calendar, so there is no next holiday: the cap stands in.
    assert column(features, "days_to_holiday") == [10] * 6
    assert column(features, "days_since_holiday") == [3, 4, 5, 6, 7, 8]


def test_when_timestamps_are_hourly_then_the_date_decides(us_2023: HolidayCalendar) -> None:
    stamps = pd.date_range("2023-07-03 22:00", periods=4, freq="h").to_numpy()
    features = holiday_features(stamps, us_2023)
    assert column(features, "is_holiday") == [0, 0, 1, 1]
    assert column(features, "days_to_holiday") == [1, 1, 0, 0]


def test_when_timestamps_carry_a_time_zone_then_the_local_date_decides(us_2023: HolidayCalendar) -> None:
    stamps = pd.Series(pd.date_range("2023-07-04 23:00", periods=2, freq="h", tz="America/New_York"))
    assert column(holiday_features(stamps, us_2023), "is_holiday") == [1, 0]


def test_when_a_holiday_is_observed_on_another_day_then_its_indicator_covers_both() -> None:
    calendar = HolidayCalendar.from_countries(["US"], [2021])  # July 4 2021 was a Sunday
    assert (date(2021, 7, 5), "Independence Day (observed)", "US") in zip(
        calendar.dates, calendar.names, calendar.scopes, strict=True
    )
    features = holiday_features(days("2021-07-01", "2021-07-08"), calendar)
    assert column(features, "hol_independence_day") == [0, 1, 1, 1, 1, 1, 1, 0]


def test_when_per_holiday_is_a_number_then_that_many_indicators_by_frequency() -> None:
    calendar = HolidayCalendar.from_events(
        pd.DataFrame(
            {
                "date": ["2022-03-01", "2023-03-01", "2024-03-01", "2023-06-01", "2024-06-01", "2023-09-09"],
                "name": ["Spring Sale", "Spring Sale", "Spring Sale", "Summer Sale", "Summer Sale", "Launch"],
            }
        )
    )
    stamps = days("2023-01-01", "2023-01-05")
    two = holiday_features(stamps, calendar, per_holiday=2)
    assert [c for c in two.columns if c.startswith("hol_")] == ["hol_spring_sale", "hol_summer_sale"]
    assert not any(
        c.startswith("hol_") for c in holiday_features(stamps, calendar, per_holiday=False).columns
    )
    assert len([c for c in holiday_features(stamps, calendar).columns if c.startswith("hol_")]) == 3


def test_when_features_come_from_a_long_or_a_short_array_then_each_date_gets_the_same_values(
    us_2023: HolidayCalendar,
) -> None:
    long = np.tile(days("2023-01-01", "2023-12-31"), 3)  # a panel: computed per day, then gathered
    short = np.array(["2023-11-20", "2023-07-04", "2023-01-09"], dtype="datetime64[ns]")  # computed per row
    long_features = holiday_features(long, us_2023)
    short_features = holiday_features(short, us_2023)
    assert list(long_features.columns) == list(short_features.columns)
    for i, stamp in enumerate(short):
        row = int(np.flatnonzero(long == stamp)[0])
        assert long_features.iloc[row].tolist() == short_features.iloc[i].tolist()


def test_when_the_calendar_is_empty_then_nothing_is_near_a_holiday() -> None:
    features = holiday_features(days("2023-01-01", "2023-01-03"), HolidayCalendar(), cap=5)
    assert list(features.columns) == ["days_to_holiday", "days_since_holiday", "is_holiday", "holiday_window"]
    assert column(features, "days_to_holiday") == [5, 5, 5]
    assert column(features, "holiday_window") == [0, 0, 0]


def test_when_no_timestamps_then_an_empty_frame_with_the_columns(us_2023: HolidayCalendar) -> None:
    features = holiday_features(np.array([], dtype="datetime64[ns]"), us_2023)
    assert len(features) == 0
    assert "hol_christmas_day" in features.columns


def test_when_an_events_csv_is_given_then_its_events_are_holidays(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("Date,Name,Scope\n2023-11-24,Black Friday,US\n2023-11-27 09:00,Cyber Monday,\n")
    calendar = HolidayCalendar.from_events(path)
    assert calendar.dates == (date(2023, 11, 24), date(2023, 11, 27))
    assert calendar.scopes == ("US", "events")
    features = holiday_features(days("2023-11-22", "2023-11-27"), calendar)
    assert column(features, "is_holiday") == [0, 0, 1, 0, 0, 1]
    assert column(features, "hol_black_friday") == [1, 1, 1, 1, 1, 0]


def test_when_events_have_bad_dates_or_no_name_then_data_error_names_the_rows() -> None:
    frame = pd.DataFrame({"date": ["2023-01-01", "not a date", "2023-02-30"], "name": ["a", "b", "c"]})
    with pytest.raises(DataError, match=r"2 values that are not timestamps.*\(rows 1, 2") as caught:
        HolidayCalendar.from_events(frame)
    assert caught.value.rows[0] == {"date": "not a date", "name": "b"}
    with pytest.raises(DataError, match=r"1 event has a missing date \(row 1,"):
        HolidayCalendar.from_events(pd.DataFrame({"date": ["2023-01-01", ""], "name": ["a", "b"]}))
    with pytest.raises(DataError, match=r"1 event has no name \(row 1,"):
        HolidayCalendar.from_events(pd.DataFrame({"date": ["2023-01-01", "2023-01-02"], "name": ["a", " "]}))
    with pytest.raises(DataError, match="needs columns date and name"):
        HolidayCalendar.from_events(pd.DataFrame({"day": ["2023-01-01"], "name": ["a"]}))


def test_when_a_country_code_is_unknown_then_config_error_names_it_and_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown holiday country 'XX'.*US, GB"):
        HolidayCalendar.from_countries(["US", "XX"], range(2023, 2024))
    with pytest.raises(ConfigError, match="no subdivision 'ZZ'"):
        HolidayCalendar.from_countries(["US"], [2023], {"US": "ZZ"})


def test_when_a_country_is_named_in_words_then_the_error_gives_its_code() -> None:
    assert country_named("Germany") == "DE"
    assert country_named("united kingdom") == "GB"
    assert country_named("Atlantis") is None
    with pytest.raises(ConfigError, match=r"got \['Germany'\]: did you mean DE for 'Germany'\?"):
        check_holidays(["Germany"])


def test_when_countries_subdivisions_and_events_are_merged_then_every_holiday_is_kept_once() -> None:
    regional = HolidayCalendar.from_countries("us,gb", [2023], subdivisions={"US": "CA"})
    assert (date(2023, 3, 31), "Cesar Chavez Day", "US-CA") in set(
        zip(regional.dates, regional.names, regional.scopes, strict=True)
    )
    assert (date(2023, 12, 26), "Boxing Day", "GB") in set(
        zip(regional.dates, regional.names, regional.scopes, strict=True)
    )
    events = HolidayCalendar.from_events(pd.DataFrame({"date": ["2023-11-24"], "name": ["Black Friday"]}))
    merged = HolidayCalendar.merge(regional, events, events)
    assert len(merged) == len(regional) + 1
    assert list(merged.dates) == sorted(merged.dates)
    assert set(merged.restrict(["GB"]).scopes) == {"GB"}
    assert HolidayCalendar.from_events(merged.to_frame()) == merged


def test_when_names_have_qualifiers_or_accents_then_keys_are_clean_snake_case() -> None:
    assert holiday_key("New Year's Day (observed)") == "new_years_day"
    assert holiday_key("Eid al-Fitr (estimated)") == "eid_al_fitr"
    assert holiday_key("Día de la Constitución") == "dia_de_la_constitucion"
    assert holiday_key("春节").startswith("h")


def test_when_event_dates_are_dd_mm_then_the_whole_column_is_read_day_first() -> None:
    # Read cell by cell, 02/01/2023 was 1 February while 13/01/2023 was 13 January.
    frame = pd.DataFrame({"date": ["02/01/2023", "13/01/2023", "05/03/2023"], "name": ["a", "b", "c"]})
    assert HolidayCalendar.from_events(frame).dates == (date(2023, 1, 2), date(2023, 1, 13), date(2023, 3, 5))


def test_when_event_dates_fit_day_and_month_first_then_the_error_names_both_readings() -> None:
    frame = pd.DataFrame({"date": ["02/01/2023", "03/04/2023"], "name": ["a", "b"]})
    with pytest.raises(DataError, match=r"ambiguous dates: '02/01/2023' reads as 2023-01-02 .* 2023-02-01"):
        HolidayCalendar.from_events(frame)
    days_first = HolidayCalendar.from_events(frame, date_format="%d/%m/%Y")
    assert days_first.dates == (date(2023, 1, 2), date(2023, 4, 3))


def test_when_the_runs_date_format_does_not_fit_the_events_then_one_inferred_format_reads_them() -> None:
    frame = pd.DataFrame({"date": ["2023-01-02", "2023-04-03"], "name": ["a", "b"]})
    assert HolidayCalendar.from_events(frame, date_format="%d/%m/%Y").dates == (
        date(2023, 1, 2),
        date(2023, 4, 3),
    )


def test_when_events_mix_date_formats_then_the_rows_are_named() -> None:
    frame = pd.DataFrame({"date": ["13/01/2023", "01/13/2023", "14/02/2023"], "name": ["a", "b", "c"]})
    with pytest.raises(DataError, match=r"mixed date formats.*\(row 1,"):
        HolidayCalendar.from_events(frame)
