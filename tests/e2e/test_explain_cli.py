"""`tidecast explain` and `tidecast whatif` as a user types them, on a trained demo run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_cli import tidecast  # the command in a subprocess, as a user types it

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("explain_cli")
    made = tidecast(
        "demo-data",
        "--out",
        "sales.csv",
        "--items",
        "6",
        "--future-out",
        "future.csv",
        "--horizon",
        "7",
        cwd=folder,
    )
    assert made.returncode == 0, made.stderr
    trained = tidecast(
        "train", "sales.csv", "--horizon", "7", "--target-col", "target_value", "--item-col", "item_id",
        "--known-covariates", "promotion,is_holiday", "--static-columns", "category,region",
        "--future", "future.csv", "--models", "DynamicRegression", "--backtest-windows", "1",
        "--preset", "fast", "--out", "runs/demo", cwd=folder,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    return folder


def test_when_a_run_is_explained_then_the_files_add_up_and_the_report_shows_them(run: Path) -> None:
    result = tidecast("explain", "runs/demo", "--future", "future.csv", cwd=run)
    assert result.returncode == 0, result.stderr
    assert "largest |sum of contributions - forecast|" in result.stderr
    assert "DynamicRegression (exact, weight 1.00)" in result.stdout
    table = pd.read_csv(run / "runs/demo/explanations.csv")
    forecasts = pd.read_csv(run / "runs/demo/forecasts.csv")
    sums = table.groupby(["item_id", "timestamp"])["contribution"].sum().rename("sum").reset_index()
    both = forecasts.merge(sums, on=["item_id", "timestamp"])
    assert len(both) == len(forecasts) == 6 * 7
    assert np.allclose(both["mean"], both["sum"], atol=1e-6)
    totals = pd.read_csv(run / "runs/demo/explanation_items.csv")
    assert list(totals.columns) == ["item_id", "feature", "kind", "total", "mean_abs"]
    assert np.isclose(totals["total"].sum(), forecasts["mean"].sum())
    report = tidecast("report", "runs/demo", "--kind", "quality", "-f", "json", "-o", "quality.json", cwd=run)
    assert report.returncode == 0, report.stderr
    sections = [s["title"] for s in json.loads((run / "quality.json").read_text())["reports"][0]["sections"]]
    assert "Why this forecast: explanations" in sections


def test_when_a_scenario_is_run_then_baseline_and_scenario_sit_side_by_side(run: Path) -> None:
    rules = {
        "name": "three promotion days",
        "rules": [{"covariate": "promotion", "set": 1, "where": {"step": {"to": 3}}}],
    }
    (run / "rules.json").write_text(json.dumps(rules))
    result = tidecast(
        "whatif", "runs/demo", "--future", "future.csv", "--rules", "rules.json", "--out", "w.csv", cwd=run
    )
    assert result.returncode == 0, result.stderr
    assert "rule 0 (promotion): 18 rows matched" in result.stdout and "total" in result.stdout
    frame = pd.read_csv(run / "w.csv")
    assert list(frame.columns) == [
        "item_id",
        "timestamp",
        "step",
        "baseline",
        "scenario",
        "difference",
        "percent",
    ]
    assert (frame.loc[frame["step"] <= 3, "difference"] >= 0).all()
    assert frame.loc[frame["step"] <= 3, "difference"].sum() > 0


def test_when_a_rule_is_wrong_then_one_error_line_says_why(run: Path) -> None:
    (run / "bad.json").write_text(json.dumps([{"covariate": "price", "multiply": 0.9}]))
    result = tidecast("whatif", "runs/demo", "--future", "future.csv", "--rules", "bad.json", cwd=run)
    assert result.returncode == 2
    assert "'price' is not a known covariate of the model" in result.stderr
