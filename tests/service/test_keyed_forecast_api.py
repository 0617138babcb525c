"""``POST /v1/endpoints/{name}/forecast`` on a model trained in the user's own columns (item
key ``Store,Dept``, ``Date``, ``Weekly_Sales``), in process (TestClient): its problems speak
in those columns, not in the service's canonical fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tidecast import AutoForecaster
from tidecast.registry.settings import ServiceSettings
from tidecast.service.predictor import LoadedModel

WEEKS = pd.date_range("2023-01-06", periods=30, freq="W-FRI")


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> ServiceSettings:
    return ServiceSettings(home=tmp_path, database_url=database_url)


def sales() -> pd.DataFrame:
    rows = [
        (store, dept, week, 100.0 + 10 * int(store) + int(dept) + k % 4 + 0.1 * k)
        for store in ("1", "2")
        for dept in ("1", "3")
        for k, week in enumerate(WEEKS)
    ]
    return pd.DataFrame(rows, columns=["Store", "Dept", "Date", "Weekly_Sales"])


@pytest.fixture(scope="module")
def trained() -> AutoForecaster:
    auto = AutoForecaster(
        horizon=3,
        models=["SeasonalNaive"],
        backtest_windows=1,
        n_jobs=1,
        item_col="Store,Dept",
        timestamp_col="Date",
        target_col="Weekly_Sales",
    )
    return auto.fit(sales())


@pytest.fixture
def shop(client: TestClient, keys: dict[str, str], trained: AutoForecaster) -> dict[str, str]:
    client.app.state.service.deployments.table.set("shop", LoadedModel(trained))  # type: ignore[attr-defined]
    return {"X-API-Key": keys["forecast"]}


def history(store: str = "1", dept: str = "3", sent_as: str | None = None) -> list[dict[str, Any]]:
    """A stored item's history as request rows, under another store's name when `sent_as`."""
    rows = sales().query("Store == @store and Dept == @dept")
    return [
        {"Store": sent_as or store, "Dept": dept, "Date": str(d.date()), "Weekly_Sales": float(v)}
        for d, v in zip(rows["Date"], rows["Weekly_Sales"], strict=True)
    ]


def refused(client: TestClient, headers: dict[str, str], body: dict[str, Any], status: int = 422) -> Any:
    response = client.post("/v1/endpoints/shop/forecast", json=body, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


def test_when_a_history_row_lacks_a_column_then_the_problem_names_the_models_own_column(
    client: TestClient, shop: dict[str, str]
) -> None:
    rows = history()
    del rows[0]["Dept"]
    body = refused(client, shop, {"history": rows})
    assert body["detail"] == "history[0]: no 'Dept' (this model's item columns are Store, Dept)"
    assert (body["field"], body["pointer"]) == ("history[0]", "/history/0")

    rows = [{k: v for k, v in row.items() if k not in ("Store", "Dept")} for row in history()]
    body = refused(client, shop, {"history": rows})
    assert body["detail"].startswith("history[0]: no 'Store' or 'Dept' (this model's item columns are")
    assert body["detail"].endswith(f"(and {len(rows) - 1} more)")

    rows = history()
    del rows[2]["Weekly_Sales"]
    body = refused(client, shop, {"history": rows})
    assert body["detail"].startswith("history[2]: no 'Weekly_Sales' (this model's target column")

    rows = history()
    del rows[1]["Date"]
    body = refused(client, shop, {"history": rows})
    assert body["detail"] == "history[1]: no 'Date' (this model's timestamp column)"


def test_when_a_value_is_not_a_number_then_the_problem_points_at_the_key_the_row_holds_it_under(
    client: TestClient, shop: dict[str, str]
) -> None:
    rows = history()
    rows[3]["Weekly_Sales"] = "lots"
    body = refused(client, shop, {"history": rows})
    assert (body["field"], body["pointer"]) == ("history[3].Weekly_Sales", "/history/3/Weekly_Sales")

    rows[3] = {"target" if k == "Weekly_Sales" else k: v for k, v in rows[3].items()}  # canonical name
    body = refused(client, shop, {"history": rows})
    assert body["field"] == "history[3].target"


def test_when_a_future_row_lacks_its_date_then_the_problem_names_the_models_timestamp_column(
    client: TestClient, shop: dict[str, str]
) -> None:
    body = refused(client, shop, {"item_ids": ["1|3"], "future": [{"Store": "1", "Dept": "3"}]})
    assert body["detail"] == "future[0]: no 'Date' (this model's timestamp column)"


def test_when_history_targets_are_missing_then_the_forecast_is_the_python_apis_on_those_rows(
    client: TestClient, shop: dict[str, str], trained: AutoForecaster
) -> None:
    """A null (or DeepAR's "NaN") target is a missing observation, as in training data: the
    forecast is `AutoForecaster.predict(data=...)`'s with those cells missing."""
    rows = history("1", "3", sent_as="9")
    rows[-1]["Weekly_Sales"] = None
    rows[-3]["Weekly_Sales"] = "NaN"
    response = client.post("/v1/endpoints/shop/forecast", json={"history": rows}, headers=shop)
    assert response.status_code == 200, response.text
    (answer,) = response.json()["forecasts"]

    data = pd.DataFrame(rows).replace({"Weekly_Sales": {"NaN": None}})
    data["Weekly_Sales"] = data["Weekly_Sales"].astype(float)
    expected = trained.predict(data=data)
    assert answer["item_id"] == "9|3"
    np.testing.assert_allclose(answer["mean"], expected["mean"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(answer["quantiles"]["0.9"], expected["p90"].to_numpy(), rtol=1e-12)
    complete = trained.predict(data=pd.DataFrame(history("1", "3", sent_as="9")))
    assert not np.allclose(expected["mean"].to_numpy(), complete["mean"].to_numpy())  # the gap counts


def test_when_a_target_is_a_bare_nan_then_the_problem_says_how_to_write_a_missing_value(
    client: TestClient, shop: dict[str, str]
) -> None:
    rows = history()
    raw = json.dumps({"history": rows}).replace(str(rows[1]["Weekly_Sales"]), "NaN", 1)  # Python's json
    response = client.post(
        "/v1/endpoints/shop/forecast", content=raw, headers={**shop, "Content-Type": "application/json"}
    )
    assert response.status_code == 422 and response.json()["field"] == "history[1].Weekly_Sales"
    assert "write a missing value as null" in response.json()["detail"]


@pytest.mark.parametrize("asked", ["1,3", "1_3", "1 3", "1, 3"])
def test_when_a_composite_id_is_written_with_another_separator_then_the_404_names_the_known_id(
    client: TestClient, shop: dict[str, str], asked: str
) -> None:
    body = refused(client, shop, {"item_ids": ["2|1", asked]}, status=404)
    assert f"{asked!r} (did you mean '1|3'?)" in body["detail"]
    assert "item ids are its columns Store, Dept joined by '|', e.g. '1|1'" in body["detail"]
    assert (body["field"], body["items"], body["did_you_mean"]) == ("item_ids", [asked], {asked: "1|3"})

    unknown = refused(client, shop, {"item_ids": ["7|3"]}, status=404)  # the right form, no such item
    assert "did you mean" not in unknown["detail"] and "joined by '|'" in unknown["detail"]
