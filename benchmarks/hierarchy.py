"""Coherent hierarchies: accuracy per level before and after reconciliation, every method.

Data:
- `demo`: the demo retail data (125 items, 2021-2023 daily), hierarchy category/product
  (total 1, category 5, category/product 25, item 125 = product x region), known covariates
  promotion and is_holiday, horizon 14;
- `pasta_promo`: 118 pasta SKUs of 4 brands (`retail/pasta_promo`), hierarchy brand (total 1,
  brand 4, item 118), known covariates promo, open and holiday_it, horizon 14, from 2016 on;
- `dominicks_oj`: orange juice store x brand weekly (`retail/dominicks_oj`), hierarchy store
  (total 1, store 58, item 638: the store-brands sold from the first week and in every week of
  the last `--origins` horizons, so every node has backtests and every held-out aggregate is a
  sum of known sales), known covariates the own price, deal, feat and the 11 brands' prices,
  horizon 4 weeks, models SeasonalNaive, DynamicRegression and AutoTheta (the set the items'
  p10 at 0 was diagnosed on).

Splits: `--origins` (default 2) held-out horizons at the end, one horizon apart; at each the
HierarchicalForecaster is fitted on the history before it (every level by the AutoML engine
with `--preset` (default medium, the engine's default) unless the data set names its models,
and `--backtest-windows` windows that choose the method), then forecasts the horizon with the
held-out rows' covariates. Every method reconciles the same base forecasts. Scores per level:
wQL on p10/p50/p90, WAPE of the mean, the p10-p90 coverage and the share of node-steps whose
p10 is 0, against the items' actuals summed up the hierarchy; `coherence` is the largest
|aggregate − sum of its items| of the reconciled means, relative to the aggregate.

A fit (every level's base forecasts on the horizon and on the backtest windows) is kept in
`benchmarks/.cache/hierarchy/` (git-ignored), so a change to the reconciliation alone is
scored again in seconds on the same fits; `--refit` fits again.

Writes `results/hierarchy/<dataset>.csv` (one row per origin, method and level) and
`results/hierarchy.md`, which sets them beside `results/hierarchy/before/<dataset>.csv` where
there is one (the last run before a change to the reconciliation, on the same fits). Rerun:
`OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/hierarchy.py
[--datasets demo,pasta_promo,dominicks_oj] [--preset medium] [--origins 2] [--backtest-windows 3]`
"""

from __future__ import annotations

import argparse
import pickle
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from common import BENCH_DIR, RESULTS_DIR, data_dir, engine_version, machine
from tidecast.data.demo import generate
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP, quantile_columns
from tidecast.hierarchy import selection
from tidecast.hierarchy.aggregate import stack
from tidecast.hierarchy.coherent import Reconciler
from tidecast.hierarchy.forecaster import HierarchicalForecaster
from tidecast.hierarchy.selection import BASE
from tidecast.metrics.kernels import wape, wql

OUT = RESULTS_DIR / "hierarchy"
CACHE = BENCH_DIR / ".cache" / "hierarchy"
BEFORE = OUT / "before"  # the CSVs of the last run before a change to the reconciliation
BEFORE_LABEL = "before: quantiles read off reconciled joint samples, engine a202cb3"


@dataclass(frozen=True)
class Dataset:
    hierarchy: str
    known: tuple[str, ...]
    horizon: int
    freq: str
    step: pd.Timedelta
    models: tuple[str, ...] | None = None  # None: the preset's


OJ_PRICES = tuple(f"price_b{b:02d}" for b in range(1, 12))
DATASETS = {
    "demo": Dataset("category/product", ("promotion", "is_holiday"), 14, "D", pd.Timedelta(days=1)),
    "pasta_promo": Dataset("brand", ("promo", "open", "holiday_it"), 14, "D", pd.Timedelta(days=1)),
    "dominicks_oj": Dataset(
        "store",
        ("price", "deal", "feat", *OJ_PRICES),
        4,
        "W-THU",
        pd.Timedelta(weeks=1),
        ("SeasonalNaive", "DynamicRegression", "AutoTheta"),
    ),
}


