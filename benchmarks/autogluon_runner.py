"""AutoGluon-TimeSeries on one split, run by AutoGluon's own Python (a separate virtual env).

AutoGluon pins its own versions of pandas, statsforecast and friends, so it does not live in
tidecast's environment; `retail.py --autogluon-python PATH` writes a split to a folder and
runs this file with that interpreter. This file imports nothing from tidecast or the
benchmarks, only AutoGluon and pandas.

Input folder: `train.parquet` (item_id, timestamp, target with NaN where unknown, known
covariates), `future.parquet` (item_id, timestamp, known covariates of the horizon),
`static.parquet` (item_id and static attributes, optional), `config.json` (horizon, freq,
known covariate names, quantiles, preset, threads). Output in the same folder:
`forecast.parquet` (item_id, timestamp, mean, p10, p50, p90) and `result.json` (fit and predict
seconds, the best model, the leaderboard as records, the models that failed to train).

Threads: the environment's OMP/MKL thread counts are set before importing, and the process is
bound to `threads` CPUs, so AutoGluon's joblib and torch see the same count as the other systems.
Pretrained models (Chronos-2, Toto) need weights from a hub; offline they fail to load and
AutoGluon skips them, which `result.json` records.

Usage: `/path/to/agvenv/bin/python benchmarks/autogluon_runner.py FOLDER`
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def _limit_threads(threads: int) -> None:
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[name] = str(threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, set(cpus[:threads]))


def main(folder: Path) -> None:
    config = json.loads((folder / "config.json").read_text())
    _limit_threads(int(config["threads"]))

    import pandas as pd
    from autogluon.timeseries import TimeSeriesDataFrame, TimeSeriesPredictor

    train = pd.read_parquet(folder / "train.parquet")
    future = pd.read_parquet(folder / "future.parquet")
    static_path = folder / "static.parquet"
    static = pd.read_parquet(static_path) if static_path.exists() else None
    data = TimeSeriesDataFrame.from_data_frame(
        train, id_column="item_id", timestamp_column="timestamp", static_features_df=static
    )
    known = list(config["known"])
    quantiles = [float(q) for q in config["quantiles"]]
    predictor = TimeSeriesPredictor(
        prediction_length=int(config["horizon"]),
        freq=config["freq"],
        target="target",
        known_covariates_names=known or None,
        quantile_levels=quantiles,
        eval_metric="WQL",
        path=str(folder / "model"),
        verbosity=1,
    )
    started = time.perf_counter()
    predictor.fit(data, presets=config["preset"], random_seed=0)
    fitted = time.perf_counter()
    covariates = (
        TimeSeriesDataFrame.from_data_frame(future, id_column="item_id", timestamp_column="timestamp")
        if known
        else None
    )
    raw = predictor.predict(data, known_covariates=covariates)
    done = time.perf_counter()
    out = raw.reset_index().rename(columns={"timestamp": "timestamp", "item_id": "item_id"})
    columns = {str(q): f"p{100 * q:g}" for q in quantiles}
    out = out.rename(columns=columns)[["item_id", "timestamp", "mean", *columns.values()]]
    out.to_parquet(folder / "forecast.parquet", index=False)
    board = predictor.leaderboard(silent=True)
    summary = predictor.fit_summary(verbosity=0)
    result = {
        "fit_seconds": fitted - started,
        "predict_seconds": done - fitted,
        "best": predictor.model_best,
        "leaderboard": board[["model", "score_val", "fit_time_marginal"]].to_dict("records"),
        "trained": list(summary.get("model_types", {})),
    }
    (folder / "result.json").write_text(json.dumps(result, default=str))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
