"""`tidecast reconcile` as a user types it: demo files in, coherent level forecasts out."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tidecast.cli.main import app
from tidecast.data.demo import future_covariates, generate

runner = CliRunner()


def test_when_reconcile_runs_then_every_level_is_written_and_adds_up(tmp_path: Path):
    data = generate(n_items=10)
    data = data[data["timestamp"] >= "2023-10-01"]
    data.to_csv(tmp_path / "sales.csv", index=False)
    future_covariates(10, horizon=7).to_csv(tmp_path / "future.csv", index=False)
    out = tmp_path / "run"
    args = [
        "reconcile", str(tmp_path / "sales.csv"), "--hierarchy", "category/product", "--horizon", "7",
        "--target-col", "target_value", "--known-covariates", "promotion,is_holiday",
        "--future", str(tmp_path / "future.csv"), "--models", "SeasonalNaive,AutoTheta",
        "--backtest-windows", "2", "--jobs", "1", "--out", str(out),
    ]  # fmt: skip
    result = runner.invoke(app, args, env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    forecasts = pd.read_csv(out / "forecasts.csv")
    assert list(forecasts.columns[:3]) == ["level", "item_id", "timestamp"]
    assert {"mean", "p10", "p50", "p90", "category", "product"} <= set(forecasts.columns)
    items = forecasts[forecasts["level"] == "item"].groupby("timestamp")["mean"].sum()
    total = forecasts[forecasts["level"] == "total"].set_index("timestamp")["mean"]
    assert (total - items).abs().max() < 1e-6  # CSV round trip: 1e-9 is asserted in memory
    report = json.loads((out / "reconciliation.json").read_text())
    assert report["method"] in report["methods"] and report["chosen_by"] == "backtest"
    assert (out / "base_forecasts.csv").is_file() and (out / "leaderboards" / "item.csv").is_file()
    # The console wraps long lines where the terminal ends (paths under pytest's tmp folder).
    assert re.search(rf"method:\s*{report['method']}", result.output.replace("\n", ""))


def test_when_the_hierarchy_names_a_missing_attribute_then_exit_2(tmp_path: Path):
    generate(n_items=3).to_csv(tmp_path / "sales.csv", index=False)
    args = ["reconcile", str(tmp_path / "sales.csv"), "--hierarchy", "colour", "--horizon", "7",
            "--target-col", "target_value", "--out", str(tmp_path / "run")]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "colour" in result.output
    assert "fitting" not in result.output  # refused from the file's header, before any fit


@pytest.mark.parametrize(
    ("hierarchy", "method", "message"),
    [
        ("region*category", "top_down", "top-down needs a nested hierarchy"),
        ("region", "magic", "unknown reconciliation method 'magic'"),
    ],
)
def test_when_the_method_cannot_apply_then_exit_2_before_any_fit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hierarchy: str, method: str, message: str
):
    from tidecast.automl.forecaster import AutoForecaster

    def no_fit(*args: object, **kwargs: object) -> None:
        raise AssertionError("a level was fitted before the method was checked")

    monkeypatch.setattr(AutoForecaster, "fit", no_fit)
    generate(n_items=3).to_csv(tmp_path / "sales.csv", index=False)
    args = ["reconcile", str(tmp_path / "sales.csv"), "--hierarchy", hierarchy, "--method", method,
            "--horizon", "7", "--target-col", "target_value", "--out", str(tmp_path / "run")]  # fmt: skip
    result = runner.invoke(app, args, env={"COLUMNS": "250"})
    assert result.exit_code == 2, result.output
    assert message in result.output and "fitting" not in result.output
