"""Where the messy demo's extra error comes from: the test cells scored by cause, beside the clean demo.

Issue 10 asks the messy demo's wQL to stay within 1.3x the clean demo's at the same seed.
`messy.py` scores the whole test, where the messy panel differs from the clean one in two
ways no engine can undo: its returns (`demo_messy.RETURN_RATE`: about 0.5% of open days sell
minus 10-50% of the item's mean, drawn at random) and the cells of new and short histories,
which have weeks instead of years to learn from. This splits the messy panel's test into:

- **all cells** (what `messy.py`'s bar reads);
- **return days left out** (test cells with a negative actual): what is left is forecastable
  in principle; the generator's expected sales (the oracle) score 0 there, because the messy
  panel is the clean demand times each item's promotion lift, 0 on closed days, rounded;
- of those, **promotion days** and **the other days**, and the history kinds
  (`demo_messy.KINDS`) whose items have a long history: complete, late starts, gaps;

each beside the clean demo's tidecast on the *same* (item, day) cells, so the ratio compares
like with like (the clean test also holds the items that ended early, which the messy one
does not; a closed day is in both, 0 in the messy one and forecast 0).

Results (2026-12-06, engine bdf5a42, seed 42, one thread; the fits of `messy.py`'s rows,
`results/messy/causes.csv`), tidecast's wQL on the messy panel against the clean demo's on
the same cells:

| cells | count | clean | messy | ratio | plain LightGBM, messy | oracle |
|---|---|---|---|---|---|---|
| all (`messy.py`'s bar) | 1,582 | 0.0029 | 0.0135 | 4.63 | 0.0720 | 0.0067 |
| return days left out | 1,575 | 0.0029 | 0.0069 | 2.36 | 0.0658 | 0 |
| of those, promotion days | 81 | 0.0052 | 0.0207 | 3.97 | 0.1849 | 0 |
| of those, other days | 1,494 | 0.0028 | 0.0055 | 1.97 | 0.0537 | 0 |
| other days of complete, late-start and gap histories | 1,179 | 0.0029 | 0.0034 | **1.18** | 0.0302 | 0 |
| new items (14-28 days of rows) | 98 | 0.0028 | 0.0286 | 10.1 | 0.3331 | 0 |

The 7 return days hold half the messy wQL: the 1.3x bar fails on them alone, since the
oracle, exact on every other cell, scores 0.0067 there, 2.3x the clean wQL. Where an item has
a year or more of history and no promotion, the messy panel (closures, gaps, ragged starts)
costs 18%, within the bar. What is left is the new items and the promotion days. On those
each messy item multiplies its demand by its own lift of 1.3-2.5, where the clean demo's
promotion adds one share of every item's level; the ensemble is the dynamic regression at
0.82 and LightGBM at 0.18. Fitted alone (whole AutoML with one model) the dynamic
regression, which fits each series' lift, scores 0.0131 on the promotion days and forecasts
items with lifts over 2.1 at 0.98 of their sales; LightGBM, one model for every series,
0.0835, at 0.875 of their sales (1.165 for lifts under 1.6; its p50 ratio correlates -0.86
with the lift). A per-series flag lift for LightGBM measured worse on the real panels
(`models/gbm_features.flag_lift`), and ensemble weights fitted apart for flagged cells
helped here and not on the real panels (`automl/ensemble.py`). On real pasta_promo (origins
0-2, 1,978 promotion cells) tidecast's mean forecast of promotion days is 0.90 of their
sales for the items that sell only on promotion and 0.97 for the rest: the shrinkage of a
fixed per-item lift is this synthetic panel's more than retail's.

Run by `messy.py` (its panels and fits); rows go to `results/messy/causes.csv`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from common import score
from tidecast.data.demo import messy_truth

KEYS = ["item_id", "timestamp"]
LONG_KINDS = ("full", "late_start", "gap")  # history kinds with a year or more of rows


def history_kinds(n_items: int, seed: int) -> pd.Series:
    """item_id -> history kind (`demo_messy.KINDS`) of the messy demo at `seed`; every messy
    variant shares the plan."""
    plan, _ = messy_truth(n_items, seed)
    return pd.Series(plan["kind"].to_numpy(), index=plan["item_id"].astype(str))


def kind_scores(
    name: str,
    test: pd.DataFrame,
    history: pd.DataFrame,
    forecasts: dict[str, pd.DataFrame],
    kinds: pd.Series,
    season: int,
) -> pd.DataFrame:
    """wQL per history kind of the messy panel `name`, per system: where the gap between systems lies."""
    rows = []
    for kind in ("all", *kinds.unique()):
        items = kinds.index if kind == "all" else kinds.index[kinds == kind]
        chosen = test[test["item_id"].isin(items)]
        row: dict[str, Any] = {
            "panel": name,
            "kind": kind,
            "items": int(chosen["item_id"].nunique()),
            "test_rows": len(chosen),
            "actual_sum": float(chosen["target"].abs().sum()),
        }
        for system, forecast in forecasts.items():
            row[f"wql {system}"] = score(chosen, forecast, history, season)["wql"] if len(chosen) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def cause_rows(
    clean: Any,
    clean_forecast: pd.DataFrame,
    messy: Any,
    forecasts: dict[str, pd.DataFrame],
    kinds: pd.Series,
    season: int,
) -> list[dict[str, Any]]:
    """One row per cause (see the module docstring): the cells' count, the clean demo's
    tidecast wQL on the same cells, and each messy-panel system's wQL in `forecasts`
    (tidecast, the plain LightGBM, the oracle).

    `clean` and `messy` are `messy.Panel`s (test, future with the promotion flag, filled
    history); `kinds` maps item_id to its history kind. Cells the clean test lacks are left
    out of every score."""
    clean_test, clean_history, messy_history = clean.test, clean.filled, messy.filled
    cells = messy.test.merge(messy.future[[*KEYS, "promotion"]], on=KEYS, how="left")
    cells = cells.merge(clean_test[KEYS], on=KEYS)  # like with like: cells both tests hold
    kept = cells["target"] >= 0
    promoted = cells["promotion"].fillna(0).to_numpy() != 0
    long_history = cells["item_id"].map(kinds).isin(LONG_KINDS).to_numpy()
    causes = {
        "all cells": np.ones(len(cells), dtype=bool),
        "return days left out": kept.to_numpy(),
        "return days left out, promotion days": kept.to_numpy() & promoted,
        "return days left out, other days": kept.to_numpy() & ~promoted,
        "return days left out, other days, long histories": kept.to_numpy() & ~promoted & long_history,
        "return days left out, new items": kept.to_numpy()
        & (cells["item_id"].map(kinds) == "new").to_numpy(),
    }
    rows = []
    for cause, mask in causes.items():
        chosen = cells.loc[mask, [*KEYS, "target"]]
        row: dict[str, Any] = {"cause": cause, "cells": int(mask.sum())}
        if not len(chosen):
            rows.append(row)
            continue
        clean = clean_test.merge(chosen[KEYS], on=KEYS)
        row["wql clean tidecast"] = score(clean, clean_forecast, clean_history, season)["wql"]
        for system, forecast in forecasts.items():
            row[f"wql {system}"] = score(chosen, forecast, messy_history, season)["wql"]
        clean_wql = row["wql clean tidecast"]
        row["ratio tidecast"] = row.get("wql tidecast", np.nan) / clean_wql if clean_wql > 0 else np.nan
        rows.append(row)
    return rows
