"""A store x department file keyed by two columns, through a real `tidecast serve` on
127.0.0.1: the job's item column "Store,Dept" trains, its forecasts come back with both
columns, and the deployed endpoint answers for a joined id ("01|1") and for history rows that
give the key as its two columns."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from browser import chromium_browser, needs_chromium, search_item, signed_in
from test_e2e_http import Service, completed_job, create_key

pytestmark = pytest.mark.timeout(180)
__all__ = ["chromium_browser"]  # the `browser` fixture

TASK = {
    "horizon": 4,
    "models": ["SeasonalNaive", "AutoETS"],
    "backtest_windows": 1,
    "columns": {"item": "Store,Dept", "timestamp": "Date", "target": "Sales"},
}


def sales() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    dates = pd.date_range("2023-01-06", periods=70, freq="W-FRI")
    rows = []
    for store in ("01", "1", "12"):  # "01" and "1" are two stores
        for dept in ("1", "30"):
            level = 50 + 40 * len(store) + int(dept)
            season = 1 + 0.2 * np.sin(np.arange(70) * 2 * np.pi / 52)
            rows += [
                (store, dept, d, v) for d, v in zip(dates, level * season + rng.normal(0, 2, 70), strict=True)
            ]
    return pd.DataFrame(rows, columns=["Store", "Dept", "Date", "Sales"])


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    base = tmp_path_factory.mktemp("keyed")
    root, home = base / "root", base / "home"
    root.mkdir()
    home.mkdir()
    sales().to_csv(root / "sales.csv", index=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDECAST_")}
    env.update(TIDECAST_HOME=str(home), TIDECAST_DATA_ROOT=str(root), TIDECAST_LOG_LEVEL="INFO")
    service = Service(home=home, env=env)
    try:
        service.admin = create_key(env, "ops", "admin")
        service.forecaster = create_key(env, "shop", "forecast")
        service.start()
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module")
def deployed(service: Service) -> pd.DataFrame:
    """The keyed job's forecasts, its version approved and deployed as endpoint `keyed`."""
    job = completed_job(service, {"name": "keyed", "data": "sales.csv", "model_group": "sd", **TASK})
    assert service.call("POST", "/v1/models/sd/versions/1/approve").status_code == 200
    endpoint = service.call("POST", "/v1/endpoints", json={"name": "keyed", "group": "sd"})
    assert endpoint.status_code == 201, endpoint.text
    assert endpoint.json()["items"] == 6
    path = service.home / "artifacts" / "jobs" / job["id"] / "forecasts.csv"
    return pd.read_csv(path, dtype={"Store": str, "Dept": str})


def test_a_keyed_job_writes_both_key_columns(deployed: pd.DataFrame) -> None:
    assert list(deployed.columns[:3]) == ["Store", "Dept", "Date"]
    assert len(deployed) == 6 * 4
    assert sorted(set(deployed["Store"])) == ["01", "1", "12"]


def test_the_endpoint_answers_for_a_joined_id_and_for_history_given_by_the_key_columns(
    service: Service, deployed: pd.DataFrame
) -> None:
    stored = service.call(
        "POST", "/v1/endpoints/keyed/forecast", key=service.forecaster, json={"item_ids": ["01|30"]}
    )
    assert stored.status_code == 200, stored.text
    answer = stored.json()["forecasts"][0]
    assert answer["item_id"] == "01|30"
    expected = deployed[(deployed["Store"] == "01") & (deployed["Dept"] == "30")]
    np.testing.assert_allclose(answer["mean"], expected["mean"].to_numpy(), rtol=1e-9)

    rows = sales().query("Store == '12' and Dept == '1'")
    history = [
        {"Store": "99", "Dept": "1", "Date": str(d)[:10], "Sales": float(v)}
        for d, v in zip(rows["Date"], rows["Sales"], strict=True)
    ]
    joined = [
        {"item_id": "99|1", **{k: v for k, v in r.items() if k not in ("Store", "Dept")}} for r in history
    ]
    by_parts = service.call(
        "POST", "/v1/endpoints/keyed/forecast", key=service.forecaster, json={"history": history}
    )
    by_id = service.call(
        "POST", "/v1/endpoints/keyed/forecast", key=service.forecaster, json={"history": joined}
    )
    assert by_parts.status_code == 200 and by_id.status_code == 200, (by_parts.text, by_id.text)
    assert by_parts.json()["forecasts"][0]["item_id"] == "99|1"
    assert by_parts.json() == by_id.json()
    unknown = service.call(
        "POST", "/v1/endpoints/keyed/forecast", key=service.forecaster, json={"item_ids": ["01|99"]}
    )
    assert unknown.status_code == 404 and unknown.json()["field"] == "item_ids", unknown.text


def test_a_key_naming_a_column_the_data_lacks_is_refused_at_submission_naming_it(service: Service) -> None:
    body = {
        "name": "no-aisle",
        "data": "sales.csv",
        **TASK,
        "columns": {**TASK["columns"], "item": "Store,Aisle"},
    }
    refused = service.call("POST", "/v1/jobs", json=body)
    assert refused.status_code == 422 and refused.json()["field"] == "data", refused.text
    assert "Store,Aisle (lacking Aisle)" in refused.json()["detail"]
    assert all(job["name"] != "no-aisle" for job in service.call("GET", "/v1/jobs").json()["jobs"])


@needs_chromium
def test_the_dashboard_charts_an_item_of_a_two_column_key(
    service: Service, deployed: pd.DataFrame, browser: Any, tmp_path: Path
) -> None:
    """The explorer finds "01|30" among the endpoint's items and draws its history, forecast
    and backtests (read back from the run's CSVs with the store "01" as text)."""
    context, page, console = signed_in(browser, service.url, service.admin, {"width": 1280, "height": 860})
    try:
        search_item(page, service.url, "keyed", "01|3", "01|30")
        title = page.locator("#item-title").inner_text()
        legend = page.locator("#item-chart .u-legend .u-label").all_inner_texts()
        page.screenshot(path=str(tmp_path / "explorer-keyed.png"), full_page=True)
    finally:
        context.close()
    assert console.errors == []
    assert title == "01|30"
    assert {"history", "forecast", "p10", "p90", "backtest"} <= set(legend)
