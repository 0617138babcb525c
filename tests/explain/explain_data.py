"""Panels for the explanation and scenario tests: hand-built ones whose effects are known,
and a demo subset whose promotion lift the generator states (`demo.promotion_lift`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays
from tidecast.data.demo import future_covariates, generate, promotion_lift
from tidecast.data.schema import DatasetSpec

HORIZON = 14
DEMO_ITEMS = 10


def hand_panel(
    items: int = 4, days: int = 210, horizon: int = HORIZON, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Canonical history and future: level per item, slope, a weekly cycle, a promotion
    adding 20 units, a price lowering sales by 3 a unit, small noise. Promotions every 9th
    day from day 3 (none in item_0's future), prices around 10."""
    rng = np.random.default_rng(seed)
    stamps = pd.date_range("2024-01-01", periods=days + horizon, freq="D")
    rows = []
    for i in range(items):
        t = np.arange(days + horizon)
        promo = ((t + i) % 9 == 3).astype(np.int8)
        if i == 0:
            promo[days:] = 0
        price = 10 + np.round(rng.normal(0, 1, len(t)), 1)
        y = 100 + 40 * i + 0.2 * t + 8 * np.sin(2 * np.pi * t / 7) + 20 * promo - 3 * (price - 10)
        y = y + rng.normal(0, 0.5, len(t))
        rows.append(
            pd.DataFrame(
                {"item_id": f"item_{i}", "timestamp": stamps, "target": y, "promotion": promo, "price": price}
            )
        )
    frame = pd.concat(rows, ignore_index=True)
    future = frame[frame["timestamp"] >= stamps[days]][["item_id", "timestamp", "promotion", "price"]]
    history = frame[frame["timestamp"] < stamps[days]].reset_index(drop=True)
    return history, future.reset_index(drop=True)


def by_store_and_dept(frame: pd.DataFrame) -> pd.DataFrame:
    """A hand panel's items 0-3 as departments 1-2 of stores 1-2 (item_2 is "2|1")."""
    number = frame["item_id"].str[-1].astype(int)
    return frame.drop(columns="item_id").assign(Store=number // 2 + 1, Dept=number % 2 + 1)


def hand_spec() -> DatasetSpec:
    return DatasetSpec(freq="D", known_covariates=("promotion", "price"))


def arrays(panel: pd.DataFrame, spec: DatasetSpec) -> SeriesArrays:
    return SeriesArrays.from_spec(panel, spec)


def demo(n_items: int = DEMO_ITEMS) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Demo data, its future covariates and the true promotion lift over the horizon."""
    return (
        generate(n_items=n_items, seed=42),
        future_covariates(n_items=n_items, seed=42, horizon=HORIZON),
        promotion_lift(n_items=n_items, seed=42),
    )


def demo_forecaster(models: list[str], params: dict | None = None):  # type: ignore[no-untyped-def]
    from tidecast import AutoForecaster

    return AutoForecaster(
        horizon=HORIZON,
        frequency="D",
        preset="fast",
        models=models,
        backtest_windows=1,
        target_col="target_value",
        known_covariates=["promotion", "is_holiday"],
        static_columns=["category", "region"],
        n_jobs=1,
        model_params=params,
    )
