"""New items matched to their peers by attribute values as users write them (a store number in a
CSV, a column name with a space), and the columns a new item's own closed days leave alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tidecast.automl.forecaster import AutoForecaster
from tidecast.coldstart.engine import forecast_with_new_items

STAMPS = pd.date_range("2024-03-04", periods=63, freq="D")  # a Monday
NEXT = pd.date_range(STAMPS[-1] + pd.Timedelta(days=1), periods=7, freq="D")
STORES = {"x1": (1.0, 10.0), "x2": (1.0, 20.0), "x3": (1.0, 30.0), "y1": (2.0, 90.0), "y2": (2.0, 100.0),
          "y3": (2.0, 110.0)}  # fmt: skip


def _plan(item: str, stamps: pd.DatetimeIndex) -> pd.DataFrame:
    """Open every day but Sunday."""
    return pd.DataFrame({"item_id": item, "timestamp": stamps, "open": (stamps.dayofweek < 6).astype(float)})


@pytest.fixture(scope="module")
def model() -> AutoForecaster:
    """Stores as whole numbers held as floats (what a merged metadata CSV with an empty cell
    gives), and a text attribute whose name has a space."""
    sales = []
    for item, (store, level) in STORES.items():
        rows = _plan(item, STAMPS).assign(store=store, **{"shop type": "mall" if store == 1.0 else "street"})
        sales.append(rows.assign(target=level * rows["open"]))
    auto = AutoForecaster(horizon=7, models=["SeasonalNaive"], known_covariates=["open"],
                          static_columns=["store", "shop type"], backtest_windows=0, n_jobs=1)  # fmt: skip
    return auto.fit(pd.concat(sales, ignore_index=True))


def _future(*new: str) -> pd.DataFrame:
    return pd.concat([_plan(item, NEXT) for item in [*STORES, *new]], ignore_index=True)


def test_when_store_numbers_are_written_as_integers_or_text_then_they_match_the_models_floats(
    model: AutoForecaster, tmp_path: Path
):
    """The model holds store 2 as 2.0; a new items CSV says 2, a Parquet of text "2". Each was
    compared as text ("2.0" against "2"), found no peer, and was forecast from all items."""
    pd.DataFrame({"item_id": ["n1"], "store": [2]}).to_csv(tmp_path / "new.csv", index=False)
    pd.DataFrame({"item_id": ["n2"], "store": ["2"]}).to_parquet(tmp_path / "new.parquet", index=False)
    for source in (tmp_path / "new.csv", tmp_path / "new.parquet"):
        out = forecast_with_new_items(model, source, attributes=["store"], future=_future())
        mine = out[out["cold_start"]]
        assert (mine["peer_group"] == "store=2").all() and (mine["peers"] == 3).all(), source
        opened = mine[mine["timestamp"].dt.dayofweek < 6]
        np.testing.assert_allclose(opened["mean"], 100.0)
        assert not [note for note in out.attrs["notes"] if "fewer than" in note], source


def test_when_an_attribute_name_has_a_space_then_new_items_are_matched_by_it(model: AutoForecaster):
    """Rows were read as named tuples, whose fields drop such a name: AttributeError."""
    new = pd.DataFrame({"item_id": ["n1"], "shop type": ["mall"]})
    out = forecast_with_new_items(model, new, attributes=["shop type"], future=_future())
    mine = out[out["cold_start"]]
    assert (mine["peer_group"] == "shop type=mall").all() and (mine["peers"] == 3).all()


def test_when_a_new_items_own_plan_closes_a_day_then_its_peer_columns_are_kept(model: AutoForecaster):
    """Closing the day zeroed every column whose name starts with p: peer_group read 0.0."""
    new = pd.DataFrame({"item_id": ["n1"], "store": [1.0]})
    out = forecast_with_new_items(model, new, attributes=["store"], future=_future("n1"))
    mine = out[out["cold_start"]].set_index("timestamp")
    sunday = mine.index.dayofweek == 6
    assert sunday.sum() == 1 and (mine.loc[sunday, ["mean", "p10", "p50", "p90"]].to_numpy() == 0).all()
    assert (mine["peer_group"] == "store=1").all() and (mine["peers"] == 3).all()
    np.testing.assert_allclose(mine.loc[~sunday, "mean"], 20.0)
