"""The numpy STL kernel against statsmodels' STL, which it replaces inside MSTL and MSTL-ETS."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from statsmodels.tsa.seasonal import STL

from tidecast.models.mstl import _odd, mstl_decompose
from tidecast.models.stl import loess, stl


def _series(n: int, period: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 50 + 10 * np.sin(2 * np.pi * t / period) + np.cumsum(rng.normal(size=n)) + 3 * rng.normal(size=n)


CASES = [
    (n, period, seasonal, degree, jumps)
    for n, period, seasonal, degree, jumps in itertools.product(
        (9, 30, 101, 400, 1650),
        (4, 7, 12, 24, 52, 365),
        (7, 15, 35),
        (0, 1),
        ((1, 1, 1), (2, 61, 37), (20, 20, 20), (3, 1, 5)),
    )
    # at 1,650 values period 4 gives cycle-subseries past DENSE_MAX (smoothed through windows)
    if n >= 2 * period + 1 and (n < 1650 or period in (4, 7, 365))
]


@pytest.mark.parametrize(("n", "period", "seasonal", "degree", "jumps"), CASES)
def test_when_stl_runs_then_its_components_are_statsmodels_to_rounding(
    n: int, period: int, seasonal: int, degree: int, jumps: tuple[int, int, int]
) -> None:
    y = _series(n, period, seed=n + period)
    trend = _odd(1.5 * period / (1 - 1.5 / seasonal))
    low_pass = _odd(period + 1)
    settings = dict(seasonal_jump=jumps[0], trend_jump=jumps[1], low_pass_jump=jumps[2])
    expected = STL(
        y, period=period, seasonal=seasonal, trend=trend, low_pass=low_pass, seasonal_deg=degree, **settings
    ).fit()
    season, level = stl(y, period, seasonal, trend, low_pass, seasonal_deg=degree, **settings)
    np.testing.assert_allclose(season, expected.seasonal, rtol=0, atol=1e-8)
    np.testing.assert_allclose(level, expected.trend, rtol=0, atol=1e-8)


def test_when_a_smoother_jumps_then_it_is_linear_between_the_points_it_evaluates() -> None:
    y = np.array([0.0, 10.0, 0.0, 10.0, 0.0, 10.0, 0.0, 10.0, 0.0, 10.0, 3.0])
    smooth = loess(y, 5, 0, 5)  # evaluated at 0, 5 and 10 (the last point), straight lines between
    every = loess(y, 5, 0, 1)
    np.testing.assert_allclose(smooth[[0, 5, 10]], every[[0, 5, 10]])
    np.testing.assert_allclose(smooth[:6], np.linspace(smooth[0], smooth[5], 6))
    np.testing.assert_allclose(smooth[5:], np.linspace(smooth[5], smooth[10], 6))
    # A local constant over 5 points: tricube weights 1 at the centre, (1 - (1/2)^3)^3 beside it, 0 at 2.
    side = (1 - 0.5**3) ** 3
    assert every[5] == pytest.approx((10 * 1 + 0 * side * 2) / (1 + 2 * side))


def test_when_mstl_decomposes_then_it_matches_the_statsmodels_passes() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(900)
    y = 100 + 8 * np.sin(2 * np.pi * t / 7) + 20 * np.sin(2 * np.pi * t / 365) + rng.normal(size=900)
    seasonal, adjusted = mstl_decompose(y, [7, 365])
    # The same two passes over statsmodels' STL, written out.
    expected = np.zeros((2, 900))
    rest = y.copy()
    for _ in range(2):
        for i, period in enumerate((7, 365)):
            rest += expected[i]
            s_window = 7 + 4 * (i + 1)
            t_window = _odd(1.5 * period / (1 - 1.5 / s_window))
            l_window = _odd(period + 1)
            jumps = {
                name: max(1, int(np.ceil(w / 10)))
                for name, w in (
                    ("seasonal_jump", s_window),
                    ("trend_jump", t_window),
                    ("low_pass_jump", l_window),
                )
            }
            fit = STL(
                rest,
                period=period,
                seasonal=s_window,
                trend=t_window,
                low_pass=l_window,
                seasonal_deg=0,
                **jumps,
            ).fit()
            expected[i] = fit.seasonal
            rest -= expected[i]
    np.testing.assert_allclose(seasonal, expected, rtol=0, atol=1e-8)
    np.testing.assert_allclose(adjusted, rest, rtol=0, atol=1e-8)


@pytest.mark.parametrize("period", [2, 3, 5])
@pytest.mark.parametrize("kind", ["noise", "constant", "zeros", "spike"])
def test_when_the_series_is_short_or_degenerate_then_stl_still_matches_statsmodels(
    period: int, kind: str
) -> None:
    # From the shortest series STL takes (two cycles and one) upwards: subseries of two or
    # three values, windows wider than the data, estimates whose weights are all 0.
    for n in range(2 * period + 1, 2 * period + 6):
        y = {
            "noise": np.random.default_rng(n).normal(size=n),
            "constant": np.full(n, 7.0),
            "zeros": np.zeros(n),
            "spike": np.r_[np.zeros(n - 1), 1e6],
        }[kind]
        trend, low_pass = _odd(1.5 * period / (1 - 1.5 / 7)), _odd(period + 1)
        expected = STL(y, period=period, seasonal=7, trend=trend, low_pass=low_pass, trend_jump=3).fit()
        season, level = stl(y, period, 7, trend, low_pass, trend_jump=3)
        scale = max(1.0, float(np.abs(y).max()))
        np.testing.assert_allclose(season / scale, expected.seasonal / scale, rtol=0, atol=1e-12)
        np.testing.assert_allclose(level / scale, expected.trend / scale, rtol=0, atol=1e-12)
