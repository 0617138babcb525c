"""The ensemble forecast: a member's naive fallback leaves an item's mix unless told to stay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tidecast.automl.calibration import QuantileCalibration
from tidecast.automl.prediction import ensemble_forecast
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
