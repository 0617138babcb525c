"""The reports assembled from hand-built inputs: which sections a source's contents allow."""

from __future__ import annotations

import pandas as pd
import pytest

from tidecast.errors import ConfigError
from tidecast.reports.build import ReportOptions, build_reports
from tidecast.reports.inputs import ReportInputs


def inputs(quantiles: tuple[float, ...]) -> ReportInputs:
    forecasts = pd.DataFrame(
        {
            "item_id": ["a", "a", "b", "b"],
            "timestamp": pd.to_datetime(["2024-01-03", "2024-01-04"] * 2),
            "mean": [10.0, 20.0, 4.0, 6.0],
            **{f"p{round(q * 100)}": [10.0, 20.0, 4.0, 6.0] for q in quantiles},
        }
    )
    history = pd.DataFrame(
        {
            "item_id": ["a", "a", "b", "b"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"] * 2),
            "target": [10.0, 10.0, 5.0, 5.0],
            "region": ["N", "N", "S", "S"],
        }
    )
    return ReportInputs(
        "hand", quantiles, horizon=2, forecasts=forecasts, history=history, static_columns=("region",)
    )


def test_when_the_forecast_has_one_quantile_then_the_business_report_notes_why_no_inventory() -> None:
    (business,) = build_reports(inputs((0.5,)), "business")
    titles = [s.title for s in business.sections]
    assert "Inventory guidance" not in titles and "Forecast totals by attribute" in titles
    assert business.notes == [
        "inventory guidance needs two forecast quantiles to read a spread; the run has one"
    ]
    totals = business.tables()["totals_by_region"]
    assert totals.to_dict("list") == {
        "region": ["N", "S"],
        "items": [1, 1],
        "forecast_total": [30.0, 10.0],
        "share": [0.75, 0.25],
    }


def test_when_the_lead_time_is_longer_than_the_horizon_then_the_horizon_bounds_it() -> None:
    (business,) = build_reports(inputs((0.1, 0.5, 0.9)), "business", ReportOptions(lead_time=9))
    assert business.summary["lead_time"] == 2
    assert business.tables()["inventory"]["lead_time_demand"].tolist() == [30.0, 10.0]


def test_when_the_kind_is_unknown_then_a_config_error_names_the_kinds() -> None:
    with pytest.raises(ConfigError, match="quality, business, all"):
        build_reports(inputs((0.5,)), "sales")


@pytest.mark.parametrize(
    ("calibration", "expected"),
    [
        ({}, ""),
        ({"factors": {"p10": 1.0, "p90": 1.0}, "level": 1.0}, ""),
        (
            {"factors": {"p10": 1.2, "p90": 1.0}},
            " These are the backtest forecasts before the run's calibration; the forecast scales each "
            "quantile's distance from the median by: p10 ×1.2, p90 ×1.",
        ),
        (
            {"factors": {"p10": 1.0, "p90": 1.0}, "level": 1.0125},
            " These are the backtest forecasts before the run's calibration; the forecast multiplies the "
            "whole forecast by 1.0125 (a bias every backtest window showed).",
        ),
        (
            {
                "level": 1.0,
                "mean_from_quantiles": True,
                "mean_backtest_rmse": {"models": 12.5, "quantiles": 10.25},
            },
            " These are the backtest forecasts before the run's calibration; the forecast takes its mean "
            "column from the calibrated quantiles (0.3 p10 + 0.4 p50 + 0.3 p90 for the default levels; "
            "backtest RMSE 10.25 against the models' own mean's 12.5).",
        ),
    ],
)
def test_the_calibration_text_says_what_the_forecast_applies(calibration: dict, expected: str) -> None:
    from types import SimpleNamespace

    from tidecast.reports.build import _calibration_text

    assert _calibration_text(SimpleNamespace(report={"quantile_calibration": calibration})) == expected  # type: ignore[arg-type]


def test_a_composite_item_key_gives_totals_by_each_of_its_parts() -> None:
    source = inputs((0.1, 0.5, 0.9))
    ids = {"a": "1|10", "b": "2|10"}
    source.forecasts = pd.concat(
        [source.forecasts, source.forecasts.tail(2).assign(item_id="c", mean=[1.0, 1.0])], ignore_index=True
    )
    ids["c"] = "1|20"
    for frame in (source.forecasts, source.history):
        frame["item_id"] = frame["item_id"].map(ids)
    source.item_col = "Store,Dept"
    (business,) = build_reports(source, "business")
    tables = business.tables()
    assert tables["totals_by_Store"].to_dict("list") == {
        "Store": ["1", "2"],
        "items": [2, 1],
        "forecast_total": [32.0, 10.0],
        "share": [32.0 / 42.0, 10.0 / 42.0],
    }
    assert tables["totals_by_Dept"][["Dept", "items", "forecast_total"]].values.tolist() == [
        ["10", 2, 40.0],
        ["20", 1, 2.0],
    ]
    assert tables["totals_by_region"]["region"].tolist() == ["N", "S", "(none)"]  # "c" has no history
    items = tables["item_totals"].set_index("item_id")
    assert items.loc["1|20", ["Store", "Dept"]].tolist() == ["1", "20"]
