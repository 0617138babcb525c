"""Backtest windows: offsets by hand, and no look-ahead checked against a per-item reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tidecast.automl.windows import (
    BacktestWindow,
    backtest_cutoffs,
    backtest_splits,
    backtest_windows,
    split_window,
    window_history,
    window_indices,
)
from tidecast.data.arrays import SeriesArrays
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.errors import ConfigError, DataError


def _day(d: int) -> pd.Timestamp:
    return pd.Timestamp("2024-01-01") + pd.Timedelta(days=d - 1)


def _panel(spans: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """Item -> (first day, last day); target = day number, covariate = 10 x day."""
    frames = []
    for item, (first, last) in spans.items():
        days = np.arange(first, last + 1)
        frames.append(
            pd.DataFrame(
                {
                    ITEM_ID: item,
                    TIMESTAMP: [_day(d) for d in days],
                    TARGET: days.astype(float),
                    "promo": days * 10,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_when_windows_are_defined_then_offsets_count_back_from_the_end() -> None:
    # offset = (n - 1 - k) * step + horizon
    assert [w.offset for w in backtest_windows(horizon=3, n_windows=3)] == [9, 6, 3]
    assert [w.offset for w in backtest_windows(horizon=3, n_windows=3, step=1)] == [5, 4, 3]
    assert backtest_windows(2, 1) == (BacktestWindow(index=0, offset=2, horizon=2),)


@pytest.mark.parametrize(("horizon", "n_windows", "step"), [(0, 1, None), (2, 0, None), (2, 2, 0)])
def test_when_window_settings_are_not_positive_then_config_error(
    horizon: int, n_windows: int, step: int | None
) -> None:
    with pytest.raises(ConfigError):
        backtest_windows(horizon, n_windows, step)


def test_when_series_end_on_different_dates_then_each_is_cut_from_its_own_end() -> None:
    # A: days 1..10, B: days 3..8 (ends two days earlier); horizon 2, two windows, min 3 rows
    panel = _panel({"A": (1, 10), "B": (3, 8)})
    (w0, first), (w1, last) = backtest_splits(panel, horizon=2, n_windows=2, min_history=3)
    assert (w0.offset, w1.offset) == (4, 2)
    # window 0: A keeps 10 - 4 = 6 rows (days 1..6), actual days 7, 8; B keeps 6 - 4 = 2 < 3: out
    assert list(first.history[TARGET]) == [1, 2, 3, 4, 5, 6]
    assert list(first.actual[TARGET]) == [7, 8]
    assert list(first.excluded) == ["B"]
    # window 1: A days 1..8 / 9, 10; B days 3..6 / 7, 8
    assert list(last.history[ITEM_ID]) == ["A"] * 8 + ["B"] * 4
    assert list(last.history[TARGET]) == [1, 2, 3, 4, 5, 6, 7, 8, 3, 4, 5, 6]
    assert list(last.actual[TARGET]) == [9, 10, 7, 8]
    assert list(last.excluded) == []
    assert last.cutoffs.to_dict() == {"A": _day(8), "B": _day(6)}
    # covariates travel with both frames (the actual rows carry the known future values)
    assert list(last.actual["promo"]) == [90, 100, 70, 80]


def test_when_splitting_random_panels_then_no_window_sees_past_its_cutoff() -> None:
    rng = np.random.default_rng(7)
    spans = {
        f"s{i:02d}": (int(a), int(a + n - 1))
        for i, (a, n) in enumerate(zip(rng.integers(1, 20, 30), rng.integers(1, 40, 30), strict=True))
    }
    panel = _panel(spans)
    horizon, min_history = 4, 5
    for window, split in backtest_splits(panel, horizon, n_windows=3, step=3, min_history=min_history):
        included = set(split.cutoffs.index)
        assert included.isdisjoint(split.excluded)
        assert included | set(split.excluded) == set(spans)
        for item, group in panel.groupby(ITEM_ID):
            times = list(group[TIMESTAMP])
            n_history = len(times) - window.offset
            if n_history < min_history:
                assert item in split.excluded
                continue
            cutoff = split.cutoffs[item]
            hist = split.history[split.history[ITEM_ID] == item]
            act = split.actual[split.actual[ITEM_ID] == item]
            assert cutoff == times[n_history - 1]
            assert (hist[TIMESTAMP] <= cutoff).all()
            assert list(hist[TIMESTAMP]) == times[:n_history]
            # exactly the `horizon` rows right after the cutoff
            assert list(act[TIMESTAMP]) == times[n_history : n_history + horizon]


def test_when_given_series_arrays_then_frames_match_the_panel_split() -> None:
    panel = _panel({"A": (1, 10), "B": (3, 8)})
    panel["size"] = panel[ITEM_ID].map({"A": "big", "B": "small"})  # static columns come last
    arrays = SeriesArrays.from_panel(panel, "D", covariates=("promo",), static_columns=("size",))
    window = backtest_windows(horizon=2, n_windows=2)[0]
    from_panel = split_window(panel, window, min_history=3)
    from_arrays = split_window(arrays, window, min_history=3)
    pd.testing.assert_frame_equal(from_arrays.history, from_panel.history, check_dtype=False)
    pd.testing.assert_frame_equal(from_arrays.actual, from_panel.actual, check_dtype=False)
    assert list(from_arrays.excluded) == ["B"]


def test_when_a_window_is_cut_from_the_arrays_then_its_history_is_the_frame_splits() -> None:
    panel = _panel({"A": (1, 10), "B": (3, 8), "C": (2, 9)})
    panel["size"] = panel[ITEM_ID].map({"A": "big", "B": "small", "C": "big"})
    arrays = SeriesArrays.from_panel(panel, "D", covariates=("promo",), static_columns=("size",))
    window = backtest_windows(horizon=2, n_windows=2)[0]
    history, actual_rows = window_history(arrays, window, series=np.array([True, True, False]), min_history=3)
    split = split_window(panel[panel[ITEM_ID] != "C"], window, min_history=3)  # B too short, C left out
    expected = SeriesArrays.from_panel(split.history, "D", covariates=("promo",), static_columns=("size",))
    assert history.item_ids.tolist() == ["A"]
    for name in ("values", "indptr", "timestamps"):
        np.testing.assert_array_equal(getattr(history, name), getattr(expected, name))
    np.testing.assert_array_equal(history.covariates["promo"], expected.covariates["promo"])
    assert history.static is not None and expected.static is not None
    pd.testing.assert_frame_equal(history.static, expected.static)
    pd.testing.assert_frame_equal(panel.iloc[actual_rows].reset_index(drop=True), split.actual)


def test_when_indices_are_computed_then_they_are_hand_positions() -> None:
    # series of lengths 5, 2, 4; offset 3, horizon 2, min history 1
    indptr = np.array([0, 5, 7, 11])
    history, actual, included = window_indices(indptr, BacktestWindow(0, 3, 2))
    # series 0: rows 0, 1 / 2, 3; series 1: 2 - 3 < 1 out; series 2: row 7 / 8, 9
    np.testing.assert_array_equal(history, [0, 1, 7])
    np.testing.assert_array_equal(actual, [2, 3, 8, 9])
    np.testing.assert_array_equal(included, [True, False, True])


def test_when_cutoffs_are_listed_then_too_short_series_get_nat() -> None:
    panel = _panel({"A": (1, 10), "B": (3, 8)})
    arrays = SeriesArrays.from_panel(panel, "D")
    cutoffs = backtest_cutoffs(arrays.timestamps, arrays.indptr, backtest_windows(2, 3))
    # offsets 6, 4, 2: A days 4, 6, 8; B (6 rows, days 3..8): no row 6 back, day 4, day 6
    expected = pd.to_datetime([_day(4), _day(6), _day(8), pd.NaT, _day(4), _day(6)]).to_numpy().reshape(2, 3)
    np.testing.assert_array_equal(cutoffs, expected)


def test_when_panel_is_unsorted_then_data_error() -> None:
    panel = _panel({"A": (1, 5), "B": (1, 5)})
    window = backtest_windows(1, 1)[0]
    with pytest.raises(DataError, match="sorted"):
        split_window(panel.iloc[::-1], window)
    with pytest.raises(DataError, match="sorted"):
        split_window(pd.concat([panel.iloc[:2], panel.iloc[5:], panel.iloc[2:5]]), window)


def test_when_panel_is_empty_then_split_is_empty() -> None:
    panel = pd.DataFrame({ITEM_ID: [], TIMESTAMP: pd.to_datetime([]), TARGET: []})
    split = split_window(panel, backtest_windows(1, 1)[0])
    assert len(split.history) == len(split.actual) == len(split.excluded) == 0


def test_when_offset_is_shorter_than_horizon_then_config_error() -> None:
    # an offset counted to the window's end (0 for the latest window) would read past the data
    with pytest.raises(ConfigError, match="offset >= horizon"):
        BacktestWindow(index=0, offset=0, horizon=2)
