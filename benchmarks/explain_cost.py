"""Cost and faithfulness of explanations and what-if scenarios on the demo data.

    .venv/bin/python benchmarks/explain_cost.py [--items 30] [--out benchmarks/results/explain_cost.csv]

One AutoML run per method, each with one model so its method is the one measured
(DynamicRegression: exact terms; LightGBM direct: TreeSHAP; LightGBM recursive: ablation),
on the demo data (`generate(items, 42)`, known covariates promotion and is_holiday, static
category and region, horizon 14, one backtest window, `n_jobs=1`). For each it reports:

- seconds per item to forecast (`predict`) and to explain every item (`explain`), and to
  answer a what-if (a promotion switched on for the first week of every item: two forecasts);
- the largest |sum of contributions - forecast| over all items and steps;
- on the forecast's promotion days, the promotion's contribution against the generator's
  lift (`demo.promotion_lift`): median ratio and share within 20%; and the same for the
  what-if's difference on items with no promotion planned.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from tidecast import AutoForecaster
from tidecast.data.demo import future_covariates, generate, promotion_lift
from tidecast.explain import explain
from tidecast.scenarios import whatif

HORIZON = 14
RUNS = {
    "exact (DynamicRegression)": ("DynamicRegression", None),
    "treeshap (LightGBM direct)": ("LightGBM", None),
    "ablation (LightGBM recursive)": ("LightGBM", {"strategy": "recursive"}),
}


def measure(label: str, model: str, params: dict | None, items: int) -> dict[str, object]:
    data = generate(items, 42)
    future = future_covariates(items, 42, HORIZON)
    lift = promotion_lift(items, 42)
    auto = AutoForecaster(
        horizon=HORIZON,
        frequency="D",
        preset="fast",
        models=[model],
        backtest_windows=1,
        target_col="target_value",
        known_covariates=["promotion", "is_holiday"],
        static_columns=["category", "region"],
        n_jobs=1,
        model_params={model: params} if params else None,
    )
    started = time.perf_counter()
    auto.fit(data)
    fit = time.perf_counter() - started
    started = time.perf_counter()
    auto.predict(future=future)
    predict = time.perf_counter() - started
    explanation = explain(auto, future=future)
    table = explanation.contributions
    on = future[future["promotion"] == 1][["item_id", "timestamp"]]
    found = on.merge(table[table["feature"] == "promotion"], on=["item_id", "timestamp"], how="left")
    found = found.fillna({"contribution": 0.0}).merge(lift, on=["item_id", "timestamp"])
    ratio = found["contribution"] / found["lift"]
    started = time.perf_counter()
    scenario = whatif(
        auto, [{"covariate": "promotion", "set": 1, "where": {"step": {"to": 7}}}], future=future
    )
    whatif_seconds = time.perf_counter() - started
    none = future.groupby("item_id")["promotion"].sum()
    fresh = set(none[none == 0].index)
    rows = scenario.comparison.merge(lift, on=["item_id", "timestamp"])
    rows = rows[rows["item_id"].isin(fresh) & (rows["step"] <= 7)]
    # A first-week promotion also lights the event windows around each day: the first week's
    # days are compared, each of which is a promotion day.
    what = rows["difference"] / rows["lift"]
    return {
        "method": label,
        "items": items,
        "fit_s": round(fit, 1),
        "predict_ms_per_item": round(1000 * predict / items, 2),
        "explain_ms_per_item": round(1000 * explanation.seconds / items, 2),
        "whatif_ms_per_item": round(1000 * whatif_seconds / items, 2),
        "additivity_error": float(f"{explanation.additivity_error():.2e}"),
        "promo_days": len(found),
        "contribution_lift_median": round(float(ratio.median()), 3),
        "contribution_within_20pct": round(float(ratio.between(0.8, 1.2).mean()), 3),
        "whatif_lift_median": round(float(what.median()), 3),
        "whatif_within_20pct": round(float(what.between(0.8, 1.2).mean()), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/explain_cost.csv"))
    args = parser.parse_args()
    rows = []
    for label, (model, params) in RUNS.items():
        rows.append(measure(label, model, params, args.items))
        print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
    frame = pd.DataFrame(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False)
    print(frame.to_string(index=False))


if __name__ == "__main__":
    main()
