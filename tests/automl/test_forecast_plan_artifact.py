"""The known covariates' plan a forecast from the stored history used is kept with the model
(`automl.forecast_plan`, `artifact.FUTURE`): only the known columns over the horizon, covered
by the manifest's digests (altered or removed, the model is refused), left alone by forecasts
from newer data; a folder written before plans were kept loads without one."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tidecast.automl.artifact import FUTURE, MANIFEST, stored_plan
from tidecast.automl.forecaster import AutoForecaster
from tidecast.errors import ModelError

HORIZON = 4
DAYS = pd.date_range("2024-03-01", periods=40, freq="D")


def data() -> pd.DataFrame:
    """Two items with a known promotion, a past-only price and a static region."""
    rows = []
    for i, item in enumerate(["x", "y"]):
        promo = (np.arange(40) % 5 == i).astype(float)
        rows.append(
            pd.DataFrame(
                {
                    "item_id": item,
                    "timestamp": DAYS,
                    "target": 20.0 + i + np.arange(40) % 7 + 6 * promo,
                    "promo": promo,
                    "price": 2.0 + 0.01 * np.arange(40),
                    "region": "north",
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def future(start: pd.Timestamp = DAYS[-1]) -> pd.DataFrame:
    days = pd.date_range(start + pd.Timedelta(days=1), periods=HORIZON + 2, freq="D")  # 2 steps too many
    return pd.concat(
        [
            pd.DataFrame(
                {"item_id": item, "timestamp": days, "promo": [1.0, 0.0, 0.0, 1.0, 1.0, 1.0][::step]}
            )
            for item, step in (("x", 1), ("y", -1))
        ],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    auto = AutoForecaster(
        horizon=HORIZON,
        models=["SeasonalNaive"],
        backtest_windows=1,
        n_jobs=1,
        known_covariates=["promo"],
        past_covariates=["price"],
        static_columns=["region"],
    ).fit(data(), future=future())
    auto.predict(future=future())
    return auto.save(tmp_path_factory.mktemp("plan") / "model")


def test_when_saved_after_a_forecast_then_only_the_known_columns_over_the_horizon_are_kept(
    saved: Path,
) -> None:
    plan = AutoForecaster.load(saved).forecast_future_
    assert plan is not None and list(plan.columns) == ["item_id", "timestamp", "promo"]
    assert plan.groupby("item_id")["promo"].apply(list).to_dict() == {
        "x": [1.0, 0.0, 0.0, 1.0],
        "y": [1.0, 1.0, 1.0, 0.0],
    }
    assert plan["timestamp"].min() == DAYS[-1] + pd.Timedelta(days=1)
    assert stored_plan(saved).equals(plan)


def test_when_the_plan_is_saved_then_the_manifest_holds_its_digest(saved: Path) -> None:
    files = json.loads((saved / MANIFEST).read_text())["files"]
    assert files[FUTURE] == hashlib.sha256((saved / FUTURE).read_bytes()).hexdigest()


@pytest.mark.parametrize("change", ["alter", "remove"])
def test_when_the_plan_file_is_altered_or_removed_then_the_model_is_refused(
    saved: Path, tmp_path: Path, change: str
) -> None:
    model = tmp_path / "model"
    model.mkdir()
    for file in saved.iterdir():
        (model / file.name).write_bytes(file.read_bytes())
    if change == "alter":
        plan = pd.read_parquet(model / FUTURE)
        plan["promo"] = 0.0  # no promotion: the forecast would seem to assume none
        plan.to_parquet(model / FUTURE, index=False)
    else:
        (model / FUTURE).unlink()
    refusal = "does not match its manifest digest" if change == "alter" else "incomplete"
    with pytest.raises(ModelError, match=refusal):
        AutoForecaster.load(model)
    with pytest.raises(ModelError, match=refusal):
        stored_plan(model)


def test_when_a_folder_was_written_before_plans_were_kept_then_it_loads_and_forecasts(
    saved: Path, tmp_path: Path
) -> None:
    model = tmp_path / "old"
    model.mkdir()
    for file in saved.iterdir():
        if file.name != FUTURE:
            (model / file.name).write_bytes(file.read_bytes())
    manifest = json.loads((model / MANIFEST).read_text())
    del manifest["files"][FUTURE]
    (model / MANIFEST).write_text(json.dumps(manifest))
    old = AutoForecaster.load(model)
    assert old.forecast_future_ is None and stored_plan(model) is None
    assert len(old.predict(future=future())) == 2 * HORIZON


def test_when_forecast_from_newer_data_then_the_stored_forecasts_plan_stays(saved: Path) -> None:
    auto = AutoForecaster.load(saved)
    kept = auto.forecast_future_
    newer = data()[data()["timestamp"] <= DAYS[-3]]
    auto.predict(newer, future=future(DAYS[-3]))
    assert auto.forecast_future_ is kept


def test_when_a_model_has_no_known_covariates_then_no_plan_file_is_written(tmp_path: Path) -> None:
    auto = AutoForecaster(horizon=HORIZON, models=["Naive"], backtest_windows=1, n_jobs=1).fit(
        data()[["item_id", "timestamp", "target"]]
    )
    auto.predict()
    folder = auto.save(tmp_path / "model")
    assert (
        not (folder / FUTURE).exists() and FUTURE not in json.loads((folder / MANIFEST).read_text())["files"]
    )
