"""Refit after selection: members with little ensemble weight keep their backtest fit."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from tidecast.automl import search
from tidecast.automl.backtest import CandidateResult
from tidecast.automl.fit_report import FitReport
from tidecast.data.arrays import SeriesArrays
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP, DatasetSpec
from tidecast.models.catalog import make_model

SPEC = DatasetSpec(freq="D")


def arrays(length: int) -> SeriesArrays:
    frame = pd.DataFrame(
        {
            ITEM_ID: "a",
            TIMESTAMP: pd.date_range("2024-01-01", periods=length),
            TARGET: np.arange(length, dtype=float),
        }
    )
    return SeriesArrays.from_spec(frame, SPEC)


def test_a_member_under_a_tenth_of_the_weight_keeps_its_backtest_fit() -> None:
    backtest_fits = {}
    report = FitReport()
    for name in ("Naive", "SeasonalNaive"):
        model = make_model(name, "D")
        model.fit(arrays(20), SPEC, 2)
        backtest_fits[name] = model
        report.candidates.append(CandidateResult(name, model=model))
    auto = SimpleNamespace(
        refit_full=True, horizon=2, make_candidate=lambda name, freq: make_model(name, freq)
    )
    members = search.refit(auto, arrays(30), SPEC, {"Naive": 0.95, "SeasonalNaive": 0.05}, report, None)  # type: ignore[arg-type]
    assert members["SeasonalNaive"] is backtest_fits["SeasonalNaive"]
    assert members["Naive"] is not backtest_fits["Naive"]  # refitted on all the data
    assert report.refit == {
        "Naive": "refitted on all data",
        "SeasonalNaive": "kept backtest fit (parameters from the first window's history)",
    }
    assert report.notes == ["SeasonalNaive not refitted: its ensemble weight 0.05 is under 0.1"]


def test_a_refit_ships_what_the_backtest_chose_and_a_failed_refit_says_it_kept_the_backtest_fit() -> None:
    class Chooser(type(make_model("Naive", "D"))):  # type: ignore[misc]
        """Naive that adopts a setting from its backtest fit, and fails to fit on 30 values."""

        def follow(self, fitted: object) -> str | None:
            self.adopted = True
            return "the backtest's setting"

        def _fit(self, data: SeriesArrays, deadline: float | None) -> None:
            if data.lengths.max() >= 30 and getattr(self, "broken", False):
                raise ValueError("cannot fit")
            super()._fit(data, deadline)

    report = FitReport()
    for name in ("Good", "Broken"):
        model = Chooser()
        model.fit(arrays(20), SPEC, 2)
        report.candidates.append(CandidateResult(name, model=model))

    def make(name: str, freq: str) -> Chooser:
        model = Chooser()
        model.broken = name == "Broken"
        return model

    auto = SimpleNamespace(refit_full=True, horizon=2, make_candidate=make)
    members = search.refit(auto, arrays(30), SPEC, {"Good": 0.5, "Broken": 0.5}, report, None)  # type: ignore[arg-type]
    assert members["Good"].adopted and members["Good"] is not report.candidates[0].model
    assert members["Broken"] is report.candidates[1].model
    assert report.refit == {
        "Good": "refitted on all data, the backtest's setting",
        "Broken": "kept backtest fit (its refit on all data failed)",
    }
    assert report.notes == ["Broken refit failed (cannot fit); kept its backtest fit"]
