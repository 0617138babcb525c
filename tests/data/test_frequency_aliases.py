"""Frequencies as users write them: pandas' renamed spellings are read without its warnings."""

from __future__ import annotations

import warnings

import pytest

from tidecast.automl.option_checks import check_frequency
from tidecast.data.frequency import normalise_alias
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
