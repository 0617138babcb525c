"""The forecast engine behind the endpoints: exact forecasts, validation problems, atomic swaps."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import fit_covariate_model
from tidecast import AutoForecaster
from tidecast.data.demo import future_covariates, generate
from tidecast.service.answers import cached_forecast_json, forecast
from tidecast.service.endpoint_table import EndpointTable
from tidecast.service.handlers import problem_response
from tidecast.service.predictor import ANSWER_SHAPES, LoadedModel
from tidecast.service.problems import Problem
from tidecast.service.requests import DEFAULT_LIMITS, ForecastResponse, Limits

HORIZON = 14
DAYS = pd.date_range("2024-01-01", periods=56, freq="D")  # eight whole weeks, Monday first
WEEK = np.array([10, 12, 14, 16, 18, 30, 40], dtype=float)


def weekly_panel(items: list[str], scale: float = 1.0) -> pd.DataFrame:
    """Series that repeat their week exactly: SeasonalNaive forecasts the last week again."""
    frames = [
        pd.DataFrame({"item_id": item, "timestamp": DAYS, "target_value": np.tile(WEEK * (k + 1) * scale, 8)})
        for k, item in enumerate(items)
    ]
    return pd.concat(frames, ignore_index=True)


def expected_week(k: int, horizon: int = HORIZON, scale: float = 1.0) -> list[float]:
    return np.tile(WEEK * (k + 1) * scale, 3)[:horizon].tolist()


def fit_weekly(folder: Path, items: list[str], scale: float = 1.0) -> LoadedModel:
    auto = AutoForecaster(
        horizon=HORIZON, frequency="D", preset="fast", models=["SeasonalNaive"], target_col="target_value"
    )
    auto.fit(weekly_panel(items, scale)).save(folder)
    return LoadedModel.load(folder, name="weekly")


@pytest.fixture(scope="module")
def weekly(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    return fit_weekly(tmp_path_factory.mktemp("weekly") / "model", ["a", "b", "c"])


@pytest.fixture(scope="module")
def covariate_model(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    """A model that uses known covariates (promotion, is_holiday): forecasts need `future`."""
    folder = tmp_path_factory.mktemp("covariates") / "model"
    fit_covariate_model(generate(n_items=4, seed=7), HORIZON).save(folder)
    return LoadedModel.load(folder)


def run(model: LoadedModel, body: dict, limits: Limits = DEFAULT_LIMITS) -> dict:
    response = forecast(model, model.parse_request(body), limits)
    assert isinstance(response, ForecastResponse)
    return response.model_dump()


def problem(model: LoadedModel, body: dict, limits: Limits = DEFAULT_LIMITS) -> Problem:
    with pytest.raises(Problem) as info:
        forecast(model, model.parse_request(body), limits)
    return info.value


# ---- the loaded model ---------------------------------------------------------------------------
def test_loaded_model_describes_its_task(weekly: LoadedModel) -> None:
    assert weekly.horizon == HORIZON
    assert weekly.quantiles == (0.1, 0.5, 0.9)
    assert weekly.frequency == "D"
    assert weekly.known_covariates == ()
    assert weekly.item_ids == frozenset({"a", "b", "c"})
    assert weekly.load_seconds > 0


# ---- stored history -----------------------------------------------------------------------------
def test_when_items_are_stored_then_the_forecast_repeats_their_last_week_exactly(weekly: LoadedModel) -> None:
    out = run(weekly, {"item_ids": ["b", "a"]})
    assert [f["item_id"] for f in out["forecasts"]] == ["b", "a"]  # the request's order
    b, a = out["forecasts"]
    assert a["mean"] == expected_week(0)
    assert b["mean"] == expected_week(1)
    assert set(a["quantiles"]) == {"0.1", "0.5", "0.9"}
    assert a["quantiles"]["0.5"] == expected_week(0)
    assert a["timestamps"][0] == "2024-02-26T00:00:00"  # the day after the history's end
    assert a["timestamps"][-1] == "2024-03-10T00:00:00"
    assert len(a["timestamps"]) == HORIZON


def test_stored_forecast_equals_the_forecasters_own_predict(covariate_model: LoadedModel) -> None:
    """Forecasting one item's slice gives what predicting the whole panel gives for it."""
    future = future_covariates(n_items=4, seed=7, horizon=HORIZON)
    items = sorted(covariate_model.item_ids)
    full = covariate_model.forecaster.predict(future=future)
    rows = future.assign(timestamp=future["timestamp"].astype(str)).to_dict("records")
    for chosen in ([items[2]], [items[3], items[0]]):
        out = run(covariate_model, {"item_ids": chosen, "future": rows})
        for f in out["forecasts"]:
            want = full[full["item_id"] == f["item_id"]]
            np.testing.assert_allclose(f["mean"], want["mean"].to_numpy(), rtol=1e-12)
            np.testing.assert_allclose(f["quantiles"]["0.9"], want["p90"].to_numpy(), rtol=1e-12)


