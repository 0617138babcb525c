"""SeasonalNaive: the last season repeated, and the naive fallback, listed, for a series with
no whole season behind its last value (it must not pass for a seasonal forecast)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, DatasetSpec
from tidecast.models.baseline import SeasonalNaive
from tidecast.models.intervals import naive_fallback

QUANTILES = (0.1, 0.5, 0.9)
SPEC = DatasetSpec(freq="D")


def panel(lengths: dict[str, int]) -> pd.DataFrame:
    """Each item counts 1, 2, 3, ... up to its length, ending on the same day."""
    end = pd.Timestamp("2024-03-31")
    return pd.concat(
        [
            pd.DataFrame(
                {
                    ITEM_ID: item,
                    TIMESTAMP: pd.date_range(end=end, periods=n, freq="D"),
                    TARGET: np.arange(1.0, n + 1),
                }
            )
            for item, n in lengths.items()
        ],
        ignore_index=True,
    )


def test_when_a_series_holds_a_season_and_one_value_then_its_last_season_repeats():
    data = panel({"long": 10})
    forecast = SeasonalNaive(season_length=7).fit(data, SPEC, 9).predict(data, quantiles=QUANTILES)
    # The last 7 values are 4..10; the horizon repeats them and starts over.
    assert forecast[MEAN].tolist() == [4, 5, 6, 7, 8, 9, 10, 4, 5]
    assert forecast.attrs["fallback_items"] == []


def test_when_a_series_is_a_season_or_shorter_then_it_gets_the_listed_naive_fallback():
    data = panel({"season": 7, "short": 3, "enough": 8})
    model = SeasonalNaive(season_length=7).fit(data, SPEC, 4)
    assert model.min_history == 8
    forecast = model.predict(data, quantiles=QUANTILES)
    assert sorted(forecast.attrs["fallback_items"]) == ["season", "short"]
    for item, n in (("season", 7), ("short", 3)):
        rows = forecast[forecast[ITEM_ID] == item]
        mean, quantiles = naive_fallback(np.arange(1.0, n + 1), 4, QUANTILES)
        np.testing.assert_allclose(rows[MEAN], mean)
        np.testing.assert_allclose(rows[["p10", "p50", "p90"]], quantiles)
    assert forecast.loc[forecast[ITEM_ID] == "enough", MEAN].tolist() == [2, 3, 4, 5]


def test_when_no_season_is_set_then_two_values_suffice():
    assert SeasonalNaive().min_history == 2
    assert SeasonalNaive(season_length=1).min_history == 2
