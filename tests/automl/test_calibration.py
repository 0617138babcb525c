"""Quantile recalibration: exact factors on hand-built backtests, and what it never changes."""

import numpy as np
import pytest

from tidecast.automl.calibration import GRID, MIN_POINTS, fit_calibration

QUANTILES = (0.1, 0.5, 0.9)


def bands(n: int, half_width: float) -> tuple[np.ndarray, np.ndarray]:
    mean = np.zeros(n)
    q = np.column_stack([mean - half_width, mean, mean + half_width])
    return mean, q


def test_when_bands_are_too_narrow_then_they_widen_to_the_true_quantiles():
    # y uniform on [-1, 1] (an exact grid): its 10% and 90% quantiles are -0.8 and 0.8.
    y = np.linspace(-1, 1, 2001)
    mean, q = bands(len(y), 0.4)
    calibration = fit_calibration(y, mean, q, QUANTILES)
    assert calibration.factors == pytest.approx((2.0, 1.0, 2.0))
    widened = calibration.apply(mean, q)
    np.testing.assert_allclose(widened[0], [-0.8, 0.0, 0.8])


def test_when_bands_are_too_wide_then_they_are_kept_never_narrowed():
    y = np.linspace(-1, 1, 2001) + 5.0
    mean, q = bands(len(y), 1.6)
    mean, q = mean + 5.0, q + 5.0
    calibration = fit_calibration(y, mean, q, QUANTILES)
    assert calibration.identity


def test_when_widening_then_the_median_never_moves():
    y = np.linspace(-1, 1, 2001) + 5.0
    mean, q = bands(len(y), 0.2)
    mean, q = mean + 5.0, q + 5.0
    calibration = fit_calibration(y, mean, q, QUANTILES)
    assert calibration.factors == pytest.approx((3.0, 1.0, 3.0))  # 0.8 is beyond 3 x 0.2: the cap
    np.testing.assert_array_equal(calibration.apply(mean, q)[:, 1], q[:, 1])


def test_when_there_are_too_few_points_then_nothing_changes():
    y = np.linspace(-1, 1, MIN_POINTS - 1)
    mean, q = bands(len(y), 0.1)
    calibration = fit_calibration(y, mean, q, QUANTILES)
    assert calibration.identity


def test_when_the_band_has_zero_width_then_the_factor_stays_one():
    y = np.linspace(-1, 1, 500)
    mean, q = bands(len(y), 0.0)
    assert fit_calibration(y, mean, q, QUANTILES).identity


def test_when_actuals_are_missing_then_they_are_ignored():
    y = np.linspace(-1, 1, 2001)
    mean, q = bands(len(y), 0.4)
    y_gappy = y.copy()
    y_gappy[::7] = np.nan
    calibration = fit_calibration(y_gappy, mean, q, QUANTILES)
    assert calibration.factors[0] == pytest.approx(2.0, abs=0.05)
    assert min(GRID) <= min(calibration.factors) and max(calibration.factors) <= max(GRID)
