"""The forecast's `mean` column on every set: the models' own mean, the median, the mean the
quantiles imply, and what ships (`tidecast.automl.mean_estimate`).

wQL reads the quantiles, WAPE, MASE and sMAPE the median, so every other table here is blind to
the mean column, which the business report sums into demand totals and RMSE reads. Each set runs
tidecast once (default preset, one thread, each benchmark's own split and options) with
`calibrate_mean=False`, so the forecast holds the models' own mean; the quantiles are those of
the default run (the choice moves no quantile), the implied mean is computed from them, and the
run's report says which of the two the backtests chose (`mean_backtest_rmse`): that one is what
the default run ships. Per set, on the test: RMSE of each, and the summed forecast over the
summed actuals (bias; 1 is unbiased).

Rerun: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/mean_column.py [--sets retail,long,...]`;
writes `results/mean_column.csv` and `results/mean_column.md`.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

import systems
from common import RESULTS_DIR, machine
from tidecast.automl.mean_estimate import implied_mean, quantiles_better

QUANTILE_COLUMNS = ("p10", "p50", "p90")
# One (name, test, forecast run) per test cell of a group.
Cell = tuple[str, pd.DataFrame, Callable[[], systems.Run]]


def _retail_origins(name: str, horizon: int | None, origins: int, label: str) -> Iterator[Cell]:
    """`retail.py`'s panel `name` at `origins` origins, at its own horizon or at `horizon`."""
    import retail

    args = argparse.Namespace(threads=1, autogluon_python=None)
    panel = retail.DATASETS[name]
    if horizon is not None:
        panel = dataclasses.replace(panel, horizon=horizon)
    data, grid, statics = retail.load(panel)
    for k in range(origins):
        s = retail.split(panel, data, grid, k)
        yield (
            f"{label} origin {k}",
            s.test,
            lambda s=s: retail.run_system("tidecast", panel, s, statics, args),
        )


def retail_cells() -> Iterator[Cell]:
    """dominicks_oj and pasta_promo at `retail.py`'s three origins."""
    for name in ("dominicks_oj", "pasta_promo"):
        yield from _retail_origins(name, None, 3, name)


def long_cells() -> Iterator[Cell]:
    """dominicks_oj 13 (three origins), 26 and 39 weeks ahead (`long_horizon.py`)."""
    for horizon, origins in ((13, 3), (26, 1), (39, 1)):
        yield from _retail_origins("dominicks_oj", horizon, origins, f"dominicks_oj {horizon}w")


def favorita_cells() -> Iterator[Cell]:
    """Favorita's four rolling origins, the official split first (`favorita_rolling.py`)."""
    import favorita as fav
    import favorita_rolling as rolling

    frames = fav.load()
    for k, (history, window) in enumerate(rolling.splits(frames, 4)):
        actual = window[["item_id", "timestamp", "target"]].fillna({"target": 0.0})
        yield (
            f"favorita origin {k}",
            actual,
            lambda h=history, w=window: rolling.run_system(fav.TIDECAST_CALENDAR, h, w, frames, 1),
        )


def m4_cells() -> Iterator[Cell]:
    """M4 hourly and weekly, tourism monthly, quarterly and yearly (`m4.py`)."""
    import m4
    from common import load_dataset

    for name in ("m4_hourly", "m4_weekly", "tourism_monthly", "tourism_quarterly", "tourism_yearly"):
        train, test = load_dataset(name)
        horizon = int(test.groupby("item_id").size().max())
        assert name in m4.BENCHMARKS
        yield name, test, lambda t=train, h=horizon: systems.run_tidecast(t, h)


def panel_cells() -> Iterator[Cell]:
    """The visits, weekly and store panels and the two short weekly cuts."""
    import short_weekly
    import store_panel
    import visits_panel
    import weekly_panel

    visits = visits_panel.panel(0, visits_panel.RAGGED, visits_panel.load())
    yield "visits panel", visits.test, lambda: visits_panel.run_system("tidecast", visits)
    weekly = weekly_panel.panel()
    yield "weekly panel", weekly.test, lambda: weekly_panel.run_system("tidecast", weekly)
    store = store_panel.panel()
    yield "store panel", store.test, lambda: store_panel.run_system("tidecast", store)
    data = short_weekly.weekly_rows(short_weekly.ITEMS, 42)
    for history, horizon in ((84, 39), (91, 52)):
        cut = short_weekly.split(data, history, horizon)
        yield (
            f"short weekly {history}/{horizon}",
            cut["test"],
            lambda c=cut, h=horizon: short_weekly.run_system("tidecast", c, h),
        )


