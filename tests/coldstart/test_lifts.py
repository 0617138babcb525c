"""The lifts of 0/1 known covariates: per item on-days against off-days, median over items."""

import numpy as np
import pandas as pd
import pytest

from tidecast.coldstart.lifts import MIN_ITEMS, Lifts, binary_lifts
from tidecast.data.arrays import SeriesArrays

N = 20  # days per item


def panel(lifts: list[float], on_days: int = 4) -> SeriesArrays:
    """One item per lift: 100 a day, `lift` x 100 on its first `on_days` days (promo = 1);
    also a price that is no flag and a shop flag with no lift."""
    n = len(lifts)
    promo = np.zeros((n, N))
    promo[:, :on_days] = 1.0
    values = 100.0 * np.where(promo == 1.0, np.array(lifts)[:, None], 1.0)
    return SeriesArrays(
        item_ids=np.array([f"i{k}" for k in range(n)]),
        values=values.ravel(),
        indptr=np.arange(n + 1) * N,
        timestamps=np.tile(pd.date_range("2024-01-01", periods=N, freq="D").values, n),
        freq="D",
        covariates={
            "promo": promo.ravel(),
            "price": np.linspace(1.0, 2.0, n * N),
            "shop": np.tile(np.arange(N) % 2, n).astype(float),
            "label": np.array(["x"] * (n * N), dtype=object),
        },
    )


def test_when_items_lift_by_2_2_and_4_then_the_lift_is_their_median_2():
    lifts = binary_lifts(panel([2.0, 2.0, 4.0]), ["promo", "price", "shop", "label"])
    assert lifts.factors["promo"] == pytest.approx(2.0)
    assert lifts.factors["shop"] == pytest.approx(1.0)  # a flag with no effect lifts by 1
    assert "price" not in lifts.factors and "label" not in lifts.factors  # no 0/1 flags


def test_when_too_few_items_or_days_show_both_states_then_no_lift_is_estimated():
    assert "promo" not in binary_lifts(panel([2.0] * (MIN_ITEMS - 1)), ["promo"]).factors
    assert "promo" not in binary_lifts(panel([2.0] * 3, on_days=2), ["promo"]).factors


def test_when_a_column_is_a_closure_rule_then_it_is_skipped():
    assert binary_lifts(panel([2.0] * 3), ["promo"], skip=["promo"]).factors == {}


def test_multiplier_is_the_product_of_the_set_flags_lifts():
    lifts = Lifts({"promo": 2.0, "holiday": 0.5})
    got = lifts.multiplier(
        {"promo": np.array([0.0, 1.0, 1.0, np.nan]), "holiday": np.array([0.0, 0.0, 1.0, 1.0])}, 4
    )
    np.testing.assert_allclose(got, [1.0, 2.0, 1.0, 0.5])
    np.testing.assert_allclose(lifts.multiplier({}, 2), [1.0, 1.0])  # absent columns lift nothing
