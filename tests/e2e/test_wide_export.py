"""An M5-shaped catalogue end to end: a wide sales sheet, a calendar and weekly prices, joined
by one DuckDB query as the README shows, with its plan (future calendar and prices) in the same
query's rows, late launches written as zeros and an event column empty on ordinary days."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow

DAYS, AHEAD, ITEMS = 150, 14, 8
QUERY = """
SELECT c.date AS timestamp, i.item_id AS item, {units} AS units, c.snap, c.event, p.price, i.dept
FROM 'calendar.csv' c
CROSS JOIN (SELECT DISTINCT item_id, dept FROM 'sales.csv') i
LEFT JOIN (UNPIVOT 'sales.csv' ON COLUMNS('d_.*') INTO NAME d VALUE units) s
  ON s.d = c.d AND s.item_id = i.item_id
LEFT JOIN 'prices.csv' p ON p.item_id = i.item_id AND p.week = c.week
"""


def write_catalogue(folder: Path) -> dict[str, int]:
    """The three files; returns each late item's launch day."""
    rng = np.random.default_rng(5)
    dates = pd.date_range("2016-01-04", periods=DAYS + AHEAD, freq="D")
    calendar = pd.DataFrame(
        {
            "date": dates.strftime("%Y-%m-%d"),
            "d": [f"d_{i + 1}" for i in range(len(dates))],
            "week": np.arange(len(dates)) // 7,
            "snap": (dates.day <= 10).astype(int),
            "event": np.where(np.arange(len(dates)) % 30 == 7, "Sale", None),
        }
    )
    calendar.to_csv(folder / "calendar.csv", index=False)
    rows, prices, launches = [], [], {}
    for k in range(ITEMS):
        item = f"FOODS_{k:02d}"
        launch = 0 if k < 5 else int(rng.integers(60, 130))
        weekly = np.array([1.0, 0.9, 0.9, 1.0, 1.2, 1.5, 1.4])[dates.dayofweek]
        units = rng.poisson(rng.uniform(3, 9) * weekly * (1 + 0.3 * calendar["snap"].to_numpy()))
        units[:launch] = 0
        rows.append([item, "FOODS", *units[:DAYS].tolist()])
        prices += [(item, w, 2.5) for w in calendar["week"].unique() if w >= calendar["week"][launch]]
        if launch:
            launches[item] = launch
    columns = ["item_id", "dept", *(f"d_{i + 1}" for i in range(DAYS))]
    pd.DataFrame(rows, columns=columns).to_csv(folder / "sales.csv", index=False)
    pd.DataFrame(prices, columns=["item_id", "week", "price"]).to_csv(folder / "prices.csv", index=False)
    return launches


@pytest.mark.parametrize("units", ["s.units", "COALESCE(s.units, 0)"])  # the plan's sales empty, or 0
def test_a_wide_catalogue_with_its_plan_trains_and_forecasts_from_one_query(
    tmp_path: Path, units: str
) -> None:
    launches = write_catalogue(tmp_path)
    args = ["--item-col", "item", "--target-col", "units", "--horizon", str(AHEAD)]
    args += ["--known-covariates", "snap,event,price", "--static-columns", "dept"]
    args += ["--models", "SeasonalNaive,LightGBM,DynamicRegression", "--backtest-windows", "1"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tidecast.cli",
            "train",
            "--sql",
            QUERY.format(units=units),
            *args,
            "--out",
            "run",
        ],
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    said = " ".join(result.stdout.split())
    assert f"{len(launches)} series open with" in said and "before their first sale" in said
    assert f"the data's own {ITEMS * AHEAD} rows after its last target date" in said
    if units.startswith("COALESCE"):
        assert "no series sold anything from 2016-06-02 to 2016-06-15" in said
    forecasts = pd.read_csv(tmp_path / "run" / "forecasts.csv")
    assert len(forecasts) == ITEMS * AHEAD and forecasts["timestamp"].min() == "2016-06-02"
    assert forecasts[["p10", "p50", "p90"]].notna().all().all()
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    (note,) = [p for p in report["data"]["problems"] if p["kind"] == "leading_zeros"]
    assert note["count"] == sum(launches.values())
