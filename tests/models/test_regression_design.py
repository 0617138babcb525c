"""The dynamic regression's design rows: the cycles a span of steps shares."""

from __future__ import annotations

import numpy as np

from tidecast.data.calendar import fourier_terms
from tidecast.models.regression_design import MAX_SHARED_STEPS, _cycles, _cycles_of_run

PERIODS, ORDERS = (7.0, 365.25), (3, 10)


def test_cycles_are_the_fourier_terms_of_the_steps_whether_gathered_from_a_span_or_not() -> None:
    run = 19_000.0 + np.arange(900, dtype=np.float64)
    no_sundays = run[np.arange(900) % 7 != 6]  # a store's open days: gathered from the span
    gappy = np.r_[run[:300], run[484:]]  # six months missing: still gathered
    sparse = run[::3]  # spread over three times its number: computed as it is
    for t in (run, no_sundays, gappy, sparse, run[:1], run[5:], np.array([3.0, 4.0, 6.0]), run + 0.5):
        np.testing.assert_array_equal(
            _cycles(t, PERIODS, ORDERS), fourier_terms(t, PERIODS, ORDERS).to_numpy()
        )
    shared = _cycles(run, PERIODS, ORDERS)
    assert _cycles(run.copy(), PERIODS, ORDERS) is shared  # one computation per span
    assert not shared.flags.writeable  # so no caller can change it under another


def test_spans_longer_than_the_shared_limit_are_computed_and_not_kept() -> None:
    long = np.arange(MAX_SHARED_STEPS + 1, dtype=np.float64)
    kept = _cycles_of_run.cache_info().currsize
    np.testing.assert_array_equal(
        _cycles(long, PERIODS, ORDERS), fourier_terms(long, PERIODS, ORDERS).to_numpy()
    )
    assert _cycles_of_run.cache_info().currsize == kept
