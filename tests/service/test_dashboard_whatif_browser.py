"""The dashboard's What if page in headless Chromium, on a deployed covariate model: a future
file and rules in, baseline and scenario out, and a bad rule's problem shown to the user."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import Console, chromium_browser, needs_chromium, visit

from conftest import fit_covariate_model, serve_in_thread
from tidecast.data.demo import future_covariates, generate
from tidecast.registry.db import Database
from tidecast.registry.settings import ServiceSettings
from tidecast.service.app import create_app

__all__ = ["chromium_browser"]  # the `browser` fixture
pytestmark = [pytest.mark.timeout(180), needs_chromium]

HORIZON = 7


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, str]]:
    home = tmp_path_factory.mktemp("whatif")
    folder = home / "model"
    fit_covariate_model(generate(n_items=3, seed=5), HORIZON).save(folder)
    future = home / "future.csv"
    frame = future_covariates(n_items=3, seed=5, horizon=HORIZON)
    frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%d")
    frame.to_csv(future, index=False)
    settings = ServiceSettings(home=home, open_mode=True)
    database = Database.from_url(settings.database_url)
    database.migrate()
    app = create_app(settings, database=database)
    state = app.state.service
    state.registry.register("sales", folder)
    state.registry.approve("sales", 1)
    state.deployments.deploy("shop", "sales", 1)
    with serve_in_thread(app) as base:
        yield f"{base}/dashboard/", future, str(frame["item_id"].iloc[0])
    database.dispose()


def scenario(page: Any, future: Path, rules: object) -> str:
    """Send the form with `future` and `rules`; the result's text once it is drawn."""
    page.evaluate("document.getElementById('whatif-result').replaceChildren()")
    page.set_input_files("#whatif-future", str(future))
    page.fill("#whatif-rules", json.dumps(rules))
    page.click("#main form button[type=submit]")
    page.wait_for_selector("#whatif-result table, #whatif-result .error")
    return page.locator("#whatif-result").inner_text()


def test_when_a_scenario_is_sent_then_baseline_and_scenario_show_side_by_side(
    site: tuple[str, Path, str], browser: Any, tmp_path: Path
) -> None:
    url, future, item = site
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    console = Console(page)
    try:
        rules = [{"covariate": "promotion", "set": 1, "where": {"step": {"to": 3}}}]
        visit(page, f"{url}#/whatif?endpoint=shop&items={item}")
        text = scenario(page, future, rules)
        page.wait_for_selector("#whatif-chart canvas")
        legend = page.locator("#whatif-chart .u-legend .u-label").all_inner_texts()
        page.screenshot(path=str(tmp_path / "whatif.png"), full_page=True)
        bad = scenario(page, future, [{"covariate": "price", "multiply": 0.9}])
    finally:
        page.close()
    assert console.errors == [] or all("422" in e for e in console.errors), console.errors
    assert "rule 0 (promotion): 3 rows matched" in text and item in text
    assert "baseline" in legend and "scenario" in legend
    assert "'price' is not a known covariate of the model" in bad


def test_when_a_changed_item_is_dormant_then_the_page_says_why_it_stays_zero(
    site: tuple[str, Path, str], browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server runs in this process: the item is declared dormant at forecast time.
    import numpy as np

    import tidecast.automl.dormant as dormant

    url, future, item = site
    monkeypatch.setattr(dormant, "dormant_items", lambda history, steps: np.array([item], dtype=object))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        visit(page, f"{url}#/whatif?endpoint=shop&items={item}")
        text = scenario(page, future, [{"covariate": "promotion", "set": 1}])
        note = page.locator("#whatif-result .note").inner_text()
        page.screenshot(path=str(tmp_path / "whatif-dormant.png"), full_page=True)
    finally:
        page.close()
    assert note.startswith(f"dormant, so 0 whatever the scenario: {item} (1 of the items")
    assert note in text
