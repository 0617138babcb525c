"""A short item's forecast is the same whatever else is in the call (`automl.peer_reference`):
predicted alone, beside its peers, with the whole catalogue, or in batch chunks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tidecast.automl.forecaster import AutoForecaster
from tidecast.automl.short_items import PEER_ITEMS
from tidecast.batch import run_batch

DAYS = pd.date_range("2024-01-01", periods=70, freq="D")
AHEAD = pd.date_range(DAYS[-1] + pd.Timedelta(days=1), periods=7, freq="D")
# Peers: two categories of six items each, levels apart, a weekly cycle; and short items of
# each category with one to three days of sales.
PEERS = {f"{c}{k}": (c, 20.0 * (k + 1) * (3.0 if c == "b" else 1.0)) for c in "ab" for k in range(6)}
SHORT = {"a_new1": ("a", [30.0]), "a_new2": ("a", [0.0, 55.0]), "b_new": ("b", [80.0, 120.0, 100.0])}


def catalogue() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    weekly = 1.0 + 0.5 * (DAYS.dayofweek >= 5)
    frames = [
        pd.DataFrame(
            {"item_id": item, "timestamp": DAYS, "category": category, "target": level * weekly}
        ).assign(target=lambda f: f["target"] * rng.uniform(0.8, 1.2, len(f)))
        for item, (category, level) in PEERS.items()
    ]
    frames += [
        pd.DataFrame(
            {"item_id": item, "timestamp": DAYS[-len(sales) :], "category": category, "target": sales}
        )
        for item, (category, sales) in SHORT.items()
    ]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def auto() -> AutoForecaster:
    model = AutoForecaster(
        horizon=7, models=["LightGBM"], static_columns=["category"], backtest_windows=1, n_jobs=1
    )
    return model.fit(catalogue())


def rows_of(forecast: pd.DataFrame, items: list[str]) -> pd.DataFrame:
    out = forecast[forecast["item_id"].isin(items)]
    return out.sort_values(["item_id", "timestamp"], ignore_index=True)


def predict(auto: AutoForecaster, items: list[str]) -> pd.DataFrame:
    data = catalogue()
    return auto.predict(data[data["item_id"].isin(items)])


def test_when_a_short_item_is_predicted_alone_with_its_peers_or_with_all_then_its_forecast_is_the_same(
    auto,
):
    whole = auto.predict(catalogue())
    assert sorted(whole.attrs[PEER_ITEMS]) == sorted(SHORT)
    for item, (category, _) in SHORT.items():
        expected = rows_of(whole, [item])
        peers = [p for p, (c, _) in PEERS.items() if c == category]
        for call in ([item], [item, *peers], [item, *SHORT], [item, *peers[:2]]):
            got = predict(auto, call)
            assert got.attrs[PEER_ITEMS] == sorted(set(call) & set(SHORT))
            pd.testing.assert_frame_equal(rows_of(got, [item]), expected)
    # alone, the peers' profile, not the model's flat fallback: their weekends sell half again
    alone = rows_of(predict(auto, ["b_new"]), ["b_new"])["mean"].to_numpy()
    assert alone[5:].min() > 1.3 * alone[:5].max()


def test_when_a_long_item_comes_with_only_its_last_days_then_it_is_not_its_own_peer(auto):
    data = catalogue()
    cut = data[(data["item_id"] == "a3") & (data["timestamp"] > DAYS[-3])]
    alone = auto.predict(cut)
    beside = auto.predict(pd.concat([cut, data[data["item_id"] == "a_new1"]], ignore_index=True))
    assert alone.attrs[PEER_ITEMS] == ["a3"]
    pd.testing.assert_frame_equal(rows_of(beside, ["a3"]), rows_of(alone, ["a3"]))


def test_when_the_model_is_saved_and_loaded_then_its_short_items_keep_their_forecast(auto, tmp_path):
    loaded = AutoForecaster.load(auto.save(tmp_path / "model"), history=False)
    got = predict(loaded, ["a_new2"])
    pd.testing.assert_frame_equal(got, predict(auto, ["a_new2"]))


def test_when_a_model_predates_the_reference_then_it_still_forecasts_from_the_calls_peers(auto):
    older = AutoForecaster.__new__(AutoForecaster)
    older.__dict__.update({k: v for k, v in auto.__dict__.items() if k != "peer_reference_"})
    whole = older.predict(catalogue())
    assert sorted(whole.attrs[PEER_ITEMS]) == sorted(SHORT)
    assert predict(older, ["a_new1"]).attrs[PEER_ITEMS] == []  # no peers in the call: as before


@pytest.mark.slow
def test_when_a_batch_runs_in_small_chunks_then_its_short_items_match_one_predict_call(auto, tmp_path):
    model = auto.save(tmp_path / "model")
    source = tmp_path / "catalogue.parquet"
    catalogue().sample(frac=1.0, random_state=3).to_parquet(source, index=False)
    result = run_batch(model, source, tmp_path / "out", chunk_rows=80, workers=1)
    assert result.manifest["chunks"] > 5 and result.items_failed == 0
    batch = pd.read_parquet(tmp_path / "out" / "forecasts")
    expected = rows_of(AutoForecaster.load(model).predict(catalogue()), list(SHORT))
    pd.testing.assert_frame_equal(rows_of(batch, list(SHORT))[expected.columns], expected)


def test_when_a_short_item_lies_beyond_the_training_dates_then_the_calls_items_are_its_peers(auto):
    later = pd.DataFrame({"item_id": "late", "timestamp": AHEAD[:2], "category": "a", "target": [40.0, 50.0]})
    got = auto.predict(later)
    assert got.attrs[PEER_ITEMS] == []  # alone: no training peer was forecast over its dates
    assert len(got) == 7
    data = catalogue()
    peers = data[data["category"] == "a"]
    newer = pd.concat(  # the peers' two newer days, as an endpoint would be sent them
        [
            peers,
            peers[peers["timestamp"] > DAYS[-3]].assign(
                timestamp=lambda f: f["timestamp"] + pd.Timedelta(days=2)
            ),
        ]
    )
    beside = auto.predict(pd.concat([newer[newer["item_id"].isin(list(PEERS))], later], ignore_index=True))
    assert beside.attrs[PEER_ITEMS] == ["late"]
    own = rows_of(beside, ["late"])["mean"].to_numpy()
    assert own.max() > 1.2 * own.min()  # the peers' weekly cycle, not the flat fallback
