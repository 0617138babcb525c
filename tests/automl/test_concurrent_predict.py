"""One loaded model answers many threads at once, each exactly as it would alone.

The service shares one `AutoForecaster` between its request threads, so `predict` must read
the fitted state and write none of it. The test loads a saved ensemble of a local model (per
item states, fitted on the fly for new items), the dynamic regression and the global
LightGBM, then fires requests for different item subsets, from stored and from fresh (newer,
shorter or new-item) histories, from 8 threads, and compares every answer with the same
request made alone. A shared attribute written during predict (the old `fallback_items_`)
would make some answers name the wrong fallback items; a shared feature buffer would mix up
numbers.
"""

from __future__ import annotations

import concurrent.futures
import random

import numpy as np
import pandas as pd
import pytest

from tidecast import AutoForecaster
from tidecast.data import demo
from tidecast.models.base import FALLBACK_ITEMS

HORIZON = 7
COLUMNS = ["item_id", "timestamp", "target_value", "promotion", "is_holiday", "category", "region"]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[AutoForecaster, pd.DataFrame]:
    data = demo.generate(n_items=12, seed=3)
    data = data[data["timestamp"] >= data["timestamp"].max() - pd.Timedelta(days=240)][COLUMNS]
    auto = AutoForecaster(
        horizon=HORIZON,
        target_col="target_value",
        known_covariates=["promotion", "is_holiday"],
        static_columns=["category", "region"],
        models=["AutoETS", "DynamicRegression", "LightGBM"],
        backtest_windows=1,
        n_jobs=1,
        calibrate_quantiles=True,
    ).fit(data)
    # Whatever the backtest picked, forecast with all three members so each is exercised.
    auto.weights_ = {name: 1 / 3 for name in auto.members_}
    path = auto.save(tmp_path_factory.mktemp("model") / "model")
    return AutoForecaster.load(path), data


def requests(data: pd.DataFrame) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """(history, future) pairs: item subsets, truncated histories, one new short item."""
    rng = random.Random(7)
    items = sorted(data["item_id"].unique())
    out = []
    for k in range(24):
        chosen = rng.sample(items, rng.randint(1, 5))
        history = data[data["item_id"].isin(chosen)]
        if k % 3 == 1:  # a history ending earlier: other origins, other calendar features
            cut = {item: rng.randint(1, 20) for item in chosen}
            rank = history.groupby("item_id").cumcount(ascending=False)
            history = history[rank >= history["item_id"].map(cut)]
        if k % 4 == 2:  # an item the model never saw, with a history shorter than most models need
            new = data[data["item_id"] == items[0]].tail(3).assign(item_id="new-item")
            history = pd.concat([history, new], ignore_index=True)
        last = history.groupby("item_id")["timestamp"].max()
        future = pd.concat(
            [
                pd.DataFrame(
                    {
                        "item_id": item,
                        "timestamp": pd.date_range(end + pd.Timedelta(days=1), periods=HORIZON, freq="D"),
                        "promotion": rng.choice([0, 1]),
                        "is_holiday": 0,
                    }
                )
                for item, end in last.items()
            ],
            ignore_index=True,
        )
        out.append((history.reset_index(drop=True), future))
    return out


def test_when_many_threads_predict_with_one_model_then_each_answer_equals_its_single_threaded_one(loaded):
    auto, data = loaded
    work = requests(data)
    alone = [auto.predict(history, future=future) for history, future in work]
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            together = list(pool.map(lambda req: auto.predict(req[0], future=req[1]), work))
            for one, many in zip(alone, together, strict=True):
                pd.testing.assert_frame_equal(one, many)
                assert one.attrs[FALLBACK_ITEMS] == many.attrs[FALLBACK_ITEMS]
    assert any("new-item" in items for a in alone for items in a.attrs[FALLBACK_ITEMS].values())
    assert np.isfinite(pd.concat(alone)["p90"]).all()


def test_when_a_model_predicts_then_its_fitted_state_is_unchanged(loaded):
    auto, data = loaded
    before = {name: sorted(vars(member)) for name, member in auto.members_.items()}
    top = sorted(vars(auto))
    history, future = requests(data)[2]
    auto.predict(history, future=future)
    assert sorted(vars(auto)) == top
    assert {name: sorted(vars(member)) for name, member in auto.members_.items()} == before
