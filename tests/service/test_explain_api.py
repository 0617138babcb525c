"""``POST /v1/endpoints/{name}/explain`` and ``/whatif`` on a deployed covariate model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from conftest import fit_covariate_model
from tidecast.data.demo import future_covariates, generate, promotion_lift
from tidecast.registry.settings import ServiceSettings
from tidecast.service.predictor import LoadedModel

HORIZON = 7
ITEMS = 4


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> ServiceSettings:
    return ServiceSettings(home=tmp_path, database_url=database_url)


@pytest.fixture(scope="module")
def loaded() -> LoadedModel:
    return LoadedModel(fit_covariate_model(generate(n_items=ITEMS, seed=42), HORIZON))


def future_rows() -> list[dict]:
    frame = future_covariates(n_items=ITEMS, seed=42, horizon=HORIZON)
    frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%d")
    return frame.to_dict(orient="records")


@pytest.fixture
def shop(client: TestClient, keys: dict[str, str], loaded: LoadedModel) -> dict[str, str]:
    client.app.state.service.deployments.table.set("shop", loaded)  # type: ignore[attr-defined]
    return {"X-API-Key": keys["forecast"]}


def test_when_items_are_explained_then_each_steps_contributions_sum_to_its_forecast(
    client: TestClient, shop: dict[str, str], loaded: LoadedModel
) -> None:
    rows = future_rows()
    rows[1]["promotion"] = 1  # the first item's second day
    item = rows[1]["item_id"]
    response = client.post(
        "/v1/endpoints/shop/explain", json={"item_ids": [item], "future": rows}, headers=shop
    )
    assert response.status_code == 200, response.text
    body = response.json()
    (answer,) = body["items"]
    assert answer["item_id"] == item and len(answer["timestamps"]) == HORIZON
    sums = np.sum([values for values in answer["contributions"].values()], axis=0)
    assert np.allclose(sums, answer["forecast"], atol=1e-6)
    assert answer["kinds"]["promotion"] == "covariate" and answer["kinds"]["level"] == "level"
    assert answer["contributions"]["promotion"][1] > 10  # the demo's lift is 0.7 x a base of 20-150
    assert body["methods"] == {"DynamicRegression": "exact"}
    assert abs(sum(r["share"] for r in body["importance"]) - 1) < 1e-9


def test_when_a_promotion_is_switched_on_then_the_answer_shows_the_lift(
    client: TestClient, shop: dict[str, str], loaded: LoadedModel
) -> None:
    future = pd.DataFrame(future_rows())
    item = next(i for i, rows in future.groupby("item_id") if rows["promotion"].sum() == 0)
    body = {
        "item_ids": [item],
        "future": future_rows(),
        "rules": [{"covariate": "promotion", "set": 1, "where": {"step": 3}}],
    }
    response = client.post("/v1/endpoints/shop/whatif", json=body, headers=shop)
    assert response.status_code == 200, response.text
    answer = response.json()
    (row,) = answer["items"]
    lift = promotion_lift(ITEMS, 42, days=pd.to_datetime(row["timestamps"]))
    truth = float(lift.loc[lift["item_id"] == item, "lift"].iloc[2])
    assert 0.8 < row["difference"][2] / truth < 1.2
    assert np.allclose(np.array(row["scenario"]) - row["baseline"], row["difference"])
    assert answer["rules"] == [{"rule": 0, "covariate": "promotion", "matched": 1, "changed": 1}]
    assert abs(answer["total"]["difference"] - sum(row["difference"])) < 1e-6
    assert answer["notes"] == []  # no changed item is dormant


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        (
            "/v1/endpoints/shop/whatif",
            {"item_ids": ["nope"], "rules": [{"covariate": "promotion", "set": 1}]},
            404,
            "item_ids",
        ),
        (
            "/v1/endpoints/shop/whatif",
            {"item_ids": ["ITEM"], "rules": [{"covariate": "price", "set": 1}]},
            422,
            "rules",
        ),
        (
            "/v1/endpoints/shop/whatif",
            {"item_ids": ["ITEM"], "rules": [{"covariate": "promotion"}]},
            422,
            "rules",
        ),
        (
            "/v1/endpoints/shop/whatif",
            {"item_ids": ["ITEM"], "rules": [{"covariate": "promotion", "set": 1, "where": {"colour": 1}}]},
            422,
            "rules",
        ),
        ("/v1/endpoints/shop/explain", {"item_ids": ["ITEM"]}, 422, "future"),
        ("/v1/endpoints/shop/explain", {"item_ids": []}, 422, "item_ids"),
        ("/v1/endpoints/other/explain", {"item_ids": ["ITEM"]}, 404, None),
    ],
)
def test_when_the_request_is_wrong_then_a_problem_names_the_field(
    client: TestClient,
    shop: dict[str, str],
    loaded: LoadedModel,
    path: str,
    body: dict,
    status: int,
    field: str | None,
) -> None:
    item = str(sorted(loaded.item_ids)[0])
    body = {
        k: [item if v == "ITEM" else v for v in value] if k == "item_ids" else value
        for k, value in body.items()
    }
    if "rules" in body:
        body["future"] = future_rows()
    response = client.post(path, json=body, headers=shop)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["detail"]
    if field is not None:
        assert problem.get("field", "").startswith(field) or problem["errors"][0]["field"].startswith(
            field
        ), problem


def test_when_no_key_is_sent_then_explain_is_refused(client: TestClient, shop: dict[str, str]) -> None:
    assert client.post("/v1/endpoints/shop/explain", json={"item_ids": ["x"]}).status_code == 401
