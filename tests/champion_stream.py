"""A simulated stream for champion/challenger tests: items with a level and a strong weekly
pattern, two small real training runs on its first weeks (Average, which flattens the
pattern, and SeasonalNaive, which repeats it), and rounds of forecast requests followed by
the observations (the actuals) of the forecast days."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tidecast.automl.forecaster import AutoForecaster

START = pd.Timestamp("2024-01-01")
DAYS, ITEMS, HORIZON = 42, 3, 3
ITEM_IDS = [f"item_{i}" for i in range(ITEMS)]


def truth(item: int, day: int) -> float:
    """The stream's value of item `item` on day `day` (0 = START)."""
    return 20.0 + 5 * item + 6.0 * ((day % 7) - 3) + 0.3 * float(np.sin(day * 1.3 + item))


def panel(days: int = DAYS) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"item_id": f"item_{i}", "timestamp": START + pd.Timedelta(days=d), "target": truth(i, d)}
            for i in range(ITEMS)
            for d in range(days)
        ]
    )


def train(folder: Path, model: str, days: int = DAYS) -> Path:
    """A real AutoML run restricted to one model, saved to `folder`."""
    auto = AutoForecaster(horizon=HORIZON, frequency="D", models=[model], backtest_windows=1, n_jobs=1)
    return auto.fit(panel(days)).save(folder)


def observations(round_: int, first_day: int = DAYS) -> list[dict[str, Any]]:
    """The rows of the `round_`-th block of HORIZON days after `first_day`."""
    days = range(first_day + HORIZON * round_, first_day + HORIZON * (round_ + 1))
    return [
        {
            "item_id": f"item_{i}",
            "timestamp": (START + pd.Timedelta(days=d)).strftime("%Y-%m-%d"),
            "target": truth(i, d),
        }
        for i in range(ITEMS)
        for d in days
    ]


def run_stream(post: Any, endpoint: str, rounds: int, first_day: int = DAYS) -> None:
    """Each round: forecast every item (the champion answers, the challenger shadows), then
    post the forecast days' observations (both models extend, the actuals are scored).
    `post(path, json)` sends one admin request and returns the response."""
    for k in range(rounds):
        answer = post(f"/v1/endpoints/{endpoint}/forecast", {"item_ids": ITEM_IDS})
        assert answer.status_code == 200, answer.text
        loaded = post(f"/v1/endpoints/{endpoint}/observations", observations(k, first_day))
        assert loaded.status_code == 200, loaded.text


def seasonal_naive_wape(rounds: int, first_day: int = DAYS) -> float:
    """SeasonalNaive's WAPE on the stream, by hand: each target forecast by the value a week
    before it (its median), over every forecast day of `rounds` rounds."""
    days = range(first_day, first_day + HORIZON * rounds)
    errors = [abs(truth(i, d) - truth(i, d - 7)) for i in range(ITEMS) for d in days]
    return sum(errors) / sum(abs(truth(i, d)) for i in range(ITEMS) for d in days)
