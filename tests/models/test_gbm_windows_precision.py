"""Window sums restart at every series: a small series after a large panel keeps its own
precision (`gbm_windows`)."""

import itertools

import numpy as np

from tidecast.models.gbm_windows import Windows, segment_prefix


def test_segment_prefix_is_each_segments_own_cumsum_to_the_last_bit():
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 40, size=60)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    columns = rng.lognormal(0, 3, size=(indptr[-1], 2))
    out = segment_prefix(columns, indptr)
    assert out.shape == (indptr[-1] + 1, 2) and (out[0] == 0).all()
    for a, b in itertools.pairwise(indptr):
        assert np.array_equal(out[a + 1 : b + 1], np.cumsum(columns[a:b], axis=0))


def test_a_small_series_after_a_million_rows_of_a_large_one_keeps_its_mean_spread_and_line():
    big, small = np.full(1_000_000, 1e5), 3.0 + 0.001 * np.arange(56.0)
    small[[5, 20]] = np.nan  # missing cells count as missing, not zero
    values = np.concatenate([big, small])
    lo, hi = np.array([len(big)]), np.array([len(values)])
    observed = small[np.isfinite(small)]

    windows = Windows(values, np.array([0, len(big), len(values)]))
    mean, spread, absolute = windows.stats(lo, hi)
    np.testing.assert_allclose(mean, [observed.mean()], rtol=1e-12)
    np.testing.assert_allclose(spread, [observed.std()], rtol=1e-9)
    np.testing.assert_allclose(absolute, [observed.mean()], rtol=1e-12)
    line, residual = windows.line(lo, hi, hi.astype(np.float64))
    np.testing.assert_allclose(line, [3.0 + 0.001 * 56], rtol=1e-12)
    assert residual[0] < 1e-9

    # The same sums taken over the whole concatenated panel lose the small series.
    whole = Windows(values)
    _, whole_spread, _ = whole.stats(lo, hi)
    whole_line, _ = whole.line(lo, hi, hi.astype(np.float64))
    assert abs(whole_spread[0] - observed.std()) > 1e-3 * observed.std() or abs(whole_line[0] - 3.056) > 1e-6


def test_a_window_at_a_series_start_sums_from_zero_and_bounds_are_checked():
    values = np.array([1.0, 2.0, 3.0, 10.0, 20.0, 30.0, 40.0])
    windows = Windows(values, np.array([0, 3, 7]))
    mean, _, _ = windows.stats(np.array([0, 3, 4]), np.array([3, 5, 7]))
    np.testing.assert_array_equal(mean, [2.0, 15.0, 30.0])
    line, _ = windows.line(np.array([3]), np.array([7]), np.array([7.0]))
    np.testing.assert_allclose(line, [50.0])
    try:
        Windows(values, np.array([0, 3, 6]))
    except ValueError as exc:
        assert "0 to 7" in str(exc)
    else:
        raise AssertionError("bounds that do not cover the values were accepted")
