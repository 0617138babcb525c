"""The naive fallback's interval: honest for a series too short to say its own spread."""

import numpy as np
import pytest

from tidecast.models.intervals import PRIOR_RELATIVE_SPREAD, naive_fallback

QUANTILES = (0.1, 0.5, 0.9)


def test_when_a_series_has_one_point_then_its_interval_is_the_prior_spread():
    center, bands = naive_fallback(np.array([10.0]), 2, QUANTILES)
    np.testing.assert_array_equal(center, [10.0, 10.0])
    sigma = PRIOR_RELATIVE_SPREAD * 10.0  # no changes observed: the prior alone
    z = 1.2815515655446004
    np.testing.assert_allclose(bands[0], [10 - z * sigma, 10, 10 + z * sigma])
    np.testing.assert_allclose(bands[1], [10 - z * sigma * np.sqrt(2), 10, 10 + z * sigma * np.sqrt(2)])


def test_when_a_series_is_long_then_its_own_spread_dominates():
    y = np.tile([0.0, 10.0], 500)  # every change is +-10, mean level 5
    _, bands = naive_fallback(y, 1, QUANTILES)
    sigma = np.sqrt((999 * 100 + 3 * 2.5**2) / 1002)
    assert bands[0, 2] - bands[0, 1] == pytest.approx(1.2815515655446004 * sigma)


def test_when_a_series_is_empty_then_it_forecasts_zero_with_a_unit_spread():
    center, bands = naive_fallback(np.array([np.nan]), 1, QUANTILES)
    assert center[0] == 0.0 and bands[0, 2] == pytest.approx(1.2815515655446004 * PRIOR_RELATIVE_SPREAD)


def test_when_a_window_is_given_then_the_centre_is_the_mean_of_the_last_finite_values():
    y = np.array([1.0, 10.0, np.nan, 20.0, 60.0])
    center, _ = naive_fallback(y, 2, QUANTILES, window=3)
    np.testing.assert_array_equal(center, [30.0, 30.0])  # (10 + 20 + 60) / 3, the NaN skipped
    assert naive_fallback(y, 1, QUANTILES, window=7)[0][0] == 22.75  # shorter than the window: all
    assert naive_fallback(y, 1, QUANTILES)[0][0] == 60.0  # the default is the last value


def test_normal_quantiles_are_the_gaussian_levels_whatever_levels_are_asked_in_turn():
    # The standard normal's levels are computed once per set of levels: asking other levels
    # in between, or the same ones again, must give each set its own.
    from scipy.stats import norm

    from tidecast.models.intervals import normal_quantiles

    center, sigma = np.array([10.0, 20.0]), np.array([1.0, 2.0])
    for levels in [(0.1, 0.5, 0.9), (0.05, 0.95), (0.1, 0.5, 0.9), (0.9, 0.1)]:
        expected = center[:, None] + sigma[:, None] * norm.ppf(np.array(levels))[None, :]
        np.testing.assert_array_equal(normal_quantiles(center, sigma, levels), expected)
