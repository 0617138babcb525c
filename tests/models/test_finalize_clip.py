"""Clipping forecasts at zero: by how often each series' history went below zero."""

from __future__ import annotations

import numpy as np

from tidecast.data.arrays import SeriesArrays
from tidecast.models.base import Prediction, finalize

# "plain" never negative; "returns" below zero on 1 day of 20; "profit" on 6 of 10.
VALUES = np.array([3.0, np.nan, 5.0] + [10.0] * 19 + [-4.0] + [1.0] * 4 + [-1.0] * 6)
INDPTR = np.array([0, 3, 23, 33])
DATA = SeriesArrays(
    item_ids=np.array(["plain", "returns", "profit"], dtype=object),
    values=VALUES,
    indptr=INDPTR,
    timestamps=np.zeros(len(VALUES), dtype="datetime64[ns]"),
    freq="D",
)


def test_when_a_history_has_a_few_returns_then_its_forecast_is_still_clipped_at_zero():
    mean = np.full((3, 2), -2.0)
    bands = np.tile(np.array([-7.0, -2.0, 3.0]), (3, 2, 1))
    out = finalize(Prediction(mean=mean, quantiles=bands), DATA, (0.1, 0.5, 0.9))
    np.testing.assert_array_equal(out.mean[:, 0], [0.0, 0.0, -2.0])
    np.testing.assert_array_equal(out.quantiles[0, 0], [0.0, 0.0, 3.0])  # never negative
    np.testing.assert_array_equal(out.quantiles[1, 0], [0.0, 0.0, 3.0])  # 5% negative < 10%
    np.testing.assert_array_equal(out.quantiles[2, 0], [-7.0, -2.0, 3.0])  # 60% negative: p10, p50 kept


def test_when_no_levels_are_given_then_every_column_is_clipped_as_the_median():
    out = finalize(Prediction(mean=np.full((3, 1), -1.0), quantiles=np.full((3, 1, 1), -1.0)), DATA)
    np.testing.assert_array_equal(out.quantiles[:, 0, 0], [0.0, 0.0, -1.0])
