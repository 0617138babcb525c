"""A DeepAR-style instance of an item the model was trained on may leave `cat` out: the model's
own static values for it are used (the recipe's requests send the target alone)."""

from __future__ import annotations

import pandas as pd
import pytest

from tidecast.automl.forecaster import AutoForecaster
from tidecast.data.demo import generate
from tidecast.service.predictor import LoadedModel
from tidecast.service.problems import Problem
from tidecast.service.runtime_contract import predict


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    data = generate(n_items=3, seed=5)[["timestamp", "target_value", "item_id", "category", "region"]]
    data = data[data["timestamp"] >= data["timestamp"].max() - pd.Timedelta(days=89)]
    auto = AutoForecaster(
        horizon=5,
        preset="fast",
        target_col="target_value",
        static_columns=["category", "region"],
        models=["LightGBM"],
        backtest_windows=1,
    )
    auto.fit(data)
    return LoadedModel.load(auto.save(tmp_path_factory.mktemp("m") / "model"), "shop")


def body(model: LoadedModel, item: str, cat: list[str] | None) -> dict:
    history = model.forecaster.history_
    rows = history[history["item_id"] == history["item_id"].iloc[0]]
    instance = {"start": str(rows["timestamp"].iloc[0]), "target": rows["target"].tolist(), "item_id": item}
    if cat is not None:
        instance["cat"] = cat
    return {"instances": [instance], "configuration": {"output_types": ["mean", "quantiles"]}}


def test_a_known_items_instance_without_cat_takes_the_models_own_static_values(model: LoadedModel) -> None:
    history = model.forecaster.history_
    item = str(history["item_id"].iloc[0])
    own = history.loc[history["item_id"] == item, ["category", "region"]].iloc[0].tolist()
    assert predict(model, body(model, item, None)) == predict(model, body(model, item, own))


def test_an_unknown_items_instance_without_cat_is_told_what_to_send(model: LoadedModel) -> None:
    with pytest.raises(Problem) as info:
        predict(model, body(model, "a_new_item", None))
    assert info.value.status == 422
    assert (
        "needs 2 cat value(s) (an item the model was trained on may leave cat out); got 0"
        in info.value.detail
    )
