"""Reconciliation kernels on hand-built hierarchies, against values worked out by hand, and
against hierarchicalforecast (Nixtla) where it is installed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.errors import ConfigError
from tidecast.hierarchy.aggregate import aggregate_level, item_attributes
from tidecast.hierarchy.reconcile import error_weights, projection, reconcile, shrunk_covariance
from tidecast.hierarchy.samples import quantile_function
from tidecast.hierarchy.structure import build_structure, parse_hierarchy

# total = a + b: S rows total, a, b
S2 = np.array([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
BASE2 = np.array([[10.0], [3.0], [5.0]])  # the total is 2 above its items' sum


def test_when_two_items_then_ols_spreads_the_gap_in_thirds():
    bottom = reconcile(S2, BASE2, "ols")
    np.testing.assert_allclose(bottom[:, 0], [11 / 3, 17 / 3], rtol=0, atol=1e-12)
    np.testing.assert_allclose((S2 @ bottom)[0, 0], 28 / 3, atol=1e-12)


def test_when_two_items_then_wls_struct_weighs_the_total_by_its_two_items():
    # W = diag(2, 1, 1): each item moves by 2 * 1/4, the total by 2 * 2/4
    bottom = reconcile(S2, BASE2, "wls_struct")
    np.testing.assert_allclose(bottom[:, 0], [3.5, 5.5], atol=1e-12)
    assert (S2 @ bottom)[0, 0] == pytest.approx(9.0, abs=1e-12)


def test_when_bottom_up_or_top_down_then_the_items_or_the_total_are_kept():
    np.testing.assert_allclose(reconcile(S2, BASE2, "bottom_up")[:, 0], [3.0, 5.0])
    parents = [(np.array([1, 2]), np.array([0, 0]))]
    np.testing.assert_allclose(reconcile(S2, BASE2, "top_down", parents=parents)[:, 0], [3.75, 6.25])


def test_when_three_levels_then_top_down_chains_the_proportions():
    h = parse_hierarchy("cat")
    items = pd.DataFrame({"item_id": ["a", "b", "c"], "cat": ["x", "x", "y"]})
    s = build_structure(h, items, "item_id")
    assert list(s.nodes) == ["total", "cat=x", "cat=y", "a", "b", "c"]
    base = np.array([[12.0], [6.0], [2.0], [1.0], [3.0], [5.0]])
    bottom = reconcile(s.S, base, "top_down", parents=s.parents())
    np.testing.assert_allclose(bottom[:, 0], [2.25, 6.75, 3.0], atol=1e-12)


def test_when_a_level_does_not_nest_in_the_one_above_then_the_structure_says_so():
    """zone/store with store 100 in both zones: coherent, but not the nesting "/" reads as."""
    items = pd.DataFrame(  # e shares c's zone and store: a node of two items, not the items again
        {"item_id": list("abcde"), "zone": list("ABABA"), "store": ["100", "100", "200", "300", "200"]}
    )
    s = build_structure(parse_hierarchy("zone/store"), items, "item_id")
    assert "zone=A/store=100" in set(s.nodes) and "zone=B/store=100" in set(s.nodes)
    assert s.notes == (
        "'store' does not nest in 'zone': 1 of its 3 values sit under several (e.g. ['100']), so each "
        "(zone, store) pair is a node of its own",
    )
    nested = items.assign(store=["100", "400", "200", "300", "200"])
    assert build_structure(parse_hierarchy("zone/store"), nested, "item_id").notes == ()
    assert build_structure(parse_hierarchy("zone*store"), items, "item_id").notes == ()  # crossed: no claim


def test_when_a_level_is_the_items_again_then_it_is_left_out_with_a_note():
    """store*brand where an item is one store's brand: the store/brand level has one item per
    node, the item level again, so it is neither fitted nor reconciled twice."""
    items = pd.DataFrame({"item_id": list("abcd"), "store": [2, 2, 5, 5], "brand": [1, 8, 1, 8]})
    s = build_structure(parse_hierarchy("store*brand"), items, "item_id")
    assert s.level_names == ["total", "store", "brand", "item"]
    assert s.hierarchy.levels == ((), ("store",), ("brand",))
    np.testing.assert_array_equal(s.S[-4:], np.eye(4))
    assert s.S.shape == (1 + 2 + 2 + 4, 4)
    assert s.notes == (
        "level 'store/brand' has one item per node, the items themselves: forecast once, as the "
        "items, whose rows carry its attributes",
    )
    assert list(s.attributes.columns) == ["store", "brand"]
    kept = build_structure(
        parse_hierarchy("store*brand"), items.assign(item_id=list("abcd")).head(3), "item_id"
    )
    assert "store/brand" not in kept.level_names  # 3 items, 3 pairs: the items again too


def test_when_an_attribute_is_read_as_float_then_nodes_and_columns_keep_its_integers():
    """A store column with a missing cell is read as 12.0: nodes were named store=12.0."""
    panel = pd.DataFrame(
        {
            ITEM_ID: ["a", "a", "b", "c"],
            TIMESTAMP: pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-01", "2024-01-01"]),
            TARGET: [1.0, 2.0, 3.0, 4.0],
            "store": [12.0, np.nan, 12.0, 5.0],
        }
    )
    items = item_attributes(panel, ["store"])
    s = build_structure(parse_hierarchy("store"), items, ITEM_ID)
    assert list(s.nodes) == ["total", "store=12", "store=5", "a", "b", "c"]
    assert s.attributes["store"].tolist()[1:] == ["12", "5", "12", "12", "5"]
    level = aggregate_level(panel, items, ("store",), [])
    assert set(level[ITEM_ID]) == {"store=12", "store=5"} and set(level["store"]) == {"12", "5"}


def test_when_ols_goes_negative_then_nonnegative_solves_the_constrained_problem():
    base = np.array([[1.0], [5.0], [-3.0]])
    free = reconcile(S2, base, "ols")
    np.testing.assert_allclose(free[:, 0], [14 / 3, -10 / 3], atol=1e-12)
    # min (1-a-b)^2 + (5-a)^2 + (-3-b)^2 with b >= 0: b = 0, a = 3 (worked by hand, KKT holds)
    np.testing.assert_allclose(reconcile(S2, base, "ols", nonnegative=True)[:, 0], [3.0, 0.0], atol=1e-9)


def test_when_w_is_invertible_then_the_projection_equals_the_textbook_formula():
    s = build_structure(
        parse_hierarchy("g/h"),
        pd.DataFrame({"item_id": list("abcde"), "g": list("xxyyy"), "h": list("pqrrs")}),
        "item_id",
    )
    rng = np.random.default_rng(1)
    residuals = rng.normal(size=(len(s.nodes), 40))
    for method in ("ols", "wls_struct", "wls_var", "mint_shrink"):
        W = error_weights(s.S, method, residuals)
        Wi = np.linalg.inv(W)
        expected = np.linalg.solve(s.S.T @ Wi @ s.S, s.S.T @ Wi)
        np.testing.assert_allclose(projection(s.S, W), expected, atol=1e-9)
        # G S = I: coherent forecasts are left as they are
        np.testing.assert_allclose(projection(s.S, W) @ s.S, np.eye(s.n_bottom), atol=1e-9)


def test_when_the_hierarchy_text_is_bad_then_config_error():
    for text in ("", "a/b*c", "a//b", "a/a"):
        with pytest.raises(ConfigError):
            parse_hierarchy(text)
    crossed = parse_hierarchy("region*category")
    assert crossed.levels == ((), ("region",), ("category",), ("region", "category"))
    assert not crossed.is_tree and parse_hierarchy("a/b").is_tree


def test_when_a_quantile_function_is_read_at_its_quantiles_then_they_come_back():
    q = (0.1, 0.5, 0.9)
    values = np.array([[8.0, 10.0, 12.0]])
    np.testing.assert_allclose(quantile_function(values, q, np.array([q])), values, atol=1e-9)


@pytest.mark.parametrize("method", ["ols", "wls_struct", "wls_var", "mint_shrink"])
def test_when_hierarchicalforecast_is_installed_then_mintrace_matches_it(method):
    methods = pytest.importorskip("hierarchicalforecast.methods")
    s = build_structure(
        parse_hierarchy("g/h"),
        pd.DataFrame({"item_id": list("abcdef"), "g": list("xxyyyy"), "h": list("pqrrst")}),
        "item_id",
    )
    rng = np.random.default_rng(7)
    actual = rng.gamma(5.0, 2.0, size=(s.n_bottom, 30))
    y_insample = s.S @ actual
    y_hat_insample = y_insample + rng.normal(scale=1.0, size=y_insample.shape) * s.S.sum(axis=1)[:, None]
    y_hat = s.S @ rng.gamma(5.0, 2.0, size=(s.n_bottom, 4)) + rng.normal(size=(len(s.nodes), 4))
    theirs, _ = methods.MinTrace(method=method)._get_PW_matrices(
        S=s.S, y_hat=y_hat, y_insample=y_insample, y_hat_insample=y_hat_insample
    )
    residuals = y_insample - y_hat_insample
    ours = projection(s.S, error_weights(s.S, method, residuals))
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_when_hierarchicalforecast_is_installed_then_the_shrinkage_matches_it():
    utils = pytest.importorskip("hierarchicalforecast.utils")
    rng = np.random.default_rng(0)
    r = rng.normal(size=(9, 25))
    r[1] += r[2]
    ours = shrunk_covariance(r, ridge=0.0)
    theirs = utils._shrunk_covariance_schaferstrimmer_no_nans(r, 0.0)
    np.testing.assert_allclose(ours, theirs, atol=1e-10)
