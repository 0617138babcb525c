"""The cold-start profile on hand-built items, with values worked out by hand, and end to end
through a trained model and `tidecast cold-start`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tidecast.cli.main import app
from tidecast.coldstart import COLD_START, ColdStart
from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP

DAYS = pd.date_range("2024-01-01", periods=28, freq="D")
FUTURE = pd.date_range("2024-01-29", periods=3, freq="D")
LEVELS = {"a1": 10.0, "a2": 20.0, "a3": 30.0, "b1": 100.0, "b2": 100.0, "b3": 100.0}


def _flat(levels: dict[str, float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(history, forecasts) of items that sell their level every day. Each forecasts its level
    with no uncertainty, so the mixture is worked out by hand."""
    history = pd.DataFrame(
        [(i, t, v) for i, v in levels.items() for t in DAYS], columns=[ITEM_ID, TIMESTAMP, TARGET]
    )
    forecasts = pd.DataFrame(
        [(i, t, v) for i, v in levels.items() for t in FUTURE], columns=[ITEM_ID, TIMESTAMP, MEAN]
    )
    for q in ("p10", "p50", "p90"):
        forecasts[q] = forecasts[MEAN]
    return history, forecasts


def _known() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    items = pd.DataFrame({ITEM_ID: list(LEVELS), "brand": ["A", "A", "A", "B", "B", "B"]})
    return (items, *_flat(LEVELS))


def test_when_no_history_then_the_mixture_of_the_brand_is_the_forecast():
    items, history, forecasts = _known()
    new = pd.DataFrame({ITEM_ID: ["new"], "brand": ["A"]})
    out = ColdStart(["brand"]).forecast(items, history, forecasts, new)
    assert len(out) == 3 and out[COLD_START].all() and (out["peers"] == 3).all()
    assert (out["peer_group"] == "brand=A").all()
    np.testing.assert_allclose(out[MEAN], 20.0)
    # pooled draws: 10, 20 and 30 a hundred times each
    np.testing.assert_allclose(out[["p10", "p50", "p90"]].to_numpy(), [[10.0, 20.0, 30.0]] * 3)


def test_when_early_sales_then_each_peer_is_scaled_halfway_to_them():
    items, history, forecasts = _known()
    new = pd.DataFrame({ITEM_ID: ["new"], "brand": ["A"]})
    early = pd.DataFrame({ITEM_ID: "new", TIMESTAMP: DAYS[-7:], TARGET: 40.0})
    out = ColdStart(["brand"], prior_steps=7).forecast(items, history, forecasts, new, early)
    # ratios 40/10, 40/20, 40/30 trusted 7 / (7 + 7) = 1/2 on the log scale: square roots
    scaled = np.array([10 * 2.0, 20 * np.sqrt(2.0), 30 * np.sqrt(4 / 3)])
    np.testing.assert_allclose(out[MEAN], scaled.mean())
    np.testing.assert_allclose(out["p10"], scaled.min())
    np.testing.assert_allclose(out["p90"], scaled.max())


@pytest.mark.parametrize(("days", "kept"), [(1, 0.5 ** (1 / 8)), (7, (1 / 14) ** 0.5)])
def test_when_early_sales_are_zeros_then_the_prior_keeps_its_share(days: int, kept: float):
    """A zero sum was log(1e-9): one zero day cut a new pasta SKU's forecast by 94%, a week of
    them to 3e-5 units a day. Now k zero days read as half a step of each peer's sales, a
    ratio of 1 / 2k, trusted k / (k + 7) on the log scale."""
    items, history, forecasts = _known()
    new = pd.DataFrame({ITEM_ID: ["new"], "brand": ["A"]})
    early = pd.DataFrame({ITEM_ID: "new", TIMESTAMP: DAYS[-days:], TARGET: 0.0})
    out = ColdStart(["brand"], prior_steps=7).forecast(items, history, forecasts, new, early)
    np.testing.assert_allclose(out[MEAN], 20.0 * kept)
    np.testing.assert_allclose(out["p90"], 30.0 * kept)


