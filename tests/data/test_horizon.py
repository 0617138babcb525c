"""A horizon is checked before any work: positive, sane, and inside the timestamp range."""

import numpy as np
import pandas as pd
import pytest

from tidecast import AutoForecaster
from tidecast.data.frequency import MAX_HORIZON, check_horizon
from tidecast.errors import ConfigError


@pytest.mark.parametrize("horizon", [0, -3, 2.5, "7", True])
def test_when_horizon_is_not_a_positive_integer_then_it_is_refused(horizon):
    with pytest.raises(ConfigError, match="positive integer"):
        check_horizon(horizon)


def test_when_horizon_is_absurdly_long_then_it_is_refused_before_any_allocation():
    with pytest.raises(ConfigError, match="50,000 steps"):
        check_horizon(100_000_000)
    check_horizon(MAX_HORIZON)


@pytest.mark.parametrize(
    ("last", "freq", "horizon"), [("2023-01-01", "YS", 300), ("2023-01-01", "W-SUN", 20_000)]
)
def test_when_horizon_runs_past_the_last_representable_date_then_the_error_says_so(last, freq, horizon):
    with pytest.raises(ConfigError, match="runs past 2262-04-11"):
        check_horizon(horizon, pd.Timestamp(last), freq)


def test_when_horizon_fits_then_no_error():
    check_horizon(200, pd.Timestamp("2023-01-01"), "YS")
    check_horizon(40_000, pd.Timestamp("2023-01-01"), "D")


def test_when_training_with_an_overflowing_horizon_then_fit_fails_with_a_config_error():
    frame = pd.DataFrame(
        {"item_id": "a", "timestamp": pd.date_range("2000", periods=20, freq="YS"), "target": np.arange(20.0)}
    )
    with pytest.raises(ConfigError, match="runs past"):
        AutoForecaster(horizon=300, models=["Naive"]).fit(frame)
