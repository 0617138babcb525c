from __future__ import annotations

import json
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from tidecast.data.prepare import fill_future, prepare
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.errors import ConfigError, DataError

NAN = np.nan


def panel(rows: Sequence[tuple[object, ...]], extra: Sequence[str] = ()) -> pd.DataFrame:
    """A canonical panel from (item, timestamp, target, *extra) rows, sorted as ingest sorts."""
    frame = pd.DataFrame(list(rows), columns=[ITEM_ID, TIMESTAMP, TARGET, *extra])
    frame[TIMESTAMP] = pd.to_datetime(frame[TIMESTAMP])
    frame[TARGET] = frame[TARGET].astype(float)
    return frame.sort_values([ITEM_ID, TIMESTAMP], ignore_index=True)


def day(n: int) -> str:
    return f"2021-01-{n:02d}"


def values(frame: pd.DataFrame, item: str, column: str = TARGET) -> list[float]:
    return frame.loc[frame[ITEM_ID] == item, column].tolist()


# Series "a" is observed on days 1, 2 (empty), 4, 5 and misses day 3; "b" runs to day 6, so "a"
# has two middle gaps (days 2 and 3) and one back gap (day 6). Observed values of "a": 1, 2, 6.
GAPPY = panel(
    [("a", day(1), 1), ("a", day(2), NAN), ("a", day(4), 2), ("a", day(5), 6)]
    + [("b", day(d), 5) for d in range(1, 7)]
)


def test_when_series_have_gaps_then_defaults_leave_the_middle_missing_and_keep_each_end() -> None:
    result = prepare(GAPPY)
    assert result.freq == "D"
    np.testing.assert_array_equal(values(result.panel, "a"), [1, NAN, NAN, 2, 6])
    assert result.panel[TIMESTAMP].tolist()[:5] == list(pd.date_range(day(1), periods=5))
    assert result.filled[TARGET] == {"front": 0, "middle": 0, "back": 0}
    kinds = {p.kind: p for p in result.problems}
    assert "missing_values" not in kinds
    left = kinds["missing_values_left"]
    assert (left.items, left.count) == (("a",), 2)
    assert left.message == (
        "target: 2 missing cells (2 middle) left missing for the models that take them, filled for "
        "the others by interpolation (gaps under a season) or seasonally (longer gaps)"
    )


def test_when_regions_are_filled_then_the_note_counts_each_region_and_its_method() -> None:
    result = prepare(GAPPY, filling={TARGET: {"middlefill": "zero", "backfill": "mean"}})
    note = next(p for p in result.problems if p.kind == "missing_values")
    assert note.message == "target: 3 missing cells filled (2 middle by zero, 1 back by mean)"
    assert note.handled == "filled (middlefill zero, backfill mean)"
    assert result.filled[TARGET] == {"front": 0, "middle": 2, "back": 1}


def test_when_middlefill_is_interpolate_then_gaps_lie_on_the_line_between_neighbours() -> None:
    result = prepare(GAPPY, filling={TARGET: {"middlefill": "interpolate"}})
    np.testing.assert_allclose(values(result.panel, "a"), [1, 4 / 3, 5 / 3, 2, 6])