def test_when_early_sales_are_the_peers_level_then_the_forecast_is_the_peers():
    items, history, forecasts = _known()
    new = pd.DataFrame({ITEM_ID: ["new"], "brand": ["A"]})
    early = pd.DataFrame({ITEM_ID: "new", TIMESTAMP: DAYS[-7:], TARGET: 20.0})
    out = ColdStart(["brand"], prior_steps=7).forecast(items, history, forecasts, new, early)
    # peers 10, 20, 30 each scaled halfway to 20 on the log scale: 10 sqrt 2, 20, 30 sqrt(2/3)
    scaled = np.array([10 * np.sqrt(2.0), 20.0, 30 * np.sqrt(2 / 3)])
    np.testing.assert_allclose(out[MEAN], scaled.mean())
    np.testing.assert_allclose(out[["p10", "p90"]].to_numpy(), [[scaled[0], scaled[2]]] * 3)


def test_when_a_second_attribute_then_its_factor_scales_the_peers():
    # brand A in stores s1..s3 at 10/20/30; brand B sells twice as much in s4 as elsewhere
    items = pd.DataFrame(
        {
            ITEM_ID: ["a1", "a2", "a3", "b1", "b2", "b4"],
            "brand": list("AAABBB"),
            "store": ["s1", "s2", "s3", "s1", "s2", "s4"],
        }
    )
    levels = {"a1": 10.0, "a2": 20.0, "a3": 30.0, "b1": 50.0, "b2": 50.0, "b4": 100.0}
    history, forecasts = _flat(levels)
    new = pd.DataFrame({ITEM_ID: ["a4"], "brand": ["A"], "store": ["s4"]})
    out = ColdStart(["brand", "store"]).forecast(items, history, forecasts, new)
    # each item's log level against its brand's mean; a store's effect: its items' mean x n/(n+1)
    mean_a, mean_b = np.mean(np.log([10, 20, 30])), np.mean(np.log([50, 50, 100]))
    rel = {"a1": np.log(10) - mean_a, "a2": np.log(20) - mean_a, "a3": np.log(30) - mean_a}
    rel |= {"b1": np.log(50) - mean_b, "b2": np.log(50) - mean_b, "b4": np.log(100) - mean_b}
    effect = {
        "s1": (rel["a1"] + rel["b1"]) / 2 * 2 / 3,
        "s2": (rel["a2"] + rel["b2"]) / 2 * 2 / 3,
        "s3": rel["a3"] / 2,
        "s4": rel["b4"] / 2,
    }
    # each brand-A peer moved from its own store's effect to s4's
    scaled = [10 * np.exp(effect["s4"] - effect["s1"]), 20 * np.exp(effect["s4"] - effect["s2"])]
    scaled.append(30 * np.exp(effect["s4"] - effect["s3"]))
    np.testing.assert_allclose(out[MEAN], np.mean(scaled))
    np.testing.assert_allclose(out["p90"], np.max(scaled))
    assert (out["peer_group"] == "brand=A").all()


def test_when_an_attribute_value_has_too_few_peers_then_a_note_says_what_was_done():
    items, history, forecasts = _known()
    new = pd.DataFrame({ITEM_ID: ["n1", "n2", "n3"], "brand": ["C", "C", None]})
    out = ColdStart(["brand"]).forecast(items, history, forecasts, new)
    assert (out["peer_group"] == "all items").all() and (out["peers"] == 6).all()
    assert out.attrs["notes"] == [
        "brand 'C': fewer than 3 known items with a forecast have it, so 2 new items (n1, n2) "
        "are forecast from all items",
        "brand (empty): fewer than 3 known items with a forecast have it, so 1 new item (n3) "
        "is forecast from all items",
    ]
    with_brand = ColdStart(["brand"]).forecast(items, history, forecasts, new.iloc[:0])
    assert with_brand.attrs["notes"] == []


