"""The seed-spread benchmark's summary: per-system spread and the per-seed ratio, exact."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
seeds = pytest.importorskip("seeds")


def frame() -> pd.DataFrame:
    """Two sets over three seeds; the plain LightGBM the same at every seed on the first."""
    rows = []
    for seed, tide in enumerate((0.9, 1.1, 0.8)):
        rows += [
            {"dataset": "a", "system": "tidecast", "seed": seed, "wql": tide},
            {"dataset": "a", "system": "plain_lgbm", "seed": seed, "wql": 1.0},
        ]
    for seed, (tide, plain) in enumerate(((2.0, 4.0), (3.0, 4.0), (2.5, 5.0))):
        rows += [
            {"dataset": "b", "system": "tidecast", "seed": seed, "wql": tide},
            {"dataset": "b", "system": "plain_lgbm", "seed": seed, "wql": plain},
        ]
    return pd.DataFrame(rows)


def test_the_summary_gives_each_systems_spread_and_the_per_seed_ratio():
    table = seeds.summary(frame()).set_index("dataset")
    a, b = table.loc["a"], table.loc["b"]
    assert a["seeds"] == 3
    assert a["tidecast mean"] == pytest.approx(0.9333333333)
    assert (a["tidecast min"], a["tidecast max"]) == (0.8, 1.1)
    assert a["plain_lgbm mean"] == 1.0
    # Ratios per seed 0.9, 1.1, 0.8: mean 0.9333, worst 1.1, two wins of three.
    assert a["ratio mean"] == pytest.approx(0.9333333333)
    assert a["ratio worst"] == pytest.approx(1.1)
    assert a["tidecast wins"] == "2/3"
    # Ratios 0.5, 0.75, 0.5: the mean of the ratios, not the ratio of the means (2.5 / 4.333).
    assert b["ratio mean"] == pytest.approx(0.5833333333)
    assert b["ratio worst"] == pytest.approx(0.75)
    assert b["tidecast wins"] == "3/3"


def test_the_markdown_names_the_run_and_rounds_to_four_places():
    data = frame()
    data["run_at"], data["machine"], data["engine"] = (
        "2026-12-05 16:27",
        "x86_64 2 cores",
        "tidecast 0.1.0 (abc)",
    )
    text = seeds.markdown(seeds.summary(data), data)
    assert "Run 2026-12-05 16:27 on x86_64 2 cores, tidecast 0.1.0 (abc)" in text
    assert "| a | 3 | 0.9333 | 0.8000 | 1.1000 | 1.0000 | 1.0000 | 1.0000 | 0.9333 | 1.1000 | 2/3 |" in text