def test_when_horizon_is_shorter_then_the_forecast_is_truncated(weekly: LoadedModel) -> None:
    out = run(weekly, {"item_ids": ["c"], "horizon": 5})
    (c,) = out["forecasts"]
    assert c["mean"] == expected_week(2, 5)
    assert len(c["timestamps"]) == 5
    assert all(len(v) == 5 for v in c["quantiles"].values())


def test_when_quantiles_are_a_subset_then_only_they_are_returned_in_the_asked_order(
    weekly: LoadedModel,
) -> None:
    out = run(weekly, {"item_ids": ["a"], "quantiles": ["0.9", 0.1]})
    assert list(out["forecasts"][0]["quantiles"]) == ["0.9", "0.1"]
    out = run(weekly, {"item_ids": ["a"], "quantiles": "0.5"})
    assert list(out["forecasts"][0]["quantiles"]) == ["0.5"]


def test_the_recipes_function_body_is_accepted(weekly: LoadedModel) -> None:
    out = run(weekly, {"item_id": "a", "forecast_horizon": 7})
    assert [f["item_id"] for f in out["forecasts"]] == ["a"]
    assert out["forecasts"][0]["mean"] == expected_week(0, 7)


def test_stored_forecasts_are_cached_once_per_item(weekly: LoadedModel) -> None:
    first = run(weekly, {"item_ids": ["a", "b"]})
    assert {"a", "b"} <= set(weekly._cache)
    cached = weekly._cache["a"]
    second = run(weekly, {"item_ids": ["a"]})
    assert weekly._cache["a"] is cached  # not recomputed
    assert second["forecasts"][0] == first["forecasts"][0]


def test_when_future_covariates_are_given_then_nothing_is_cached(covariate_model: LoadedModel) -> None:
    future = future_covariates(n_items=4, seed=7, horizon=HORIZON)
    item = sorted(covariate_model.item_ids)[0]
    rows = future.assign(timestamp=future["timestamp"].astype(str)).to_dict("records")
    base = run(covariate_model, {"item_ids": [item], "future": rows})
    promoted = [dict(r, promotion=1) if r["item_id"] == item else r for r in rows]
    changed = run(covariate_model, {"item_ids": [item], "future": promoted})
    assert covariate_model._cache == {}
    assert base["forecasts"][0]["mean"] != changed["forecasts"][0]["mean"]


