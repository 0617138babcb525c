"""SageMaker's DeepAR JSON inference contract, answered by a tidecast model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import fit_covariate_model
from tidecast import AutoForecaster
from tidecast.data.demo import future_covariates, generate
from tidecast.service import runtime_contract as rc
from tidecast.service.predictor import LoadedModel
from tidecast.service.problems import Problem
from tidecast.service.requests import Limits

HORIZON = 14
WEEK = [10.0, 12.0, 14.0, 16.0, 18.0, 30.0, 40.0]


@pytest.fixture(scope="module")
def weekly(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    """SeasonalNaive on series that repeat their week: forecasts are the last week, exactly."""
    days = pd.date_range("2024-01-01", periods=56, freq="D")
    data = pd.DataFrame({"item_id": "a", "timestamp": days, "target_value": np.tile(WEEK, 8)})
    auto = AutoForecaster(
        horizon=HORIZON, frequency="D", preset="fast", models=["SeasonalNaive"], target_col="target_value"
    )
    folder = tmp_path_factory.mktemp("weekly") / "model"
    auto.fit(data).save(folder)
    return LoadedModel.load(folder)


@pytest.fixture(scope="module")
def noisy(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    """Target-only demo data (like the recipe's AutoML job): quantile bands of real width."""
    data = generate(n_items=3, seed=3)[["item_id", "timestamp", "target_value"]]
    auto = AutoForecaster(
        horizon=HORIZON, frequency="D", preset="fast", models=["SeasonalNaive"], target_col="target_value"
    )
    folder = tmp_path_factory.mktemp("noisy") / "model"
    auto.fit(data).save(folder)
    return LoadedModel.load(folder)


@pytest.fixture(scope="module")
def covariates() -> tuple[LoadedModel, pd.DataFrame, pd.DataFrame]:
    data = generate(n_items=3, seed=5)
    return (
        LoadedModel(fit_covariate_model(data, HORIZON)),
        data,
        future_covariates(n_items=3, seed=5, horizon=HORIZON),
    )


def instance(target: list, start: str = "2025-03-03", **extra: object) -> dict:
    return {"start": start, "target": target, **extra}


def problem(model: LoadedModel, body: object) -> Problem:
    with pytest.raises(Problem) as info:
        rc.predict(model, body)
    return info.value


def test_a_repeating_week_round_trips_exactly(weekly: LoadedModel) -> None:
    pattern = [5.0, 1.0, 2.0, 3.0, 4.0, 8.0, 9.0]
    body = {"instances": [instance(pattern * 3), instance(WEEK * 2, start="2025-01-01 00:00:00")]}
    out = rc.predict(weekly, body)
    first, second = out["predictions"]
    assert first["mean"] == pattern * 2
    assert first["quantiles"] == {"0.1": pattern * 2, "0.5": pattern * 2, "0.9": pattern * 2}
    assert second["mean"] == WEEK * 2
    assert "samples" not in first  # DeepAR's default output types: mean and quantiles


def test_the_recipes_exact_request_body_gives_predictions_of_the_horizon(noisy: LoadedModel) -> None:
    """`generate_automl_forecasts.py` of the recipe: one item's validation rows, sorted."""
    val_data = noisy.forecaster.history_.rename(columns={"target": "target_value"})
    val_data = val_data.assign(timestamp=val_data["timestamp"].dt.strftime("%Y-%m-%d"))  # as read from CSV
    item_id = val_data["item_id"].unique()[0]
    item_data = val_data[val_data["item_id"] == item_id].copy()
    item_data = item_data.sort_values("timestamp")
    inference_data = {
        "instances": [
            {
                "start": item_data["timestamp"].iloc[0],
                "target": item_data["target_value"].tolist(),
                "item_id": item_id,
            }
        ],
        "configuration": {
            "num_samples": 100,
            "output_types": ["mean", "quantiles"],
            "quantiles": ["0.1", "0.5", "0.9"],
        },
    }
    raw, content_type = rc.invoke(noisy, json.dumps(inference_data).encode(), "application/json")
    result = json.loads(raw)
    assert content_type == "application/json"
    (prediction,) = result["predictions"]
    assert set(prediction) == {"mean", "quantiles"}
    assert len(prediction["mean"]) == HORIZON
    assert list(prediction["quantiles"]) == ["0.1", "0.5", "0.9"]
    assert all(len(v) == HORIZON for v in prediction["quantiles"].values())
    # the same history from the stored panel gives the same forecast as the model's own predict
    stored = noisy.forecaster.predict()
    want = stored[stored["item_id"] == item_id]["mean"].to_numpy()
    np.testing.assert_allclose(prediction["mean"], want, rtol=1e-12)


def test_the_recipes_lambda_body_is_answered(noisy: LoadedModel) -> None:
    body = {
        "instances": [
            {"start": "2023-01-01", "target": [100 + i * 0.1 for i in range(365)], "item_id": "test_item"}
        ],
        "configuration": {
            "num_samples": 100,
            "output_types": ["mean", "quantiles"],
            "quantiles": ["0.1", "0.5", "0.9"],
        },
    }
    (prediction,) = rc.predict(noisy, body)["predictions"]
    assert len(prediction["mean"]) == HORIZON
    p10, p90 = prediction["quantiles"]["0.1"], prediction["quantiles"]["0.9"]
    assert all(lo <= hi for lo, hi in zip(p10, p90, strict=True))


def test_quantile_subset_and_untrained_quantile(noisy: LoadedModel) -> None:
    target = noisy.forecaster.history_["target"].to_numpy()[:100].tolist()
    body = {"instances": [instance(target)], "configuration": {"quantiles": ["0.9", "0.5"]}}
    (prediction,) = rc.predict(noisy, body)["predictions"]
    assert list(prediction["quantiles"]) == ["0.9", "0.5"]
    full = rc.predict(noisy, {"instances": [instance(target)]})["predictions"][0]
    assert prediction["quantiles"]["0.9"] == full["quantiles"]["0.9"]
    p = problem(noisy, {"instances": [instance(target)], "configuration": {"quantiles": ["0.1", "0.25"]}})
    assert (p.status, p.field) == (422, "configuration.quantiles[1]")


def test_samples_are_seeded_draws_from_the_quantile_function(noisy: LoadedModel) -> None:
    target = noisy.forecaster.history_["target"].to_numpy()[:200].tolist()
    body = {
        "instances": [instance(target)],
        "configuration": {"num_samples": 500, "output_types": ["samples", "quantiles"]},
    }
    (prediction,) = rc.predict(noisy, body)["predictions"]
    samples = np.array(prediction["samples"])
    assert samples.shape == (500, HORIZON)
    assert rc.predict(noisy, body)["predictions"][0]["samples"] == prediction["samples"]  # reproducible
    q = {k: np.array(v) for k, v in prediction["quantiles"].items()}
    assert np.all(samples >= q["0.1"] - 1e-9) and np.all(samples <= q["0.9"] + 1e-9)
    assert q["0.9"].max() > q["0.1"].min()  # a real band, so the check below means something
    below_median = (samples <= q["0.5"][None, :] + 1e-12).mean(axis=0)
    assert np.all(np.abs(below_median - 0.5) < 0.08)


def test_sample_paths_follow_the_interpolated_quantile_function() -> None:
    levels = np.array([0.1, 0.5, 0.9])
    quantiles = np.array([[0.0, 10.0, 20.0], [100.0, 110.0, 120.0]])  # (horizon=2, levels)
    paths = rc.sample_paths(quantiles, levels, 4000, seed=1)
    assert paths.shape == (4000, 2)
    np.testing.assert_allclose(paths[:, 1] - paths[:, 0], 100.0)  # one draw shared by both steps
    assert (paths[:, 0] == 0.0).mean() == pytest.approx(0.1, abs=0.02)  # flat below the lowest level
    inner = paths[(paths[:, 0] > 0) & (paths[:, 0] < 20), 0]
    assert np.quantile(inner, 0.5) == pytest.approx(10.0, abs=0.7)


def test_dynamic_feat_and_cat_map_onto_the_models_covariates(
    covariates: tuple[LoadedModel, pd.DataFrame, pd.DataFrame],
) -> None:
    model, data, future = covariates
    item = data["item_id"].iloc[0]
    rows = data[data["item_id"] == item]
    ahead = future[future["item_id"] == item]
    feats = [
        rows[c].astype(float).tolist() + ahead[c].astype(float).tolist() for c in ("promotion", "is_holiday")
    ]
    body = {
        "instances": [
            instance(
                rows["target_value"].tolist(),
                start=str(rows["timestamp"].iloc[0].date()),
                item_id=item,
                dynamic_feat=feats,
                cat=[rows["category"].iloc[0], rows["region"].iloc[0]],
            )
        ]
    }
    (prediction,) = rc.predict(model, body)["predictions"]
    want = model.forecaster.predict(future=future)
    want = want[want["item_id"] == item]
    np.testing.assert_allclose(prediction["mean"], want["mean"].to_numpy(), rtol=1e-9)
    # a different promotion plan changes the forecast: the features are used, not ignored
    feats[0][-HORIZON:] = [1.0] * HORIZON
    changed = rc.predict(model, body)["predictions"][0]
    assert changed["mean"] != prediction["mean"]


def test_covariate_shapes_are_checked(covariates: tuple[LoadedModel, pd.DataFrame, pd.DataFrame]) -> None:
    model, _, _ = covariates
    target = [float(v) for v in range(30)]
    right = [[0.0] * (30 + HORIZON)] * 2
    cases = [
        (instance(target, cat=["a", "b"]), "instances[0].dynamic_feat"),
        (
            instance(target, dynamic_feat=[[0.0] * 44, [0.0] * 30], cat=["a", "b"]),
            "instances[0].dynamic_feat[1]",
        ),
        (instance(target, dynamic_feat=right), "instances[0].cat"),
        (instance(target, dynamic_feat=[[0.0] * 43 + [float("inf")], [0.0] * 44], cat=["a", "b"]), None),
    ]
    for body, field in cases:
        p = problem(model, {"instances": [body]})
        assert p.status == 422
        if field is not None:
            assert p.field == field, p.detail
        else:
            assert p.field is not None and p.field.startswith("instances[0].dynamic_feat[0]")


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"instances": []}, 422, "instances"),
        ({}, 422, "instances"),
        ({"instances": [instance([])]}, 422, "instances[0].target"),
        ({"instances": [instance([None, "NaN"])]}, 422, "instances[0].target"),
        ({"instances": [instance([1.0, 2.0, float("inf")])]}, 422, "instances[0].target[2]"),
        ({"instances": [instance([1.0, "lots"])]}, 422, "instances[0].target[1]"),
        ({"instances": [instance(WEEK), instance(WEEK, start="yesterday-ish")]}, 422, "instances[1].start"),
        ({"instances": [{"target": WEEK}]}, 422, "instances[0].start"),
        ({"instances": [instance(WEEK, colour="red")]}, 422, "instances[0].colour"),
        (
            {"instances": [instance(WEEK)], "configuration": {"output_types": ["median"]}},
            422,
            "configuration.output_types[0]",
        ),
        (
            {"instances": [instance(WEEK)], "configuration": {"num_samples": 0}},
            422,
            "configuration.num_samples",
        ),
        (
            {"instances": [instance(WEEK)], "configuration": {"quantiles": ["x"]}},
            422,
            "configuration.quantiles[0]",
        ),
    ],
)
def test_bad_requests_name_the_field(weekly: LoadedModel, body: dict, status: int, field: str) -> None:
    p = problem(weekly, body)
    assert (p.status, p.field) == (status, field), p.detail
    assert p.to_dict()["pointer"].startswith("/")


