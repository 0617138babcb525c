"""A new item's own future rows through a trained model: its promotions and closed days, not its
peers' (`coldstart.plans`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tidecast.automl.forecaster import AutoForecaster
from tidecast.coldstart.engine import forecast_with_new_items

DAYS = pd.date_range("2024-01-01", periods=70, freq="D")  # a Monday
AHEAD = pd.date_range(DAYS[-1] + pd.Timedelta(days=1), periods=7, freq="D")
LEVELS = {"a1": 10.0, "a2": 20.0, "a3": 30.0, "b1": 40.0, "b2": 50.0, "b3": 60.0}


def _rows(item: str, stamps: pd.DatetimeIndex, offset: int) -> pd.DataFrame:
    """Promotion every fifth day (from `offset`), which doubles sales; closed on Sundays."""
    promo = ((np.arange(len(stamps)) + offset) % 5 == 0).astype(float)
    open_ = (stamps.dayofweek != 6).astype(float)
    return pd.DataFrame(
        {"item_id": item, "timestamp": stamps, "promo": promo, "open": open_, "price": 1.0 + offset / 10}
    )


@pytest.fixture(scope="module")
def auto(tmp_path_factory: pytest.TempPathFactory) -> AutoForecaster:
    frames = []
    for k, (item, level) in enumerate(LEVELS.items()):
        rows = _rows(item, DAYS, k)
        rows["target"] = level * (1.0 + rows["promo"]) * rows["open"]
        rows["brand"] = item[0].upper()
        frames.append(rows)
    data = pd.concat(frames, ignore_index=True)
    model = AutoForecaster(horizon=7, models=["SeasonalNaive"], known_covariates=["promo", "open", "price"],
                           static_columns=["brand"], backtest_windows=0, n_jobs=1)  # fmt: skip
    return model.fit(data)


def _future(auto: AutoForecaster, new: pd.DataFrame | None = None) -> pd.DataFrame:
    known = pd.concat([_rows(item, AHEAD, k) for k, item in enumerate(LEVELS)], ignore_index=True)
    return pd.concat([known, new], ignore_index=True) if new is not None else known


def _new_item(auto: AutoForecaster, promo: float) -> pd.DataFrame:
    future = _future(auto, _rows("new", AHEAD, 0).assign(promo=promo))
    out = forecast_with_new_items(auto, pd.DataFrame({"item_id": ["new"], "brand": ["A"]}), future=future)
    return out[out["item_id"] == "new"].set_index("timestamp")


def test_when_a_new_item_has_its_own_future_rows_then_its_flags_lift_and_its_plan_closes(auto):
    on, off = _new_item(auto, 1.0), _new_item(auto, 0.0)
    open_ = AHEAD.dayofweek != 6
    # the history's promotion doubles sales: the item's own flags, not its peers', give the lift
    np.testing.assert_allclose(on.loc[open_, "mean"], 2.0 * off.loc[open_, "mean"])
    assert (off.loc[open_, "mean"] > 0).all()
    assert (on.loc[~open_, ["mean", "p10", "p50", "p90"]].to_numpy() == 0).all()
    assert on.attrs["notes"] == [
        "1 new item (new) is forecast to its own future rows: promo (x2.00 on its 1-days), "
        "closed where open = 0",
        "the new items' future column(s) ['price'] are not read (only 0/1 flags whose lift the history "
        "shows, and closing columns, are): their forecast follows their peers' values",
    ]


def test_when_a_new_item_has_no_future_rows_then_it_carries_its_peers_and_a_note_says_so(auto):
    new = pd.DataFrame({"item_id": ["new"], "brand": ["A"]})
    out = forecast_with_new_items(auto, new, future=_future(auto))
    mine = out[out["item_id"] == "new"]
    peers = out[out["item_id"].isin(["a1", "a2", "a3"])].groupby("timestamp")["mean"].mean()
    np.testing.assert_allclose(mine["mean"].to_numpy(), peers.to_numpy())
    assert out.attrs["notes"] == [
        "1 new item (new) has no rows in the future table: its forecast carries its peers' "
        "['promo', 'open', 'price']"
    ]
