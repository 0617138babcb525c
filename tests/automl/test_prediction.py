"""The ensemble forecast: a member's naive fallback leaves an item's mix unless told to stay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tidecast.automl.calibration import QuantileCalibration
from tidecast.automl.prediction import ensemble_forecast
from tidecast.data.arrays import SeriesArrays
from tidecast.models.base import FALLBACK_ITEMS


class Member:
    """A fitted member's stand-in: a fixed forecast, some items of it marked as its fallback."""

    def __init__(self, means: dict[str, float], fallback: list[str]) -> None:
        self.means, self.fallback = means, fallback

    def predict(self, panel: object, future: object, quantiles: tuple[float, ...]) -> pd.DataFrame:
        frame = pd.DataFrame({"item_id": list(self.means), "timestamp": pd.Timestamp("2024-01-01")})
        frame["mean"] = list(self.means.values())
        for q in quantiles:
            frame[f"p{round(q * 100)}"] = frame["mean"]
        frame.attrs[FALLBACK_ITEMS] = list(self.fallback)
        return frame


@pytest.mark.parametrize(("keep", "expected"), [(False, [13.0, 20.0]), (True, [13.0, 65.0])])
def test_a_members_fallback_leaves_the_items_mix_unless_fallbacks_are_kept(keep: bool, expected: list[float]):
    members = {"A": Member({"old": 10, "new": 20}, []), "B": Member({"old": 14, "new": 80}, ["new"])}
    forecast = ensemble_forecast(members, {"A": 0.25, "B": 0.75}, None, None, (0.5,), None, (), keep)
    assert forecast["mean"].tolist() == expected
    assert forecast.attrs[FALLBACK_ITEMS] == {"B": ["new"]}


def test_a_level_calibration_scales_the_mean_and_every_quantile():
    members = {"A": Member({"x": 10.0, "y": 20.0}, [])}
    calibration = QuantileCalibration((0.1, 0.5, 0.9), (1.0, 1.0, 1.0), level=1.05)
    forecast = ensemble_forecast(members, {"A": 1.0}, None, None, (0.1, 0.5, 0.9), calibration, ())
    assert forecast["mean"].tolist() == pytest.approx([10.5, 21.0])
    np.testing.assert_allclose(forecast[["p10", "p50", "p90"]].to_numpy(), [[10.5] * 3, [21.0] * 3])


def test_a_calibration_that_widens_a_band_below_zero_is_clipped_where_the_history_never_went_there():
    """Tourism quarterly, p5 factor 1.85: 315 negative p5 cells on a panel with no negative value."""
    history = pd.DataFrame(
        {
            "item_id": ["never"] * 4 + ["often"] * 4,
            "timestamp": list(pd.date_range("2023-12-01", periods=4, freq="D")) * 2,
            "target": [5.0, 8.0, 6.0, 7.0, -3.0, 4.0, -2.0, 6.0],  # "often": half its days negative
        }
    )
    panel = SeriesArrays.from_panel(history, "D")
    members = {"A": Band({"never": (2.0, 6.0, 10.0), "often": (2.0, 6.0, 10.0)})}
    calibration = QuantileCalibration((0.9, 0.05, 0.5), (1.0, 3.0, 1.0))  # levels unordered on purpose
    forecast = ensemble_forecast(members, {"A": 1.0}, panel, None, (0.9, 0.05, 0.5), calibration, ())
    by_item = forecast.set_index("item_id")[["p5", "p50", "p90"]]
    assert by_item.loc["never"].tolist() == [0.0, 6.0, 10.0]  # 6 - 3 x 4 = -6, clipped
    assert by_item.loc["often"].tolist() == [-6.0, 6.0, 10.0]  # negative half the time: kept


class Band(Member):
    """A member with its own p5 / p50 / p90 per item."""

    def __init__(self, bands: dict[str, tuple[float, float, float]]) -> None:
        super().__init__({item: band[1] for item, band in bands.items()}, [])
        self.bands = bands

    def predict(self, panel: object, future: object, quantiles: tuple[float, ...]) -> pd.DataFrame:
        frame = super().predict(panel, future, quantiles)
        levels = {0.05: 0, 0.5: 1, 0.9: 2}
        for q in quantiles:
            frame[f"p{round(q * 100)}"] = [self.bands[item][levels[q]] for item in frame["item_id"]]
        return frame