def load(name: str, origins: int) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(data in canonical columns, static table or None)."""
    if name == "demo":
        data = generate(n_items=125).rename(columns={"target_value": TARGET})
        keep = [ITEM_ID, TIMESTAMP, TARGET, "promotion", "is_holiday", "category", "product", "region"]
        return data[keep], None
    folder = data_dir() / "retail" / name
    data = pd.read_parquet(folder / "data.parquet")
    data[ITEM_ID] = data[ITEM_ID].astype(str)
    data[TIMESTAMP] = pd.to_datetime(data[TIMESTAMP]).astype("datetime64[ns]")
    statics = pd.read_parquet(folder / "items.parquet")
    statics[ITEM_ID] = statics[ITEM_ID].astype(str)
    if name == "pasta_promo":
        data = data[data[TIMESTAMP] >= "2016-01-01"].reset_index(drop=True)
        return data, statics
    spec = DATASETS[name]
    stamps = np.sort(data[TIMESTAMP].unique())[-origins * spec.horizon :]
    held = data[data[TIMESTAMP].isin(stamps)].groupby(ITEM_ID)[TIMESTAMP].nunique()
    first = data.groupby(ITEM_ID)[TIMESTAMP].min()
    keep = held.index[(held == len(stamps)) & (first.loc[held.index] == data[TIMESTAMP].min())]
    data = data[data[ITEM_ID].isin(keep)].reset_index(drop=True)
    return data, statics[[ITEM_ID, "store", "brand"]]


def fit_origin(name: str, k: int, args: argparse.Namespace) -> dict[str, Any]:
    """Every level fitted before origin k: the base forecasts of the horizon and of the
    backtest windows, with the actuals, as arrays (read from the cache when there)."""
    spec = DATASETS[name]
    key = f"{name}-{k}-{args.origins}-{args.preset}-{args.backtest_windows}.pkl"
    path = CACHE / key
    if path.is_file() and not args.refit:
        with path.open("rb") as f:  # written by this script alone
            return dict(pickle.load(f))
    data, statics = load(name, args.origins)
    origin = data[TIMESTAMP].max() - (k + 1) * spec.horizon * spec.step
    end = origin + spec.horizon * spec.step
    train = data[data[TIMESTAMP] <= origin]
    test = data[(data[TIMESTAMP] > origin) & (data[TIMESTAMP] <= end)]
    future = test[[ITEM_ID, TIMESTAMP, *spec.known]]
    options: dict[str, Any] = {"models": list(spec.models)} if spec.models else {"preset": args.preset}
    h = HierarchicalForecaster(
        spec.hierarchy,
        horizon=spec.horizon,
        frequency=spec.freq,
        backtest_windows=args.backtest_windows,
        known_covariates=list(spec.known),
        static_data=statics,
        n_jobs=1,
        **options,
    )
    started = time.monotonic()
    h.fit(train, future=future)
    fit_seconds = time.monotonic() - started
    s = h.structure_
    columns = ["mean", *quantile_columns(h.quantiles_)]
    frame = h.predict(future, reconciled=False)
    base = stack({BASE: frame.assign(_t=frame[TIMESTAMP].astype("int64"))}, s, [*columns, "_t"])
    items = test.pivot(index=ITEM_ID, columns=TIMESTAMP, values=TARGET).loc[list(s.items)]
    if not (items.columns.asi8.astype(np.float64) == base[-1, :, -1]).all():
        raise ValueError("held-out steps and forecast steps differ")
    tables = [selection.ensemble_backtests(h.levels_[level]) for level in s.level_names]
    fitted = {
        "origin": str(origin.date()),
        "structure": s,
        "quantiles": h.quantiles_,
        "nonnegative": h.nonnegative_,
        "methods": h.report_["methods"],
        "base": base[:, :, :-1].astype(np.float64),
        "actual": s.S @ items.to_numpy(dtype=np.float64),
        "windows": selection.window_arrays(tables, s, h.quantiles_)[0],
        "fit_seconds": fit_seconds,
        "notes": h.report_["notes"],
        "models": {lv: a.report_.best for lv, a in h.levels_.items()},
        "fit_engine": engine_version(),
    }
    CACHE.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        pickle.dump(fitted, f)
    return fitted


def score_origin(name: str, fitted: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every method (chosen on the backtest windows as `HierarchicalForecaster` chooses) scored
    per level on the held-out horizon."""
    s, q, windows = fitted["structure"], fitted["quantiles"], fitted["windows"]
    nonnegative = fitted["nonnegative"]
    chosen, table = selection.choose(selection.score_methods(windows, s, fitted["methods"], q, nonnegative))
    residuals, base, actual = selection.residuals_of(windows), fitted["base"], fitted["actual"]
    rows = []
    for method in [BASE, *fitted["methods"]]:
        if method == BASE:
            mean, qvalues = base[:, :, 0], base[:, :, 1:]
        else:
            rec = Reconciler(s, method, residuals, nonnegative)
            mean, qvalues = rec.apply(base)
        summed = s.S @ mean[len(s.nodes) - s.n_bottom :]
        for level in s.level_names:
            rows_ = s.level_rows(level)
            y, band = actual[rows_].ravel(), qvalues[rows_].reshape(-1, len(q))
            rows.append(
                {
                    "dataset": name,
                    "origin": fitted["origin"],
                    "method": method,
                    "chosen": method == chosen,
                    "level": level,
                    "nodes": len(rows_),
                    "wql": wql(y, band, q),
                    "wape": wape(y, mean[rows_].ravel()),
                    "coverage": float(np.mean((y >= band[:, 0]) & (y <= band[:, -1]))),
                    "p10_zero": float(np.mean(band[:, 0] <= 0.01 * band[:, 1])),
                    "coherence": float("nan") if method == BASE else _relative(mean[rows_], summed[rows_]),
                }
            )
    info = {key: fitted[key] for key in ("origin", "fit_seconds", "notes", "models", "fit_engine")}
    return rows, {**info, "method": chosen, "backtest": table}


