"""Cold start: whole items held out of the retail panels, forecast from similar items.

Data (`retail/` in the benchmark data folder): `pasta_promo` (118 SKUs, attribute brand,
daily, horizon 14) and `dominicks_oj` (913 store x brand, attributes brand then store, weekly,
horizon 4). Origin: the panel's last horizon held out (`retail.split`, origin 0).

Items are shuffled (seed 0) into `--folds` folds (default 4). For each fold, the fold's items
are removed from the history entirely, an AutoForecaster (preset `--preset`, default fast,
with the known covariates and statics) is fitted on the others and forecasts them; the fold's
items are then forecast by `tidecast.coldstart.ColdStart` in two scenarios:
- `no history`: nothing but their attributes;
- `early sales`: their last `early` observations before the origin (14 days / 4 weeks), as if
  launched then.

Baselines (the issue's bar is the first): `category average`, the mean per item of the same
brand's known items over their last `level` steps (28 days / 13 weeks), flat, with the
quantiles of those items' values over those steps; and, with early sales, `own early mean`,
the new item's mean over its early observations, flat, with the quantiles of those values.

Scores on the held-out items' observed rows of the horizon, pooled over folds: wQL (p10/p50/p90),
WAPE of the mean, p10-p90 coverage. Writes `results/coldstart.md` and
`results/coldstart/<dataset>.csv`. Rerun:
`OMP_NUM_THREADS=1 PYTHONPATH=src:benchmarks python benchmarks/coldstart.py [--datasets ...]
[--folds 4] [--preset fast]`
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import pandas as pd

from common import QUANTILES, RESULTS_DIR, engine_version, machine
from retail import DATASETS, TIDECAST_FILLING, load, split
from tidecast.automl.forecaster import AutoForecaster
from tidecast.coldstart import ColdStart
from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP
from tidecast.metrics.kernels import coverage, wape, wql

OUT = RESULTS_DIR / "coldstart"
QCOLS = [f"p{int(q * 100)}" for q in QUANTILES]
SETTINGS = {  # attributes in order of importance, level steps, early observations
    "pasta_promo": (["brand"], 28, 14),
    "dominicks_oj": (["brand", "store"], 13, 4),
}


def category_average(
    history: pd.DataFrame, statics: pd.DataFrame, new: pd.DataFrame, stamps, attr: str, steps: int
):
    recent = history.dropna(subset=[TARGET]).sort_values([ITEM_ID, TIMESTAMP]).groupby(ITEM_ID).tail(steps)
    recent = recent.merge(statics[[ITEM_ID, attr]], on=ITEM_ID)
    frames = []
    for item, value in new[[ITEM_ID, attr]].itertuples(index=False):
        values = recent.loc[recent[attr] == value, TARGET].to_numpy()
        frames.append(_flat(item, stamps, values))
    return pd.concat(frames, ignore_index=True)


def own_early_mean(early: pd.DataFrame, new: pd.DataFrame, stamps):
    frames = [
        _flat(item, stamps, early.loc[early[ITEM_ID] == item, TARGET].dropna().to_numpy())
        for item in new[ITEM_ID]
    ]
    return pd.concat(frames, ignore_index=True)


def _flat(item: str, stamps, values: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame({ITEM_ID: item, TIMESTAMP: stamps, MEAN: values.mean() if len(values) else 0.0})
    q = np.quantile(values, QUANTILES) if len(values) else np.zeros(len(QUANTILES))
    frame[QCOLS] = q
    return frame


def score(forecast: pd.DataFrame, test: pd.DataFrame) -> dict[str, float]:
    joined = test.merge(forecast, on=[ITEM_ID, TIMESTAMP], how="left").dropna(subset=[TARGET])
    if joined[MEAN].isna().any():
        raise RuntimeError("held-out rows without a forecast")
    y = joined[TARGET].to_numpy()
    q = joined[QCOLS].to_numpy()
    return {
        "wql": wql(y, q, QUANTILES),
        "wape": wape(y, joined[MEAN].to_numpy()),
        "coverage": coverage(y, q[:, 0], q[:, -1]),
        "rows": len(joined),
    }


def run(name: str, args: argparse.Namespace) -> tuple[pd.DataFrame, dict[str, Any]]:
    panel = DATASETS[name]
    attrs, level_steps, k_early = SETTINGS[name]
    data, grid, statics = load(panel)
    s = split(panel, data, grid, 0)
    items = np.array(sorted(s.train[ITEM_ID].unique()))
    rng = np.random.default_rng(0)
    folds = np.array_split(rng.permutation(items), args.folds)
    statics = statics.astype({a: str for a in attrs})
    known = list(panel.known)
    results: dict[tuple[str, str], list[pd.DataFrame]] = {}
    seconds = 0.0
    for fold in folds:
        held = set(fold)
        train = s.train[~s.train[ITEM_ID].isin(held)]
        future = s.future[~s.future[ITEM_ID].isin(held)]
        auto = AutoForecaster(
            horizon=panel.horizon,
            frequency=panel.freq,
            preset=args.preset,
            quantiles=QUANTILES,
            known_covariates=known,
            static_data=statics,
            static_columns=[c for c in statics.columns if c != ITEM_ID],
            filling=TIDECAST_FILLING,
            n_jobs=1,
        )
        t = time.monotonic()
        peers = auto.fit(train[[ITEM_ID, TIMESTAMP, TARGET, *known]], future=future).predict(future=future)
        seconds += time.monotonic() - t
        new = statics[statics[ITEM_ID].isin(held)]
        stamps = np.sort(peers[TIMESTAMP].unique())
        history = data[data[ITEM_ID].isin(train[ITEM_ID].unique()) & (data[TIMESTAMP] <= s.origin)]
        early = (
            s.train[s.train[ITEM_ID].isin(held)]
            .sort_values([ITEM_ID, TIMESTAMP])
            .groupby(ITEM_ID)
            .tail(k_early)
        )
        cold = ColdStart(attrs, QUANTILES, level_steps=level_steps)
        rows = {
            ("no history", "tidecast cold start (profile of similar items)"): cold.forecast(
                statics, history, peers, new
            ),
            ("no history", "category average"): category_average(
                history, statics, new, stamps, attrs[0], level_steps
            ),
            ("early sales", "tidecast cold start (profile of similar items)"): cold.forecast(
                statics, history, peers, new, early
            ),
            ("early sales", "category average"): category_average(
                history, statics, new, stamps, attrs[0], level_steps
            ),
            ("early sales", "own early mean"): own_early_mean(early, new, stamps),
        }
        for key, frame in rows.items():
            results.setdefault(key, []).append(frame)
        print(name, f"fold of {len(fold)} items done", flush=True)
    test = s.test
    table = []
    for (scenario, system), frames in results.items():
        table.append(
            {"dataset": name, "scenario": scenario, "system": system, **score(pd.concat(frames), test)}
        )
    info = {"items": len(items), "folds": args.folds, "fit_seconds": seconds, "origin": str(s.origin.date())}
    return pd.DataFrame(table), info


def markdown(tables: dict[str, pd.DataFrame], infos: dict[str, dict[str, Any]], args: Any) -> str:
    lines = [
        "# Cold start: held-out items forecast from similar items",
        "",
        f"Generated by `benchmarks/coldstart.py` (peers' forecasts by the AutoForecaster, preset `{args.preset}`, "
        f"one thread). Machine: {machine()}. Engine: {engine_version()}.",
        "",
        "Every item is held out once (folds of items, its history removed) and forecast over the panel's last "
        "horizon from its attributes (`no history`) or also from its last observations before the origin "
        "(`early sales`: 14 days for pasta_promo, 4 weeks for dominicks_oj). wQL on p10/p50/p90, WAPE of the "
        "mean, p10-p90 coverage (0.8 is calibrated), pooled over every held-out item's observed rows.",
    ]
    for name, table in tables.items():
        info = infos[name]
        lines += ["", f"## {name}", ""]
        lines.append(
            f"{info['items']} items in {info['folds']} folds, origin {info['origin']}, attributes "
            f"{', '.join(SETTINGS[name][0])}; peers' fits {info['fit_seconds']:.0f} s in all."
        )
        lines += [
            "",
            "| scenario | system | wQL | WAPE | coverage p10-p90 | rows |",
            "|---|---|---|---|---|---|",
        ]
        for r in table.itertuples(index=False):
            lines.append(
                f"| {r.scenario} | {r.system} | {r.wql:.4f} | {r.wape:.4f} | {r.coverage:.3f} | {r.rows} |"
            )
        for scenario in table["scenario"].unique():
            part = table[table["scenario"] == scenario].set_index("system")["wql"]
            ours = part["tidecast cold start (profile of similar items)"]
            base = part["category average"]
            verdict = "met" if ours < base else "NOT met"
            lines.append(
                f"\nBar ({scenario}: wQL below the category average): {ours:.4f} vs {base:.4f}: {verdict}."
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="pasta_promo,dominicks_oj")
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--preset", default="fast")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    tables, infos = {}, {}
    for name in args.datasets.split(","):
        tables[name], infos[name] = run(name, args)
        tables[name].to_csv(OUT / f"{name}.csv", index=False)
    text = markdown(tables, infos, args)
    (RESULTS_DIR / "coldstart.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