def test_when_fewer_steps_are_asked_then_the_future_need_cover_only_them(
    covariate_model: LoadedModel,
) -> None:
    """Asked for 5 of the model's 14 days, a caller had to send 14 days of plan (the 422 said
    "over the 14 forecast steps"); the 5 days now do, and give the same forecast."""
    future = future_covariates(n_items=4, seed=7, horizon=HORIZON)
    item = sorted(covariate_model.item_ids)[0]
    own = future[future["item_id"] == item]
    rows = own.assign(timestamp=own["timestamp"].astype(str)).to_dict("records")
    whole = run(covariate_model, {"item_ids": [item], "future": rows, "horizon": 5})["forecasts"][0]
    part = run(covariate_model, {"item_ids": [item], "future": rows[:5], "horizon": 5})["forecasts"][0]
    assert part["timestamps"] == whole["timestamps"] and len(part["mean"]) == 5
    np.testing.assert_allclose(part["mean"], whole["mean"], rtol=1e-12)
    np.testing.assert_allclose(part["quantiles"]["0.9"], whole["quantiles"]["0.9"], rtol=1e-12)
    p = problem(covariate_model, {"item_ids": [item], "future": rows[:4], "horizon": 5})
    assert p.status == 422 and p.field == "future"  # the asked steps must still be given


def test_when_known_covariates_are_missing_then_422_names_them(covariate_model: LoadedModel) -> None:
    item = sorted(covariate_model.item_ids)[0]
    p = problem(covariate_model, {"item_ids": [item]})
    assert p.status == 422 and p.field == "future"
    assert "promotion" in p.detail and "is_holiday" in p.detail


def test_when_the_future_covers_part_of_the_horizon_then_the_422_renders_its_rows_as_strict_json(
    covariate_model: LoadedModel,
) -> None:
    """The offending rows hold NaN covariates; rendered as they were, strict JSON refused them
    and the client got a 500 instead of this 422."""
    future = future_covariates(n_items=4, seed=7, horizon=HORIZON)
    item = sorted(covariate_model.item_ids)[0]
    part = future[future["item_id"] == item].head(5)
    rows = part.assign(timestamp=part["timestamp"].astype(str)).to_dict("records")
    p = problem(covariate_model, {"item_ids": [item], "future": rows})
    assert (p.status, p.field) == (422, "future")
    response = problem_response(p)
    body = json.loads(response.body)
    assert response.status_code == 422 and body["detail"] == p.detail
    assert body["rows"] and all(row["item_id"] == item for row in body["rows"])
    missing = [row for row in body["rows"] if row.get("promotion") is None]
    assert missing and all(isinstance(row["timestamp"], str) for row in missing)


# ---- fresh history ------------------------------------------------------------------------------
def history_rows(
    pattern: np.ndarray, item: str = "new", weeks: int = 3, target_key: str = "target"
) -> list[dict]:
    days = pd.date_range("2025-03-03", periods=7 * weeks, freq="D")
    values = np.tile(pattern, weeks)
    return [
        {"item_id": item, "timestamp": d.strftime("%Y-%m-%d"), target_key: float(v)}
        for d, v in zip(days, values, strict=True)
    ]


def test_fresh_history_is_forecast_without_refit(weekly: LoadedModel) -> None:
    pattern = np.array([5, 1, 2, 3, 4, 8, 9], dtype=float)
    rows = history_rows(pattern) + history_rows(pattern * 2, item="a")  # "a" is also stored
    out = run(weekly, {"history": rows, "horizon": 7})
    new, a = out["forecasts"]
    assert new["item_id"] == "new" and new["mean"] == pattern.tolist()
    assert a["item_id"] == "a" and a["mean"] == (pattern * 2).tolist()  # the sent history, not the stored
    assert new["timestamps"][0] == "2025-03-24T00:00:00"
    assert weekly.forecaster.filling_plan_ is not None  # the training plan is put back


def test_fresh_history_accepts_the_models_own_column_names(weekly: LoadedModel) -> None:
    pattern = np.array([5, 1, 2, 3, 4, 8, 9], dtype=float)
    out = run(weekly, {"history": history_rows(pattern, target_key="target_value")})
    assert out["forecasts"][0]["mean"] == np.tile(pattern, 2).tolist()


