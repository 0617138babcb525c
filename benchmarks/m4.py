"""M4 (hourly, weekly) and tourism (monthly, quarterly, yearly): tidecast against statsforecast.

Every system is fitted on `train.parquet`, forecasts the official horizon, and is scored on
`test.parquet` by the same code: M4's sMAPE (percent), MASE (per series, then averaged, with
the seasonal period of the data README: hourly 24, weekly 1, monthly 12, quarterly 4,
yearly 1), OWA against M4's official Naive2 (M4 sets only), wQL and p10–p90 coverage.

Systems in one run: tidecast `AutoForecaster` with the default preset (frequency inferred
from the synthetic but regular timestamps), and statsforecast SeasonalNaive (with the MASE
period, so it reproduces M4's official sNaive row), AutoETS and AutoTheta (with tidecast's
main seasonal period for the frequency, e.g. 52 for weekly) used directly with n_jobs=-1.
For M4 the official Naive2, sNaive and Theta figures are reference rows. Bar: on M4 hourly
and weekly tidecast's sMAPE and MASE beat the official Theta.

Rerun: `.venv/bin/python benchmarks/m4.py --dataset m4_hourly|m4_weekly|tourism_monthly|
tourism_quarterly|tourism_yearly|all [--max-series N]`
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import pandas as pd

import common
from common import add_ratios, bar, data_dir, load_dataset, print_rows, regenerate_markdown, score, write_rows
from systems import run_statsforecast, run_tidecast, warm_up
from tidecast.data.frequency import season_length

TIDECAST = "tidecast AutoForecaster (medium)"
# Issue 3's accuracy bars: tidecast's OWA (M4's top three scored 0.41-0.48 on hourly).
OWA_BARS = {"m4_hourly": 0.5, "m4_weekly": 0.85}


@dataclass(frozen=True)
class Benchmark:
    """One dataset: statsforecast's frequency alias, the official horizon, MASE's period."""

    name: str
    freq: str
    horizon: int
    mase_season: int
    m4_column: str | None = None  # the frequency's name in M4's official results file


BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in (
        Benchmark("m4_hourly", "h", 48, 24, "Hourly"),
        Benchmark("m4_weekly", "W-SUN", 13, 1, "Weekly"),
        Benchmark("tourism_monthly", "MS", 24, 12),
        Benchmark("tourism_quarterly", "QS", 8, 4),
        Benchmark("tourism_yearly", "YS", 4, 1),
    )
}


def official(column: str) -> dict[str, tuple[float, float]]:
    """M4's published (sMAPE, MASE) of Naive2, sNaive and Theta for one frequency."""
    table = pd.read_csv(data_dir() / "m4_point_forecast_accuracy_by_frequency.csv")
    table = table.drop_duplicates("method").set_index("method")
    return {
        m: (float(table.loc[m, f"sMAPE_{column}"]), float(table.loc[m, f"MASE_{column}"]))
        for m in ("Naive2", "sNaive", "Theta")
    }


