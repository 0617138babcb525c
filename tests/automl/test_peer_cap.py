"""A model keeps at most K + 1 peers per group (`coldstart.peer_sample`), the same ones each fit,
and a short item's forecast from them does not depend on the call."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

import tidecast.automl.training_peers as training_peers
from tidecast.automl.forecaster import AutoForecaster
from tidecast.automl.short_items import PEER_ITEMS
from tidecast.coldstart.peer_sample import kept_peers

K = 10
DAYS = pd.date_range("2024-01-01", periods=42, freq="D")
# 40 items of category a (more than K), 5 of b (fewer), and a short item of each.
PEERS = {f"a{k:02d}": "a" for k in range(40)} | {f"b{k}": "b" for k in range(5)}
SHORT = {"a_new": ("a", [30.0, 45.0]), "b_new": ("b", [80.0])}


def smallest(ids: list[str], n: int) -> set[str]:
    """The `n` ids with the smallest first 8 bytes of their BLAKE2b digest, computed here apart."""
    return set(sorted(ids, key=lambda i: hashlib.blake2b(i.encode(), digest_size=8).digest())[:n])


def catalogue() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    weekly = 1.0 + 0.5 * (DAYS.dayofweek >= 5)
    frames = [
        pd.DataFrame(
            {"item_id": item, "timestamp": DAYS, "category": category, "target": rng.uniform(10, 90) * weekly}
        )
        for item, category in PEERS.items()
    ]
    frames += [
        pd.DataFrame(
            {"item_id": item, "timestamp": DAYS[-len(sales) :], "category": category, "target": sales}
        )
        for item, (category, sales) in SHORT.items()
    ]
    return pd.concat(frames, ignore_index=True)


def fitted() -> AutoForecaster:
    model = AutoForecaster(
        horizon=7, models=["LightGBM"], static_columns=["category"], backtest_windows=1, n_jobs=1
    )
    return model.fit(catalogue())


@pytest.fixture(scope="module")
def models() -> tuple[AutoForecaster, AutoForecaster]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(training_peers, "MAX_PEERS", K)
        return fitted(), fitted()


def test_when_a_group_holds_more_than_k_items_then_it_keeps_k_by_the_hash_of_their_ids():
    ids = [f"a{k}" for k in range(50)] + ["b0", "b1"] + [f"c{k}" for k in range(5)]
    keys = pd.DataFrame({"end": 0, "category": [i[0] for i in ids]})
    keep = kept_peers(keys, pd.Series(ids), max_peers=K, min_peers=3)
    kept = {i for i, k in zip(ids, keep, strict=True) if k}
    assert {i for i in kept if i[0] == "a"} == smallest(ids[:50], K)  # a's own K
    assert {i for i in kept if i[0] == "c"} == set(ids[-5:])  # a group of at most K keeps all
    assert {i for i in kept if i[0] == "b"} == set(ids[50:52]) & smallest(ids, K)  # b: too few to be a group
    assert len(smallest(ids, K) - kept) == 0  # every item's group: the root keeps its K


def test_when_a_category_has_more_than_k_items_then_the_model_keeps_k_plus_one_the_same_each_fit(models):
    first, second = (model.peer_reference_ for model in models)
    a_ids = [item for item, category in PEERS.items() if category == "a"]
    kept = set(first.items["item_id"])
    assert {i for i in kept if i.startswith("a")} == smallest(a_ids, K + 1)  # one more: not its own peer
    assert {i for i in kept if i.startswith("b")} == {f"b{k}" for k in range(5)}
    assert first.max_peers == K
    pd.testing.assert_frame_equal(first.items, second.items)
    pd.testing.assert_frame_equal(first.forecasts, second.forecasts)
    assert set(first.forecasts["item_id"].astype(str)) == kept
    assert first.forecasts["mean"].dtype == np.float32 and first.history["item_id"].dtype == "category"


def test_when_the_peers_are_capped_then_a_short_items_forecast_is_the_same_whatever_the_call(models):
    auto = models[0]
    data = catalogue()

    def rows(items: list[str], of: str) -> pd.DataFrame:
        got = auto.predict(data[data["item_id"].isin(items)])
        assert of in got.attrs[PEER_ITEMS]
        return got[got["item_id"] == of].reset_index(drop=True)

    a_ids = [item for item, category in PEERS.items() if category == "a"]
    for item in SHORT:
        expected = rows([item], item)
        for call in (list(data["item_id"].unique()), [item, *a_ids[:7]], [*SHORT]):
            pd.testing.assert_frame_equal(rows(call, item), expected)
