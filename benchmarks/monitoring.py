"""Monitoring at scale: bulk actuals, monitoring queries, and the forecast log's cost per request.

1. **Ingest**: one million actuals (2,000 items x 500 days, a Parquet file) loaded into a
   fresh SQLite service database by what `tidecast actuals ingest FILE` runs (read, validate,
   stage, upsert), then the same file again (every row known: the idempotent path), then
   with 10% of the values changed (each change logged). Bar: the first load under 60 s.
2. **Monitoring query**: a forecast log of 2,000 items x 8 weekly origins x 14 steps (224,000
   scored points) beside those actuals; the report (log read and expanded, joined with the
   actuals, every metric per version, week, step and item by the kernels, drift per item)
   timed 5 times after one warm-up; the training profile is built once, as the service
   caches it. Bar: the median under 1 s.
3. **Forecast latency, log on vs off**: `benchmarks/load.py`'s setup (the fast model on the
   demo data, the real server on loopback, a separate client process) with two servers, one
   with ``TIDECAST_FORECAST_LOG=false``; each scenario runs 4 times on each, alternating
   (off, on, on, off, ...) so a drift in the machine's load hits both alike, and the medians
   are compared. On a shared machine single runs differ by 2x whatever the mode, so only
   the medians of several mean anything. ``fresh x1``: one item's last year as history, cut at
   a random day of its last 60 so each request is a new origin (a model call and a new log
   row); ``stored x1`` at 50 clients: cached answers. Bar: p50 and p99 with the log on within
   1.2x of off.

Writes `results/monitoring/monitoring.csv` and `results/monitoring/results.md`.
Rerun: `.venv/bin/python benchmarks/monitoring.py [--seconds 10] [--skip-load]`
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BENCH_DIR.parent / "src"))

OUT = BENCH_DIR / "results" / "monitoring"
ITEMS, DAYS, HORIZON, ORIGINS = 2_000, 500, 14, 8
INGEST_BAR_S, QUERY_BAR_S, LATENCY_BAR = 60.0, 1.0, 1.2
# ABBA order, so a drift in the machine's load weighs on both modes alike; medians per mode
ORDER = ("off", "on", "on", "off", "off", "on", "on", "off")


def actuals(items: int = ITEMS, days: int = DAYS, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    stamps = pd.date_range("2023-01-01", periods=days, freq="D")
    level = rng.uniform(10, 100, items)
    weekly = np.sin(2 * np.pi * np.arange(days) / 7)
    values = level[:, None] * (1 + 0.2 * weekly[None, :]) + rng.normal(0, 3, (items, days))
    return pd.DataFrame(
        {
            "item_id": np.repeat([f"item_{i:05d}" for i in range(items)], days),
            "timestamp": np.tile(stamps.to_numpy(), items),
            "value": np.round(values.ravel(), 3),
        }
    )


def ingest_and_query(home: Path) -> list[dict[str, Any]]:
    from tidecast.monitor.accuracy import logged_forecasts
    from tidecast.monitor.actuals import ingest_actuals, read_actuals
    from tidecast.monitor.forecast_log import Origin, row, write_rows
    from tidecast.monitor.monitoring import endpoint_report
    from tidecast.monitor.profiles import training_profile
    from tidecast.registry.db import Database
    from tidecast.registry.statuses import ForecastSource

    rows: list[dict[str, Any]] = []
    frame = actuals()
    file = home / "actuals.parquet"
    frame.to_parquet(file)
    database = Database.from_url(f"sqlite:///{home / 'tidecast.db'}")
    database.migrate()

    def load(path: Path, what: str) -> None:
        started = time.perf_counter()
        canonical, duplicates = read_actuals(path)
        result = ingest_actuals(database.sessions, canonical, duplicates)
        seconds = time.perf_counter() - started
        detail = f"{result.inserted} new, {result.updated} changed, {result.unchanged} unchanged"
        rows.append({"measure": f"ingest {what}", "value": seconds, "unit": "s", "detail": detail})
        print(f"ingest {what}: {seconds:.1f}s ({detail})", flush=True)

    if os.environ.get("MONITORING_BENCH_QUERY_ONLY"):  # profiling the query: load without timing it
        ingest_actuals(database.sessions, read_actuals(file)[0])
    else:
        load(file, "1,000,000 new rows")
        load(file, "the same 1,000,000 rows again")
        changed = frame.copy()
        changed.loc[changed.index % 10 == 0, "value"] += 1.0
        changed.to_parquet(home / "changed.parquet")
        load(home / "changed.parquet", "1,000,000 rows, 10% changed")

    # forecasts from 8 weekly origins over the last 70 days, each 14 steps
    last_train = pd.Timestamp("2023-01-01") + pd.Timedelta(days=DAYS - 1 - 7 * ORIGINS - HORIZON)
    origins = [last_train + pd.Timedelta(days=7 * k) for k in range(ORIGINS)]
    pivot = frame.pivot(index="item_id", columns="timestamp", values="value")
    rng = np.random.default_rng(1)
    log_rows = []
    for version, origin in enumerate(origins):
        targets = pd.date_range(origin + pd.Timedelta(days=1), periods=HORIZON, freq="D")
        truth = pivot[targets].to_numpy()
        mean = truth * rng.normal(1, 0.05, truth.shape)
        spread = np.abs(mean) * 0.1
        qs = np.stack([mean - 1.28 * spread, mean, mean + 1.28 * spread], axis=2)
        tag = Origin(ForecastSource.ENDPOINT, "bench", 1 + version // 4, "D", (0.1, 0.5, 0.9))
        log_rows += [
            row(tag, item, targets[0].to_pydatetime(), mean[i], qs[i]) for i, item in enumerate(pivot.index)
        ]
    with database.transaction() as session:
        for k in range(0, len(log_rows), 5_000):
            write_rows(session, log_rows[k : k + 5_000])
    history = frame[frame["timestamp"] <= last_train].rename(columns={"value": "target"})
    profile = training_profile(history, season_length=7)

    def report() -> dict[str, Any]:
        """What `Monitor.report` runs once it has the versions' backtests and profiles."""
        with database.engine.connect() as connection:
            logged = logged_forecasts(connection, "bench")
            return endpoint_report(connection, logged, lambda _v: profile, {}, 2, "W", 20)

    report()  # warm-up: imports, first connection
    times = []
    for _ in range(5):
        started = time.perf_counter()
        out = report()
        times.append(time.perf_counter() - started)
    detail = f"{out['forecasts']} forecasts, {out['points']} points, {out['items_scored']} items; runs {', '.join(f'{t:.2f}' for t in times)}"
    rows.append(
        {
            "measure": "monitoring report (median of 5)",
            "value": statistics.median(times),
            "unit": "s",
            "detail": detail,
        }
    )
    print(f"monitoring report: {statistics.median(times):.2f}s ({detail})", flush=True)
    database.dispose()
    return rows


