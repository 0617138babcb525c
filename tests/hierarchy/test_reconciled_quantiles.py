"""Reconciled quantiles: each node's own base quantiles moved with its reconciled mean, on a
hand-built hierarchy total = a + b where the values can be worked out by hand.

Before, quantiles were read off reconciled joint samples: top-down split each draw of a wide
total by that draw's shares and OLS moved each draw's gap into the items, so an item whose base
p10 is 20-25 came out with a p10 of 0.11 (top-down) or 0 (OLS).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tidecast.hierarchy.coherent import Reconciler, recentred
from tidecast.hierarchy.structure import build_structure, parse_hierarchy

QUANTILES = (0.1, 0.5, 0.9)


@pytest.fixture(scope="module")
def two_items():
    """total = a + b (a level with one item per node is the items again: dropped)."""
    s = build_structure(
        parse_hierarchy("g"), pd.DataFrame({"item_id": ["a", "b"], "g": ["x", "y"]}), "item_id"
    )
    assert list(s.nodes) == ["total", "a", "b"]
    return s


def _apply(structure, method: str, rows: list[list[float]], nonnegative: bool = True):
    """(means, quantiles) of one step of base forecasts given per node as [mean, p10, p50, p90]."""
    base = np.array(rows, dtype=np.float64)[:, None, :]
    mean, q = Reconciler(structure, method, nonnegative=nonnegative).apply(base)
    return mean[:, 0], q[:, 0]


def test_when_top_down_splits_a_wide_total_then_each_item_keeps_its_own_quantiles(two_items):
    # The total's p10 is 0, its items' 25 and 65: the shares 0.3 / 0.7 leave the items' means
    # as forecast, so their quantiles are theirs exactly (the joint samples gave a's p10 0.11).
    mean, q = _apply(two_items, "top_down", [[100, 0, 100, 200], [30, 25, 30, 35], [70, 65, 70, 75]])
    np.testing.assert_allclose(mean, [100, 30, 70], atol=1e-12)
    np.testing.assert_allclose(q, [[0, 100, 200], [25, 30, 35], [65, 70, 75]], atol=1e-12)


def test_when_ols_lowers_an_item_then_its_quantiles_scale_with_its_mean_and_its_p10_stays_above_0(two_items):
    # Items sum to 90 against a total of 60: OLS takes 10 off each item (a 30 -> 20, b 60 -> 50),
    # so a's quantiles scale by 2/3 and b's by 5/6; the total's by 70/60 (the samples gave a p10 0).
    mean, q = _apply(two_items, "ols", [[60, 0, 60, 120], [30, 20, 30, 40], [60, 50, 60, 70]])
    np.testing.assert_allclose(mean, [70, 20, 50], atol=1e-9)
    np.testing.assert_allclose(q[1], [40 / 3, 20, 80 / 3], atol=1e-9)
    np.testing.assert_allclose(q[2], [125 / 3, 50, 175 / 3], atol=1e-9)
    np.testing.assert_allclose(q[0], [0, 70, 140], atol=1e-9)
    assert q[1, 0] > 0 and q[2, 0] > 0


def test_when_the_target_may_be_negative_then_quantiles_shift_by_the_means_adjustment(two_items):
    mean, q = _apply(
        two_items, "ols", [[60, 0, 60, 120], [30, 20, 30, 40], [60, 50, 60, 70]], nonnegative=False
    )
    np.testing.assert_allclose(mean, [70, 20, 50], atol=1e-9)
    np.testing.assert_allclose(q, [[10, 70, 130], [10, 20, 30], [40, 50, 60]], atol=1e-9)


def test_when_an_item_forecast_at_zero_gets_a_positive_mean_then_its_quantiles_shift_to_it(two_items):
    # a's base forecast is 0 throughout: nothing to scale, so OLS's +1 moves it to a point at 1;
    # b's 3 -> 4 scales its band by 4/3 and the total's 6 -> 5 by 5/6.
    mean, q = _apply(two_items, "ols", [[6, 3, 6, 9], [0, 0, 0, 0], [3, 2, 3, 4]])
    np.testing.assert_allclose(mean, [5, 1, 4], atol=1e-9)
    np.testing.assert_allclose(q, [[2.5, 5, 7.5], [1, 1, 1], [8 / 3, 4, 16 / 3]], atol=1e-9)


def test_when_recentred_then_an_intermittent_p10_of_0_stays_0_and_quantiles_never_cross():
    # scaled: an item that sells nothing on 1 day in 5 still may, whatever its new mean
    np.testing.assert_allclose(
        recentred(np.array([[0.0, 1.0, 3.0]]), np.array([1.2]), np.array([1.8]), True), [[0, 1.5, 4.5]]
    )
    # crossing base quantiles are sorted before they move; clipped at 0 where shifted below it
    moved = recentred(np.array([[5.0, 2.0, 8.0]]), np.array([-1.0]), np.array([-4.0]), True)
    np.testing.assert_allclose(moved, [[0, 2, 5]])
    np.testing.assert_allclose(
        recentred(np.array([[5.0, 2.0, 8.0]]), np.array([-1.0]), np.array([-4.0]), False), [[-1, 2, 5]]
    )


@pytest.mark.parametrize("method", ["bottom_up", "top_down", "ols", "wls_struct", "wls_var", "mint_shrink"])
def test_when_reconciled_then_means_add_up_and_quantiles_are_ordered_nonnegative_and_keep_positive_p10s(
    method,
):
    s = build_structure(
        parse_hierarchy("g/h"),
        pd.DataFrame({"item_id": list("abcdef"), "g": list("xxyyyy"), "h": list("pqrrst")}),
        "item_id",
    )
    rng = np.random.default_rng(5)
    mean = rng.gamma(2.0, 1.0, size=(len(s.nodes), 4))
    base = np.stack([mean, 0.2 * mean, mean, 2.5 * mean], axis=2)  # mean, p10, p50, p90: wide, near 0
    rec = Reconciler(s, method, rng.normal(size=(len(s.nodes), 30)), nonnegative=True)
    coherent_mean, q = rec.apply(base)
    bottom = coherent_mean[len(s.nodes) - s.n_bottom :]
    np.testing.assert_allclose(coherent_mean, s.S @ bottom, rtol=0, atol=1e-9)
    assert (np.diff(q, axis=2) >= 0).all() and (q >= 0).all()
    # a node's p10 is 0 only where its reconciled mean is (NNLS's zeros), never below its share
    np.testing.assert_allclose(q[:, :, 0], 0.2 * coherent_mean, rtol=1e-9, atol=1e-12)
