"""Coherent hierarchies: accuracy per level before and after reconciliation, every method.

Data:
- `demo`: the demo retail data (125 items, 2021-2023 daily), hierarchy category/product
  (total 1, category 5, category/product 25, item 125 = product x region), known covariates
  promotion and is_holiday, horizon 14;
- `pasta_promo`: 118 pasta SKUs of 4 brands (`retail/pasta_promo`), hierarchy brand (total 1,
  brand 4, item 118), known covariates promo, open and holiday_it, horizon 14, from 2016 on.

Splits: `--origins` (default 2) held-out horizons at the end, one horizon apart; at each the
HierarchicalForecaster is fitted on the history before it (every level by the AutoML engine
with `--preset` (default medium, the engine's default), and `--backtest-windows` windows that choose the method), then
forecasts the horizon with the held-out rows' covariates. Every method reconciles the same
base forecasts. Scores per level: wQL on p10/p50/p90 and WAPE of the mean, against the items'
actuals summed up the hierarchy; `coherence` is the largest |aggregate − sum of its items| of
the reconciled means, relative to the aggregate.

Writes `results/hierarchy/<dataset>.csv` (one row per origin, method and level) and
`results/hierarchy.md`. Rerun:
`OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/hierarchy.py [--datasets demo,pasta_promo]
[--preset medium] [--origins 2] [--backtest-windows 3]`
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from common import QUANTILES, RESULTS_DIR, data_dir, engine_version, machine
from tidecast.data.demo import generate
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.hierarchy.forecaster import HierarchicalForecaster
from tidecast.hierarchy.selection import BASE
from tidecast.hierarchy.structure import LEVEL
from tidecast.metrics.kernels import wape, wql

HORIZON = 14
OUT = RESULTS_DIR / "hierarchy"
QCOLS = [f"p{int(q * 100)}" for q in QUANTILES]


def load(name: str) -> tuple[pd.DataFrame, str, list[str], pd.DataFrame | None]:
    """(data in canonical columns, hierarchy, known covariates, static table or None)."""
    if name == "demo":
        data = generate(n_items=125).rename(columns={"target_value": TARGET})
        keep = [ITEM_ID, TIMESTAMP, TARGET, "promotion", "is_holiday", "category", "product", "region"]
        return data[keep], "category/product", ["promotion", "is_holiday"], None
    folder = data_dir() / "retail" / name
    data = pd.read_parquet(folder / "data.parquet")
    data[ITEM_ID] = data[ITEM_ID].astype(str)
    data[TIMESTAMP] = pd.to_datetime(data[TIMESTAMP]).astype("datetime64[ns]")
    data = data[data[TIMESTAMP] >= "2016-01-01"].reset_index(drop=True)
    statics = pd.read_parquet(folder / "items.parquet")
    statics[ITEM_ID] = statics[ITEM_ID].astype(str)
    return data, "brand", ["promo", "open", "holiday_it"], statics


def run_origin(name: str, k: int, args: argparse.Namespace) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    data, hierarchy, known, statics = load(name)
    origin = data[TIMESTAMP].max() - pd.Timedelta(days=(k + 1) * HORIZON)
    end = origin + pd.Timedelta(days=HORIZON)
    train = data[data[TIMESTAMP] <= origin]
    test = data[(data[TIMESTAMP] > origin) & (data[TIMESTAMP] <= end)]
    h = HierarchicalForecaster(
        hierarchy,
        horizon=HORIZON,
        frequency="D",
        preset=args.preset,
        backtest_windows=args.backtest_windows,
        known_covariates=known,
        static_data=statics,
        n_jobs=1,
    )
    started = time.monotonic()
    h.fit(train, future=test[[ITEM_ID, TIMESTAMP, *known]])
    fit_seconds = time.monotonic() - started
    methods = [BASE, *h.report_["methods"]]
    forecasts = h.predict_methods(test[[ITEM_ID, TIMESTAMP, *known]], methods)
    s = h.structure_
    actual_items = test.pivot(index=ITEM_ID, columns=TIMESTAMP, values=TARGET).loc[s.items]
    actual = pd.DataFrame(s.S @ actual_items.to_numpy(), index=s.nodes, columns=actual_items.columns)
    rows = []
    for method, frame in forecasts.items():
        for level in s.level_names:
            part = frame[frame[LEVEL] == level]
            y = actual.loc[part[ITEM_ID].to_numpy()].to_numpy()
            y = y[np.arange(len(part)), part.groupby(ITEM_ID, sort=False).cumcount().to_numpy()]
            rows.append(
                {
                    "dataset": name,
                    "origin": str(origin.date()),
                    "method": method,
                    "chosen": method == h.method_,
                    "level": level,
                    "nodes": part[ITEM_ID].nunique(),
                    "wql": wql(y, part[QCOLS].to_numpy(), QUANTILES),
                    "wape": wape(y, part["mean"].to_numpy()),
                    "coherence": coherence(frame, s) if method != BASE else float("nan"),
                }
            )
    info = {
        "origin": str(origin.date()),
        "method": h.method_,
        "fit_seconds": fit_seconds,
        "backtest": h.backtest_scores(),
        "notes": h.report_["notes"],
        "models": {lv: a.report_.best for lv, a in h.levels_.items()},
    }
    return rows, info


def coherence(frame: pd.DataFrame, s: Any) -> float:
    """Largest |node's mean − S · items' means| over nodes and steps, relative to the node."""
    mean = frame.pivot(index=ITEM_ID, columns=TIMESTAMP, values="mean").loc[s.nodes].to_numpy()
    summed = s.S @ mean[len(s.nodes) - s.n_bottom :]
    return float(np.max(np.abs(mean - summed) / np.maximum(np.abs(summed), 1.0)))


def markdown(results: dict[str, pd.DataFrame], infos: dict[str, list[dict[str, Any]]], args: Any) -> str:
    lines = [
        "# Coherent hierarchies: accuracy per level before and after reconciliation",
        "",
        f"Generated by `benchmarks/hierarchy.py` (preset `{args.preset}`, {args.backtest_windows} backtest "
        f"windows choosing the method, {args.origins} held-out origins of {HORIZON} days, one thread). "
        f"Machine: {machine()}. Engine: {engine_version()}.",
        "",
        "wQL: mean over p10/p50/p90 of 2·Σpinball/Σ|y| over a level's nodes and steps; WAPE of the mean. "
        "`base` is every level's own forecast (not coherent); the method marked * is the one chosen on "
        "the backtests at each origin. Quantiles of reconciled methods come from coherent joint samples "
        "(500 draws, Gaussian copula over the backtest error correlation). `coherence` is the largest "
        "relative |aggregate − sum of its items| of the reconciled means.",
    ]
    for name, frame in results.items():
        chosen = sorted({i["method"] for i in infos[name]})
        lines += ["", f"## {name}", ""]
        lines.append(
            "Chosen per origin: "
            + ", ".join(f"{i['origin']}: {i['method']} (fit {i['fit_seconds']:.0f} s)" for i in infos[name])
        )
        lines.append(
            "Models selected per level (last origin): "
            + ", ".join(f"{k}: {v}" for k, v in infos[name][-1]["models"].items())
        )
        levels = list(dict.fromkeys(frame["level"]))
        for metric in ("wql", "wape"):
            table = frame.groupby(["method", "level"], sort=False)[metric].mean().unstack("level")[levels]
            table["mean"] = table.mean(axis=1)
            lines += ["", f"Held-out {metric.upper()} (mean over origins):", ""]
            lines.append("| method | " + " | ".join(levels) + " | mean |")
            lines.append("|---" * (len(levels) + 2) + "|")
            for method, row in table.iterrows():
                mark = " *" if method in chosen else ""
                lines.append(f"| {method}{mark} | " + " | ".join(f"{v:.4f}" for v in row) + " |")
        worst = frame["coherence"].max()
        lines += ["", f"Largest relative coherence error of any reconciled mean: {worst:.1e}"]
        top = frame[frame["level"] == "total"]
        base_top = top[top["method"] == BASE]["wql"].mean()
        chosen_top = top[top["chosen"]]["wql"].mean()
        verdict = "met" if chosen_top <= base_top else "NOT met"
        lines.append(
            f"Bar (chosen method at least as accurate as base at the top level, wQL): {chosen_top:.4f} vs "
            f"{base_top:.4f}: {verdict}."
        )
        bt = infos[name][-1]["backtest"]
        lines += ["", "Backtest wQL the choice was made on (last origin):", ""]
        lines.append("| method | " + " | ".join(bt.columns) + " |")
        lines.append("|---" * (len(bt.columns) + 1) + "|")
        for method, row in bt.iterrows():
            lines.append(f"| {method} | " + " | ".join(f"{v:.4f}" for v in row) + " |")
        for note in infos[name][-1]["notes"]:
            lines.append(f"\nNote: {note}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="demo,pasta_promo")
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--origins", type=int, default=2)
    parser.add_argument("--backtest-windows", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    results, infos = {}, {}
    for name in args.datasets.split(","):
        rows, info = [], []
        for k in range(args.origins):
            r, i = run_origin(name, k, args)
            rows += r
            info.append(i)
            print(name, i["origin"], i["method"], f"{i['fit_seconds']:.0f}s", flush=True)
        results[name] = pd.DataFrame(rows)
        infos[name] = info
        results[name].to_csv(OUT / f"{name}.csv", index=False)
    text = markdown(results, infos, args)
    Path(RESULTS_DIR / "hierarchy.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