def _relative(own: np.ndarray, summed: np.ndarray) -> float:
    return float(np.max(np.abs(own - summed) / np.maximum(np.abs(summed), 1.0)))


def _table(frame: pd.DataFrame, metric: str, levels: list[str], chosen: set[str]) -> list[str]:
    table = frame.groupby(["method", "level"], sort=False)[metric].mean().unstack("level")[levels]
    lines = ["| method | " + " | ".join(levels) + " |", "|---" * (len(levels) + 1) + "|"]
    for method, row in table.iterrows():
        mark = " *" if method in chosen else ""
        lines.append(f"| {method}{mark} | " + " | ".join(f"{v:.4f}" for v in row) + " |")
    return lines


def _before_after(name: str, frame: pd.DataFrame, levels: list[str]) -> list[str]:
    """Before -> after per method: wQL per level, the top's and the items' coverage, the
    items' share of p10 at 0, where `results/hierarchy/before/<name>.csv` holds the before."""
    path = BEFORE / f"{name}.csv"
    if not path.is_file():
        return []
    top, items = levels[0], levels[-1]
    cells = [*((m, lv) for m in ["wql"] for lv in levels), ("coverage", top), ("coverage", items)]
    cells.append(("p10_zero", items))
    pair = [
        f.groupby(["method", "level"], sort=False)[["wql", "coverage", "p10_zero"]].mean()
        for f in (pd.read_csv(path), frame)
    ]
    header = [f"{lv} wQL" for lv in levels] + [f"{top} coverage", f"{items} coverage", f"{items} p10 = 0"]
    lines = ["", f"Before → after, the same fits ({BEFORE_LABEL}):", ""]
    lines += ["| method | " + " | ".join(header) + " |", "|---" * (len(header) + 1) + "|"]
    for method in dict.fromkeys(frame["method"]):
        row = [f"{pair[0].loc[(method, lv), m]:.4f} → {pair[1].loc[(method, lv), m]:.4f}" for m, lv in cells]
        lines.append(f"| {method} | " + " | ".join(row) + " |")
    return lines


