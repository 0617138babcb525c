"""A SageMaker job uses the data's other columns as SageMaker does, each by the role its values
show (`jobs.features`, `data.roles`); a native job uses the columns it declares."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from test_job_config import recipe

from tidecast.automl.forecaster import AutoForecaster
from tidecast.data.demo import future_covariates, generate
from tidecast.jobs.config import parse_job_body
from tidecast.jobs.features import feature_options
from tidecast.jobs.request import JobRequest


def test_a_sagemaker_body_uses_every_column_and_a_native_one_those_it_declares() -> None:
    assert parse_job_body(recipe(), None).covariates.features == "all"
    native = JobRequest.model_validate({"data": "x.csv", "horizon": 7})
    assert native.covariates.features == "declared"
    assert feature_options(native, "x.csv") == (native.forecaster_options(), "x.csv", None)


def test_the_plan_beside_the_history_makes_known_covariates_and_the_forecast_reads_it(tmp_path: Path) -> None:
    """The demo's sales with its promotion plan on rows ahead (target empty), its category, and a
    day-of-week column with no values ahead, in one file, as a SageMaker user keeps them."""
    history = generate(n_items=4, seed=3)
    history = history[history["timestamp"] >= history["timestamp"].max() - pd.Timedelta(days=119)]
    plan = future_covariates(n_items=4, seed=3, horizon=7)[["item_id", "timestamp", "promotion"]]
    frame = pd.concat(
        [history[["item_id", "timestamp", "target_value", "promotion", "category", "day_of_week"]], plan],
        ignore_index=True,
    )
    frame["category"] = frame.groupby("item_id")["category"].transform("first")
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    body = recipe()
    body["AutoMLProblemTypeConfig"]["TimeSeriesForecastingJobConfig"].update(ForecastHorizon=7)
    request = parse_job_body(body, None).model_copy(update={"data": str(path)})

    options, data, note = feature_options(request, request.data)
    assert (options["known_covariates"], options["static_columns"]) == (["promotion"], ["category"])
    assert options["past_covariates"] is None and isinstance(data, pd.DataFrame) and len(data) == len(frame)
    assert note is not None and "['day_of_week']" in note and "left out" in note

    options.update(preset="fast", models=["DynamicRegression"], backtest_windows=1)
    auto = AutoForecaster(**options).fit(data)
    assert list(auto.spec_.known_covariates) == ["promotion"]
    forecast = auto.predict()  # the plan in the data is the forecast's future
    planned = forecast.merge(plan, on=["item_id", "timestamp"])
    assert len(planned) == 4 * 7 and np.isfinite(planned["mean"]).all()
    lifted = planned.groupby("promotion")["mean"].mean()
    assert lifted[1.0] > lifted[0.0]  # the promotion plan reaches the forecast
    assert json.dumps(note)  # the note is plain text for report.json
