"""``GET /v1/items/{run_or_model}`` and ``/v1/items/{run_or_model}/{item_id}``: an item's history,
covariates, forecast and backtests come back exactly as the run folder holds them, under every
name of the run; searching matches pieces of ids; keys and unknown names answer problems."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from conftest import assert_problems
from tidecast.automl.forecaster import AutoForecaster
from tidecast.jobs.worker import run_folder
from tidecast.registry.registry import Registry
from tidecast.registry.settings import ServiceSettings
from tidecast.reports.run import write_run
from tidecast.service.loaded_runs import LoadedRuns

HORIZON = 3


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> ServiceSettings:
    return ServiceSettings(home=tmp_path, database_url=database_url)


def panel() -> pd.DataFrame:
    """Two daily items named with a slash and a space, a promotion flag on some days."""
    timestamps = pd.date_range("2024-01-01", periods=30, freq="D")
    rows = []
    for i, item in enumerate(["shop/a b", "shop/c"]):
        promo = (np.arange(30) % 10 == 3).astype(float)
        rows.append(
            pd.DataFrame(
                {
                    "sku": item,
                    "timestamp": timestamps,
                    "sales": 10.0 + 5 * i + np.arange(30) % 7 + 4 * promo,
                    "promo": promo,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


@pytest.fixture
def job_id(settings: ServiceSettings, registry: Registry, client: TestClient, keys: dict[str, str]) -> str:
    """A run with a known covariate and user column names, registered as sales:1, deployed as `shop`."""
    job = uuid.uuid4().hex
    auto = AutoForecaster(
        horizon=HORIZON,
        models=["SeasonalNaive"],
        backtest_windows=2,
        n_jobs=1,
        item_col="sku",
        target_col="sales",
        past_covariates=["promo"],
    ).fit(panel())
    folder = run_folder(settings, job)
    write_run(auto, auto.predict(), folder)
    registry.register("sales", folder / "model", source_job_id=job)
    registry.approve("sales", 1)
    deployed = client.post("/v1/endpoints", json={"name": "shop", "group": "sales"}, headers=admin(keys))
    assert deployed.status_code == 201, deployed.text
    return job


def admin(keys: dict[str, str]) -> dict[str, str]:
    return {"X-API-Key": keys["admin"]}


def get(client: TestClient, keys: dict[str, str], url: str) -> Any:
    response = client.get(url, headers=admin(keys))
    assert response.status_code == 200, response.text
    return response.json()


def test_when_an_item_is_asked_then_its_series_are_the_run_folders(
    client: TestClient, keys: dict[str, str], job_id: str, settings: ServiceSettings
) -> None:
    folder = run_folder(settings, job_id)
    forecasts = pd.read_csv(folder / "forecasts.csv")
    backtests = pd.read_csv(folder / "backtest_forecasts.csv")
    item = get(client, keys, "/v1/items/shop/shop%2Fa%20b?points=10")
    assert item["item_id"] == "shop/a b" and item["source"] == "sales:1"
    assert item["quantiles"] == ["p10", "p50", "p90"] and item["band"] == ["p10", "p90"]
    assert item["history"]["timestamp"][-1] == "2024-01-30T00:00:00"
    assert len(item["history"]["target"]) == 10
    expected = panel()[panel()["sku"] == "shop/a b"].tail(10)
    assert item["history"]["target"] == expected["sales"].tolist()
    (promo,) = item["covariates"]
    assert (
        promo["name"] == "promo" and promo["role"] == "past" and promo["values"] == expected["promo"].tolist()
    )
    mine = forecasts[forecasts["sku"] == "shop/a b"]
    assert item["forecast"]["mean"] == pytest.approx(mine["mean"].tolist())
    assert item["forecast"]["p90"] == pytest.approx(mine["p90"].tolist())
    assert len(item["forecast"]["timestamp"]) == HORIZON
    selected = backtests[(backtests["sku"] == "shop/a b") & (backtests["model"] == "SeasonalNaive")]
    assert [b["window"] for b in item["backtests"]] == [1, 2]
    for window in item["backtests"]:
        rows = selected[selected["window"] == window["window"]]
        assert window["actual"] == pytest.approx(rows["actual"].tolist())
        assert window["p10"] == pytest.approx(rows["p10"].tolist())
    assert item["notes"] == []


def test_when_the_run_is_named_otherwise_then_the_same_item_comes_back(
    client: TestClient, keys: dict[str, str], job_id: str
) -> None:
    answers = [
        get(client, keys, f"/v1/items/{name}/shop%2Fc") for name in (job_id, "sales:1", "sales", "shop")
    ]
    assert all(a["forecast"] == answers[0]["forecast"] for a in answers)
    assert answers[0]["history"]["timestamp"][0] == "2024-01-01T00:00:00"  # 30 points < the default


def test_when_items_are_searched_then_pieces_of_ids_match_prefixes_first(
    client: TestClient, keys: dict[str, str], job_id: str
) -> None:
    assert get(client, keys, "/v1/items/shop")["items"] == ["shop/a b", "shop/c"]
    found = get(client, keys, "/v1/items/shop?q=C")
    assert found == {"source": "sales:1", "items": ["shop/c"], "total": 1}
    assert get(client, keys, "/v1/items/shop?q=shop&limit=1") == {
        "source": "sales:1",
        "items": ["shop/a b"],
        "total": 2,
    }
    assert get(client, keys, "/v1/items/shop?q=zzz")["total"] == 0


def test_when_the_key_item_or_run_is_wrong_then_a_problem_says_so(
    client: TestClient, keys: dict[str, str], job_id: str
) -> None:
    assert client.get("/v1/items/shop").status_code == 401
    assert client.get("/v1/items/shop/shop%2Fc", headers={"X-API-Key": keys["forecast"]}).status_code == 403
    assert_problems(
        client,
        admin(keys),
        [
            ("/v1/items/shop/nope", 404),
            ("/v1/items/nothing-here", 404),
            ("/v1/items/sales:7/shop%2Fc", 404),
            ("/v1/items/shop/shop%2Fc?points=0", 422),
        ],
    )
    assert (
        "has no history or forecast"
        in client.get("/v1/items/shop/nope", headers=admin(keys)).json()["detail"]
    )


def test_when_a_run_is_read_again_then_it_is_loaded_once_until_its_folder_changes(
    model_folder: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "model"
    shutil.copytree(model_folder, folder)
    runs = LoadedRuns(size=2)
    first = runs.get(folder, "plain:1")
    assert runs.get(folder, "plain:1") is first and first.items == ["item_0", "item_1"]
    assert runs.get(folder, "plain").inputs.name == "plain"  # another name, another label
    os.utime(folder, (1, 1))
    assert runs.get(folder, "plain:1") is not first
