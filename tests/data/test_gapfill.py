from __future__ import annotations

import numpy as np
import pytest

from tidecast.data.gapfill import fill_missing, interpolate, seasonal

NAN = np.nan


def test_when_a_gap_has_neighbours_then_interpolate_draws_the_line_between_them() -> None:
    values = np.array([2.0, NAN, NAN, 8.0, 1.0, NAN, 5.0])
    out = interpolate(values, np.array([0, 4, 7]))
    np.testing.assert_allclose(out, [2, 4, 6, 8, 1, 3, 5])
    assert np.isnan(values[1])  # the input is left as it was


def test_when_a_gap_is_at_a_series_edge_then_interpolate_takes_the_nearest_value_of_that_series() -> None:
    # Series 0 ends missing, series 1 starts missing: neither borrows the other's values.
    values = np.array([1.0, 3.0, NAN, NAN, 7.0, NAN])
    np.testing.assert_allclose(interpolate(values, np.array([0, 3, 6])), [1, 3, 3, 7, 7, 7])


def test_when_a_series_has_no_observation_then_it_is_filled_with_zero() -> None:
    values = np.array([NAN, NAN, 4.0])
    np.testing.assert_allclose(interpolate(values, np.array([0, 2, 3])), [0, 0, 4])
    np.testing.assert_allclose(seasonal(values, np.array([0, 2, 3]), 2), [0, 0, 4])


def test_when_seasonal_then_a_gap_takes_the_nearest_earlier_observed_same_phase() -> None:
    # Season 3: position 6 looks at 3 (missing), then 0; position 3 at 0.
    values = np.array([1.0, 2.0, 3.0, NAN, 5.0, 6.0, NAN, 8.0, 9.0])
    np.testing.assert_allclose(seasonal(values, np.array([0, 9]), 3), [1, 2, 3, 1, 5, 6, 1, 8, 9])


def test_when_no_earlier_season_is_observed_then_seasonal_takes_a_later_one_then_the_line() -> None:
    # Position 1 has no earlier season but position 4 is observed; series 1 (positions 6..8) is
    # shorter than two seasons, so its gap lies on the line between 10 and 30.
    values = np.array([1.0, NAN, 3.0, 4.0, 5.0, 6.0, 10.0, NAN, 30.0])
    out = seasonal(values, np.array([0, 6, 9]), 3)
    np.testing.assert_allclose(out, [1, 5, 3, 4, 5, 6, 10, 20, 30])


def test_when_season_is_one_then_seasonal_is_interpolation() -> None:
    values = np.array([1.0, NAN, 3.0])
    np.testing.assert_allclose(fill_missing(values, np.array([0, 3]), "seasonal", 1), [1, 2, 3])


def test_when_the_method_is_unknown_then_value_error() -> None:
    with pytest.raises(ValueError, match="interpolate"):
        fill_missing(np.array([1.0]), np.array([0, 1]), "spline")


def test_when_auto_then_short_gaps_get_the_line_and_gaps_of_a_season_the_seasonal_copy() -> None:
    # Season 3. Position 4 is a one-cell gap: the line 4 -> 6. Positions 6..8 are a gap of one
    # season: 6 copies 3 (value 4), 7 copies 1 (4 is missing), 8 copies 5. Series 1's two-cell
    # gap is shorter than a season: the line from 10 to 40.
    values = np.array([1.0, 2.0, 3.0, 4.0, NAN, 6.0, NAN, NAN, NAN, 10.0, 10.0, NAN, NAN, 40.0])
    out = fill_missing(values, np.array([0, 10, 14]), "auto", 3)
    np.testing.assert_allclose(out, [1, 2, 3, 4, 5, 6, 4, 2, 6, 10, 10, 20, 30, 40])


def test_auto_is_the_seasonal_copy_on_long_runs_and_the_line_on_short_ones_on_random_panels() -> None:
    # `auto` searches a season's value for the long runs' cells only; what it returns must be
    # `seasonal`'s fill there and `interpolate`'s elsewhere, cell for cell.
    rng = np.random.default_rng(7)
    for _ in range(200):
        lengths = rng.integers(1, 50, rng.integers(1, 5))
        indptr = np.r_[0, np.cumsum(lengths)]
        values = rng.normal(size=indptr[-1])
        values[rng.random(len(values)) < rng.random()] = NAN
        if len(values) > 20:
            start = rng.integers(0, len(values) - 12)
            values[start : start + rng.integers(3, 12)] = NAN
        for season in (2, 3, 7):
            gaps = np.flatnonzero(np.isnan(values))
            series = np.searchsorted(indptr, gaps, side="right") - 1
            run = np.cumsum(np.r_[True, (np.diff(gaps) != 1) | (series[1:] != series[:-1])]) - 1
            short = np.bincount(run, minlength=1)[run] < season if len(gaps) else np.zeros(0, bool)
            expected = seasonal(values, indptr, season)
            expected[gaps[short]] = fill_missing(values, indptr, "interpolate")[gaps[short]]
            np.testing.assert_array_equal(fill_missing(values, indptr, "auto", season), expected)
