"""Backtest plans that fit the histories: exact windows, steps and minimum histories."""

import numpy as np
import pytest

from tidecast.automl.planning import min_train_lengths, plan_backtest
from tidecast.errors import ConfigError


def test_when_the_history_is_long_then_the_ideal_plan_is_kept_and_nothing_is_said():
    plan = plan_backtest([200] * 4, horizon=13, n_windows=3, season_length=52)
    assert (plan.n_windows, plan.step, plan.min_train, plan.needed) == (3, 13, 104, 143)
    assert plan.reasons == ()
    assert [w.offset for w in plan.windows] == [39, 26, 13]


def test_when_two_years_of_weeks_face_a_39_week_horizon_then_one_window_after_59_weeks():
    # The panel: 104 weeks, horizon 39, season 52 needed 143 steps and got no backtest.
    plan = plan_backtest([104] * 5, horizon=39, n_windows=3, season_length=52)
    assert (plan.n_windows, plan.step, plan.min_train, plan.needed) == (1, 39, 59, 98)
    assert plan.n_excluded == 0
    assert [w.offset for w in plan.windows] == [39]
    assert any("221 steps, which 0 of 5 series hold" in r for r in plan.reasons)


def test_when_windows_must_go_then_fewer_windows_come_before_a_shorter_step():
    # 150 steps hold 2 windows of 13 one horizon apart after 104 (130), not 3 (143).
    plan = plan_backtest([140] * 4, horizon=13, n_windows=3, season_length=52)
    assert (plan.n_windows, plan.step, plan.min_train) == (2, 13, 104)


def test_when_two_windows_do_not_fit_a_horizon_apart_then_they_overlap_before_the_history_shrinks():
    # 104 + 13 + 6 = 123: two windows 6 steps apart (at least ceil(13 / 4) = 4).
    plan = plan_backtest([123] * 4, horizon=13, n_windows=3, season_length=52)
    assert (plan.n_windows, plan.step, plan.min_train, plan.needed) == (2, 6, 104, 123)
    assert any("below the 13-step horizon" in r for r in plan.reasons)


def test_when_the_step_would_fall_under_a_quarter_horizon_then_one_window_is_taken():
    plan = plan_backtest([120] * 4, horizon=13, n_windows=3, season_length=52)
    assert (plan.n_windows, plan.step, plan.min_train, plan.needed) == (1, 13, 104, 117)


def test_when_the_user_sets_the_step_then_it_is_never_shortened():
    plan = plan_backtest([123] * 4, horizon=13, n_windows=3, season_length=52, step=13)
    assert (plan.n_windows, plan.step, plan.min_train) == (1, 13, 104)


def test_when_most_series_are_short_then_the_plan_follows_the_majority_and_excludes_the_rest():
    lengths = [91] * 6 + [30] * 3 + [200]
    plan = plan_backtest(lengths, horizon=13, n_windows=3, season_length=52)
    # 59 + 13 + 13 = 85 <= 91: two full windows after the shortest history.
    assert (plan.n_windows, plan.step, plan.min_train, plan.needed) == (2, 13, 59, 85)
    np.testing.assert_array_equal(plan.eligible, [0, 1, 2, 3, 4, 5, 9])
    assert plan.n_excluded == 3


def test_when_no_plan_covers_half_the_panel_then_the_one_covering_most_is_taken():
    lengths = [16, 30, 5, 5, 5]
    plan = plan_backtest(lengths, horizon=7, n_windows=3, season_length=1)
    # After 10 steps: 3 windows need 31 (no series), 2 need 24 and 1 needs 17 (series 1 only);
    # after 8 steps, 1 window needs 15: series 0 and 1. None reaches 3 of 5 series.
    assert (plan.n_windows, plan.min_train, plan.needed) == (1, 8, 15)
    np.testing.assert_array_equal(plan.eligible, [0, 1])


def test_when_two_years_of_weeks_face_a_52_week_horizon_then_one_window_scores_its_first_45_weeks():
    # 59 + 52 = 111 > 104: no whole window fits, so one scores the 45 weeks after 59 (it was
    # "no backtest", SeasonalNaive for every series).
    plan = plan_backtest([104] * 5, horizon=52, n_windows=3, season_length=52)
    assert (plan.n_windows, plan.min_train, plan.scored, plan.needed) == (1, 59, 45, 104)
    assert [(w.offset, w.horizon) for w in plan.windows] == [(45, 45)]
    assert plan.n_excluded == 0 and plan.summary()["scored_steps"] == 45
    assert any("one window scores the first 45 steps of the horizon" in r for r in plan.reasons)


def test_when_no_whole_window_fits_then_the_short_window_follows_the_longest_series():
    # Half the panel reaches 14 steps: a window of 6 steps after 8 (a quarter of 7 is 2).
    plan = plan_backtest([6, 14], horizon=7, n_windows=3, season_length=1)
    assert (plan.n_windows, plan.min_train, plan.scored, plan.needed) == (1, 8, 6, 14)
    np.testing.assert_array_equal(plan.eligible, [1])


def test_when_not_a_quarter_horizon_fits_then_there_is_no_backtest_and_the_reason_says_so():
    plan = plan_backtest([6, 9], horizon=7, n_windows=3, season_length=1)
    assert plan.n_windows == 0 and plan.windows == ()
    assert plan.reasons == (
        "no series holds 10 steps (a window scoring 2 of the 7 steps after 8 steps of history); no backtest",
    )


def test_when_zero_windows_are_asked_then_none_are_planned():
    plan = plan_backtest([500], horizon=7, n_windows=0, season_length=7)
    assert plan.n_windows == 0 and "switched off" in plan.reasons[0]


def test_minimum_histories_by_season():
    assert min_train_lengths(52) == (104, 59)
    assert min_train_lengths(24) == (48, 27)
    assert min_train_lengths(12) == (24, 14)
    assert min_train_lengths(7) == (14, 9)
    assert min_train_lengths(4) == (10, 8)
    assert min_train_lengths(1) == (10, 8)


def test_when_the_step_is_not_positive_then_it_is_a_config_error():
    with pytest.raises(ConfigError, match="step"):
        plan_backtest([100], horizon=7, n_windows=2, step=0)