def test_missing_values_in_the_target_are_filled_not_refused(weekly: LoadedModel) -> None:
    target = WEEK * 3
    target[9] = "NaN"  # type: ignore[call-overload]
    target[10] = None  # type: ignore[call-overload]
    (prediction,) = rc.predict(weekly, {"instances": [instance(target)]})["predictions"]
    assert prediction["mean"] == WEEK * 2


def test_a_start_off_the_models_grid_is_refused(tmp_path: Path) -> None:
    days = pd.date_range("2024-01-07", periods=30, freq="W-SUN")
    data = pd.DataFrame({"item_id": "a", "timestamp": days, "target": np.arange(30.0)})
    auto = AutoForecaster(horizon=4, frequency="W-SUN", preset="fast", models=["Naive"]).fit(data)
    model = LoadedModel(auto)
    p = problem(model, {"instances": [instance([1.0] * 10, start="2025-03-04")]})  # a Tuesday
    assert (p.status, p.field) == (422, "instances[0].start")
    assert (
        len(rc.predict(model, {"instances": [instance([1.0] * 10, start="2025-03-02")]})["predictions"]) == 1
    )


def test_json_lines_answers_one_prediction_per_line(weekly: LoadedModel) -> None:
    pattern = [5.0, 1.0, 2.0, 3.0, 4.0, 8.0, 9.0]
    text = json.dumps(instance(pattern * 2)) + "\n\n" + json.dumps(instance(WEEK * 2)) + "\n"
    raw, content_type = rc.invoke(weekly, text.encode(), "application/jsonlines; charset=utf-8")
    assert content_type == "application/jsonlines"
    lines = raw.decode().splitlines()
    assert [json.loads(line)["mean"] for line in lines] == [pattern * 2, WEEK * 2]
    bad = json.dumps(instance(WEEK)) + "\n" + json.dumps(instance([1.0, "x"]))
    with pytest.raises(Problem) as info:
        rc.invoke(weekly, bad, "application/jsonlines")
    assert info.value.field == "instances[1].target[1]"


def test_content_type_and_malformed_json(weekly: LoadedModel) -> None:
    with pytest.raises(Problem) as info:
        rc.invoke(weekly, b"a,b\n1,2", "text/plain")
    assert info.value.status == 415
    with pytest.raises(Problem) as info:
        rc.invoke(weekly, b"{not json", "application/json")
    assert info.value.status == 400


def test_limits_give_413(weekly: LoadedModel) -> None:
    body = {"instances": [instance(WEEK)] * 3}
    with pytest.raises(Problem) as info:
        rc.predict(weekly, body, Limits(max_items=2))
    assert info.value.status == 413
    with pytest.raises(Problem) as info:
        rc.predict(weekly, body, Limits(max_history_rows=20))
    assert info.value.status == 413


def test_instances_with_the_same_item_id_are_forecast_separately(weekly: LoadedModel) -> None:
    pattern = [5.0, 1.0, 2.0, 3.0, 4.0, 8.0, 9.0]
    body = {"instances": [instance(pattern * 2, item_id="x"), instance(WEEK * 2, item_id="x")]}
    first, second = rc.predict(weekly, body)["predictions"]
    assert (first["mean"], second["mean"]) == (pattern * 2, WEEK * 2)
