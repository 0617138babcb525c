"""SageMaker Autopilot's CSV inference: history rows in the training data's columns as
``text/csv``, the forecast back as CSV (DeepAR's JSON: tests/service/test_runtime_contract.py)."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from tidecast import AutoForecaster
from tidecast.service import runtime_contract as rc
from tidecast.service.predictor import LoadedModel
from tidecast.service.problems import Problem

DAYS = [3.0, 5.0, 7.0, 9.0, 11.0, 20.0, 25.0]


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    """SeasonalNaive keyed by Store and Dept, 3 days ahead: it forecasts each item's last week."""
    dates = pd.date_range("2024-03-04", periods=28, freq="D")
    data = pd.DataFrame(
        {
            "Store": np.repeat([1, 2], 28),
            "Dept": 3,
            "Date": np.tile(dates, 2),
            "Sales": np.concatenate([np.tile(DAYS, 4), np.tile(DAYS, 4) * 10]),
        }
    )
    auto = AutoForecaster(
        horizon=3,
        frequency="D",
        preset="fast",
        models=["SeasonalNaive"],
        item_col="Store,Dept",
        timestamp_col="Date",
        target_col="Sales",
    )
    folder = tmp_path_factory.mktemp("stores") / "model"
    auto.fit(data).save(folder)
    return LoadedModel.load(folder)


def test_when_history_comes_as_csv_then_the_forecast_comes_back_as_csv(stores: LoadedModel) -> None:
    history = "Store,Dept,Date,Sales\n" + "".join(
        f"7,3,2024-05-{6 + i:02d},{value}\n" for i, value in enumerate(DAYS * 2)
    )
    raw, content_type = rc.invoke(stores, history.encode(), "text/csv; charset=utf-8")
    assert content_type == "text/csv"
    rows = list(csv.reader(io.StringIO(raw.decode())))
    assert rows == [
        ["Store", "Dept", "Date", "mean", "p10", "p50", "p90"],
        ["7", "3", "2024-05-20T00:00:00", "3.0", "3.0", "3.0", "3.0"],
        ["7", "3", "2024-05-21T00:00:00", "5.0", "5.0", "5.0", "5.0"],
        ["7", "3", "2024-05-22T00:00:00", "7.0", "7.0", "7.0", "7.0"],
    ]
    assert rc.invoke(stores, history, "text/csv", accept="text/csv, */*")[1] == "text/csv"


@pytest.mark.parametrize(
    ("body", "accept", "status", "words"),
    [
        ("Store,Date,Sales\n1,2024-05-06,3\n", None, 422, "lacks the model's column(s) ['Dept']"),
        ("Store,Dept,Date,Sales\n", None, 422, "no rows"),
        ("", None, 422, "not a CSV of history rows"),
        ("Store,Dept,Date,Sales\n1,3,2024-05-06,3\n", "application/json", 406, "answered in text/csv"),
    ],
)
def test_bad_csv_requests_are_refused_naming_why(
    stores: LoadedModel, body: str, accept: str | None, status: int, words: str
) -> None:
    with pytest.raises(Problem) as info:
        rc.invoke(stores, body.encode(), "text/csv", accept=accept)
    assert info.value.status == status and words in info.value.detail
