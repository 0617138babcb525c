"""Favorita over rolling origins: tidecast (calendar + stores) against the plain LightGBM.

`favorita.py` scores one split, the official 16 test days. One 16-day window of 54 stores is
a small sample: the same system moves by 10% in wQL from one origin to the next. This script
refits both systems at `--origins` origins 16 days apart, the official test first (origin 0)
and then each earlier one (their "test" is the 16 days after the cut, taken from the
training file), and reports every origin and the mean. Data, covariates, statics and filling
are `favorita.py`'s own (`favorita.load`), so origin 0 reproduces its calendar run. Both
systems are pinned to `--threads` threads (default 1), as there.

Rerun: `.venv/bin/python benchmarks/favorita_rolling.py [--origins 4] [--threads 1]`
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import pandas as pd

import favorita as fav
import plain_lgbm
from common import QUANTILES, add_lgbm_ratios, bar, print_rows, regenerate_markdown, score, timed, write_rows
from systems import Run, run_tidecast

KEYS = ["item_id", "timestamp"]


def splits(frames: dict[str, pd.DataFrame], n_origins: int) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """(history, next 16 days) at each origin, the official test first; NaN targets kept."""
    columns = [*KEYS, "target", *fav.HOLIDAY_COLUMNS]
    test = frames["test"].merge(frames["future"], on=KEYS, how="left")
    full = pd.concat([frames["train"][columns], test[columns]], ignore_index=True)
    last = frames["train"]["timestamp"].max()
    out = []
    for k in range(n_origins):
        cut = last - pd.Timedelta(days=fav.HORIZON * k)
        end = cut + pd.Timedelta(days=fav.HORIZON)
        out.append(
            (full[full["timestamp"] <= cut], full[(full["timestamp"] > cut) & (full["timestamp"] <= end)])
        )
    return out


def run_system(
    system: str,
    history: pd.DataFrame,
    window: pd.DataFrame,
    frames: dict[str, pd.DataFrame],
    threads: int = 1,
) -> Run:
    """One system at one origin, pinned to `threads`: tidecast as `favorita.py`'s calendar
    run, or the plain LightGBM."""
    future = window.drop(columns="target")
    if system == fav.TIDECAST_CALENDAR:
        return run_tidecast(
            history,
            fav.HORIZON,
            future=future,
            frequency="D",
            filling=fav.FILLING,
            known_covariates=list(fav.HOLIDAY_COLUMNS),
            static_data=frames["stores"],
            static_columns=list(fav.STATIC_COLUMNS),
            events=frames["events"],
            n_jobs=threads,
        )
    with timed() as watch:
        forecast = plain_lgbm.forecast(
            history.assign(target=history["target"].fillna(0.0)),
            future,
            fav.HORIZON,
            "D",
            fav.SEASON,
            list(fav.HOLIDAY_COLUMNS),
            frames["stores"],
            QUANTILES,
            num_threads=threads,
            scale_window=56,
        )
    return Run(forecast, watch.seconds)


def main(n_origins: int, threads: int = 1) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    frames = fav.load()
    name = f"{fav.NAME} rolling x{n_origins}"
    per_origin: dict[str, list[dict[str, float]]] = {fav.TIDECAST_CALENDAR: [], fav.PLAIN: []}
    for k, (history, window) in enumerate(splits(frames, n_origins)):
        actual = window[[*KEYS, "target"]].fillna({"target": 0.0})
        filled = history.assign(target=history["target"].fillna(0.0))
        for system, scores in per_origin.items():
            result = run_system(system, history, window, frames, threads)
            scores.append({**score(actual, result.forecast, filled, fav.SEASON), "seconds": result.seconds})
            print(
                f"  {name} origin {k}: {system} {result.seconds:.1f}s wQL {scores[-1]['wql']:.4f}", flush=True
            )
    rows = []
    for system, scores in per_origin.items():
        table = pd.DataFrame(scores)
        each = " / ".join(f"{w:.4f}" for w in table["wql"])
        rows.append(
            {
                "dataset": name,
                "system": system,
                **table.mean(numeric_only=True).to_dict(),
                "note": f"wQL per origin (0 = the official test): {each}; seconds: mean per origin; "
                f"{threads} thread(s)",
            }
        )
    add_lgbm_ratios(rows, fav.PLAIN)
    mine, plain = (np.array([s["wql"] for s in per_origin[k]]) for k in (fav.TIDECAST_CALENDAR, fav.PLAIN))
    bars = [
        bar(
            name,
            f"{name}: tidecast wQL ÷ plain LightGBM wQL (mean over origins)",
            float(mine.mean() / plain.mean()),
            1.0,
            f"tidecast ahead at {int((mine < plain).sum())} of {n_origins} origins",
        )
    ]
    write_rows(name.replace(" ", "_"), rows, bars)
    print_rows(rows, bars)
    return rows, bars


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--origins", type=int, default=4, help="origins, the official test first")
    parser.add_argument("--threads", type=int, default=1, help="threads (and processes) for both systems")
    args = parser.parse_args()
    main(args.origins, args.threads)
    regenerate_markdown()