def markdown(results: dict[str, pd.DataFrame], infos: dict[str, list[dict[str, Any]]], args: Any) -> str:
    lines = [
        "# Coherent hierarchies: accuracy per level before and after reconciliation",
        "",
        f"Generated by `benchmarks/hierarchy.py` (preset `{args.preset}` unless a data set names its "
        f"models, {args.backtest_windows} backtest windows choosing the method, {args.origins} held-out "
        f"origins, one thread). Machine: {machine()}. Engine: {engine_version()}.",
        "",
        "wQL: mean over p10/p50/p90 of 2·Σpinball/Σ|y| over a level's nodes and steps; WAPE of the mean; "
        "coverage: share of actuals within p10-p90 (0.8 is calibrated); p10 = 0: share of node-steps "
        "whose p10 is 0 (below 1% of their p50). `base` is every level's own forecast (not coherent); the "
        "method marked * is the one chosen on the backtests at some origin. Reconciled quantiles as "
        "`tidecast.hierarchy.coherent` makes them. `coherence` is the largest relative |aggregate − sum "
        "of its items| of the reconciled means.",
    ]
    for name, frame in results.items():
        chosen = {i["method"] for i in infos[name]}
        lines += ["", f"## {name}", ""]
        lines.append(
            "Chosen per origin: "
            + ", ".join(f"{i['origin']}: {i['method']} (fit {i['fit_seconds']:.0f} s)" for i in infos[name])
        )
        lines.append(f"Fits: {infos[name][-1]['fit_engine']}.")
        lines.append(
            "Models selected per level (last origin): "
            + ", ".join(f"{k}: {v}" for k, v in infos[name][-1]["models"].items())
        )
        levels = list(dict.fromkeys(frame["level"]))
        for metric, title in (
            ("wql", "wQL"),
            ("wape", "WAPE of the mean"),
            ("coverage", "p10-p90 coverage"),
            ("p10_zero", "share of p10 = 0"),
        ):
            lines += [
                "",
                f"Held-out {title} (mean over origins):",
                "",
                *_table(frame, metric, levels, chosen),
            ]
        lines += _before_after(name, frame, levels)
        worst = frame["coherence"].max()
        lines += ["", f"Largest relative coherence error of any reconciled mean: {worst:.1e}"]
        top = frame[frame["level"] == "total"]
        base_top = top[top["method"] == BASE]["wql"].mean()
        chosen_top = top[top["chosen"]]["wql"].mean()
        verdict = "met" if chosen_top <= base_top + 1e-9 else "NOT met"  # top-down: equal but for rounding
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
    parser.add_argument("--datasets", default="demo,pasta_promo,dominicks_oj")
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--origins", type=int, default=2)
    parser.add_argument("--backtest-windows", type=int, default=3)
    parser.add_argument("--refit", action="store_true", help="fit again instead of reading the cache")
    parser.add_argument("--fit-only", action="store_true", help="fit (and cache) without writing results")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    results, infos = {}, {}
    for name in args.datasets.split(","):
        rows, info = [], []
        for k in range(args.origins):
            fitted = fit_origin(name, k, args)
            print(name, fitted["origin"], f"fit {fitted['fit_seconds']:.0f}s", flush=True)
            if args.fit_only:
                continue
            r, i = score_origin(name, fitted)
            rows += r
            info.append(i)
        if args.fit_only:
            continue
        results[name] = pd.DataFrame(rows)
        infos[name] = info
        results[name].to_csv(OUT / f"{name}.csv", index=False)
    if args.fit_only:
        return
    text = markdown(results, infos, args)
    Path(RESULTS_DIR / "hierarchy.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