def test_when_a_second_attribute_value_has_too_few_peers_then_the_note_names_the_prefix():
    """Three known items are in store s1, two of them of brand A: the note said "fewer than 3
    known items with a forecast have it", which was not so; it is fewer of brand A."""
    items, history, forecasts = _known()
    items["store"] = ["s1", "s1", "s2", "s1", "s2", "s2"]
    new = pd.DataFrame({ITEM_ID: ["n1"], "brand": ["A"], "store": ["s1"]})
    out = ColdStart(["brand", "store"]).forecast(items, history, forecasts, new)
    assert out.attrs["notes"] == [
        "store 's1': fewer than 3 known items of brand=A with a forecast have it, so 1 new item (n1) is "
        "forecast from the items of brand=A, scaled by how items with that store sell"
    ]


def test_when_early_sales_are_of_other_items_or_after_the_history_then_notes_say_they_are_ignored():
    items, history, forecasts = _known()
    new = pd.DataFrame({ITEM_ID: ["new"], "brand": ["A"]})
    early = pd.DataFrame(
        {ITEM_ID: ["new", "new", "ghost"], TIMESTAMP: [DAYS[-1], FUTURE[0], DAYS[-1]], TARGET: 40.0}
    )
    out = ColdStart(["brand"], prior_steps=7).forecast(items, history, forecasts, new, early)
    assert out.attrs["notes"] == [
        "1 early-sales row of 1 item that is not among the new items is ignored (ghost)",
        "1 early-sales row of new is dated after the history's end (2024-01-28) and is "
        "ignored: there are no peer sales on those dates to compare them with",
    ]
    # one day read, trusted 1 / 8 on the log scale: each peer times its ratio to 40 ** (1/8)
    scaled = np.array([10 * 4 ** (1 / 8), 20 * 2 ** (1 / 8), 30 * (4 / 3) ** (1 / 8)])
    np.testing.assert_allclose(out[MEAN], scaled.mean())


def test_when_a_trained_model_then_cold_start_command_adds_flagged_new_items(tmp_path: Path):
    from tidecast.automl.forecaster import AutoForecaster
    from tidecast.data.demo import generate

    data = generate(n_items=10)
    data = data[data["timestamp"] >= "2023-11-01"]
    known = data[data["item_id"] != "electronics_laptop_North"]
    auto = AutoForecaster(horizon=5, models=["SeasonalNaive"], target_col="target_value",
                          static_columns=["category", "product", "region"], backtest_windows=0, n_jobs=1)  # fmt: skip
    auto.fit(known).save(tmp_path / "model")
    pd.DataFrame({"item_id": ["new_laptop_North"], "category": ["electronics"], "product": ["laptop"],
                  "region": ["North"]}).to_csv(tmp_path / "new.csv", index=False)  # fmt: skip
    pd.DataFrame({"item_id": ["new_laptop_Nort"], "timestamp": [data["timestamp"].max()],
                  "target_value": [3.0]}).to_csv(tmp_path / "early.csv", index=False)  # fmt: skip
    result = CliRunner().invoke(
        app,
        ["cold-start", str(tmp_path / "model"), "--items", str(tmp_path / "new.csv"),
         "--early", str(tmp_path / "early.csv"),
         "--attributes", "category,product", "--out", str(tmp_path / "out.csv")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 early-sales row of 1 item that is not among the new items is ignored (new_laptop_Nort)" in (
        " ".join(result.output.split())
    )
    out = pd.read_csv(tmp_path / "out.csv")
    new = out[out[COLD_START]]
    assert set(new["item_id"]) == {"new_laptop_North"} and len(new) == 5
    assert (new["peer_group"] == "category=electronics/product=laptop").all() and (new["peers"] == 4).all()
    peers = out[out["item_id"].str.startswith("electronics_laptop")]
    assert new["mean"].to_numpy() == pytest.approx(peers.groupby("timestamp")["mean"].mean().to_numpy())
    assert not out.loc[~out[COLD_START], "peer_group"].notna().any()
