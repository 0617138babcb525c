"""Weekly panels too short for a whole backtest window: does tidecast still try its models?

`weekly_panel.py`'s synthetic store-department panel (yearly profiles, holiday-week lifts,
returns, ragged starts, gaps) cut at fewer weeks than its 104, with horizons that leave no
room for a whole backtest window after the shortest history the plan allows (a season plus an
eighth, 59 weeks): 84 weeks with a 39-week horizon (59 + 39 = 98 > 84) and 91 weeks with a
52-week horizon (111 > 91). Before engine a1f52b7 tidecast said "no backtest" there and gave
every series SeasonalNaive untried; now one window scores the first 25 (33) steps of the
horizon (`automl.planning`, rung 5). The test is the horizon after the cut, so it holds the
December peaks that a spring test (`weekly_panel.py`) does not.

Only series observed at the cut are kept (the ragged ends and the gaps across it would give the
systems different forecast dates), so every system forecasts the same dates. Systems, one after
another on one thread: tidecast `AutoForecaster` (default preset, known covariate holiday_week,
statics store_type and dept), the same with SeasonalNaive as its only model (what it gave every
series when there was no backtest), statsforecast SeasonalNaive(52) with Naive on the series
under one season (the late starts), and the plain LightGBM of `plain_lgbm.py`. Rows:
`results/short_weekly_<weeks>_<horizon>.csv`; bars: tidecast wQL ÷ each of the others ≤ 1.

Rerun: `.venv/bin/python benchmarks/short_weekly.py [--items 400] [--seed 42]`
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import pandas as pd

from common import bar
from systems import Run, compare_systems, run_plain_lgbm, run_tidecast, run_with_naive, statsforecast_grid
from weekly_panel import FREQ, KNOWN, SCALE_WINDOW, SEASON, STATIC, holiday_index, weekly_rows, weeks

CUTS = ((84, 39), (91, 52))
ITEMS = 400
LABELS = {
    "tidecast": "tidecast AutoForecaster (medium, covariates + statics)",
    "fallback": "tidecast SeasonalNaive alone (every series' forecast when there was no backtest)",
    "SeasonalNaive": "statsforecast SeasonalNaive",
    "plain_lgbm": "plain LightGBM (direct, quantile, covariates)",
}


def split(data: pd.DataFrame, history: int, horizon: int) -> dict[str, pd.DataFrame]:
    """The panel cut after `history` weeks: series observed at the cut, the next `horizon` weeks."""
    dates = weeks()
    origin, end = dates[history - 1], dates[history + horizon - 1]
    train = data[data["timestamp"] <= origin]
    at_cut = train.groupby("item_id")["timestamp"].max() == origin
    items = at_cut.index[at_cut]
    train = train[train["item_id"].isin(items)].reset_index(drop=True)
    ahead = dates[history : history + horizon]
    future = pd.DataFrame(
        {
            "item_id": np.repeat(items.to_numpy(), horizon),
            "timestamp": np.tile(ahead.values, len(items)),
            "holiday_week": np.tile((holiday_index(ahead) >= 0).astype(np.int8), len(items)),
        }
    )
    later = (data["timestamp"] > origin) & (data["timestamp"] <= end) & data["item_id"].isin(items)
    test = data.loc[later, ["item_id", "timestamp", "target"]].reset_index(drop=True)
    statics = train.groupby("item_id", sort=True)[list(STATIC)].first().reset_index()
    return {
        "train": train,
        "filled": statsforecast_grid(train, origin, FREQ),
        "future": future,
        "test": test,
        "statics": statics,
    }


def run_system(system: str, frames: dict[str, pd.DataFrame], horizon: int) -> Run:
    """Fit + forecast one system on one cut, timed, on one thread."""
    if system in ("tidecast", "fallback"):
        return run_tidecast(
            frames["train"],
            horizon,
            future=frames["future"],
            frequency=FREQ,
            known_covariates=list(KNOWN),
            static_columns=list(STATIC),
            n_jobs=1,
            models=["SeasonalNaive"] if system == "fallback" else None,
        )
    if system == "plain_lgbm":
        known = list(KNOWN)
        return run_plain_lgbm(
            frames["train"], frames["future"], horizon, SEASON, known, frames["statics"], SCALE_WINDOW, FREQ
        )
    # One season is enough to copy: with two asked for, every series here would get Naive.
    return run_with_naive(frames["filled"], system, SEASON, FREQ, horizon, min_seasons=1.0)


def short_bars(name: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """tidecast ÷ its SeasonalNaive alone (what every series got before), ÷ statsforecast's
    SeasonalNaive and ÷ the plain LightGBM, in wQL."""
    by = {r["system"]: r.get("wql", np.nan) for r in rows}
    tide = by[LABELS["tidecast"]]
    versus = (
        ("fallback", "its SeasonalNaive alone (before)"),
        ("SeasonalNaive", "statsforecast SeasonalNaive"),
        ("plain_lgbm", "plain LightGBM"),
    )
    return [
        bar(
            name,
            f"{name}: tidecast wQL ÷ {label} wQL",
            tide / by[LABELS[system]],
            1.0,
            f"tidecast {tide:.4f}",
        )
        for system, label in versus
    ]


def main(n_items: int = ITEMS, seed: int = 42) -> None:
    data = weekly_rows(n_items, seed)
    for history, horizon in CUTS:
        frames = split(data, history, horizon)
        name = f"short_weekly_{history}_{horizon}"
        dataset = f"weekly panel, {history} weeks, horizon {horizon} (short_weekly.py)"
        compare_systems(
            name,
            dataset,
            LABELS,
            lambda system, f=frames, h=horizon: run_system(system, f, h),
            (frames["train"], frames["test"], frames["filled"]),
            SEASON,
            lambda rows, d=dataset: short_bars(d, rows),
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=ITEMS, help="store-department series")
    parser.add_argument("--seed", type=int, default=42, help="the generator seed")
    args = parser.parse_args()
    main(args.items, args.seed)