def subset(train: pd.DataFrame, test: pd.DataFrame, n: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first `n` series of train and test (all of them for None)."""
    if n is None:
        return train, test
    keep = train["item_id"].drop_duplicates().iloc[:n]
    return train[train["item_id"].isin(keep)], test[test["item_id"].isin(keep)]


def earlier_baselines(name: str) -> list[dict[str, Any]]:
    """The statsforecast rows of the last full run of `name` (each with its own run time)."""
    path = common.RESULTS_DIR / f"{name}.csv"
    if not path.exists():
        raise SystemExit(f"{name}: no earlier run in {path}; run it once without --tidecast-only")
    table = pd.read_csv(path)
    keep = table[table["system"].str.startswith("statsforecast ")]
    return [{k: v for k, v in row.items() if pd.notna(v)} for row in keep.to_dict("records")]


def run(
    bench: Benchmark, max_series: int | None = None, tidecast_only: bool = False
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Fit, forecast and score every system on one dataset; write its result files.

    `tidecast_only` refits tidecast alone and keeps the statsforecast rows of the last run
    (their seconds then come from another time and load; each row says when it ran)."""
    train, test = subset(*load_dataset(bench.name), max_series)
    horizon = int(test.groupby("item_id").size().max())
    if horizon != bench.horizon:
        raise ValueError(f"{bench.name}: test holds {horizon} steps per series, expected {bench.horizon}")
    name = bench.name if max_series is None else f"{bench.name}[{max_series}]"
    model_season = season_length(bench.freq)
    models = {"SeasonalNaive": bench.mase_season, "AutoETS": model_season, "AutoTheta": model_season}
    warm_up(train, bench.freq, horizon, models)
    rows: list[dict[str, Any]] = []
    tide = run_tidecast(train, horizon)
    print(f"  {name}: tidecast {tide.seconds:.1f}s", flush=True)
    rows.append(
        _row(
            name,
            TIDECAST,
            score(test, None if tide.error else tide.forecast, train, bench.mase_season),
            tide.seconds,
        )
    )
    rows[-1]["note"] = "; ".join(tide.notes)
    kept = earlier_baselines(name) if tidecast_only else []
    rows.extend(kept)
    for model, season in models.items():
        if kept:
            break
        result = run_statsforecast(train, model, season, bench.freq, horizon)
        print(f"  {name}: statsforecast {model} {result.seconds:.1f}s", flush=True)
        metrics = score(test, result.forecast, train, bench.mase_season)
        rows.append(_row(name, f"statsforecast {model}", metrics, result.seconds, f"season_length={season}"))
    add_ratios(rows)
    bars: list[dict[str, Any]] = []
    if bench.m4_column is not None:
        ref = official(bench.m4_column)
        naive2 = ref["Naive2"]
        for r in rows:
            if "smape" in r:
                r["owa"] = 0.5 * (r["smape"] / naive2[0] + r["mase"] / naive2[1])
        if max_series is None:
            for method, (smape, mase) in ref.items():
                rows.append(_row(name, f"{method} (official)", {"smape": smape, "mase": mase}, float("nan")))
                rows[-1]["owa"] = 0.5 * (smape / naive2[0] + mase / naive2[1])
        theta = ref["Theta"]
        label = f"{name}: tidecast {{}} ÷ official Theta {{}}"
        smape, mase = rows[0].get("smape", float("nan")), rows[0].get("mase", float("nan"))
        bars = [
            bar(name, label.format("sMAPE", "sMAPE"), smape / theta[0], 1.0, f"Theta {theta[0]}"),
            bar(name, label.format("MASE", "MASE"), mase / theta[1], 1.0, f"Theta {theta[1]}"),
        ]
        if bench.name in OWA_BARS:
            bars.append(owa_bar(name, rows[0].get("owa", float("nan")), OWA_BARS[bench.name]))
    leaderboards = {name: tide.leaderboard} if tide.leaderboard is not None else {}
    write_rows(name.replace("[", "_").replace("]", ""), rows, bars, leaderboards)
    print_rows(rows, bars)
    if tide.leaderboard is not None:
        print(tide.leaderboard.to_string(index=False))
    print("\n".join(tide.notes), flush=True)
    return rows, bars


def owa_bar(name: str, owa: float, threshold: float) -> dict[str, Any]:
    """The OWA bar: tidecast's OWA against M4's Naive2, at most `threshold`."""
    return bar(name, f"{name}: tidecast OWA (vs official Naive2)", owa, threshold)


def _row(
    dataset: str, system: str, metrics: dict[str, float], seconds: float, note: str = ""
) -> dict[str, Any]:
    return {"dataset": dataset, "system": system, **metrics, "seconds": seconds, "note": note}


def main(datasets: list[str], max_series: int | None = None, tidecast_only: bool = False) -> None:
    """Run the named datasets (or every one for "all"), then rebuild results.md."""
    names = list(BENCHMARKS) if "all" in datasets else datasets
    for n in names:
        run(BENCHMARKS[n], max_series, tidecast_only)
    regenerate_markdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", nargs="+", default=["all"], choices=[*BENCHMARKS, "all"])
    parser.add_argument(
        "--max-series", type=int, default=None, help="only the first N series (a quick check)"
    )
    parser.add_argument(
        "--tidecast-only", action="store_true", help="refit tidecast, keep the last run's statsforecast rows"
    )
    args = parser.parse_args()
    main(args.dataset, args.max_series, args.tidecast_only)
