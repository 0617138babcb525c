from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tidecast.data.ingest import canonical_keys, from_canonical, to_canonical
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP, DatasetSpec
from tidecast.errors import ConfigError, DataError


def user_frame(**overrides: list[object]) -> pd.DataFrame:
    columns: dict[str, list[object]] = {
        "store": ["b", "a", "a", "b"],
        "day": ["2021-01-02", "2021-01-02", "2021-01-01", "2021-01-01"],
        "sales": [4.0, 2.0, 1.0, 3.0],
        "price": [9.0, 8.0, 7.0, 6.0],
        "region": ["N", "S", "S", "N"],
    }
    columns.update(overrides)
    return pd.DataFrame(columns)


def canonical(frame: pd.DataFrame, **kwargs: object) -> pd.DataFrame:
    return to_canonical(frame, "store", "day", "sales", **kwargs)[0]  # type: ignore[arg-type]


def test_when_columns_are_mapped_then_panel_is_canonical_sorted_and_typed() -> None:
    panel, problems = to_canonical(
        user_frame(), "store", "day", "sales", known_covariates=["price"], static_columns=["region"]
    )
    expected = pd.DataFrame(
        {
            ITEM_ID: ["a", "a", "b", "b"],
            TIMESTAMP: pd.to_datetime(["2021-01-01", "2021-01-02", "2021-01-01", "2021-01-02"]),
            TARGET: [1.0, 2.0, 3.0, 4.0],
            "price": [7.0, 8.0, 6.0, 9.0],
            "region": ["S", "S", "N", "N"],
        }
    )
    pd.testing.assert_frame_equal(panel, expected, check_dtype=False)
    assert panel[TIMESTAMP].dtype == "datetime64[ns]"
    assert panel[TARGET].dtype == np.float64
    assert panel[ITEM_ID].map(type).eq(str).all()
    assert problems == []


def test_when_mapping_back_then_the_users_names_return() -> None:
    panel = canonical(user_frame())
    spec = DatasetSpec(freq="D", item_col="store", timestamp_col="day", target_col="sales")
    forecast = panel.rename(columns={TARGET: "mean"})
    assert list(from_canonical(forecast, spec).columns) == ["store", "day", "mean"]
    assert list(from_canonical(panel, spec).columns) == ["store", "day", "sales"]


def test_when_item_ids_are_numbers_then_they_become_strings_in_string_order() -> None:
    panel = canonical(user_frame(store=[10, 2, 2, 10]))
    assert panel[ITEM_ID].tolist() == ["10", "10", "2", "2"]


def test_when_a_column_is_missing_then_error_lists_it_and_the_available_ones() -> None:
    with pytest.raises(DataError) as info:
        to_canonical(user_frame(), "store", "date", "sales")
    assert "missing column(s) ['date']" in str(info.value)
    assert "available columns: ['store', 'day', 'sales', 'price', 'region']" in str(info.value)


def test_when_a_name_differs_only_in_case_or_spaces_then_the_error_offers_it() -> None:
    frame = user_frame().rename(columns={"sales": "Sales "})
    with pytest.raises(DataError) as info:
        to_canonical(frame, "Store", "day", "sales")
    assert str(info.value).endswith(
        "(did you mean 'store' for 'Store', 'Sales ' for 'sales'? names differ in spaces or case)"
    )
    with pytest.raises(DataError) as info:
        to_canonical(user_frame(), "store", "date", "sales")
    assert "did you mean" not in str(info.value)  # 'day' is another name, not a spelling of it


def test_when_the_default_item_column_is_missing_then_the_error_says_how_to_name_it() -> None:
    with pytest.raises(DataError, match=r"--item-col on the command line.*e\.g\. Store,Dept\)$"):
        to_canonical(user_frame(), "item_id", "day", "sales")
    with pytest.raises(DataError) as info:
        to_canonical(user_frame(), "shop", "day", "sales")
    assert "--item-col" not in str(info.value)  # a name the user gave: only the columns are listed


def test_when_a_covariate_is_missing_then_error_names_it() -> None:
    with pytest.raises(DataError, match=r"missing column\(s\) \['promo'\]"):
        to_canonical(user_frame(), "store", "day", "sales", known_covariates=["promo"])


def test_when_a_timestamp_cannot_be_parsed_then_error_shows_the_rows() -> None:
    frame = user_frame(day=["2021-01-02", "not a day", "2021-01-01", "2021-01-01"])
    with pytest.raises(DataError) as info:
        to_canonical(frame, "store", "day", "sales")
    assert "column 'day' has 1 value that is not a timestamp" in str(info.value)
    assert "row 1" in str(info.value)
    assert info.value.rows == [{"store": "a", "day": "not a day", "sales": 2.0}]


