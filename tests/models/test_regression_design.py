"""The dynamic regression's design rows: the cycles a run of steps shares."""

from __future__ import annotations

import numpy as np

from tidecast.data.calendar import fourier_terms
from tidecast.models.regression_design import _cycles

PERIODS, ORDERS = (7.0, 365.25), (3, 10)


def test_cycles_are_the_fourier_terms_of_the_steps_whether_shared_or_not() -> None:
    run = 19_000.0 + np.arange(900, dtype=np.float64)
    gappy = np.r_[run[:300], run[484:]]  # six months missing: not a run, computed afresh
    for t in (run, gappy, run[:1], run[5:], np.array([3.0, 4.0, 6.0])):
        np.testing.assert_array_equal(
            _cycles(t, PERIODS, ORDERS), fourier_terms(t, PERIODS, ORDERS).to_numpy()
        )
    shared = _cycles(run, PERIODS, ORDERS)
    assert _cycles(run.copy(), PERIODS, ORDERS) is shared  # one computation per run
    assert not shared.flags.writeable  # so no caller can change it under another
