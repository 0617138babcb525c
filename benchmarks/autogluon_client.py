"""Running AutoGluon-TimeSeries from a benchmark: one split handed to its own interpreter.

AutoGluon lives in a virtual environment of its own (it pins its own pandas, statsforecast
and friends), so a benchmark writes the split to a temporary folder and runs
`autogluon_runner.py` there with that environment's Python (`--autogluon-python PATH`). Every
benchmark that compares with AutoGluon goes through `run_autogluon`, so they all give it the
same preset (`medium_quality`, the one a user would pick), the same quantiles and the same
thread pinning, and read its seconds the same way: its own fit + predict time, without the
interpreter's start and the parquet round trip.

Setting up the environment (Python 3.11, PyTorch pinned to the local CPU build first so that
nothing pulls a CUDA one):

    python3.11 -m venv agvenv && agvenv/bin/pip install torch==2.13.0
    agvenv/bin/pip install autogluon.timeseries torch==2.13.0
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from common import QUANTILES, bar
from systems import Run
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP

RUNNER = Path(__file__).resolve().parent / "autogluon_runner.py"
PRESET = "medium_quality"
LABEL = "AutoGluon-TS medium_quality (covariates + statics)"


def run_autogluon(
    python: str,
    train: pd.DataFrame,
    future: pd.DataFrame,
    statics: pd.DataFrame | None,
    horizon: int,
    freq: str,
    known: Sequence[str],
    threads: int,
) -> Run:
    """AutoGluon on `train` (item_id, timestamp, target, `known`), forecasting `horizon` steps
    with the `future` covariates; a failure comes back as `Run.error` with AutoGluon's last
    line of stderr."""
    with tempfile.TemporaryDirectory(prefix="ag-") as tmp:
        folder = Path(tmp)
        train[[ITEM_ID, TIMESTAMP, TARGET, *known]].to_parquet(folder / "train.parquet")
        future[[ITEM_ID, TIMESTAMP, *known]].to_parquet(folder / "future.parquet")
        if statics is not None:
            statics.to_parquet(folder / "static.parquet")
        config = {
            "horizon": horizon,
            "freq": freq,
            "known": list(known),
            "quantiles": list(QUANTILES),
            "preset": PRESET,
            "threads": threads,
        }
        (folder / "config.json").write_text(json.dumps(config))
        started = time.perf_counter()
        done = subprocess.run([python, str(RUNNER), tmp], capture_output=True, text=True)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            stderr = done.stderr.strip()
            error = f"failed: {stderr.splitlines()[-1] if stderr else done.returncode}"
            return Run(pd.DataFrame(), wall, notes=[error], error=error)
        forecast = pd.read_parquet(folder / "forecast.parquet")
        result = json.loads((folder / "result.json").read_text())
    forecast[ITEM_ID] = forecast[ITEM_ID].astype(str)
    forecast[TIMESTAMP] = pd.to_datetime(forecast[TIMESTAMP]).astype("datetime64[ns]")
    seconds = float(result["fit_seconds"]) + float(result["predict_seconds"])
    board = ", ".join(f"{r['model']} {r['score_val']:.4f}" for r in result["leaderboard"])
    notes = [f"best {result['best']}; process wall {wall:.0f}s; trained (val score) {board}"]
    return Run(forecast, seconds, notes=notes)


def versus_autogluon(
    name: str, who: str, tide: dict[str, Any], ag: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Issue 10's two bars against AutoGluon from the same run: tidecast's wQL below its wQL,
    tidecast's seconds within its seconds; none when AutoGluon did not run or failed. `who`
    opens each bar's text ("favorita: tidecast (calendar + stores)")."""
    if ag is None or not np.isfinite(ag.get("wql", np.nan)):
        return []
    wql = tide.get("wql", np.nan)
    return [
        bar(
            name,
            f"{who} wQL ÷ AutoGluon wQL",
            wql / ag["wql"],
            1.0,
            f"AutoGluon {ag['wql']:.4f}, tidecast {wql:.4f}",
        ),
        bar(
            name,
            f"{who} time ÷ AutoGluon time",
            tide["seconds"] / ag["seconds"],
            1.0,
            f"{tide['seconds']:.1f} s vs {ag['seconds']:.1f} s (AutoGluon's fit + predict), same run",
        ),
    ]