# ---- bad input ----------------------------------------------------------------------------------
def test_when_items_are_unknown_then_404_names_them(weekly: LoadedModel) -> None:
    p = problem(weekly, {"item_ids": ["a", "zz", "yy"]})
    assert p.status == 404 and p.field == "item_ids"
    assert "'zz'" in p.detail and "'yy'" in p.detail and "'a'" not in p.detail
    assert p.to_dict()["items"] == ["zz", "yy"]
    assert p.to_dict()["pointer"] == "/item_ids"


GOOD = history_rows(WEEK, weeks=2)


def _rows(**changes: dict) -> list[dict]:
    rows = [dict(r) for r in GOOD]
    for index, change in changes.items():
        rows[int(index.removeprefix("r"))].update(change)
    return rows


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"item_ids": ["a"], "horizon": HORIZON + 1}, 422, "horizon"),
        ({"item_ids": ["a"], "horizon": 0}, 422, "horizon"),
        ({"item_ids": ["a"], "horizon": "soon"}, 422, "horizon"),
        ({"item_ids": ["a"], "quantiles": [0.1, 0.3]}, 422, "quantiles[1]"),
        ({"item_ids": ["a"], "quantiles": ["abc"]}, 422, "quantiles[0]"),
        ({"item_ids": ["a"], "quantiles": [1.5]}, 422, "quantiles"),
        ({"item_ids": []}, 422, "item_ids"),
        ({"item_ids": "a"}, 422, "item_ids"),
        ({"item_ids": ["a"], "history": GOOD}, 422, "item_ids"),
        ({}, 422, "item_ids"),
        ({"item_ids": ["a"], "colour": "red"}, 422, "colour"),
        ({"history": []}, 422, "history"),
        ({"history": _rows(r3={"target": float("nan")})}, 422, "history[3].target"),  # not JSON: null
        ({"history": _rows(r2={"target": float("inf")})}, 422, "history[2].target"),
        ({"history": _rows(r1={"target": "many"})}, 422, "history[1].target"),
        ({"history": [dict(r, target=None) for r in GOOD]}, 422, "history"),  # no value at all
        ({"history": _rows(r0={"timestamp": "not a day"})}, 422, "history[0].timestamp"),
        ({"history": _rows(r5={"timestamp": GOOD[4]["timestamp"]})}, 422, "history[5].timestamp"),
        ({"history": _rows(r5={"timestamp": GOOD[2]["timestamp"]})}, 422, "history[5].timestamp"),
        ({"history": [{"item_id": "x", "target": 1.0}]}, 422, "history[0]"),  # no timestamp
        (
            {"history": [*GOOD[:3], *history_rows(WEEK, item="y", weeks=1), *GOOD[3:]]},
            422,
            "history[10].item_id",
        ),
    ],
)
def test_when_input_is_bad_then_the_problem_names_the_field(
    weekly: LoadedModel, body: dict, status: int, field: str
) -> None:
    p = problem(weekly, body)
    assert (p.status, p.field) == (status, field), p.detail
    doc = p.to_dict()
    assert doc["status"] == status and doc["title"] and doc["detail"] and doc["type"]
    assert doc["pointer"].startswith("/")


def test_when_an_items_rows_come_again_then_the_problem_says_where_and_that_they_repeat(
    weekly: LoadedModel,
) -> None:
    """A history pasted twice: not just "not contiguous", but where and why."""
    other = history_rows(WEEK, item="y", weeks=1)
    k = len(GOOD) + len(other)
    p = problem(weekly, {"history": [*GOOD, *other, *GOOD[:4]]})
    assert (p.status, p.field) == (422, f"history[{k}].item_id")
    assert p.detail == (
        f"history[{k}].item_id: the rows of item {GOOD[0]['item_id']!r} are not contiguous: they start again at row {k} "
        "(4 of them repeat timestamps it already had); an item's rows must be together, in time order"
    )


