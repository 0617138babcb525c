"""Speed and accuracy of the statistical models on the demo data's hold-out.

    .venv/bin/python benchmarks/statistical_speed.py [--items 125] [--reference]

The demo data (`tidecast.data.demo.generate(items, 42)`: daily series of 1,095 days) loses its
last 14 days, the hold-out. For each model with tidecast's defaults it reports CPU ms per series
on one core (`n_jobs=1`) to fit, to predict from the training series, and to forward newer
history without a refit; the cost of what an AutoML run asks of it (fit on the first of three
14-day backtest windows, predict it, forward through the other two, refit on everything,
forecast); and WAPE and wQL (p10, p50, p90) on the hold-out, both refitted and through
`forward` from a model fitted 14 days earlier. `--reference` adds statsforecast's own defaults
on the full history, the yardstick the defaults were chosen against.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from functools import partial
from multiprocessing import get_context

import numpy as np
import pandas as pd

from tidecast.data.demo import generate
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP, DatasetSpec
from tidecast.models.base import Forecaster
from tidecast.models.statistical import MSTL, AutoARIMA, AutoETS
from tidecast.models.theta import AutoTheta

HORIZON = 14
QUANTILES = (0.1, 0.5, 0.9)
SPEC = DatasetSpec(freq="D")


def demo_panel(items: int) -> pd.DataFrame:
    frame = generate(items, 42).rename(columns={"target_value": TARGET})
    return frame[[ITEM_ID, TIMESTAMP, TARGET]]


def cut(panel: pd.DataFrame, steps: int) -> pd.DataFrame:
    """The panel without the last `steps` rows of every item."""
    keep = panel.groupby(ITEM_ID, sort=False).cumcount(ascending=False) >= steps
    return panel[keep.to_numpy()].reset_index(drop=True)


def scores(actual: np.ndarray, mean: np.ndarray, quantiles: np.ndarray) -> tuple[float, float]:
    """WAPE of the mean and wQL (scaled pinball loss averaged over QUANTILES); arrays (n, h[, q])."""
    scale = np.abs(actual).sum()
    wape = np.abs(actual - mean).sum() / scale
    loss = 0.0
    for j, q in enumerate(QUANTILES):
        diff = actual - quantiles[..., j]
        loss += 2 * np.maximum(q * diff, (q - 1) * diff).sum()
    return float(wape), float(loss / scale / len(QUANTILES))


def frame_scores(forecast: pd.DataFrame, holdout: pd.DataFrame) -> tuple[float, float]:
    merged = holdout.merge(forecast, on=[ITEM_ID, TIMESTAMP], how="left", validate="one_to_one")
    columns = [f"p{round(q * 100):d}" for q in QUANTILES]
    return scores(merged[TARGET].to_numpy(), merged["mean"].to_numpy(), merged[columns].to_numpy())


def cpu_ms(call: Callable[[], object], n_series: int) -> tuple[float, object]:
    start = time.process_time()
    out = call()
    return (time.process_time() - start) * 1000 / n_series, out


def bench_model(make: Callable[[], Forecaster], panel: pd.DataFrame) -> dict[str, float]:
    n = panel[ITEM_ID].nunique()
    train, holdout = cut(panel, HORIZON), panel.groupby(ITEM_ID).tail(HORIZON)
    windows = [cut(train, HORIZON * k) for k in (3, 2, 1)]
    backtest = make()
    fit_first, _ = cpu_ms(lambda: backtest.fit(windows[0], SPEC, HORIZON), n)
    predict_first, _ = cpu_ms(lambda: backtest.predict(windows[0], None, QUANTILES), n)
    forwards = [cpu_ms(partial(backtest.predict, w, None, QUANTILES), n)[0] for w in windows[1:]]
    forward_ms, forward_forecast = cpu_ms(lambda: backtest.predict(train, None, QUANTILES), n)
    final = make()
    fit_ms, _ = cpu_ms(lambda: final.fit(train, SPEC, HORIZON), n)
    predict_ms, forecast = cpu_ms(lambda: final.predict(train, None, QUANTILES), n)
    assert isinstance(forecast, pd.DataFrame) and isinstance(forward_forecast, pd.DataFrame)
    wape, wql = frame_scores(forecast, holdout)
    forward_wape, forward_wql = frame_scores(forward_forecast, holdout)
    return {
        "fit": fit_ms,
        "predict": predict_ms,
        "forward": float(np.mean([*forwards, forward_ms])),
        "automl": fit_first + predict_first + sum(forwards) + fit_ms + predict_ms,
        "wape": wape,
        "wql": wql,
        "forward_wape": forward_wape,
        "forward_wql": forward_wql,
    }


# ---- statsforecast's defaults, per series ----------------------------------------------------
def _reference_models() -> dict[str, Callable[[], object]]:
    from statsforecast import models as sf

    return {
        "AutoETS": lambda: sf.AutoETS(season_length=7),
        "AutoARIMA": lambda: sf.AutoARIMA(season_length=7),
        "AutoTheta": lambda: sf.AutoTheta(season_length=7),
        "MSTL": lambda: sf.MSTL(season_length=[7, 365]),
    }


def _reference_one(task: tuple[str, np.ndarray]) -> tuple[float, np.ndarray, np.ndarray]:
    name, y = task
    start = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = _reference_models()[name]().fit(y).predict(h=HORIZON, level=[80])  # type: ignore[attr-defined]
    ms = (time.process_time() - start) * 1000
    quantiles = np.stack([result["lo-80"], result["mean"], result["hi-80"]], axis=1)
    return ms, np.asarray(result["mean"]), quantiles


def bench_reference(name: str, panel: pd.DataFrame, processes: int) -> dict[str, float]:
    values = [g[TARGET].to_numpy(np.float64) for _, g in panel.groupby(ITEM_ID, sort=True)]
    tasks = [(name, y[:-HORIZON]) for y in values]
    with get_context("fork").Pool(processes) as pool:
        results = pool.map(_reference_one, tasks, chunksize=1)
    actual = np.stack([y[-HORIZON:] for y in values])
    wape, wql = scores(actual, np.stack([r[1] for r in results]), np.stack([r[2] for r in results]))
    return {"fit": float(np.mean([r[0] for r in results])), "wape": wape, "wql": wql}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=125)
    parser.add_argument("--reference", action="store_true", help="also run statsforecast's defaults")
    parser.add_argument("--processes", type=int, default=1, help="processes for --reference")
    args = parser.parse_args()
    panel = demo_panel(args.items)
    models: dict[str, Callable[[], Forecaster]] = {
        "AutoETS": lambda: AutoETS(season_length=7, n_jobs=1),
        "AutoARIMA": lambda: AutoARIMA(season_length=7, n_jobs=1),
        "AutoTheta": lambda: AutoTheta(season_length=7, n_jobs=1),
        "MSTL": lambda: MSTL(season_lengths=(7, 365), n_jobs=1),
    }
    print(f"demo: {args.items} series x 1095 days, hold-out {HORIZON}; CPU ms per series, one core")
    header = "model       fit  predict forward  automl   WAPE    wQL   fwd WAPE  fwd wQL"
    print(header)
    total = 0.0
    for name, make in models.items():
        r = bench_model(make, panel)
        total += r["automl"]
        print(
            f"{name:9s} {r['fit']:6.1f} {r['predict']:7.1f} {r['forward']:7.1f} {r['automl']:7.1f}"
            f"  {r['wape']:.4f} {r['wql']:.4f}   {r['forward_wape']:.4f}   {r['forward_wql']:.4f}",
            flush=True,
        )
    print(f"all four in an AutoML run: {total:.0f} ms per series")
    if args.reference:
        print("\nstatsforecast defaults, full history (fit + predict)")
        for name in _reference_models():
            r = bench_reference(name, panel, args.processes)
            print(f"{name:9s} {r['fit']:7.1f} ms  WAPE {r['wape']:.4f}  wQL {r['wql']:.4f}", flush=True)


if __name__ == "__main__":
    main()
