"""Render benchmark result CSVs as markdown, and put the table into README.md.

`results_markdown(folder)` reads every `<name>.csv` (rows) and `<name>.bars.csv` (bars) in
`benchmarks/results/` and returns the text of `benchmarks/results.md`; `update_readme` swaps
that table into README.md between `<!-- results:start -->` and `<!-- results:end -->`. The
service load test (`load.csv`) has its own columns, so it gets its own table (`load_markdown`);
its bars join the others.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
# Datasets in the order the table lists them; others follow alphabetically.
ORDER = ("demo_holdout", "m4_hourly", "m4_weekly", "tourism_monthly", "tourism_quarterly", "tourism_yearly")

# (CSV column, header, decimals)
TABLE: tuple[tuple[str, str, int], ...] = (
    ("dataset", "dataset", 0),
    ("system", "system", 0),
    ("wql", "wQL", 3),
    ("wape", "WAPE", 3),
    ("mase", "MASE", 3),
    ("smape", "sMAPE %", 3),
    ("owa", "OWA", 3),
    ("coverage", "cov. p10–p90", 3),
    ("seconds", "seconds", 1),
    ("wql_vs_snaive", "wQL ÷ SNaive", 3),
    ("mase_vs_snaive", "MASE ÷ SNaive", 3),
    ("time_vs_autoets", "time ÷ AutoETS", 2),
    ("wql_vs_lgbm", "wQL ÷ plain LGBM", 3),
    ("time_vs_lgbm", "time ÷ plain LGBM", 2),
)
LOAD = "load"  # results/load.csv: one row per (scenario, concurrency), not per system
SCALE = "scale"  # results/scale.csv: one row per (task, preset, items, executor); scale.py reports it
LOAD_TABLE: tuple[tuple[str, str, int], ...] = (
    ("scenario", "scenario", 0),
    ("concurrency", "clients", 0),
    ("paced_rps", "paced at req/s", 0),
    ("requests", "requests", 0),
    ("errors", "errors", 0),
    ("rps", "req/s", 1),
    ("p50_ms", "p50 ms", 1),
    ("p90_ms", "p90 ms", 1),
    ("p99_ms", "p99 ms", 1),
    ("body_kb", "body KiB", 1),
    ("load_avg_1m", "load avg", 2),
)


def _cell(value: Any, decimals: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if decimals and isinstance(value, int | float):
        return f"{value:.{decimals}f}"
    return str(value)


def _markdown(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def rows_markdown(rows: pd.DataFrame) -> str:
    """The results table: one line per (dataset, system)."""
    body = [[_cell(r.get(col), d) for col, _, d in TABLE] for r in rows.to_dict("records")]
    return _markdown([h for _, h, _ in TABLE], body)


def load_markdown(rows: pd.DataFrame) -> str:
    """The service load table: one line per (scenario, concurrent clients)."""
    body = [[_cell(r.get(col), d) for col, _, d in LOAD_TABLE] for r in rows.to_dict("records")]
    return _markdown([h for _, h, _ in LOAD_TABLE], body)


def bars_markdown(bars: pd.DataFrame) -> str:
    """The bars: value against threshold, PASS or FAIL."""
    body = []
    for b in bars.to_dict("records"):
        verdict = "**PASS**" if str(b["passed"]).lower() == "true" else "**FAIL**"
        detail = "" if pd.isna(b.get("detail")) else str(b["detail"])
        body.append([str(b["bar"]), _cell(b["value"], 3), f"≤ {_cell(b['threshold'], 3)}", verdict, detail])
    return _markdown(["bar", "value", "threshold", "result", "detail"], body)


def _names(folder: Path) -> list[str]:
    found = {p.name.removesuffix(".csv") for p in folder.glob("*.csv") if not p.name.endswith(".bars.csv")}
    found.discard(LOAD)
    found.discard(SCALE)
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))


def _load(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every result row and every bar in `folder`, datasets in table order."""
    names = _names(folder)
    if not names:
        return pd.DataFrame(), pd.DataFrame()
    rows = pd.concat([pd.read_csv(folder / f"{n}.csv") for n in names], ignore_index=True)
    bar_files = [folder / f"{n}.bars.csv" for n in [*names, LOAD] if (folder / f"{n}.bars.csv").exists()]
    frames = [f for f in (pd.read_csv(p) for p in bar_files) if len(f)]
    return rows, pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


NOTES = (
    "wQL: mean over p10/p50/p90 of 2·Σpinball/Σ|y|. WAPE, MASE and sMAPE score p50. MASE is "
    "per series then averaged, with each dataset's seasonal period (demo 7, M4 hourly 24, M4 "
    "weekly 1, tourism 12/4/1, Favorita and pasta_promo 7, dominicks_oj 52). sMAPE is M4's, in "
    "percent. OWA is relative to M4's official "
    "Naive2. Seconds are wall-clock fit + predict (the fastest of the demo's repeats). Rows "
    "marked *official* are the published M4 figures. statsforecast's 80% interval is p10–p90. "
    "Retail panels (`retail.py`): `<panel>` is the held-out last horizon, `<panel> rolling xN` the "
    "mean over N origins one horizon apart, every system refitted at each and pinned to one thread; "
    "systems ran one after another, so their seconds come at different machine loads (each cached "
    "row in `results/retail/` records its load average). ÷ plain LGBM compares with the plain "
    "LightGBM baseline of `plain_lgbm.py` on the same rows."
)


def results_markdown(folder: Path) -> str:
    """The whole of results.md from the result CSVs in `folder`."""
    rows, bars = _load(folder)
    if rows.empty:
        return "# Benchmark results\n\n(no results yet: run `make bench`)\n"
    runs = rows[["dataset", "run_at"]].drop_duplicates("dataset")
    when = "; ".join(f"{r.dataset} {r.run_at}" for r in runs.itertuples())
    engines = ", ".join(rows["engine"].dropna().unique()) if "engine" in rows else "unknown"
    parts = [
        "# Benchmark results",
        "",
        f"Generated by `benchmarks/run_all.py` (`make bench`). Machine: {rows['machine'].iloc[0]}. "
        f"Engine: {engines}. Runs: {when}.",
        "",
        NOTES,
        "",
        rows_markdown(rows),
    ]
    if (folder / f"{LOAD}.csv").exists():
        load = pd.read_csv(folder / f"{LOAD}.csv")
        parts += [
            "",
            "## Forecast service under load",
            "",
            f"`benchmarks/load.py`, run {load['run_at'].iloc[0]} on {load['machine'].iloc[0]} "
            f"({load['engine'].iloc[0]}): the real server on loopback, one uvicorn process, and a "
            "separate client process (asyncio, a minimal keep-alive HTTP/1.1 client; closed loop, no think "
            "time, unless paced). Latency is "
            "client-side, from sending a request to reading the whole answer; load avg is the "
            "machine's 1-minute load average before each scenario.",
            "",
            load_markdown(load),
        ]
    if len(bars):
        parts += ["", "## Bars", "", bars_markdown(bars)]
    return "\n".join(parts) + "\n"


def readme_block(folder: Path) -> str:
    """The table and the bars, for the README's results block."""
    rows, bars = _load(folder)
    parts = [rows_markdown(rows)]
    if len(bars):
        parts += ["", bars_markdown(bars)]
    return "\n".join(parts)


def update_readme(table: str, readme: Path = README) -> bool:
    """Replace the README block between the results markers with `table`; False if absent."""
    text = readme.read_text()
    if START not in text or END not in text:
        return False
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{table.strip()}\n{END}{tail}")
    return True
