"""HierarchicalForecaster end to end on small demo data: every level forecast, every output
coherent to 1e-9, the method chosen on the backtests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tidecast.data.demo import future_covariates, generate
from tidecast.errors import ConfigError
from tidecast.hierarchy.forecaster import HierarchicalForecaster
from tidecast.hierarchy.reconcile import METHODS
from tidecast.hierarchy.selection import choose
from tidecast.hierarchy.structure import LEVEL

N_ITEMS = 12
OPTIONS = {
    "horizon": 7,
    "models": ["SeasonalNaive", "AutoTheta"],  # Theta: base forecasts that do not add up
    "backtest_windows": 2,
    "target_col": "target_value",
    "known_covariates": ["promotion", "is_holiday"],
    "n_jobs": 1,
}


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    data = generate(n_items=N_ITEMS)
    return data[data["timestamp"] >= "2023-09-01"].reset_index(drop=True)


def _assert_coherent(forecast: pd.DataFrame, attribute_levels: dict[str, list[str]]) -> None:
    items = forecast[forecast[LEVEL] == "item"]
    for level, attrs in attribute_levels.items():
        rows = forecast[forecast[LEVEL] == level]
        summed = (
            items.groupby([*attrs, "timestamp"])["mean"].sum()
            if attrs
            else items.groupby("timestamp")["mean"].sum()
        )
        own = rows.set_index([*attrs, "timestamp"])["mean"] if attrs else rows.set_index("timestamp")["mean"]
        diff = (own.sort_index() - summed.sort_index()).abs().max()
        assert diff < 1e-9, (level, diff)


def test_when_nested_then_every_level_is_forecast_and_sums_exactly(demo):
    future = future_covariates(N_ITEMS, horizon=7)
    h = HierarchicalForecaster("category/product", **OPTIONS).fit(demo, future=future)
    forecast = h.predict(future=future)
    assert list(forecast[LEVEL].unique()) == ["total", "category", "category/product", "item"]
    assert len(forecast) == (1 + 1 + 3 + N_ITEMS) * 7  # 12 items: one category, 3 products x 5 regions
    _assert_coherent(
        forecast, {"total": [], "category": ["category"], "category/product": ["category", "product"]}
    )
    assert h.method_ in METHODS and h.report_["chosen_by"] == "backtest"
    assert set(h.report_["methods"]) == set(METHODS)  # a tree: top-down too
    scores = h.backtest_scores()
    assert {"base", *METHODS} == set(scores.index)
    safe = scores.drop(index="base")
    safe = safe[safe["total"] <= scores.loc["base", "total"]]
    expected = safe["mean"].idxmin() if len(safe) else scores.drop(index="base")["total"].idxmin()
    assert h.method_ == expected
    assert (forecast[["mean", "p10", "p50", "p90"]].to_numpy() >= 0).all()
    q = forecast[["p10", "p50", "p90"]].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all()
    base = h.predict(future=future, reconciled=False)
    assert base.shape == forecast.shape and not np.allclose(base["mean"], forecast["mean"])
    with pytest.raises(
        ConfigError, match=r"unknown reconciliation method\(s\) \['nope'\]; choose from base, "
    ):
        h.predict(future=future, method="nope")


@pytest.mark.parametrize("method", ["ols", "mint_shrink", "bottom_up"])
def test_when_crossed_then_both_margins_sum_exactly(demo, method):
    data = generate(n_items=30)
    data = data[data["timestamp"] >= "2023-10-01"].reset_index(drop=True)
    options = {**OPTIONS, "known_covariates": None}
    h = HierarchicalForecaster("region*category", method=method, **options).fit(data)
    forecast = h.predict()
    assert "top_down" not in h.report_["methods"]  # not a tree
    assert h.method_ == method
    _assert_coherent(
        forecast,
        {
            "total": [],
            "region": ["region"],
            "category": ["category"],
            "region/category": ["region", "category"],
        },
    )


def test_when_choosing_then_the_best_mean_no_worse_than_base_at_the_top_wins():
    rows = [
        ("base", "total", 1.0), ("base", "item", 3.0),
        ("ols", "total", 1.2), ("ols", "item", 1.0),  # best mean, but worse at the top
        ("mint_shrink", "total", 0.9), ("mint_shrink", "item", 2.0),
        ("bottom_up", "total", 1.0), ("bottom_up", "item", 2.5),
    ]  # fmt: skip
    scores = pd.DataFrame([(m, 1, lv, v) for m, lv, v in rows], columns=["method", "window", "level", "wql"])
    chosen, table = choose(scores)
    assert chosen == "mint_shrink" and table.loc["ols", "mean"] == pytest.approx(1.1)
    worse = scores.assign(wql=np.where(scores["method"] == "base", 0.1, scores["wql"]))
    assert choose(worse)[0] == "mint_shrink"  # none is as good at the top: the best there


def test_when_the_data_holds_its_plan_then_every_level_forecasts_from_it(demo):
    """Plan rows after the history (target empty) are the items' future, summed up every level."""
    future = future_covariates(N_ITEMS, horizon=7)
    options = {**OPTIONS, "models": ["DynamicRegression"], "backtest_windows": 1}
    planned = pd.concat([demo, future.assign(target_value=np.nan)], ignore_index=True)
    from_plan = HierarchicalForecaster("category/product", **options).fit(planned).predict()
    given = HierarchicalForecaster("category/product", **options).fit(demo).predict(future=future)
    pd.testing.assert_frame_equal(from_plan, given)


@pytest.mark.parametrize(
    ("hierarchy", "keywords", "message"),
    [
        ("region*category", {"method": "top_down"}, "top-down needs a nested hierarchy"),
        ("region*category", {"methods": ["top_down"]}, "top-down needs a nested hierarchy"),
        ("category", {"method": "magic"}, "unknown reconciliation method 'magic'"),
        ("category", {"methods": ["ols", "nope"]}, r"unknown reconciliation method\(s\) \['nope'\]"),
        ("colour/category", {}, r"hierarchy attribute\(s\) \['colour'\]"),
        ("category", {"method": "mint_shrink", "backtest_windows": 0}, "backtest errors"),
    ],
)
def test_when_the_request_cannot_work_then_fit_refuses_it_before_fitting_a_level(
    demo, monkeypatch, hierarchy, keywords, message
):
    from tidecast.automl.forecaster import AutoForecaster

    def no_fit(*args: object, **kwargs: object) -> None:
        raise AssertionError("a level was fitted before the request was checked")

    monkeypatch.setattr(AutoForecaster, "fit", no_fit)
    with pytest.raises(ConfigError, match=message):
        HierarchicalForecaster(hierarchy, **{**OPTIONS, **keywords}).fit(demo)


def test_when_a_level_is_the_items_again_then_it_is_fitted_once_as_the_items(demo):
    """The demo's item is a product in a region: category/product/region names the items again."""
    assert demo.groupby(["product", "region"])["item_id"].nunique().max() == 1
    options = {**OPTIONS, "models": ["SeasonalNaive"], "known_covariates": None}
    h = HierarchicalForecaster("category/product/region", method="ols", **options).fit(demo)
    assert list(h.levels_) == ["total", "category", "category/product", "item"]
    assert h.report_["levels"] == ["total", "category", "category/product", "item"]
    assert any("'category/product/region' has one item per node" in n for n in h.report_["notes"])
    forecast = h.predict()
    assert set(forecast[LEVEL]) == {"total", "category", "category/product", "item"}
    assert forecast.loc[forecast[LEVEL] == "item", "region"].notna().all()
