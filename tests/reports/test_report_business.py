"""The business tables and the inventory guidance, on hand-built forecasts with values worked
out by hand in the comments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tidecast.errors import ConfigError
from tidecast.reports import business
from tidecast.reports.inventory import inventory_guidance, spread_sigma

Q = (0.1, 0.5, 0.9)
Z90 = 1.2815515655446004  # z(0.9)
Z95 = 1.6448536269514722  # z(0.95)


def forecast(rows: dict[str, list[tuple[float, float, float, float]]]) -> pd.DataFrame:
    """item -> [(mean, p10, p50, p90) per step], daily from 2024-01-01."""
    frames = []
    for item, steps in rows.items():
        mean, p10, p50, p90 = (list(col) for col in zip(*steps, strict=True))
        frames.append(
            pd.DataFrame(
                {
                    "item_id": item,
                    "timestamp": pd.date_range("2024-01-01", periods=len(steps), freq="D"),
                    "mean": mean,
                    "p10": p10,
                    "p50": p50,
                    "p90": p90,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


FORECAST = forecast(
    {
        "a": [(10, 8, 10, 12), (20, 16, 20, 24)],  # total 30, band 4 + 8 = 12: width 12 / 30 = 0.4
        "b": [(5, 1, 5, 9), (5, 1, 5, 9)],  # total 10, band 16: width 1.6
        "c": [(0, 0, 0, 0), (0, 0, 0, 0)],  # no demand: no relative width
    }
)
HISTORY = pd.DataFrame(
    {
        "item_id": ["a"] * 3 + ["b"] * 3 + ["c"] * 3,
        "timestamp": list(pd.date_range("2023-12-29", periods=3, freq="D")) * 3,
        "target": [100.0, 10, 10, 1, 10, 10, 0, 0, 0],  # recent (last 2): a 10, b 10, c 0
        "category": ["x"] * 6 + ["y"] * 3,
    }
)


def test_when_totals_are_asked_then_each_item_sums_its_mean_and_outer_quantiles() -> None:
    totals = business.forecast_totals(FORECAST, Q)
    assert totals.to_dict("list") == {
        "item_id": ["a", "b", "c"],
        "steps": [2, 2, 2],
        "forecast_total": [30.0, 10.0, 0.0],
        "p10_total": [24.0, 2.0, 0.0],
        "p90_total": [36.0, 18.0, 0.0],
    }


def test_when_totals_are_grouped_by_an_attribute_then_groups_sum_and_share_the_whole() -> None:
    attributes = business.item_attributes(HISTORY, ["category", "absent"])
    assert attributes.to_dict("list") == {"item_id": ["a", "b", "c"], "category": ["x", "x", "y"]}
    table = business.totals_by(business.forecast_totals(FORECAST, Q), attributes, "category")
    assert table.to_dict("list") == {
        "category": ["x", "y"],
        "items": [2, 1],
        "forecast_total": [40.0, 0.0],
        "share": [1.0, 0.0],
    }


def test_when_demand_is_ranked_then_high_is_biggest_first_and_low_smallest_first() -> None:
    high, low = business.demand_extremes(business.forecast_totals(FORECAST, Q), n=2)
    assert list(high["item_id"]) == ["a", "b"]
    assert list(low["item_id"]) == ["c", "b"]


def test_when_bands_are_wide_against_the_median_then_the_item_is_volatile() -> None:
    table = business.volatile_items(FORECAST, Q, threshold=0.4)
    assert list(table["item_id"]) == ["b", "a"]  # c has no median: left out
    assert table["relative_width"].tolist() == pytest.approx([1.6, 0.4])
    assert list(business.volatile_items(FORECAST, Q, threshold=0.5)["item_id"]) == ["b"]


def test_when_the_forecast_leaves_recent_history_then_it_is_a_spike_or_a_drop() -> None:
    table = business.spikes_and_drops(FORECAST, HISTORY, recent_steps=2, threshold=0.25)
    # a: 15 against 10 (+50%), peak 20 on the 2nd; b: 5 against 10 (−50%); c: 0 against 0
    assert table["item_id"].tolist() == ["a", "b"]
    assert table["recent_mean"].tolist() == [10.0, 10.0]
    assert table["forecast_mean"].tolist() == [15.0, 5.0]
    assert table["change"].tolist() == pytest.approx([0.5, -0.5])
    assert table["direction"].tolist() == ["spike", "drop"]
    assert table["peak"].tolist() == [20.0, 5.0]
    assert table["peak_at"].tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-01")]
    assert business.spikes_and_drops(FORECAST, HISTORY, recent_steps=2, threshold=0.6).empty


def test_when_an_item_had_no_recent_demand_then_any_forecast_is_a_spike() -> None:
    woken = forecast({"c": [(3, 1, 3, 5)]})
    table = business.spikes_and_drops(woken, HISTORY, recent_steps=2)
    assert table["change"].tolist() == [np.inf] and table["direction"].tolist() == ["spike"]


def test_when_accuracy_is_poor_then_the_warnings_name_the_forecast_and_the_items() -> None:
    errors = pd.DataFrame({"item_id": ["a", "b"], "wape": [0.6, 0.1], "coverage": [0.5, 0.0]})
    table = business.accuracy_warnings(errors, overall_coverage=0.6, nominal_coverage=0.8, wape_limit=0.5)
    assert table.to_dict("list") == {
        "scope": ["forecast", "item", "item"],
        "item_id": ["", "a", "b"],
        "message": [
            "the likely range held 60% of backtest actuals against 80% planned: it is too narrow",
            "backtest WAPE 60%",
            "no backtest actual fell inside the range",
        ],
    }
    assert business.accuracy_warnings(errors.iloc[1:0], 0.75, 0.8).empty  # within 10 points


def test_when_the_band_is_p10_p90_then_sigma_is_its_width_over_2_z90() -> None:
    assert spread_sigma(np.array([10 - 2 * Z90]), np.array([10 + 2 * Z90]), 0.1, 0.9) == pytest.approx([2.0])


def test_when_steps_are_independent_then_safety_stock_is_z_times_root_sum_of_variances() -> None:
    # a: 4 steps of mean 10, sigma 2 each: lead demand 40, sigma sqrt(4·4) = 4, SS = z95·4
    # b: no spread at all: no safety stock
    steps_a = [(10.0, 10 - 2 * Z90, 10.0, 10 + 2 * Z90)] * 4
    frame = forecast({"a": steps_a, "b": [(3.0, 3.0, 3.0, 3.0)] * 4})
    table = inventory_guidance(frame, Q, service_level=0.95, lead_time=4)
    assert table["item_id"].tolist() == ["a", "b"]
    assert table["lead_time_demand"].tolist() == [40.0, 12.0]
    assert table["sigma"].tolist() == pytest.approx([4.0, 0.0])
    assert table["safety_stock"].tolist() == pytest.approx([Z95 * 4, 0.0])
    assert table["order_up_to"].tolist() == pytest.approx([40 + 6.579414507805889, 12.0])
    # two steps: demand 20, sigma sqrt(8)
    short = inventory_guidance(frame, Q, service_level=0.95, lead_time=2)
    assert short["safety_stock"].tolist() == pytest.approx([Z95 * np.sqrt(8), 0.0])
    assert short["steps"].tolist() == [2, 2]


@pytest.mark.parametrize(
    ("level", "lead", "quantiles"), [(0.4, 2, Q), (1.0, 2, Q), (0.95, 0, Q), (0.95, 2, (0.5,))]
)
def test_when_the_inventory_inputs_make_no_sense_then_a_config_error_says_which(
    level: float, lead: int, quantiles: tuple[float, ...]
) -> None:
    with pytest.raises(ConfigError):
        inventory_guidance(FORECAST, quantiles, service_level=level, lead_time=lead)


def test_a_whole_numbered_attribute_stored_as_float_groups_as_whole_numbers() -> None:
    """Favorita's store cluster, read as float beside a missing value, showed as "14.0"."""
    history = HISTORY.assign(cluster=[14.0] * 3 + [np.nan] * 3 + [3.0] * 3, size=[1.5] * 9)
    attributes = business.item_attributes(history, ["cluster", "size"])
    assert attributes["cluster"].tolist() == [14, None, 3]
    assert attributes["size"].tolist() == [1.5, 1.5, 1.5]  # a real fraction stays a float
    table = business.totals_by(business.forecast_totals(FORECAST, Q), attributes, "cluster")
    assert sorted(table["cluster"]) == ["(none)", "14", "3"]


def test_an_attribute_read_as_a_category_groups_its_missing_items_under_none() -> None:
    """A Parquet file's dictionary column reads as pandas' category dtype, which refused the
    "(none)" fill of an item without the attribute (TypeError: not one of its categories)."""
    history = HISTORY.assign(region=pd.Categorical(["north"] * 3 + [None] * 3 + ["south"] * 3))
    attributes = business.item_attributes(history, ["region"])
    table = business.totals_by(business.forecast_totals(FORECAST, Q), attributes, "region")
    assert table.set_index("region")["items"].to_dict() == {"(none)": 1, "north": 1, "south": 1}