def fresh_bodies(data: pd.DataFrame, count: int = 125, seed: int = 0) -> list[bytes]:
    """One item's last 365 days each, cut at a random day of its last 60: a new origin each."""
    from load import FRESH_DAYS

    rng = random.Random(seed)
    items = sorted(data["item_id"].unique())
    by_item = {item: part for item, part in data.groupby("item_id")}
    bodies = []
    for _ in range(count):
        part = by_item[rng.choice(items)]
        part = part.iloc[: len(part) - rng.randrange(60)].tail(FRESH_DAYS)
        history = [
            {
                "item_id": r.item_id,
                "timestamp": r.timestamp.strftime("%Y-%m-%d"),
                "target_value": float(r.target_value),
            }
            for r in part.itertuples()
        ]
        bodies.append(json.dumps({"history": history}).encode())
    return bodies


def latency(seconds: float, warmup: float) -> list[dict[str, Any]]:
    import load

    homes = {mode: Path(tempfile.mkdtemp(prefix=f"tidecast-monitor-{mode}-")) for mode in ("off", "on")}
    try:
        data = load.demo_data()
        load.train_and_register(homes["off"], data)
        register_copy(homes["off"] / "trained", homes["on"])
        keys = {mode: load.create_keys(home) for mode, home in homes.items()}
        scenarios = {
            "fresh x1": (fresh_bodies(data), 1),
            "stored x1": (load.make_bodies(data, "stored x1"), 50),
        }
        results: dict[tuple[str, str], list[dict[str, Any]]] = {}
        with (
            load.running_server(homes["off"], forecast_log="false") as (off_url, _),
            load.running_server(homes["on"], forecast_log="true") as (on_url, _),
        ):
            urls = {"off": off_url, "on": on_url}
            for mode, url in urls.items():
                load.deploy(url, keys[mode][0])
            for name, (bodies, clients) in scenarios.items():
                for rep, mode in enumerate(ORDER):
                    result = load.run_scenario(
                        urls[mode], keys[mode][1], bodies, clients, seconds, warmup, rep
                    )
                    summary = load.summarise(name, clients, result, 0.0, os.getloadavg()[0])
                    results.setdefault((name, mode), []).append(summary)
                    print(
                        f"  {name} {mode}: p50 {summary['p50_ms']:.1f} p99 {summary['p99_ms']:.1f} ms, {summary['rps']:.0f} req/s, {summary['errors']} errors",
                        flush=True,
                    )
        logged = _logged_rows(homes["on"])
    finally:
        for home in homes.values():
            shutil.rmtree(home, ignore_errors=True)
    rows = []
    for name, (_, clients) in scenarios.items():
        for stat in ("p50_ms", "p99_ms"):
            off = statistics.median(r[stat] for r in results[(name, "off")])
            on = statistics.median(r[stat] for r in results[(name, "on")])
            requests = sum(r["requests"] for r in results[(name, "on")])
            rows.append(
                {
                    "measure": f"{name} at {clients} client(s): {stat[:3]} log on / off",
                    "value": on / off,
                    "unit": "ratio",
                    "detail": f"off {off:.2f} ms, on {on:.2f} ms (median of {len(ORDER) // 2} runs each, {requests} requests with the log on)",
                }
            )
    rows.append(
        {
            "measure": "forecast log rows written by the server with the log on",
            "value": logged,
            "unit": "rows",
            "detail": "",
        }
    )
    return rows


