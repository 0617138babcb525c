"""A forecast request builds the model's input arrays (`SeriesArrays`) once.

With known covariates the request's future is filled onto the history's horizon and then every
ensemble member reads the history; both read the same arrays, so building them twice is pure
overhead on every request. Counted at `SeriesArrays.from_panel`, which every build goes through.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from conftest import fit_covariate_model
from tidecast.data.arrays import SeriesArrays
from tidecast.data.demo import future_covariates, generate
from tidecast.service.answers import forecast
from tidecast.service.predictor import LoadedModel

HORIZON = 7
ITEMS = 3
SEED = 11


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    folder = tmp_path_factory.mktemp("covariates") / "model"
    fit_covariate_model(generate(n_items=ITEMS, seed=SEED), HORIZON).save(folder)
    return LoadedModel.load(folder)


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many rows each `SeriesArrays.from_panel` call was given, in call order."""
    calls: list[int] = []
    original = SeriesArrays.from_panel.__func__  # type: ignore[attr-defined]

    def counted(cls: type[SeriesArrays], panel: pd.DataFrame, *args: Any, **kwargs: Any) -> SeriesArrays:
        calls.append(len(panel))
        return original(cls, panel, *args, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(SeriesArrays, "from_panel", classmethod(counted))
    yield calls


def future_rows() -> list[dict[str, Any]]:
    future = future_covariates(n_items=ITEMS, seed=SEED, horizon=HORIZON)
    return future.assign(timestamp=future["timestamp"].astype(str)).to_dict("records")


def test_when_stored_items_come_with_their_future_then_the_arrays_are_built_once(
    model: LoadedModel, builds: list[int]
) -> None:
    item = sorted(model.item_ids)[0]
    answer = forecast(model, model.parse_request({"item_ids": [item], "future": future_rows()}))
    assert len(answer.forecasts[0].mean) == HORIZON
    assert len(builds) == 1, builds


def test_when_fresh_history_comes_with_its_future_then_the_arrays_are_built_once(
    model: LoadedModel, builds: list[int]
) -> None:
    history = model.forecaster.history_
    item = str(history["item_id"].iloc[0])
    rows = history[history["item_id"] == item].rename(columns={"target": "target_value"})
    body = {
        "history": rows.assign(timestamp=rows["timestamp"].astype(str)).to_dict("records"),
        "future": [r for r in future_rows() if r["item_id"] == item],
    }
    answer = forecast(model, model.parse_request(body))
    assert [f.item_id for f in answer.forecasts] == [item]
    assert len(builds) == 1, builds
