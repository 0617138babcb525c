"""Metrics against values worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tidecast import metrics
from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP
from tidecast.errors import ConfigError, DataError

QUANTILES = (0.1, 0.5, 0.9)


def test_when_quantiles_cross_then_wql_scores_each_level_as_given() -> None:
    y = np.array([10.0, 0.0, 5.0])
    # the last row is crossed: p10 = 6 > p90 = 4
    qpred = np.array([[8.0, 10.0, 13.0], [0.0, 1.0, 2.0], [6.0, 5.0, 4.0]])
    # pinball q=0.1: d=y-f = 2, 0, -1  -> 0.2, 0, 0.9   sum 1.1
    # pinball q=0.5: d = 0, -1, 0      -> 0, 0.5, 0     sum 0.5
    # pinball q=0.9: d = -3, -2, 1     -> 0.3, 0.2, 0.9 sum 1.4
    # wql = mean(2*1.1/15, 2*0.5/15, 2*1.4/15) = 6/45
    assert metrics.wql(y, qpred, QUANTILES) == pytest.approx(6 / 45)
    expected = np.array([[0.2, 0.0, 0.3], [0.0, 0.5, 0.2], [0.9, 0.0, 0.9]])
    np.testing.assert_allclose(metrics.pinball_loss(y, qpred, QUANTILES), expected)


def test_when_only_the_median_is_forecast_then_wql_equals_wape() -> None:
    y = np.array([10.0, 0.0, 5.0])
    f = np.array([12.0, 1.0, 5.0])
    # wape = (2 + 1 + 0) / 15 = 0.2; wql at q=0.5 = 2 * (1 + 0.5 + 0) / 15 = 0.2
    assert metrics.wape(y, f) == pytest.approx(0.2)
    assert metrics.wql(y, f[:, None], [0.5]) == pytest.approx(0.2)


def test_when_every_actual_is_zero_then_volume_metrics_are_nan() -> None:
    y = np.zeros(3)
    f = np.array([0.0, 1.0, 0.0])
    assert math.isnan(metrics.wql(y, np.zeros((3, 3)), QUANTILES))
    assert math.isnan(metrics.wape(y, f))
    assert math.isnan(metrics.bias(y, f))
    assert math.isnan(metrics.mape(y, f))
    # smape: 0/0 -> 0, 2*1/1 = 2, 0/0 -> 0: mean 2/3 (defined even for zeros)
    assert metrics.smape(y, f) == pytest.approx(2 / 3)


def test_when_some_actuals_are_zero_then_mape_skips_those_points() -> None:
    y = np.array([10.0, 0.0, 4.0])
    f = np.array([12.0, 1.0, 5.0])
    # |2|/10 = 0.2, (y = 0 skipped), |1|/4 = 0.25 -> mean 0.225
    assert metrics.mape(y, f) == pytest.approx(0.225)


def test_when_actual_and_forecast_are_both_zero_then_smape_counts_zero() -> None:
    y = np.array([10.0, 0.0, 0.0, 4.0])
    f = np.array([6.0, 0.0, 2.0, 4.0])
    # 2*4/16 = 0.5, 0/0 -> 0, 2*2/2 = 2, 0 -> mean 2.5/4 = 0.625; M4 percent: 62.5
    assert metrics.smape(y, f) == pytest.approx(0.625)
    assert metrics.smape_m4(y, f) == pytest.approx(62.5)


def test_when_rmse_bias_and_mean_error_then_hand_values() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    f = np.array([4.0, 2.0, 7.0, 4.0])
    # errors 3, 0, 4, 0 -> squares 9 + 16 = 25, / 4 = 6.25 -> rmse 2.5
    assert metrics.rmse(y, f) == pytest.approx(2.5)
    # sum(f - y) = 7, sum|y| = 10 -> bias 0.7; mean error 7 / 4
    assert metrics.bias(y, f) == pytest.approx(0.7)
    assert metrics.mean_error(y, f) == pytest.approx(1.75)


def test_when_bounds_touch_or_cross_then_coverage_is_exact() -> None:
    y = np.array([1.0, 5.0, 10.0, 3.0])
    lo = np.array([0.0, 5.0, 11.0, 4.0])
    hi = np.array([2.0, 6.0, 12.0, 2.0])
    # inside, on the lower bound (inside), below, crossed bounds (outside) -> 2/4
    assert metrics.coverage(y, lo, hi) == 0.5
    np.testing.assert_array_equal(metrics.coverage_per_series(y, lo, hi, [0, 2, 4]), [1.0, 0.0])


def test_when_series_differ_in_length_and_lag_then_seasonal_scale_is_per_series() -> None:
    values = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 2.0, 2.0, 2.0, 1.0, 4.0, 7.0, 0.0, np.nan, 2.0, 4.0])
    indptr = np.array([0, 5, 8, 10, 11, 15])
    scale = metrics.seasonal_scale(values, indptr, season_length=2)
    # A [1,3,2,5,4] lag 2: |2-1|, |5-3|, |4-2| = 1, 2, 2 -> 5/3
    # B [2,2,2] lag 2 (3 >= m+1): |2-2| = 0 -> 0 (constant series)
    # C [1,4] shorter than m+1 -> lag 1: |4-1| = 3
    # D [7] no pair -> nan
    # E [0, nan, 2, 4] lag 2: |2-0| = 2, |4-nan| skipped -> 2
    np.testing.assert_allclose(scale, [5 / 3, 0.0, 3.0, np.nan, 2.0])


def test_when_a_series_has_zero_scale_then_mase_leaves_it_out() -> None:
    y = np.array([3.0, 5.0, 2.0, 2.0])
    f = np.array([4.0, 3.0, 2.0, 3.0])
    scale = np.repeat([0.5, 0.0], 2)
    # series 0: errors 1, 2 -> mean 1.5 / 0.5 = 3; series 1: scale 0 -> nan, skipped
    np.testing.assert_allclose(metrics.mase_per_series(y, f, scale, [0, 2, 4]), [3.0, np.nan])
    assert metrics.mase(y, f, scale, indptr=np.array([0, 2, 4])) == pytest.approx(3.0)
    assert math.isnan(metrics.mase(y, f, 0.0))


def test_when_series_have_unequal_lengths_then_mase_averages_series_not_points() -> None:
    y = np.array([0.0, 0.0, 0.0])
    f = np.array([1.0, 3.0, 2.0])
    scale = np.array([1.0, 1.0, 2.0])
    # series 0: (1 + 3) / 2 / 1 = 2; series 1: 2 / 2 = 1 -> mean 1.5 (points would give 5/3)
    assert metrics.mase(y, f, scale, indptr=np.array([0, 2, 3])) == pytest.approx(1.5)
    assert metrics.mase(y, f, scale) == pytest.approx(5 / 3)


def test_when_a_forecast_is_nan_then_the_metric_is_nan() -> None:
    y = np.array([1.0, 2.0])
    f = np.array([1.0, np.nan])
    assert math.isnan(metrics.wape(y, f))
    assert math.isnan(metrics.mase(y, f, 1.0))


def test_when_a_segment_is_empty_then_its_per_series_value_is_nan() -> None:
    y = np.array([10.0, 0.0, 5.0])
    f = np.array([12.0, 1.0, 5.0])
    # series 0: (2 + 1) / 10 = 0.3; series 1: empty; series 2: 0 / 5 = 0
    np.testing.assert_allclose(metrics.wape_per_series(y, f, [0, 2, 2, 3]), [0.3, np.nan, 0.0])
    np.testing.assert_allclose(metrics.rmse_per_series(y, f, [0, 2, 2, 3]), [math.sqrt(2.5), np.nan, 0.0])


def test_when_metric_name_is_unknown_then_config_error_lists_valid_names() -> None:
    assert metrics.get_metric(" WQL ") is metrics.METRICS["wql"]
    with pytest.raises(ConfigError, match="wql, wape, mape, smape, mase, rmse"):
        metrics.get_metric("accuracy")


def test_when_scoring_arrays_then_point_metrics_use_median_and_rmse_uses_mean() -> None:
    y = np.array([10.0, 0.0, 5.0])
    mean = np.array([13.0, 0.0, 5.0])
    qpred = np.array([[8.0, 10.0, 13.0], [0.0, 1.0, 2.0], [6.0, 5.0, 4.0]])
    # median 10, 1, 5 -> wape (0 + 1 + 0) / 15; mean errors 3, 0, 0 -> rmse sqrt(9/3)
    assert metrics.score_arrays("wape", y, mean, qpred, QUANTILES) == pytest.approx(1 / 15)
    assert metrics.score_arrays("rmse", y, mean, qpred, QUANTILES) == pytest.approx(math.sqrt(3))
    assert metrics.get_metric("wql")(y, mean, qpred, QUANTILES) == pytest.approx(6 / 45)
    # without quantiles the median metrics fall back to the mean: 3 / 15
    assert metrics.score_arrays("wape", y, mean) == pytest.approx(0.2)
    # mase per point scale 2: median errors 0, 1, 0 -> mean 1/3 / 2
    assert metrics.score_arrays("mase", y, mean, qpred, QUANTILES, scale=np.full(3, 2.0)) == pytest.approx(
        1 / 6
    )


def test_when_scorer_lacks_its_inputs_then_config_error() -> None:
    y = np.ones(2)
    with pytest.raises(ConfigError, match="quantile"):
        metrics.score_arrays("wql", y, y)
    with pytest.raises(ConfigError, match="scale"):
        metrics.score_arrays("mase", y, y)


def _day(d: int) -> pd.Timestamp:
    return pd.Timestamp("2024-01-01") + pd.Timedelta(days=d - 1)


def _frame(rows: list[tuple[str, int, float]], column: str = TARGET) -> pd.DataFrame:
    return pd.DataFrame(
        {ITEM_ID: [r[0] for r in rows], TIMESTAMP: [_day(r[1]) for r in rows], column: [r[2] for r in rows]}
    )


@pytest.fixture
def two_items() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    history = _frame([("A", d, v) for d, v in zip(range(1, 5), [2.0, 4, 6, 8], strict=True)])
    history = pd.concat(
        [history, _frame([("B", d, v) for d, v in zip(range(1, 5), [10.0, 10, 13, 13], strict=True)])]
    )
    actual = _frame([("A", 5, 10.0), ("A", 6, 6.0), ("B", 5, 12.0), ("B", 6, 0.0)])
    forecast = pd.DataFrame(
        {
            # rows shuffled and an item without actuals: the join must not care
            ITEM_ID: ["B", "A", "C", "B", "A"],
            TIMESTAMP: [_day(6), _day(5), _day(5), _day(5), _day(6)],
            MEAN: [2.0, 9.0, 1.0, 13.0, 8.0],
            "p10": [1.0, 7.0, 1.0, 11.0, 5.0],
            "p50": [1.0, 10.0, 1.0, 12.0, 7.0],
            "p90": [3.0, 12.0, 1.0, 14.0, 9.0],
        }
    )
    return history, actual, forecast


def test_when_evaluating_two_items_then_every_metric_matches_hand_values(
    two_items: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    history, actual, forecast = two_items
    # passing history with the actual rows appended must not change the MASE scale
    full = pd.concat([history, actual], ignore_index=True)
    result = metrics.evaluate(actual, forecast, full, QUANTILES, season_length=2)
    # y = A:10, 6  B:12, 0 (sum|y| = 28); p50 = 10, 7, 12, 1; mean = 9, 8, 13, 2
    expected = {
        # pinball q=.1 (p10 7,5,11,1; d 3,1,1,-1): .3+.1+.1+.9 = 1.4
        # q=.5 (d 0,-1,0,-1): 1.0; q=.9 (p90 12,9,14,3; d -2,-3,-2,-3): .2+.3+.2+.3 = 1.0
        # mean(2*1.4, 2*1, 2*1) / 28 = 6.8 / 84
        "wql": 6.8 / 84,
        "wape": 2 / 28,  # |median errors| 0, 1, 0, 1
        "mape": (0 + 1 / 6 + 0) / 3,  # the y = 0 point is skipped
        "smape": (0 + 2 / 13 + 0 + 2) / 4,  # 2*1/(6+7), 2*1/(0+1)
        # scale (m=2): A |6-2|, |8-4| -> 4; B |13-10|, |13-10| -> 3
        # MASE A 0.5/4, B 0.5/3 -> mean of the two
        "mase": (0.5 / 4 + 0.5 / 3) / 2,
        "rmse": math.sqrt((1 + 4 + 1 + 4) / 4),  # mean errors -1, 2, 1, 2
        "bias": 4 / 28,  # sum(mean - y) = -1 + 2 + 1 + 2
        "coverage": 0.75,  # 0 is outside B's [1, 3]
    }
    assert result.keys() == expected.keys()
    for name, value in expected.items():
        assert result[name] == pytest.approx(value), name


def test_when_actuals_or_history_cells_are_missing_then_they_do_not_count(
    two_items: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    history, actual, forecast = two_items
    # A missing actual with a forecast (A, day 6 blanked) and one without (A, day 7): both are
    # left out, so only A 10 and B 12, 0 are scored. History B misses day 2: the scale pairs
    # (10, 13) and (NaN, 13) keep only the first, 3, as before.
    gappy = actual.copy()
    gappy.loc[(gappy[ITEM_ID] == "A") & (gappy[TIMESTAMP] == _day(6)), TARGET] = np.nan
    gappy = pd.concat([gappy, _frame([("A", 7, np.nan)])], ignore_index=True)
    past = history.copy()
    past.loc[(past[ITEM_ID] == "B") & (past[TIMESTAMP] == _day(2)), TARGET] = np.nan
    result = metrics.evaluate(gappy, forecast, past, QUANTILES, season_length=2)
    # p10 7, 11, 1 against 10, 12, 0 (d 3, 1, -1): .3 + .1 + .9 = 1.3; p50 10, 12, 1 (d 0, 0, -1):
    # .5; p90 12, 14, 3 (d -2, -2, -3): .2 + .2 + .3 = .7; wql = mean(2.6, 1, 1.4) / 22.
    assert result["wql"] == pytest.approx(5.0 / 3 / 22)
    assert result["wape"] == pytest.approx(1 / 22)
    assert result["mase"] == pytest.approx((0 / 4 + 0.5 / 3) / 2)  # A 0 / 4; B mean(0, 1) / 3
    assert result["coverage"] == pytest.approx(2 / 3)


def test_when_history_or_median_are_missing_then_evaluate_falls_back(
    two_items: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    _, actual, forecast = two_items
    result = metrics.evaluate(actual, forecast.drop(columns="p50"), None, (0.1, 0.9))
    assert math.isnan(result["mase"])
    # point metrics use mean 9, 8, 13, 2: |errors| 1, 2, 1, 2 = 6 / 28
    assert result["wape"] == pytest.approx(6 / 28)
    assert result["coverage"] == 0.75


def test_when_forecast_lacks_a_quantile_column_then_data_error(
    two_items: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    _, actual, forecast = two_items
    with pytest.raises(DataError, match="p90"):
        metrics.evaluate(actual, forecast.drop(columns="p90"), None, QUANTILES)


def test_when_all_metrics_then_ranking_values_match_score_arrays() -> None:
    y = np.array([10.0, 0.0, 5.0])
    mean = np.array([13.0, 0.0, 5.0])
    qpred = np.array([[8.0, 10.0, 13.0], [0.0, 1.0, 2.0], [6.0, 5.0, 4.0]])
    scale = np.full(3, 2.0)
    result = metrics.all_metrics(y, mean, qpred, QUANTILES, scale)
    for name in metrics.METRICS:
        assert result[name] == pytest.approx(metrics.score_arrays(name, y, mean, qpred, QUANTILES, scale)), (
            name
        )
    # bias on the mean: (3 + 0 + 0) / 15; coverage p10..p90: 10 in [8, 13], 0 in [0, 2], 5 not in [6, 4]
    assert result["bias"] == pytest.approx(0.2)
    assert result["coverage"] == pytest.approx(2 / 3)
    bare = metrics.all_metrics(y, mean)
    assert math.isnan(bare["wql"]) and math.isnan(bare["mase"]) and math.isnan(bare["coverage"])


def test_when_history_frame_is_unsorted_then_scale_by_item_sorts_it() -> None:
    history = _frame([("B", 2, 13.0), ("A", 2, 4.0), ("B", 1, 10.0), ("A", 1, 1.0), ("A", 3, 6.0)])
    # A: 1, 4, 6 -> |3|, |2| -> 2.5; B: 10, 13 -> 3 (season 1)
    scale = metrics.seasonal_scale_by_item(history, season_length=1)
    assert scale.to_dict() == {"A": 2.5, "B": 3.0}


def test_when_p50_is_not_a_scored_level_then_it_is_still_the_median(
    two_items: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    _, actual, forecast = two_items
    result = metrics.evaluate(actual, forecast, None, (0.1, 0.9))
    # median p50 errors 0, 1, 0, 1 -> wape 2/28; wql over p10 and p90 only: (2*1.4 + 2*1.0) / 2 / 28
    assert result["wape"] == pytest.approx(2 / 28)
    assert result["wql"] == pytest.approx(4.8 / 56)


def test_when_wql_of_a_panel_then_it_is_the_one_segment_per_series_value_to_the_last_bit() -> None:
    rng = np.random.default_rng(3)
    for size in (0, 1, 7, 300):
        for levels in ((0.5,), (0.1, 0.9), (0.1, 0.5, 0.9)):
            y = rng.gamma(1.0, 50.0, size) * (rng.random(size) > 0.3)
            q = np.sort(y[:, None] + rng.normal(0.0, 20.0, (size, len(levels))), axis=1)
            whole = metrics.wql(y, q, levels)
            one = metrics.wql_per_series(y, q, levels, np.array([0, size]))[0]
            assert (np.isnan(whole) and np.isnan(one)) or whole == one
    assert np.isnan(metrics.wql(np.zeros(3), np.ones((3, 1)), (0.5,)))  # nothing sold: no scale


def test_when_frames_use_the_users_columns_then_evaluate_scores_them_as_the_canonical_ones(
    two_items: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    # What AutoForecaster(item_col="sku", ...).predict() returns, beside the user's actuals:
    # before, a DataError that the actual frame lacks ['item_id', 'timestamp', 'target'].
    history, actual, forecast = two_items
    names = {ITEM_ID: "sku", TIMESTAMP: "date", TARGET: "units"}
    user = [f.rename(columns=names) for f in (actual, forecast, history)]
    expected = metrics.evaluate(actual, forecast, history, QUANTILES, season_length=2)
    result = metrics.evaluate(
        *user, QUANTILES, season_length=2, item_col="sku", timestamp_col="date", target_col="units"
    )
    assert result == expected


def test_when_the_item_key_has_several_columns_then_evaluate_joins_them(
    two_items: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    history, actual, forecast = two_items
    expected = metrics.evaluate(actual, forecast, history, QUANTILES, season_length=2)

    def parts(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(store=1, dept=frame[ITEM_ID]).drop(columns=ITEM_ID)

    result = metrics.evaluate(
        parts(actual), parts(forecast), parts(history), QUANTILES, season_length=2, item_col=["store", "dept"]
    )
    assert result == expected


def test_when_a_users_column_is_missing_then_the_error_names_it(
    two_items: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    _, actual, forecast = two_items
    with pytest.raises(DataError, match=r"the actual frame lacks the column\(s\) \['units'\]"):
        metrics.evaluate(actual.rename(columns={TARGET: "sales"}), forecast, target_col="units")