def register_copy(folder: Path, home: Path) -> None:
    """The same trained model as version 1, approved, in a second service home."""
    from load import ENDPOINT
    from tidecast.registry.registry import open_registry
    from tidecast.registry.settings import ServiceSettings

    with open_registry(ServiceSettings(home=home)) as registry:
        registry.approve(ENDPOINT, registry.register(ENDPOINT, folder).version)


def _logged_rows(home: Path) -> int:
    import sqlite3

    with sqlite3.connect(home / "tidecast.db") as connection:
        return int(connection.execute("SELECT count(*) FROM forecast_log").fetchone()[0])


def write(rows: list[dict[str, Any]]) -> None:
    import common

    OUT.mkdir(parents=True, exist_ok=True)
    bars = []
    for r in rows:
        if r["measure"] == "ingest 1,000,000 new rows":
            bars.append(
                common.bar(
                    "monitoring",
                    "1,000,000 actuals ingested, seconds ÷ 60",
                    r["value"] / INGEST_BAR_S,
                    1.0,
                    f"{r['value']:.1f} s",
                )
            )
        elif r["measure"].startswith("monitoring report"):
            bars.append(
                common.bar(
                    "monitoring",
                    "monitoring report seconds ÷ 1",
                    r["value"] / QUERY_BAR_S,
                    1.0,
                    f"{r['value']:.2f} s",
                )
            )
        elif r["unit"] == "ratio":
            bars.append(
                common.bar("monitoring", f"{r['measure']} ÷ 1.2", r["value"] / LATENCY_BAR, 1.0, r["detail"])
            )
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M")
    table = pd.DataFrame(rows).assign(run_at=stamp, machine=common.machine(), engine=common.engine_version())
    table.to_csv(OUT / "monitoring.csv", index=False)
    lines = [
        "# Monitoring benchmark",
        "",
        f"`benchmarks/monitoring.py`, run {stamp} on {common.machine()} ({common.engine_version()}), "
        f"1-minute load average {os.getloadavg()[0]:.2f} at the end (the machine is shared).",
        "",
        "| measure | value | unit | detail |",
        "|---|---|---|---|",
        *(f"| {r['measure']} | {r['value']:.3f} | {r['unit']} | {r['detail']} |" for r in rows),
        "",
        "| bar | value | threshold | result | detail |",
        "|---|---|---|---|---|",
        *(
            f"| {b['bar']} | {b['value']:.3f} | ≤ {b['threshold']:.1f} | {'**PASS**' if b['passed'] else '**FAIL**'} | {b['detail']} |"
            for b in bars
        ),
    ]
    (OUT / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--skip-load", action="store_true", help="Only ingest and query")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # the servers are subprocesses: they must run this checkout's tidecast, not an installed one
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(BENCH_DIR.parent / "src"), os.environ.get("PYTHONPATH", "")]
    )
    home = Path(tempfile.mkdtemp(prefix="tidecast-monitor-"))
    try:
        rows = ingest_and_query(home)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if not args.skip_load:
        rows += latency(args.seconds, args.warmup)
    write(rows)


if __name__ == "__main__":
    main()