def test_when_a_history_timestamp_is_off_the_models_grid_then_the_problem_names_the_row(
    weekly: LoadedModel, tmp_path: Path
) -> None:
    """A row read as some other step moved the forecast without a word (a Friday in a model
    of Thursday weeks went to its week's Thursday)."""
    p = problem(weekly, {"history": _rows(r4={"timestamp": GOOD[4]["timestamp"] + " 12:00"})})
    assert (p.status, p.field) == (422, "history[4].timestamp")
    assert p.detail.endswith(
        "2025-03-07T12:00:00 is not on the model's 'D' grid: its steps fall at 2025-03-07T00:00:00 "
        "and 2025-03-08T00:00:00 (1 row is off it)"
    )
    thursdays = pd.date_range("2024-01-04", periods=30, freq="W-THU")
    panel = pd.DataFrame({"item_id": "x", "timestamp": thursdays, "target": np.arange(30.0) % 5 + 10})
    folder = tmp_path / "thursdays"
    AutoForecaster(horizon=2, models=["SeasonalNaive"], backtest_windows=1).fit(panel).save(folder)
    model = LoadedModel.load(folder)
    rows = [{"item_id": "y", "timestamp": str(t.date()), "target": 10.0} for t in thursdays[-6:]]
    assert run(model, {"history": rows})["forecasts"][0]["item_id"] == "y"
    rows[3]["timestamp"] = str((thursdays[-3] + pd.Timedelta(days=1)).date())  # a Friday
    p = problem(model, {"history": rows})
    assert (p.status, p.field) == (422, "history[3].timestamp")
    assert p.detail.endswith(
        "2024-07-12T00:00:00 is not on the model's 'W-THU' grid: its steps fall at 2024-07-11T00:00:00 "
        "and 2024-07-18T00:00:00 (1 row is off it)"
    )


def test_when_limits_are_exceeded_then_413(weekly: LoadedModel) -> None:
    small = Limits(max_items=2, max_history_rows=10)
    assert problem(weekly, {"item_ids": ["a", "b", "c"]}, small).status == 413
    p = problem(weekly, {"history": GOOD}, small)
    assert (p.status, p.field) == (413, "history")
    assert run(weekly, {"item_ids": ["a", "b", "a"]}, small)["forecasts"][1]["item_id"] == "b"  # deduplicated


def test_when_the_data_contract_is_broken_then_422_carries_the_data_error(
    covariate_model: LoadedModel,
) -> None:
    rows = history_rows(WEEK)  # no promotion / is_holiday / category / region columns
    p = problem(covariate_model, {"history": rows})
    assert p.status == 422 and p.field == "history"
    assert "promotion" in p.detail


# ---- endpoints ----------------------------------------------------------------------------------
def test_endpoint_swap_is_atomic_under_concurrent_readers(tmp_path: Path) -> None:
    """Readers take one reference per request: every answer matches the model it started on."""
    first = fit_weekly(tmp_path / "v1", ["a", "b"], scale=1.0)
    second = fit_weekly(tmp_path / "v2", ["a", "b"], scale=3.0)
    expected = {id(first): expected_week(0), id(second): expected_week(0, scale=3.0)}
    table = EndpointTable()
    table.set("sales", first)
    stop = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                model = table.get("sales")
                assert model is not None
                out = run(model, {"item_ids": ["a"]})
                assert out["forecasts"][0]["mean"] == expected[id(model)]
                seen.append(id(model))
        except BaseException as exc:  # reported below: a thread's assert does not fail the test
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for k in range(200):
        previous = table.set("sales", second if k % 2 == 0 else first)
        assert previous in (first, second)
        time.sleep(0.001)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    assert not errors, errors[0]
    assert set(seen) == {id(first), id(second)}
    assert table.names() == ["sales"]
    assert table.remove("sales") is not None and table.get("sales") is None


