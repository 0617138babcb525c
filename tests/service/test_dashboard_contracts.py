"""The dashboard's accuracy, drift, alerts and explorer pages read the monitoring, alerts and
actuals routes through the JSON contract the README documents ("Dashboard"). Those routes are
built elsewhere, so here the service gets a router answering fixed, contract-shaped JSON
beside its real routes; the service runs in open mode (the page asks for no key), on
127.0.0.1 under uvicorn in a thread, with a real model deployed. Each page draws its data
in headless Chromium without a console error, and screenshots are saved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import Console, chromium_browser, needs_chromium, visit
from fastapi import APIRouter

from conftest import serve_in_thread
from tidecast.registry.db import Database
from tidecast.registry.settings import ServiceSettings
from tidecast.service.app import create_app

__all__ = ["chromium_browser"]  # the `browser` fixture
pytestmark = [pytest.mark.timeout(120), needs_chromium]

WEEKS = ["2024-02-05T00:00:00", "2024-02-12T00:00:00", "2024-02-19T00:00:00", "2024-02-26T00:00:00"]


# Row id 2 is what the registry calls sales version 1: the pages name the version, not the row.
SALES_V1 = {"model_version_id": 2, "model_group": "sales", "model_version": 1}


def scores(wape: float) -> dict[str, float]:
    return {
        "wql": wape * 0.8,
        "wape": wape,
        "mape": wape * 1.1,
        "mase": wape * 5,
        "bias": 0.02,
        "coverage": 0.78,
    }


def monitoring_answer(endpoint: str) -> dict[str, Any]:
    """`GET /v1/monitoring/{endpoint}` as the README's contract describes it."""
    backtest = {"group": "sales", "version": 1, "status": "Approved", "metric": "wql", "score": 0.05}
    return {
        "endpoint": endpoint,
        **SALES_V1,
        "period": "W",
        "forecasts": 40,
        "points": 120,
        "quantiles": [0.1, 0.5, 0.9],
        "coverage_interval": [0.1, 0.9],
        "overall": {"points": 120, **scores(0.12)},
        "versions": [
            {
                **SALES_V1,
                "points": 120,
                **scores(0.12),
                "backtest": backtest,
                "realised_over_backtest": 1.9,
            }
        ],
        "over_time": [
            {**SALES_V1, "period": week, "points": 30, **scores(0.08 + 0.03 * i)}
            for i, week in enumerate(WEEKS)
        ],
        "by_step": [{**SALES_V1, "step": s, "points": 40, **scores(0.1 + 0.01 * s)} for s in (1, 2, 3)],
        "items_scored": 2,
        "worst_items": [{"item_id": "item_1", "points": 60, **scores(0.15)}],
        "drift": {
            **SALES_V1,
            "recent_points": 28,
            "reference_points": 28,
            "items_compared": 2,
            "mean_score": 2.1,
            "items": [
                {
                    "item_id": "item_1",
                    "points": 28,
                    "recent_mean": 19.0,
                    "level_shift": 3.4,
                    "volatility_ratio": 1.2,
                    "covariate_shift": None,
                    "score": 3.4,
                    "reason": "level",
                },
                {
                    "item_id": "item_0",
                    "points": 28,
                    "recent_mean": 13.1,
                    "level_shift": 0.8,
                    "volatility_ratio": 0.9,
                    "covariate_shift": None,
                    "score": 0.8,
                    "reason": "level",
                },
            ],
        },
    }


def contract_routes() -> APIRouter:
    router = APIRouter()

    @router.get("/v1/monitoring/{endpoint}")
    def monitoring(endpoint: str) -> dict[str, Any]:
        return monitoring_answer(endpoint)

    @router.get("/v1/alerts")
    def alerts() -> dict[str, Any]:
        return {
            "incidents": [
                {
                    "rule": "accuracy-vs-backtest",
                    "subject": "shop",
                    "severity": "warning",
                    "state": "resolved",
                    "started_at": "2024-02-12T08:00:00+00:00",
                    "resolved_at": "2024-02-13T08:00:00+00:00",
                    "value": 1.6,
                    "threshold": 1.5,
                    "message": "realised wQL 1.6x the backtest",
                },
                {
                    "rule": "drift",
                    "subject": "shop",
                    "severity": "critical",
                    "state": "firing",
                    "started_at": "2024-02-26T08:00:00+00:00",
                    "resolved_at": None,
                    "value": 3.4,
                    "threshold": 3.0,
                    "message": "item_1 drift score 3.4",
                },
            ]
        }

    @router.get("/v1/actuals")
    def actuals(item_id: str, since: str | None = None) -> dict[str, Any]:
        days = ["2024-01-29T00:00:00", "2024-01-30T00:00:00", "2024-01-31T00:00:00"]
        return {
            "actuals": [{"item_id": item_id, "timestamp": d, "value": 14.0 + i} for i, d in enumerate(days)]
        }

    return router


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory, model_folder: Path) -> Iterator[str]:
    """The service in open mode with `model_folder` deployed as `shop`, plus the contract routes."""
    home = tmp_path_factory.mktemp("contracts")
    settings = ServiceSettings(home=home, open_mode=True)
    database = Database.from_url(settings.database_url)
    database.migrate()
    app = create_app(settings, database=database)
    # Ahead of the real routes of the same paths, which answer "no data" on this fresh home.
    before = len(app.router.routes)
    app.include_router(contract_routes())
    added = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[0:0] = added
    state = app.state.service
    state.registry.register("sales", model_folder)
    state.registry.approve("sales", 1)
    state.deployments.deploy("shop", "sales", 1)
    with serve_in_thread(app) as base:
        yield f"{base}/dashboard/"
    database.dispose()


def test_when_the_routes_answer_the_contract_then_each_page_draws_their_data(
    url: str, browser: Any, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    console = Console(page)
    try:
        page.goto(url)
        page.wait_for_selector("body[data-state=ready]")
        assert page.locator("#api-key").count() == 0  # open mode: no key asked
        visit(page, url + "#/accuracy")
        accuracy = page.locator("#accuracy-view").inner_text()
        chart = page.locator("#accuracy-chart canvas").first.bounding_box()
        page.screenshot(path=str(tmp_path / "accuracy.png"), full_page=True)
        visit(page, url + "#/drift")
        drift_rows = page.locator("#drift-view tbody tr").all_inner_texts()
        drift = page.locator("#drift-view").inner_text()
        page.screenshot(path=str(tmp_path / "drift.png"), full_page=True)
        visit(page, url + "#/alerts")
        alert_rows = page.locator("#alerts-view tbody tr").all_inner_texts()
        page.screenshot(path=str(tmp_path / "alerts.png"), full_page=True)
        visit(page, url + "#/explorer?source=shop&item=item_0")
        legend = page.locator("#item-chart .u-legend .u-label").all_inner_texts()
        note = page.locator(".legend-note").inner_text()
        page.screenshot(path=str(tmp_path / "explorer.png"), full_page=True)
    finally:
        page.close()
    assert console.errors == []
    assert "sales:1" in accuracy and "1.9" in accuracy and "78.0%" in accuracy
    assert chart is not None and chart["width"] > 250 and chart["height"] > 200
    assert [r.split("\t")[0] for r in drift_rows] == ["item_1", "item_0"]
    assert "level" in drift_rows[0]  # the largest signal, `monitor.drift`'s reason
    assert "sales:1" in drift and "id 2" not in accuracy + drift
    assert alert_rows[0].startswith("firing") and "drift" in alert_rows[0] and len(alert_rows) == 2
    assert "actuals" in legend and "3 actuals observed since" in note