def test_when_middlefill_is_seasonal_then_a_gap_takes_the_same_weekday_of_the_week_before() -> None:
    # Three weeks of a weekly pattern; day 10 (a Sunday, like day 3) and day 17 are missing.
    week = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0]
    rows = [("a", day(d), week[(d - 1) % 7] + (d - 1) // 7) for d in range(1, 22) if d not in (10, 17)]
    result = prepare(panel(rows), filling={TARGET: {"middlefill": "seasonal"}})
    assert values(result.panel, "a")[9] == 30.0  # day 3, the same phase one week earlier
    assert values(result.panel, "a")[16] == 30.0  # day 10 is missing too: two weeks earlier


@pytest.mark.parametrize(
    ("method", "middle", "back"),
    [
        ("zero", 0, 0),
        ("mean", 3, 3),
        ("median", 2, 2),
        ("min", 1, 1),
        ("max", 6, 6),
        ("none", NAN, None),
    ],
)
def test_when_a_fill_method_is_set_then_middle_and_back_get_its_value(
    method: str, middle: float, back: float | None
) -> None:
    result = prepare(GAPPY, filling={TARGET: {"middlefill": method, "backfill": method}})
    expected = [1, middle, middle, 2, 6] + ([] if back is None else [back])  # backfill none: no padding
    np.testing.assert_array_equal(values(result.panel, "a"), expected)


def test_when_the_median_has_an_even_count_then_it_is_the_mean_of_the_middle_two() -> None:
    frame = panel([("a", day(1), 1), ("a", day(2), 2), ("a", day(4), 6), ("a", day(5), 7)])
    result = prepare(frame, filling={TARGET: {"middlefill": "median"}})
    assert values(result.panel, "a") == [1, 2, 4, 6, 7]


def test_when_fill_is_a_value_then_that_number_is_used_per_region() -> None:
    filling = {
        TARGET: {"middlefill": "value", "middlefill_value": "7.5", "backfill": "value", "backfill_value": -1}
    }
    assert values(prepare(GAPPY, filling=filling).panel, "a") == [1, 7.5, 7.5, 2, 6, -1]


def test_when_the_shorthand_names_a_method_then_it_fills_middle_and_back() -> None:
    assert values(prepare(GAPPY, filling={TARGET: "mean"}).panel, "a") == [1, 3, 3, 2, 6, 3]


def test_when_a_region_is_overridden_then_the_other_keeps_its_default() -> None:
    filling = {TARGET: {"middlefill": "max", "backfill": "zero"}}
    assert values(prepare(GAPPY, filling=filling).panel, "a") == [1, 6, 6, 2, 6, 0]
    assert values(prepare(GAPPY, filling={TARGET: {"middlefill": "max"}}).panel, "a") == [1, 6, 6, 2, 6]


def test_when_target_frontfill_is_set_then_series_start_at_the_common_start() -> None:
    frame = panel([("a", day(3), 4), ("a", day(4), 8)] + [("b", day(d), 1) for d in range(1, 5)])
    result = prepare(frame, filling={TARGET: {"frontfill": "mean"}})
    assert values(result.panel, "a") == [6, 6, 4, 8]
    assert result.filled[TARGET] == {"front": 2, "middle": 0, "back": 0}
    assert values(prepare(frame).panel, "a") == [4, 8]  # default: start at the first observation


def test_when_backfill_is_none_then_series_end_at_their_last_observation() -> None:
    result = prepare(GAPPY, filling={TARGET: {"backfill": "none", "middlefill": "zero"}})
    assert values(result.panel, "a") == [1, 0, 0, 2, 6]
    assert len(values(result.panel, "b")) == 6


def test_when_a_covariate_has_gaps_then_it_is_filled_with_its_mean_by_default() -> None:
    frame = panel(
        [("a", day(1), 1, NAN), ("a", day(2), 1, 2.0), ("a", day(4), 1, 4.0), ("a", day(5), 1, NAN)],
        ["price"],
    )
    result = prepare(frame)
    assert values(result.panel, "a", "price") == [3, 2, 3, 4, 3]
    assert result.filled["price"] == {"front": 1, "middle": 1, "back": 1}


def test_when_a_flag_has_gaps_then_it_is_filled_with_the_state_it_is_in_most_days() -> None:
    # A promotion flag on 1 of 4 observed days and an open flag on 3 of 4: their means (0.25,
    # 0.75) are neither state, and a model reading flags as events would see a promotion
    # wherever a gap is. The median is the usual state; a numeric column keeps its mean.
    promo, open_, price = (0, 1, 0, 0, 0), (1, 1, 0, 1, 1), (1, 2, 3, 4, 5)
    rows = [("a", day(d), 1, *cells) for d, *cells in zip((1, 2, 3, 4, 7), promo, open_, price, strict=True)]
    result = prepare(panel(rows, ["promo", "open", "price"]))  # days 5 and 6 are absent
    assert values(result.panel, "a", "promo")[4:6] == [0, 0]
    assert values(result.panel, "a", "open")[4:6] == [1, 1]
    assert values(result.panel, "a", "price")[4:6] == [3, 3]


def test_when_a_covariate_is_filled_with_zero_then_zero_is_used() -> None:
    frame = panel([("a", day(1), 1, 1.0), ("a", day(2), 1, 1.0), ("a", day(4), 1, 1.0)], ["promo"])
    result = prepare(frame, filling={"promo": {"middlefill": "zero"}})
    assert values(result.panel, "a", "promo") == [1, 1, 0, 1]


def test_when_a_text_covariate_has_gaps_then_it_stays_missing_unless_a_value_is_given() -> None:
    frame = panel([("a", day(1), 1, "x"), ("a", day(2), 1, "y"), ("a", day(4), 1, "z")], ["colour"])
    assert values(prepare(frame).panel, "a", "colour") == ["x", "y", None, "z"]
    filling = {"colour": {"middlefill": "value", "middlefill_value": "grey"}}
    assert values(prepare(frame, filling=filling).panel, "a", "colour") == ["x", "y", "grey", "z"]


def test_when_static_columns_are_named_then_new_grid_rows_get_the_series_value() -> None:
    frame = panel([("a", day(d), 1, "north") for d in (1, 2, 4)], ["region"])
    result = prepare(frame, static_columns=["region"])
    assert values(result.panel, "a", "region") == ["north"] * 4
    assert "region" not in result.filled


@pytest.mark.parametrize(
    "options",
    [
        {TARGET: {"middlefill": "spline"}},
        {"nope": "zero"},
        {TARGET: {"middlefill": "value"}},
        {TARGET: {"middlefill": "zero", "middlefill_value": 3}},
        {TARGET: {"futurefill": "zero"}},
        {TARGET: {"sidefill": "zero"}},
        {TARGET: {"middlefill": "value", "middlefill_value": "abc"}},
    ],
)
def test_when_filling_options_are_wrong_then_config_error(options: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        prepare(GAPPY, filling=options)  # type: ignore[arg-type]


def test_when_a_text_column_gets_a_statistic_then_config_error_explains() -> None:
    frame = panel([("a", day(1), 1, "x"), ("a", day(2), 1, "y")], ["colour"])
    with pytest.raises(ConfigError, match="not numeric"):
        prepare(frame, filling={"colour": {"middlefill": "mean"}})


# Two weeks of daily values 1..14 from Monday 2021-01-04: weeks end on Sundays 01-10 and 01-17.
DAILY = panel([("a", f"2021-01-{d + 3:02d}", d, 10 * d) for d in range(1, 15)], ["price"])


@pytest.mark.parametrize(
    ("how", "week1", "week2"),
    [("sum", 28, 77), ("avg", 4, 11), ("min", 1, 8), ("max", 7, 14), ("first", 1, 8)],
)
def test_when_daily_data_is_aggregated_to_weeks_then_each_method_gives_exact_values(
    how: str, week1: float, week2: float
) -> None:
    result = prepare(DAILY, "W", aggregation={TARGET: how})
    assert result.freq == "W-SUN"
    assert result.source_freq == "D"
    assert result.panel[TIMESTAMP].tolist() == list(pd.to_datetime(["2021-01-10", "2021-01-17"]))
    assert values(result.panel, "a") == [week1, week2]
    assert result.problems[0].kind == "aggregated"


def test_when_aggregating_then_covariates_average_and_missing_values_are_skipped() -> None:
    frame = DAILY.copy()
    frame.loc[1, TARGET] = NAN  # day 2 of week 1 has no value: the sum skips it
    result = prepare(frame, "W")
    assert values(result.panel, "a") == [26, 77]
    assert values(result.panel, "a", "price") == [40, 110]


def test_when_hourly_data_is_aggregated_to_days_then_buckets_start_at_midnight() -> None:
    hours = pd.date_range("2021-01-01 12:00", periods=60, freq="h")  # to 2021-01-03 23:00
    frame = panel([("a", t, 1.0) for t in hours])
    result = prepare(frame, "D")
    assert result.panel[TIMESTAMP].tolist() == list(pd.date_range(day(1), periods=3))
    assert values(result.panel, "a") == [12, 24, 24]
    partial = next(p for p in result.problems if p.kind == "partial_buckets")
    assert partial.count == 1 and partial.items == ("a",)  # the first day holds 12 of 24 hours


def test_when_the_data_ends_inside_its_last_period_then_that_period_is_left_out_and_said() -> None:
    """Summed, the last week's five days read as a slump the forecast would follow."""
    days = pd.date_range("2021-01-04", "2021-01-22")  # Monday to the third week's Friday
    frame = panel([("a", t, 10.0) for t in days] + [("new", t, 3.0) for t in days[-2:]])
    result = prepare(frame, "W")
    assert values(result.panel, "a") == [70, 70]  # weeks ending 01-10 and 01-17; 01-24 left out
    assert values(result.panel, "new") == [6]  # nothing before the last week: kept
    [cut] = [p for p in result.problems if p.kind == "partial_period"]
    assert cut.message == (
        "the data ends on 2021-01-22, 5 D steps into the W-SUN period of 2021-01-24: its 5 rows "
        "of 1 series are left out rather than summed as a whole period, and that period is the "
        "first one forecast"
    )
    assert (cut.count, cut.items) == (5, ("a",))
    whole = prepare(frame[frame[TIMESTAMP] <= "2021-01-17"], "W")  # ends with its week: nothing cut
    assert not any(p.kind == "partial_period" for p in whole.problems)
    averaged = prepare(frame, "W", aggregation={TARGET: "avg"})  # a mean of five days is a mean
    assert values(averaged.panel, "a") == [10, 10, 10]


def test_when_the_missing_days_of_the_last_week_are_days_the_series_never_open_then_it_is_kept() -> None:
    """Closed on Sundays (no rows), data ending on a Saturday: by the calendar the last week
    ending Sunday is unfinished, but it holds its usual six days."""
    days = pd.date_range("2021-01-04", "2021-01-23")  # Monday to the third week's Saturday
    open_days = [t for t in days if t.dayofweek != 6]
    result = prepare(panel([("a", t, 10.0) for t in open_days]), "W")
    assert values(result.panel, "a") == [60, 60, 60]
    assert not any(p.kind == "partial_period" for p in result.problems)
    short = prepare(panel([("a", t, 10.0) for t in open_days[:-2]]), "W")  # ends on Thursday: 4 of 6
    assert values(short.panel, "a") == [60, 60]


def test_when_months_have_a_gap_then_the_month_grid_is_filled() -> None:
    months = pd.date_range("2021-01-01", periods=6, freq="MS").delete(2)
    result = prepare(panel([("a", t, i + 1) for i, t in enumerate(months)]))
    assert result.freq == "MS"
    np.testing.assert_array_equal(values(result.panel, "a"), [1, 2, NAN, 3, 4, 5])
    assert result.panel[TIMESTAMP].dt.month.tolist() == [1, 2, 3, 4, 5, 6]


def test_when_months_are_aggregated_to_quarters_then_sums_are_exact() -> None:
    months = pd.date_range("2021-01-01", periods=6, freq="MS")
    result = prepare(panel([("a", t, i + 1) for i, t in enumerate(months)]), "QS")
    assert values(result.panel, "a") == [6, 15]
    assert result.panel[TIMESTAMP].tolist() == list(pd.to_datetime(["2021-01-01", "2021-04-01"]))


def test_when_daily_data_is_recorded_at_nine_then_the_timestamps_keep_their_hour() -> None:
    frame = panel([("a", f"{day(d)} 09:00", d) for d in (1, 2, 4)])
    result = prepare(frame)
    assert result.panel[TIMESTAMP].dt.hour.tolist() == [9, 9, 9, 9]
    np.testing.assert_array_equal(values(result.panel, "a"), [1, 2, NAN, 4])


def test_when_hourly_series_join_a_daily_panel_then_error_names_them() -> None:
    frame = panel(
        [("daily", day(d), 1) for d in range(1, 20)]
        + [("hourly", t, 1) for t in pd.date_range(day(1), periods=5, freq="h")]
    )
    with pytest.raises(DataError, match=r"not on the 'D' grid \(\['hourly'\]\).*coarser frequency") as info:
        prepare(frame)
    assert info.value.rows[0] == {ITEM_ID: "hourly", TIMESTAMP: "2021-01-01T01:00:00"}


def test_when_daily_series_join_an_hourly_panel_then_error_names_them() -> None:
    frame = panel(
        [("hourly", t, 1) for t in pd.date_range(day(1), periods=100, freq="h")]
        + [("daily", day(d), 1) for d in range(1, 15)]
    )
    with pytest.raises(DataError, match=r"every 24 steps of 'h' \(\['daily'\]\)"):
        prepare(frame)


def test_when_mixed_frequencies_get_an_explicit_coarser_freq_then_all_are_aggregated() -> None:
    frame = panel(
        [("daily", day(d), 1) for d in range(1, 4)]
        + [("hourly", t, 1) for t in pd.date_range(day(1), periods=72, freq="h")]
    )
    result = prepare(frame, "D")
    assert values(result.panel, "daily") == [1, 1, 1]
    assert values(result.panel, "hourly") == [24, 24, 24]


def test_when_a_finer_freq_is_asked_then_error_explains() -> None:
    with pytest.raises(DataError, match="finer frequency 'h'"):
        prepare(DAILY, "h")


def test_when_duplicate_timestamps_reach_prepare_then_only_an_explicit_freq_aggregates_them() -> None:
    frame = panel([("a", day(1), 1), ("a", day(1), 2), ("a", day(2), 3)])
    with pytest.raises(DataError, match="1 row repeats a timestamp of its series"):
        prepare(frame)
    assert values(prepare(frame, "D").panel, "a") == [3, 3]


def test_when_rows_follow_the_last_target_value_then_they_are_dropped_and_noted() -> None:
    frame = panel(
        [("a", day(1), 1), ("a", day(2), 2), ("a", day(3), NAN), ("b", day(1), 1), ("b", day(2), 1)]
    )
    result = prepare(frame)
    assert values(result.panel, "a") == [1, 2]
    outside = next(p for p in result.problems if p.kind == "rows_outside_series")
    assert outside.count == 1 and outside.items == ("a",)


def test_when_series_are_negative_constant_or_short_then_they_are_noted_not_refused() -> None:
    frame = panel(
        [("neg", day(d), v) for d, v in ((1, -1), (2, 3), (3, 1))]
        + [("flat", day(d), 5) for d in (1, 2, 3)]
        + [("short", day(3), 2)]
    )
    result = prepare(frame, horizon=1, filling={TARGET: {"backfill": "none"}})
    kinds = {p.kind: p for p in result.problems}
    assert kinds["negative_values"].count == 1 and kinds["negative_values"].items == ("neg",)
    assert kinds["constant_series"].items == ("flat", "short")
    assert result.short_items == ("short",)
    assert prepare(frame, min_length=4, filling={TARGET: {"backfill": "none"}}).short_items == (
        "flat",
        "neg",
        "short",
    )


def test_when_the_frequency_cannot_be_inferred_then_error_asks_for_it() -> None:
    with pytest.raises(DataError, match="cannot infer the frequency"):
        prepare(panel([("a", day(1), 1), ("b", day(2), 1)]))
    assert prepare(panel([("a", day(1), 1), ("b", day(2), 1)]), "D").freq == "D"


def test_when_aggregation_options_are_wrong_then_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown aggregation 'mode'"):
        prepare(DAILY, "W", aggregation={TARGET: "mode"})
    with pytest.raises(ConfigError, match="unknown aggregation 'mode'"):
        prepare(DAILY, aggregation={TARGET: "mode"})  # checked even when nothing is aggregated
    with pytest.raises(ConfigError, match="unknown column"):
        prepare(DAILY, "W", aggregation={"nope": "sum"})


HISTORY = panel(
    [(item, day(d), 1, float(p)) for item in "ab" for d, p in ((1, 2), (2, 4), (3, 9))], ["promo"]
)


def test_when_future_covariates_are_complete_then_they_come_back_on_the_horizon_grid() -> None:
    future = pd.DataFrame(
        {
            ITEM_ID: ["a", "a", "b", "b", "b"],
            TIMESTAMP: pd.to_datetime([day(4), day(5), day(4), day(5), day(9)]),
        }
    ).assign(promo=[1.0, 0.0, 1.0, 1.0, 7.0])
    result = fill_future(future, HISTORY, "D", 2, ["promo"])
    assert result[TIMESTAMP].tolist() == list(pd.to_datetime([day(4), day(5)] * 2))
    assert result["promo"].tolist() == [1, 0, 1, 1]


@pytest.mark.parametrize(
    ("method", "expected"), [("mean", 5), ("median", 4), ("min", 2), ("max", 9), ("zero", 0)]
)
def test_when_future_values_are_missing_then_futurefill_supplies_them(method: str, expected: float) -> None:
    future = pd.DataFrame({ITEM_ID: ["a"], TIMESTAMP: pd.to_datetime([day(4)]), "promo": [1.0]})
    result = fill_future(future, HISTORY, "D", 2, ["promo"], {"promo": {"futurefill": method}})
    assert values(result, "a", "promo") == [1, expected]
    assert values(result, "b", "promo") == [expected, expected]


def test_when_future_values_are_missing_without_futurefill_then_error_shows_them() -> None:
    future = pd.DataFrame({ITEM_ID: ["a"], TIMESTAMP: pd.to_datetime([day(4)]), "promo": [1.0]})
    with pytest.raises(
        DataError, match=r"3 future values of the known covariates \[.promo.\] are missing for 2 items"
    ) as info:
        fill_future(future, HISTORY, "D", 2, ["promo"])
    assert info.value.rows[0][ITEM_ID] == "a" and info.value.rows[0][TIMESTAMP] == "2021-01-05T00:00:00"
    suggested = re.findall(r"\{\"promo\": \{.*?\}\}", str(info.value))
    assert suggested == [
        '{"promo": {"futurefill": "median"}}',
        '{"promo": {"futurefill": "value", "futurefill_value": 1}}',
    ]
    for spec in suggested:  # each suggestion, as written, fills the gaps
        filled = fill_future(future, HISTORY, "D", 2, ["promo"], json.loads(spec))
        assert not filled["promo"].isna().any()


def test_when_a_text_covariate_misses_future_values_then_the_error_suggests_a_value_from_its_history() -> (
    None
):
    history = pd.DataFrame(
        {
            ITEM_ID: ["a"] * 3,
            TIMESTAMP: pd.to_datetime([day(1), day(2), day(3)]),
            TARGET: [1.0, 2.0, 3.0],
            "state_holiday": ["a", "0", "0"],  # the most common value, not the first, is suggested
        }
    )
    future = pd.DataFrame({ITEM_ID: ["a"], TIMESTAMP: pd.to_datetime([day(4)]), "state_holiday": ["a"]})
    with pytest.raises(DataError) as info:
        fill_future(future, history, "D", 2, ["state_holiday"])
    hint = '{"state_holiday": {"futurefill": "value", "futurefill_value": "0"}}'
    assert f"set a futurefill method, e.g. the filling {hint}; the future's rows of 'a' run" in str(
        info.value
    )
    spec = json.loads(hint)
    filled = fill_future(future, history, "D", 2, ["state_holiday"], spec)
    assert filled["state_holiday"].tolist() == ["a", "0"]


def test_when_prepared_filling_is_reused_then_fill_future_applies_its_futurefill() -> None:
    prepared = prepare(HISTORY, filling={"promo": {"futurefill": "value", "futurefill_value": 3}})
    future = pd.DataFrame({ITEM_ID: ["a"], TIMESTAMP: pd.to_datetime([day(4)]), "promo": [1.0]})
    result = fill_future(future, prepared.panel, prepared.freq, 1, ["promo"], prepared.filling)
    assert result["promo"].tolist() == [1, 3]


def test_when_a_series_has_no_target_value_then_error_names_it() -> None:
    with pytest.raises(DataError, match=r"1 series has no target values at all: \['b'\]"):
        prepare(panel([("a", day(1), 1), ("a", day(2), 1), ("b", day(1), NAN)]), "D")


def test_when_a_series_never_observes_a_covariate_then_the_column_statistic_fills_it() -> None:
    frame = panel(
        [("a", day(d), 1, NAN) for d in (1, 2, 3)] + [("b", day(d), 1, float(d)) for d in (1, 2, 3)],
        ["price"],
    )
    assert values(prepare(frame).panel, "a", "price") == [2, 2, 2]
