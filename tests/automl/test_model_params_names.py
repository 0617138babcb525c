"""model_params naming an option its model does not take is refused before any fit, naming only
the wrong option and what the model takes (it used to skip the model for the whole run)."""

from __future__ import annotations

import pandas as pd
import pytest

from tidecast.automl.forecaster import AutoForecaster
from tidecast.errors import ConfigError
from tidecast.models.catalog import make_model

SALES = pd.DataFrame({"item_id": "a", "timestamp": pd.date_range("2024-01-01", periods=60), "target": 1.0})


def test_an_unknown_option_is_refused_before_the_fit_with_what_the_model_takes() -> None:
    with pytest.raises(ConfigError) as caught:
        AutoForecaster(horizon=7, model_params={"autotheta": {"foo": 1, "season_lenght": 7}}).fit(SALES)
    assert str(caught.value) == (
        "model_params for AutoTheta: unknown option(s) 'foo', 'season_lenght' (did you mean "
        "'season_length'?); it takes ['season_length', 'decomposition_type', 'max_history']"
    )


def test_options_the_automl_sets_and_real_hyper_parameters_pass() -> None:
    auto = AutoForecaster(
        horizon=7, models=["Naive"], model_params={"LightGBM": {"n_jobs": 1, "num_leaves": 15}}
    )
    assert auto.fit(SALES).leaderboard()["model"].iloc[0] == "Naive"
    assert make_model("AutoTheta", "D", decomposition_type="additive").decomposition_type == "additive"
    with pytest.raises(
        ConfigError, match=r"model_params for Naive: unknown option\(s\) 'window'; it takes \[\]"
    ):
        make_model("Naive", "D", window=3)
    with pytest.raises(ConfigError, match="give its options as a mapping"):
        AutoForecaster(horizon=7, model_params={"Naive": 3}).fit(SALES)