# ---- latency ------------------------------------------------------------------------------------
def test_latency_is_measured(tmp_path: Path) -> None:
    """Printed, not asserted: the first call forecasts, later ones read the per-item cache."""
    items = [f"item{k:03d}" for k in range(120)]
    model = fit_weekly(tmp_path / "many", items)
    one = {"item_ids": [items[7]]}
    hundred = {"item_ids": items[:100]}
    report = []
    for label, body in [("1 item", one), ("100 items", hundred)]:
        started = time.perf_counter()
        run(model, body)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(20):
            run(model, body)
        warm = (time.perf_counter() - started) / 20
        report.append(f"{label}: first {cold * 1e3:.2f} ms, cached {warm * 1e3:.2f} ms")
    print("\nforecast latency (SeasonalNaive, 120 stored items): " + "; ".join(report))


def test_when_warmed_then_every_stored_item_is_cached_and_answers_from_the_cache(tmp_path: Path) -> None:
    model = fit_weekly(tmp_path / "warm", ["a", "b", "c"])
    request = model.parse_request({"item_ids": ["b"]})
    assert not model.answers_from_cache(request)
    assert model.warm(batch=2) == 3
    assert model.answers_from_cache(request)
    assert run(model, {"item_ids": ["b"]})["forecasts"][0]["mean"] == expected_week(1)
    fresh = model.parse_request({"history": history_rows(np.arange(1.0, 8.0), item="b")})
    assert not model.answers_from_cache(fresh)  # fresh history always needs the model


def test_when_a_model_needs_known_covariates_then_warming_caches_nothing(
    covariate_model: LoadedModel,
) -> None:
    assert covariate_model.warm() == len(covariate_model._cache) == 0


