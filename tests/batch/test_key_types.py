"""Batch parts share one schema for the item key, whatever ids each chunk holds."""

from pathlib import Path

import numpy as np
import pandas as pd

from tidecast.automl.forecaster import AutoForecaster
from tidecast.batch import run_batch


def sales(stores: list[object], days: int = 60) -> pd.DataFrame:
    stamps = pd.date_range("2024-01-01", periods=days, freq="D")
    return pd.concat(
        [
            pd.DataFrame({"Store": store, "Date": stamps, "Sales": 10.0 + k + np.arange(days) % 7})
            for k, store in enumerate(stores)
        ],
        ignore_index=True,
    )


def test_a_chunk_whose_ids_stay_text_turns_the_others_to_text_too(tmp_path: Path) -> None:
    auto = AutoForecaster(
        horizon=3,
        models=["SeasonalNaive"],
        item_col="Store",
        timestamp_col="Date",
        target_col="Sales",
        n_jobs=1,
    )
    model = auto.fit(sales(list(range(1, 11)))).save(tmp_path / "model")
    source = tmp_path / "catalogue.parquet"
    frame = sales([*range(1, 31), "A12"])  # a new store whose id is no number
    frame.assign(Store=frame["Store"].astype(str)).to_parquet(source, index=False)
    result = run_batch(model, source, tmp_path / "out", chunk_rows=300, workers=1)
    assert result.manifest["chunks"] > 2 and result.manifest["items_failed"] == 0
    got = pd.read_parquet(tmp_path / "out" / "forecasts")  # one schema across the parts
    assert got["Store"].map(type).eq(str).all()
    assert sorted(got["Store"].unique(), key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0)) == [
        *(str(k) for k in range(1, 31)),
        "A12",
    ]
