"""`tidecast report` end to end on a small demo run: HTML, JSON and CSV from the run folder, a
model folder alone, and the HTML opened in headless Chromium (Debian's package, driven by
Playwright) without console errors, with a screenshot kept in the test's folder."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tidecast.cli.main import app

runner = CliRunner()
HORIZON = 7
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six demo items (one category, five regions) trained on two cheap models."""
    folder = tmp_path_factory.mktemp("report_run")
    sales, future = folder / "sales.csv", folder / "future.csv"
    made = runner.invoke(
        app,
        [
            *("demo-data", "--out", str(sales), "--items", "6", "--seed", "1"),
            *("--future-out", str(future), "--horizon", str(HORIZON)),
        ],
    )
    assert made.exit_code == 0, made.output
    trained = runner.invoke(
        app,
        [
            *("train", str(sales), "--horizon", str(HORIZON), "--target-col", "target_value"),
            *("--known-covariates", "promotion,is_holiday", "--static-columns", "category,region"),
            *("--future", str(future), "--freq", "D", "--models", "Naive,SeasonalNaive"),
            *("--backtest-windows", "2", "--jobs", "1", "--out", str(folder / "run")),
        ],
    )
    assert trained.exit_code == 0, trained.output
    return folder / "run"


def report(*args: str) -> str:
    result = runner.invoke(app, ["report", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_when_json_is_asked_then_both_reports_hold_the_runs_numbers(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert "quality and business report of run" in report(str(run), "--format", "json", "--out", str(out))
    quality, business = json.loads(out.read_text())["reports"]
    assert (quality["kind"], business["kind"]) == ("quality", "business")
    sections = {s["title"]: s for s in quality["sections"]}
    windows = sections["Errors per backtest window"]["tables"]["window_errors"]
    assert [w["window"] for w in windows] == [1, 2]
    assert len(sections["Errors per item"]["tables"]["item_errors"]) == 6
    pit = sections["Quantile calibration"]["tables"]["pit_histogram"]
    assert sum(b["count"] for b in pit) == 6 * HORIZON * 2  # every backtest point in one bin
    forecasts = pd.read_csv(run / "forecasts.csv")
    assert business["summary"]["forecast_total"] == pytest.approx(forecasts["mean"].sum())
    tables = {n: t for s in business["sections"] for n, t in s["tables"].items()}
    by_category = tables["totals_by_category"]
    assert sum(r["forecast_total"] for r in by_category) == pytest.approx(forecasts["mean"].sum())
    assert sum(r["items"] for r in by_category) == 6
    assert {r["item_id"] for r in tables["inventory"]} == set(forecasts["item_id"])


def test_when_csv_is_asked_then_every_table_is_a_file_in_a_folder_or_a_zip(run: Path, tmp_path: Path) -> None:
    report(str(run), "--format", "csv", "--out", str(tmp_path / "tables"), "--kind", "business")
    names = sorted(p.name for p in (tmp_path / "tables").iterdir())
    assert "business_inventory.csv" in names and not any(n.startswith("quality_") for n in names)
    inventory = pd.read_csv(tmp_path / "tables" / "business_inventory.csv")
    assert (inventory["order_up_to"] >= inventory["lead_time_demand"]).all()
    report(str(run), "--format", "csv", "--out", str(tmp_path / "t.zip"), "--service-level", "0.99")
    with zipfile.ZipFile(tmp_path / "t.zip") as archive:
        assert "quality_pit_histogram.csv" in archive.namelist()
        assert set(pd.read_csv(archive.open("business_inventory.csv"))["service_level"]) == {0.99}


def test_when_only_a_model_folder_is_left_then_the_report_says_what_it_lacks(
    run: Path, tmp_path: Path
) -> None:
    model = tmp_path / "model"
    shutil.copytree(run / "model", model)
    report(str(model), "--format", "json", "--out", str(tmp_path / "m.json"))
    quality, business = json.loads((tmp_path / "m.json").read_text())["reports"]
    # The folder keeps the plan its forecast used (future.parquet): it forecasts again with it.
    assert [s["title"] for s in quality["sections"]] == ["Leaderboard", "Forecasts of chosen items"]
    assert any("no backtest forecasts" in n for n in quality["notes"])
    assert "Inventory guidance" in [s["title"] for s in business["sections"]]
    assert any("keeps no backtests" in n for n in business["notes"])

    # A folder saved before plans were kept: no forecast, and the report says why.
    manifest = json.loads((model / "manifest.json").read_text())
    del manifest["files"]["future.parquet"]
    (model / "manifest.json").write_text(json.dumps(manifest))
    (model / "future.parquet").unlink()
    report(str(model), "--format", "json", "--out", str(tmp_path / "old.json"))
    quality, business = json.loads((tmp_path / "old.json").read_text())["reports"]
    assert [s["title"] for s in quality["sections"]] == ["Leaderboard"]
    assert any("future covariates" in n for n in business["notes"]) and business["sections"] == []


def test_when_the_name_is_unknown_then_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIDECAST_HOME", str(tmp_path))
    result = runner.invoke(app, ["report", "no-such-run"])
    assert result.exit_code == 2 and "no model registry" in result.output


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)")
def test_when_the_html_opens_in_chromium_then_it_renders_its_charts_without_errors(
    run: Path, tmp_path: Path
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (dev extra)")
    page_file = tmp_path / "report.html"
    report(str(run), "--out", str(page_file), "--items", "electronics_laptop_East")
    html = page_file.read_text()
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_file.as_uri())
            titles = page.locator("svg.chart > title").all_text_contents()
            headings = page.locator("h2").all_text_contents()
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert headings == ["Model quality", "Business report"]
    assert {
        "PIT histogram",
        "Coverage per level",
        "electronics_laptop_East",
        "Forecast total by region",
    } <= set(titles)
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_when_an_item_to_plot_is_unknown_then_the_report_notes_it(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "q.json"
    report(str(run), "--format", "json", "--out", str(out), "--kind", "quality", "--items", "nope")
    (quality,) = json.loads(out.read_text())["reports"]
    assert "no forecast to plot for nope" in quality["notes"]


def test_when_the_run_was_a_backtest_only_then_quality_is_full_and_business_says_why_empty(
    run: Path, tmp_path: Path
) -> None:
    evaluation = tmp_path / "bt"
    evaluation.mkdir()
    for name in ("leaderboard.csv", "report.json", "backtest_forecasts.csv"):  # what `backtest` writes
        shutil.copy(run / name, evaluation / name)
    report(str(evaluation), "--format", "json", "--out", str(tmp_path / "bt.json"))
    quality, business = json.loads((tmp_path / "bt.json").read_text())["reports"]
    assert quality["notes"] == [] and "Quantile calibration" in [s["title"] for s in quality["sections"]]
    items = next(s for s in quality["sections"] if s["title"] == "Errors per item")["tables"]["item_errors"]
    assert all(i["mase"] is None for i in items)  # no history kept: no scale
    assert business["notes"] == ["no forecasts in this run (a backtest-only evaluation)"]
    assert business["sections"] == []