# ---- answers serialised once --------------------------------------------------------------------
@pytest.fixture(scope="module")
def warm_weekly(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    model = fit_weekly(tmp_path_factory.mktemp("warm_weekly") / "model", ["a", "b", "c"])
    model.warm()
    return model


def test_when_answered_from_the_cache_then_the_json_is_byte_for_byte_the_forecast(tmp_path: Path) -> None:
    model = fit_weekly(tmp_path / "bytes", ["a", "b", "c"])
    bodies = [
        {"item_ids": ["b"]},
        {"item_ids": ["c", "a", "c", "b"]},  # a repeated item is answered once, in the asked order
        {"item_ids": ["a"], "horizon": 5},
        {"item_ids": ["a", "b"], "quantiles": [0.9, 0.1]},
        {"item_ids": ["a"], "quantiles": [0.1 + 1e-12]},  # within tolerance: labelled as asked
        {"item_id": "c", "forecast_horizon": 3},
    ]
    assert cached_forecast_json(model, model.parse_request(bodies[0])) is None  # cold: needs the model
    model.warm()
    for body in bodies:
        request = model.parse_request(body)
        expected = forecast(model, request).model_dump_json(warnings=False).encode()
        assert cached_forecast_json(model, request) == expected, body
        assert cached_forecast_json(model, request) == expected, body  # now from the kept parts
    labels = json.loads(cached_forecast_json(model, model.parse_request(bodies[4])) or b"")
    assert list(labels["forecasts"][0]["quantiles"]) == [repr(0.1 + 1e-12)]


def test_when_a_request_needs_the_model_then_there_is_no_cached_answer(warm_weekly: LoadedModel) -> None:
    fresh = warm_weekly.parse_request({"history": history_rows(np.arange(1.0, 8.0), item="b")})
    unknown = warm_weekly.parse_request({"item_ids": ["a", "zzz"]})
    assert cached_forecast_json(warm_weekly, fresh) is None
    assert cached_forecast_json(warm_weekly, unknown) is None  # forecast() names the unknown item


@pytest.mark.parametrize(
    ("body", "limits"),
    [
        ({"item_ids": ["a"], "horizon": HORIZON + 1}, DEFAULT_LIMITS),
        ({"item_ids": ["a"], "quantiles": [0.3]}, DEFAULT_LIMITS),
        ({"item_ids": ["a", "b"]}, Limits(max_items=1)),
    ],
)
def test_when_a_cached_request_is_invalid_then_the_problem_is_the_forecasts(
    warm_weekly: LoadedModel, body: dict, limits: Limits
) -> None:
    request = warm_weekly.parse_request(body)
    with pytest.raises(Problem) as cached:
        cached_forecast_json(warm_weekly, request, limits)
    assert cached.value.to_dict() == problem(warm_weekly, body, limits).to_dict()


def test_when_many_answer_shapes_are_asked_then_a_few_are_kept_and_answers_stay_exact(
    warm_weekly: LoadedModel,
) -> None:
    for horizon in range(1, ANSWER_SHAPES + 4):
        request = warm_weekly.parse_request({"item_ids": ["a", "c"], "horizon": horizon})
        expected = forecast(warm_weekly, request).model_dump_json(warnings=False).encode()
        assert cached_forecast_json(warm_weekly, request) == expected
    assert len(warm_weekly._answers) == ANSWER_SHAPES
    first = warm_weekly.parse_request({"item_ids": ["a"], "horizon": 1})  # dropped, then served again
    assert cached_forecast_json(warm_weekly, first) == forecast(warm_weekly, first).model_dump_json().encode()


# ---- timestamps: one format per column, as the ingest reads them -----------------------------
def _day_first(rows: list[dict]) -> list[dict]:
    return [{**r, "timestamp": pd.Timestamp(r["timestamp"]).strftime("%d/%m/%Y")} for r in rows]


def test_when_history_dates_are_day_first_then_date_format_reads_them(weekly: LoadedModel) -> None:
    pattern = np.array([5, 1, 2, 3, 4, 8, 9], dtype=float)
    rows = _day_first(history_rows(pattern))  # 3 to 23 March: 13/03 and later can only be day-first
    out = run(weekly, {"history": rows, "horizon": 7, "date_format": "%d/%m/%Y"})
    assert out["forecasts"][0]["timestamps"][0] == "2025-03-24T00:00:00"
    inferred = run(weekly, {"history": rows, "horizon": 7})  # one reading fits all: day-first
    assert inferred["forecasts"][0]["timestamps"][0] == "2025-03-24T00:00:00"


def test_when_history_dates_are_ambiguous_then_422_names_both_readings(weekly: LoadedModel) -> None:
    pattern = np.array([5, 1, 2, 3, 4, 8, 9], dtype=float)
    rows = _day_first(history_rows(pattern, weeks=1))  # 3 to 9 March: each reads both ways
    p = problem(weekly, {"history": rows})
    assert (p.status, p.field) == (422, "history[1].timestamp")  # 03/03 reads the same both ways
    assert "ambiguous" in p.detail and "%d/%m/%Y" in p.detail and "%m/%d/%Y" in p.detail
    out = run(weekly, {"history": rows, "date_format": "%d/%m/%Y"})
    assert out["forecasts"][0]["timestamps"][0] == "2025-03-10T00:00:00"


def test_when_a_history_mixes_formats_then_422_instead_of_reading_each_cell_its_own_way(
    weekly: LoadedModel,
) -> None:
    rows = _rows(r4={"timestamp": "07/03/2025"})  # the others are ISO
    assert problem(weekly, {"history": rows}).status == 422


def test_when_the_training_data_held_its_plan_then_stored_items_are_forecast_from_it(
    covariate_model: LoadedModel, tmp_path: Path
) -> None:
    """A model fitted on history and plan in one table (`data.ahead`) answers an item from its
    stored history without a `future` field, as the same model given that plan as `future`."""
    data, future = generate(n_items=4, seed=7), future_covariates(n_items=4, seed=7, horizon=HORIZON)
    planned = pd.concat([data, future], ignore_index=True)  # the plan's rows: target empty
    fit_covariate_model(planned, HORIZON).save(tmp_path / "model")
    model = LoadedModel.load(tmp_path / "model")
    item = sorted(model.item_ids)[1]
    rows = future.assign(timestamp=future["timestamp"].astype(str)).to_dict("records")
    given = run(covariate_model, {"item_ids": [item], "future": rows})
    assert run(model, {"item_ids": [item]})["forecasts"] == given["forecasts"]
