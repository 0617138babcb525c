"""Frequencies as users write them: pandas' renamed spellings are read without its warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tidecast.automl.option_checks import check_frequency
from tidecast.data.frequency import asked_frequency, normalise_alias
from tidecast.data.prepare import prepare
from tidecast.errors import ConfigError, DataError


@pytest.mark.parametrize(
    ("alias", "canonical"), [("H", "h"), ("M", "ME"), ("Q", "QE-DEC"), ("T", "min"), ("D", "D")]
)
def test_renamed_aliases_are_normalised_without_a_future_warning(alias: str, canonical: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a FutureWarning would reach the console
        assert check_frequency(alias) == alias
        assert normalise_alias(alias) == canonical


def test_an_unknown_alias_is_still_refused() -> None:
    with pytest.raises(ConfigError, match="unknown frequency 'fortnight'"):
        check_frequency("fortnight")
    with pytest.raises(DataError, match="unknown frequency 'fortnight'"):
        normalise_alias("fortnight")


def _weekly_fridays(weeks: int = 60) -> pd.DataFrame:
    days = pd.date_range("2011-01-07", periods=weeks, freq="W-FRI")
    return pd.DataFrame({"item_id": "1|1", "timestamp": days, "target": np.arange(weeks, dtype=float)})


@pytest.mark.parametrize("asked", ["W", "1W", "w"])
def test_weeks_asked_without_a_weekday_keep_the_datas_own(asked: str) -> None:
    panel = _weekly_fridays()
    prepared = prepare(panel, freq=asked, horizon=4)
    assert prepared.freq == "W-FRI"
    assert prepared.panel["timestamp"].tolist() == panel["timestamp"].tolist()
    assert prepared.panel["target"].tolist() == panel["target"].tolist()


def test_a_weekday_the_user_names_or_daily_data_made_weekly_follow_pandas() -> None:
    sundays = prepare(_weekly_fridays(), freq="W-SUN", horizon=4)
    assert sundays.freq == "W-SUN" and (sundays.panel["timestamp"].dt.dayofweek == 6).all()
    days = pd.date_range("2011-01-03", periods=140, freq="D")
    daily = pd.DataFrame({"item_id": "a", "timestamp": days, "target": 1.0})
    assert asked_frequency("W", "D") == "W-SUN"
    assert prepare(daily, freq="W", horizon=4).freq == "W-SUN"
    assert asked_frequency("2W", "W-FRI") == "2W-SUN"  # two-week buckets are not the data's weeks
