"""One catalog model alone, run the way the AutoML backtest runs it, on several real sets.

    PYTHONPATH=src python benchmarks/local_windows.py --model MSTLETS \
        [--sets demo,pasta_promo,favorita,m4_hourly,tourism_monthly] [--params '{"key": 1}']

Why: the full AutoML run hides a candidate's cost among the others', and a single hold-out is
a noisy judge of a change to one model. Here the model is fitted once on the history before
the oldest of four windows (one horizon each, cut per series from its end), forecasts every
window from the history up to that window (the first from the fitted series itself, the later
ones from newer history without a refit), then is refitted on the history before the last
window and forecasts it, as the final fit does. It prints the mean wQL (p10, p50, p90) over the
four windows, the refitted last window's wQL, and the seconds of each phase, on one process.
Compare two versions of a model by running this at both commits in the same session, one
after the other, and read the seconds as ratios.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

import demo_holdout
import favorita
import retail
from common import load_dataset
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP, DatasetSpec
from tidecast.models.catalog import make_model

WINDOWS = 4
QUANTILES = (0.1, 0.5, 0.9)
SETS = ("demo", "pasta_promo", "favorita", "m4_hourly", "tourism_monthly")


def load(name: str) -> tuple[pd.DataFrame, str, int]:
    """(the whole panel in item_id/timestamp/target, frequency, horizon) of a benchmark set."""
    if name == "demo":
        parts, freq, horizon = demo_holdout.split(), "D", demo_holdout.HORIZON
    elif name == "pasta_promo":
        _, grid, _ = retail.load(retail.DATASETS[name])
        parts, freq, horizon = (grid,), "D", retail.DATASETS[name].horizon
    elif name == "favorita":
        frames = favorita.load()  # closed days as zeros, what statsforecast gets there too
        parts, freq, horizon = (frames["filled"], frames["test"]), "D", favorita.HORIZON
    else:
        freq, horizon = {"m4_hourly": ("h", 48), "tourism_monthly": ("MS", 24)}[name]
        parts = load_dataset(name)
    panel = pd.concat([p[[ITEM_ID, TIMESTAMP, TARGET]] for p in parts], ignore_index=True)
    return panel.sort_values([ITEM_ID, TIMESTAMP], kind="stable").reset_index(drop=True), freq, horizon


def wql(actual: pd.DataFrame, forecast: pd.DataFrame) -> float:
    rows = actual.merge(forecast, on=[ITEM_ID, TIMESTAMP], how="left")
    y = rows[TARGET].to_numpy()
    loss = 0.0
    for q in QUANTILES:
        error = y - rows[f"p{round(100 * q)}"].to_numpy()
        loss += 2 * np.sum(np.maximum(q * error, (q - 1) * error))
    return loss / len(QUANTILES) / np.abs(y).sum()


def run(name: str, model: str, params: dict) -> str:
    panel, freq, horizon = load(name)
    lengths = panel.groupby(ITEM_ID).size()
    panel = panel[panel[ITEM_ID].isin(lengths.index[lengths >= WINDOWS * horizon + 36])]
    back = panel.groupby(ITEM_ID).cumcount(ascending=False).to_numpy()
    history = {k: panel[back >= k * horizon] for k in range(1, WINDOWS + 1)}
    actual = {k: panel[(back < k * horizon) & (back >= (k - 1) * horizon)] for k in range(1, WINDOWS + 1)}
    spec = DatasetSpec(freq=freq)
    forecaster = make_model(model, freq, n_jobs=1, **params)
    start = time.perf_counter()
    forecaster.fit(history[WINDOWS], spec, horizon)
    fit = time.perf_counter() - start
    scores, predict = [], 0.0
    for k in range(WINDOWS, 0, -1):
        start = time.perf_counter()
        forecast = forecaster.predict(history[k], quantiles=QUANTILES)
        predict += time.perf_counter() - start
        scores.append(wql(actual[k], forecast))
    start = time.perf_counter()
    refitted = make_model(model, freq, n_jobs=1, **params).fit(history[1], spec, horizon)
    final = wql(actual[1], refitted.predict(history[1], quantiles=QUANTILES))
    refit = time.perf_counter() - start
    return (
        f"{name:16s} {model:8s} wQL {np.mean(scores):.4f} ({' '.join(f'{s:.4f}' for s in scores)}) "
        f"refitted {final:.4f}  seconds: fit {fit:.1f} predict {predict:.1f} refit+predict {refit:.1f} "
        f"total {fit + predict + refit:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--params", default="{}", help="JSON hyper-parameters on top of the defaults")
    args = parser.parse_args()
    for name in args.sets.split(","):
        print(run(name, args.model, json.loads(args.params)), flush=True)


if __name__ == "__main__":
    main()