def test_when_a_timestamp_is_missing_then_error_shows_the_row() -> None:
    frame = user_frame(day=["2021-01-02", None, "2021-01-01", "2021-01-01"])
    with pytest.raises(DataError, match="1 missing timestamp ") as info:
        to_canonical(frame, "store", "day", "sales")
    assert info.value.rows[0]["store"] == "a"


def test_when_timestamps_mix_formats_then_each_is_parsed() -> None:
    frame = user_frame(day=["2021-01-02", "2021-01-02 00:00:00", "2021/01/01", "2021-01-01"])
    assert canonical(frame)[TIMESTAMP].dt.day.tolist() == [1, 2, 1, 2]


def test_when_timestamps_are_numbers_then_they_are_read_as_dates_not_nanoseconds() -> None:
    frame = user_frame(day=[20210102, 20210102, 20210101, 20210101])
    assert canonical(frame)[TIMESTAMP].iloc[0] == pd.Timestamp("2021-01-01")


def test_when_timestamps_carry_a_time_zone_then_they_become_utc_and_it_is_noted() -> None:
    day = ["2021-01-02T01:00+01:00", "2021-01-02T01:00+01:00", "2021-01-01T01:00+01:00", "x"]
    panel, problems = to_canonical(user_frame(day=day).iloc[:3], "store", "day", "sales")
    assert panel[TIMESTAMP].tolist() == pd.to_datetime(["2021-01-01", "2021-01-02", "2021-01-02"]).tolist()
    assert [p.kind for p in problems] == ["timezone_converted"]
    assert problems[0].count == 3


def test_when_utc_offsets_differ_then_all_are_converted_to_utc() -> None:
    frame = user_frame(day=["2021-01-02T02:00+02:00", "2021-01-02T00:00+00:00", "2021-01-01", "2021-01-01"])
    panel, problems = to_canonical(frame.iloc[:2], "store", "day", "sales")
    assert panel[TIMESTAMP].tolist() == [pd.Timestamp("2021-01-02")] * 2
    assert problems[0].kind == "timezone_converted"


def test_when_daily_timestamps_are_local_midnights_then_the_local_dates_are_kept() -> None:
    """A Parquet written in local time: Berlin midnights across the start of summer time are
    23:00 then 22:00 UTC of the day before, which would fall off the daily grid."""
    days = pd.date_range("2023-03-24", periods=6, freq="D", tz="Europe/Berlin")
    frame = pd.DataFrame({"store": "a", "day": days, "sales": 1.0})
    panel, problems = to_canonical(frame, "store", "day", "sales")
    assert panel[TIMESTAMP].tolist() == list(pd.date_range("2023-03-24", periods=6, freq="D"))
    assert "local dates kept" in problems[0].handled

    hours = pd.date_range("2023-03-26 00:00", periods=4, freq="h", tz="Europe/Berlin")
    hourly, problems = to_canonical(frame.iloc[:4].assign(day=hours), "store", "day", "sales")
    assert hourly[TIMESTAMP].tolist() == list(pd.date_range("2023-03-25 23:00", periods=4, freq="h"))
    assert "converted to UTC" in problems[0].handled


def test_when_the_target_holds_text_then_error_shows_those_rows_only() -> None:
    frame = user_frame(sales=["4", "two", "", None])
    with pytest.raises(DataError) as info:
        to_canonical(frame, "store", "day", "sales")
    assert "column 'sales' has 1 value that is not a finite number, such as ['two']" in str(info.value)
    assert info.value.rows == [{"store": "a", "day": "2021-01-02", "sales": "two"}]
    with pytest.raises(DataError, match=r"such as \['-'\]: write a missing value as an empty cell"):
        to_canonical(user_frame(sales=["4", "-", " - ", "1"]), "store", "day", "sales")


def test_when_the_target_has_blanks_and_na_then_they_are_missing_values() -> None:
    panel = canonical(user_frame(sales=["4", " 2.5 ", "", None]))
    np.testing.assert_array_equal(panel[TARGET].to_numpy(), [np.nan, 2.5, np.nan, 4.0])


def test_when_the_target_is_infinite_then_error_shows_the_row() -> None:
    with pytest.raises(DataError, match="1 value that is not a finite number") as info:
        to_canonical(user_frame(sales=[1.0, np.inf, 1.0, 1.0]), "store", "day", "sales")
    assert info.value.rows[0]["store"] == "a"