def demo_cells() -> Iterator[Cell]:
    """The demo hold-out (covariates, target only) and the messy demo (`messy.py`)."""
    import demo_holdout
    import messy

    train, test = demo_holdout.split()
    future = test[["item_id", "timestamp", *demo_holdout.KNOWN]]
    yield (
        "demo",
        test,
        lambda: systems.run_tidecast(train, demo_holdout.HORIZON, future=future, **demo_holdout.COVARIATES),
    )
    target_only = train[["item_id", "timestamp", "target"]]
    yield "demo, target only", test, lambda: systems.run_tidecast(target_only, demo_holdout.HORIZON)
    for label, wide in (("messy demo", False), ("messy demo, wide scales", True)):
        p = messy.panel(messy.ITEMS, 42, True, wide)
        yield label, p.test, lambda p=p: messy.run_system("tidecast", p)


GROUPS: dict[str, Callable[[], Iterator[Cell]]] = {
    "retail": retail_cells,
    "long": long_cells,
    "favorita": favorita_cells,
    "m4": m4_cells,
    "panels": panel_cells,
    "demo": demo_cells,
}


def measure(name: str, test: pd.DataFrame, run: systems.Run) -> dict[str, Any]:
    """RMSE and bias of the models' mean, the median, the implied mean and the shipped one."""
    joined = run.forecast.merge(test[["item_id", "timestamp", "target"]], on=["item_id", "timestamp"])
    joined = joined[joined["target"].notna()]
    y = joined["target"].to_numpy(np.float64)
    q = joined[list(QUANTILE_COLUMNS)].to_numpy(np.float64)
    means = {
        "models": joined["mean"].to_numpy(np.float64),
        "median": q[:, 1],
        "quantiles": implied_mean(q, (0.1, 0.5, 0.9)),
    }
    backtest = run.calibration.get("mean_backtest_rmse") or {}
    chosen = quantiles_better(backtest.get("models", np.nan), backtest.get("quantiles", np.inf))
    means["shipped"] = means["quantiles"] if chosen else means["models"]
    row: dict[str, Any] = {"set": name, "shipped": "quantiles" if chosen else "models"}
    for key, f in means.items():
        row[f"rmse_{key}"] = float(np.sqrt(np.mean((f - y) ** 2)))
        row[f"bias_{key}"] = float(f.sum() / y.sum()) if y.sum() else float("nan")
    row["ratio"] = row["rmse_shipped"] / row["rmse_models"]
    return row


def table(rows: pd.DataFrame) -> str:
    lines = [
        "| set | ships | RMSE: models' mean | median | implied by the quantiles | shipped ÷ models' | "
        "sum ÷ actual: models' mean | shipped |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows.itertuples():
        lines.append(
            f"| {r.set} | {r.shipped} | {r.rmse_models:.4g} | {r.rmse_median:.4g} | {r.rmse_quantiles:.4g} | "
            f"{r.ratio:.3f} | {r.bias_models:.3f} | {r.bias_shipped:.3f} |"
        )
    ratios = rows["ratio"].to_numpy(np.float64)
    lines.append("")
    lines.append(
        f"Geometric mean of shipped ÷ models' RMSE: {float(np.exp(np.mean(np.log(ratios)))):.3f} over "
        f"{len(ratios)} cells; lower in {(ratios < 1).sum()}, the same in {(ratios == 1).sum()}, "
        f"higher in {(ratios > 1).sum()}."
    )
    return "\n".join(lines)


def main(groups: list[str]) -> None:
    systems.EXTRA_OPTIONS["calibrate_mean"] = False  # the models' own mean stays in the forecast
    rows = []
    for group in groups:
        for name, test, run in GROUPS[group]():
            result = run()
            rows.append(measure(name, test, result))
            r = rows[-1]
            print(
                f"{name:32s} ships {r['shipped']:9s} RMSE {r['rmse_models']:.4g} -> {r['rmse_shipped']:.4g}",
                flush=True,
            )
    frame = pd.DataFrame(rows)
    path = RESULTS_DIR / "mean_column.csv"
    if path.exists():  # rows of the groups not run are kept
        frame = pd.concat([pd.read_csv(path).query("set not in @frame.set"), frame], ignore_index=True)
    frame.to_csv(path, index=False)
    header = f"# The mean column on every set (`benchmarks/mean_column.py`)\n\nRun on {machine()}.\n\n"
    (RESULTS_DIR / "mean_column.md").write_text(header + table(frame) + "\n")
    print(table(frame))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sets", default=",".join(GROUPS), help=f"groups among {', '.join(GROUPS)}")
    main([g.strip() for g in parser.parse_args().sets.split(",") if g.strip()])
