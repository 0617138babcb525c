"""Filling and aggregation options name the user's columns, and their errors do too.

Both options are keyed by the user's names (the target as the file calls it); a key that names
no column the run reads, or an aggregation method tidecast lacks, was refused naming the
canonical 'target' ("columns: ['target']"), a column the user's file does not have.
"""

import pandas as pd
import pytest

from tidecast import AutoForecaster
from tidecast.automl.preparation import Preparer
from tidecast.errors import ConfigError


def weekly_units() -> pd.DataFrame:
    dates = pd.date_range("2024-01-04", periods=30, freq="W-THU")
    return pd.DataFrame({"Store": "2", "Week": dates, "Units": 100.0, "Price": 2.5})


def preparer(**options) -> Preparer:
    return Preparer(item_col="Store", timestamp_col="Week", target_col="Units", **options)


def test_when_aggregation_names_the_target_in_another_case_then_the_error_offers_the_users_name():
    with pytest.raises(ConfigError) as info:
        preparer(aggregation={"units": "sum"}).canonical(weekly_units(), "MS", 2)
    assert str(info.value) == (
        "aggregation given for unknown column 'units'; it may name ['Units'] "
        "(did you mean 'Units' for 'units'? names differ in spaces or case)"
    )


def test_when_filling_names_a_column_without_a_role_then_the_error_lists_the_users_columns():
    with pytest.raises(ConfigError) as info:
        preparer(filling={"Price": "zero"}, past_covariates="Promo").canonical(
            weekly_units().assign(Promo=0.0), None, 2
        )
    assert str(info.value) == (
        "filling given for unknown column 'Price'; it may name ['Units', 'Promo'] "
        "(a covariate needs a role: known or past covariates)"
    )


def test_when_options_name_the_users_columns_or_every_column_then_they_are_taken():
    prepared, _ = preparer(
        filling={"*": {"middlefill": "zero"}, "Units": "zero"},
        aggregation={"Units": "avg"},
        known_covariates="Price",
    ).canonical(weekly_units(), "MS", 2)
    assert prepared.freq == "MS"


def test_when_an_aggregation_method_is_unknown_then_the_error_names_the_users_column():
    auto = AutoForecaster(
        horizon=2, item_col="Store", timestamp_col="Week", target_col="Units", aggregation={"Units": "median"}
    )
    with pytest.raises(ConfigError) as info:
        auto.fit(weekly_units())
    assert str(info.value) == "unknown aggregation 'median' for 'Units': use sum, avg, first, min, max"