def test_when_item_timestamp_pairs_repeat_then_error_shows_both_rows() -> None:
    frame = user_frame(day=["2021-01-02", "2021-01-01", "2021-01-01", "2021-01-01"])
    with pytest.raises(DataError, match=r"1 duplicate \(store, day\) pair:") as info:
        to_canonical(frame, "store", "day", "sales")
    assert info.value.rows == [
        {"store": "a", "day": "2021-01-01", "sales": 2.0},
        {"store": "a", "day": "2021-01-01", "sales": 1.0},
    ]


def test_when_duplicates_are_allowed_then_they_are_kept_for_aggregation() -> None:
    frame = user_frame(day=["2021-01-02", "2021-01-01", "2021-01-01", "2021-01-01"])
    assert len(canonical(frame, allow_duplicates=True)) == 4


def test_when_the_frame_is_empty_then_error_says_so() -> None:
    with pytest.raises(DataError, match="empty"):
        to_canonical(user_frame().iloc[:0], "store", "day", "sales")


def test_when_a_series_has_no_target_values_then_error_names_it() -> None:
    with pytest.raises(DataError, match=r"1 series has no 'sales' values at all: \['b'\]"):
        to_canonical(user_frame(sales=[None, 2.0, 1.0, None]), "store", "day", "sales")


def test_when_item_ids_are_missing_then_error_shows_the_row() -> None:
    with pytest.raises(DataError, match="1 missing item id ") as info:
        to_canonical(user_frame(store=["b", None, "a", "b"]), "store", "day", "sales")
    assert info.value.rows[0]["day"] == "2021-01-02"


def test_when_a_static_column_varies_within_a_series_then_error_names_the_series() -> None:
    frame = user_frame(region=["N", "S", "S", "E"])
    with pytest.raises(DataError, match=r"'region' takes several values within 1 series: \['b'\]") as info:
        to_canonical(frame, "store", "day", "sales", static_columns=["region"])
    assert [row["region"] for row in info.value.rows] == ["E", "N"]


def test_when_a_static_cell_is_empty_then_it_is_no_second_value_and_takes_the_series_value() -> None:
    frame = user_frame(region=["N", "S", "S", None])  # store b: N, then an empty cell
    panel, _ = to_canonical(frame, "store", "day", "sales", static_columns=["region"])
    assert panel.groupby("item_id")["region"].agg(list).to_dict() == {"a": ["S", "S"], "b": ["N", "N"]}


def test_when_a_column_has_two_roles_then_error_names_it() -> None:
    with pytest.raises(DataError, match=r"\['price'\] are given more than one role"):
        to_canonical(
            user_frame(), "store", "day", "sales", known_covariates=["price"], past_covariates=["price"]
        )


def test_when_a_covariate_uses_a_canonical_name_then_error_asks_to_rename() -> None:
    frame = user_frame().rename(columns={"price": "target"})
    with pytest.raises(DataError, match="rename"):
        to_canonical(frame, "store", "day", "sales", known_covariates=["target"])


def test_when_a_covariate_is_numeric_text_then_it_becomes_numbers() -> None:
    panel = canonical(user_frame(price=["1", "2", "", "4"]), known_covariates=["price"])
    assert panel["price"].dtype == np.float64
    assert panel["price"].tolist()[1:] == [2.0, 4.0, 1.0]


def test_when_there_is_no_target_then_future_covariates_are_ingested() -> None:
    panel, _ = to_canonical(user_frame(), "store", "day", None, known_covariates=["price"])
    assert list(panel.columns) == [ITEM_ID, TIMESTAMP, "price"]


def test_when_options_use_the_users_target_name_then_keys_become_canonical() -> None:
    assert canonical_keys({"sales": "mean", "price": "zero"}, "sales") == {TARGET: "mean", "price": "zero"}
    with pytest.raises(ConfigError):
        canonical_keys({"sales": "mean", TARGET: "zero"}, "sales")


def test_when_a_covariate_is_a_yes_no_flag_or_a_percentage_then_it_becomes_numbers() -> None:
    frame = pd.DataFrame(
        {
            "store": ["1"] * 4,
            "day": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"],
            "sales": [10.0, 0.0, 12.0, 11.0],
            "open": ["Y", "N", "y", ""],
            "holiday": ["FALSE", "TRUE", "false", "no"],
            "discount": ["10%", "0%", "12.5%", None],
            "weather": ["sun", "rain", "Y", "N"],
        }
    )
    panel, _ = to_canonical(
        frame, "store", "day", "sales", known_covariates=["open", "holiday", "discount", "weather"]
    )
    np.testing.assert_array_equal(panel["open"], [1.0, 0.0, 1.0, np.nan])
    np.testing.assert_array_equal(panel["holiday"], [0.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(panel["discount"], [0.1, 0.0, 0.125, np.nan])
    assert panel["weather"].tolist() == ["sun", "rain", "Y", "N"]  # not every value a yes or a no
