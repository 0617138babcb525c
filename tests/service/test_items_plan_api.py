"""``GET /v1/items/{run_or_model}/{item_id}`` gives the known covariates' plan the forecast
assumed (``future_covariates``), from the run folder and from the model folder alone; a model
folder written before plans were kept still loads and serves, with no plan and no error.

Before, the item route returned the covariates over the history only, and neither folder kept
the plan: the explorer showed a forecast over promotion days with nothing to say so."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tidecast.automl.artifact import FUTURE, MANIFEST
from tidecast.automl.forecaster import AutoForecaster
from tidecast.jobs.worker import run_folder
from tidecast.registry.registry import Registry
from tidecast.registry.settings import ServiceSettings
from tidecast.reports.run import write_run
from tidecast.service.predictor import LoadedModel

HORIZON = 3
DAYS = pd.date_range("2024-01-01", periods=30, freq="D")
# The plan given with --future: item "a" on promotion on its 1st and 3rd forecast day, "b" on its 3rd.
PLAN = {"a": [1.0, 0.0, 1.0], "b": [0.0, 0.0, 1.0]}


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> ServiceSettings:
    return ServiceSettings(home=tmp_path, database_url=database_url)


def panel() -> pd.DataFrame:
    """Two daily items in the user's column names, a promotion flag on every tenth day."""
    promo = (np.arange(30) % 10 == 3).astype(float)
    return pd.concat(
        [
            pd.DataFrame(
                {"sku": item, "day": DAYS, "sales": 10.0 + i + np.arange(30) % 7 + 4 * promo, "promo": promo}
            )
            for i, item in enumerate(PLAN)
        ],
        ignore_index=True,
    )


def future() -> pd.DataFrame:
    days = pd.date_range(DAYS[-1] + pd.Timedelta(days=1), periods=HORIZON, freq="D")
    return pd.concat(
        [pd.DataFrame({"sku": item, "day": days, "promo": values}) for item, values in PLAN.items()],
        ignore_index=True,
    )


def fitted() -> AutoForecaster:
    """A quick model in the user's column names, told the promotion is known in advance."""
    columns = {"item_col": "sku", "timestamp_col": "day", "target_col": "sales"}
    quick = {"models": ["SeasonalNaive"], "backtest_windows": 1, "n_jobs": 1}
    auto = AutoForecaster(horizon=HORIZON, known_covariates=["promo"], **columns, **quick)
    return auto.fit(panel(), future=future())


def trained_run(settings: ServiceSettings) -> Path:
    """`tidecast train ... --future` as a training job writes it: forecast, then the run folder."""
    auto = fitted()
    folder = run_folder(settings, uuid.uuid4().hex)
    write_run(auto, auto.predict(future=future()), folder)
    return folder


def as_written_before(model: Path) -> None:
    """The model folder as tidecast wrote it before plans were kept: no plan file, no digest."""
    (model / FUTURE).unlink()
    manifest = json.loads((model / MANIFEST).read_text())
    del manifest["files"][FUTURE]
    (model / MANIFEST).write_text(json.dumps(manifest, indent=2))


def deployed(
    client: TestClient, keys: dict[str, str], registry: Registry, model: Path, job: str | None
) -> None:
    registry.register("sales", model, source_job_id=job)
    registry.approve("sales", 1)
    answer = client.post("/v1/endpoints", json={"name": "shop", "group": "sales"}, headers=admin(keys))
    assert answer.status_code == 201, answer.text


def admin(keys: dict[str, str]) -> dict[str, str]:
    return {"X-API-Key": keys["admin"]}


def item(client: TestClient, keys: dict[str, str], item_id: str) -> Any:
    response = client.get(f"/v1/items/shop/{item_id}", headers=admin(keys))
    assert response.status_code == 200, response.text
    return response.json()


def test_when_trained_with_a_future_then_the_item_gives_the_plan_beside_its_forecast(
    client: TestClient, keys: dict[str, str], registry: Registry, settings: ServiceSettings
) -> None:
    folder = trained_run(settings)
    deployed(client, keys, registry, folder / "model", folder.name)
    for item_id, values in PLAN.items():
        answer = item(client, keys, item_id)
        assert answer["forecast"]["timestamp"] == [
            "2024-01-31T00:00:00",
            "2024-02-01T00:00:00",
            "2024-02-02T00:00:00",
        ]
        assert answer["future_covariates"] == [{"name": "promo", "role": "known", "values": values}]
        assert [c["name"] for c in answer["covariates"]] == ["promo"]  # the history's, as before
        assert answer["notes"] == []


def test_when_only_the_model_folder_is_left_then_it_forecasts_again_with_its_plan(
    client: TestClient, keys: dict[str, str], registry: Registry, settings: ServiceSettings
) -> None:
    """A version whose run folder is gone: its model forecast the stored items again with the
    plan it kept (before, a model with known covariates gave no forecast here)."""
    folder = trained_run(settings)
    deployed(client, keys, registry, folder / "model", None)
    written = pd.read_csv(folder / "forecasts.csv")
    answer = item(client, keys, "a")
    assert answer["source"] == "sales:1"
    assert answer["forecast"]["mean"] == pytest.approx(written[written["sku"] == "a"]["mean"].tolist())
    assert answer["future_covariates"] == [{"name": "promo", "role": "known", "values": PLAN["a"]}]


def test_when_the_run_is_of_a_model_saved_before_plans_then_it_serves_without_one(
    client: TestClient, keys: dict[str, str], registry: Registry, settings: ServiceSettings
) -> None:
    folder = trained_run(settings)
    as_written_before(folder / "model")
    deployed(client, keys, registry, folder / "model", folder.name)
    answer = item(client, keys, "b")
    assert answer["future_covariates"] == [] and len(answer["forecast"]["mean"]) == HORIZON
    assert any("keeps no plan of the known covariates" in note for note in answer["notes"])
    loaded = LoadedModel.load(folder / "model")
    assert loaded.forecaster.forecast_future_ is None
    assert set(loaded.forecaster.predict(future=future())["sku"]) == {"a", "b"}


def test_when_the_model_folder_alone_was_saved_before_plans_then_it_says_so(
    client: TestClient, keys: dict[str, str], registry: Registry, settings: ServiceSettings, tmp_path: Path
) -> None:
    model = tmp_path / "old-model"
    shutil.copytree(trained_run(settings) / "model", model)
    as_written_before(model)
    deployed(client, keys, registry, model, None)
    answer = item(client, keys, "a")
    assert answer["future_covariates"] == [] and answer["forecast"]["timestamp"] == []
    assert "this source holds no forecast for the item" in answer["notes"]
