"""Render benchmark result CSVs as markdown, and put the table into README.md.

`results_markdown(folder)` reads every `<name>.csv` (rows) and `<name>.bars.csv` (bars) in
`benchmarks/results/` and returns the text of `benchmarks/results.md`; `update_readme` swaps
that table into README.md between `<!-- results:start -->` and `<!-- results:end -->`. Only
CSVs with one row per (dataset, system) join the main table: the service load test
(`load.csv`) and the missing-value experiment (`missing.csv`, one row per run, panel and
filling choice) have their own columns, so they get their own tables (`load_markdown`,
`missing_markdown`); `scale.csv` (scale.py's) and `explain_cost.csv` (explain_results.md's)
are reported by their own scripts. The load bars join the others.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
# Datasets in the order the table lists them; others follow alphabetically.
ORDER = (
    "demo_holdout",
    "messy",
    "m4_hourly",
    "m4_weekly",
    "tourism_monthly",
    "tourism_quarterly",
    "tourism_yearly",
)

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
MISSING = "missing"  # results/missing.csv: one row per (run, panel, filling choice)
# Not per (dataset, system) either, and reported elsewhere: scale.py's table, explain_results.md,
# mean_column.md.
ELSEWHERE = ("scale", "explain_cost", "mean_column")
MISSING_TABLE: tuple[tuple[str, str, int], ...] = (
    ("run", "run (preset, demo items)", 0),
    ("dataset", "panel", 0),
    ("choice", "target middlefill", 0),
    ("wql", "wQL", 4),
    ("wape", "WAPE", 4),
    ("mase", "MASE", 3),
    ("seconds", "seconds", 1),
    ("run_at", "run at", 0),
)
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


def table_markdown(rows: pd.DataFrame, columns: tuple[tuple[str, str, int], ...]) -> str:
    """`rows` as a markdown table of `columns`: (column, header, decimals; 0 prints as is)."""
    body = [[_cell(r.get(col), d) for col, _, d in columns] for r in rows.to_dict("records")]
    return _markdown([h for _, h, _ in columns], body)


def rows_markdown(rows: pd.DataFrame) -> str:
    """The results table: one line per (dataset, system)."""
    return table_markdown(rows, TABLE)


def load_markdown(rows: pd.DataFrame) -> str:
    """The service load table: one line per (scenario, concurrent clients)."""
    return table_markdown(rows, LOAD_TABLE)


def missing_markdown(rows: pd.DataFrame) -> str:
    """The missing-value table: one line per (run, panel, filling choice of the target)."""
    return table_markdown(rows, MISSING_TABLE)


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
    found -= {LOAD, MISSING, *ELSEWHERE}
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))


def _load(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every result row and every bar in `folder`, datasets in table order.

    Raises when a CSV meant for the main table lacks a dataset or a system: its rows would
    render as "—", saying nothing of what they are (give it its own table instead).
    """
    names = _names(folder)
    if not names:
        return pd.DataFrame(), pd.DataFrame()
    rows = pd.concat([_rows(folder, n) for n in names], ignore_index=True)
    bar_files = [folder / f"{n}.bars.csv" for n in [*names, LOAD] if (folder / f"{n}.bars.csv").exists()]
    frames = [f for f in (pd.read_csv(p) for p in bar_files) if len(f)]
    return rows, pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _rows(folder: Path, name: str) -> pd.DataFrame:
    frame = pd.read_csv(folder / f"{name}.csv")
    for column in ("dataset", "system", "run_at"):
        if column not in frame or frame[column].isna().any():
            raise ValueError(f"{name}.csv: a row without {column!r}; not a (dataset, system) table")
    return frame


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
    "row in `results/retail/` records its load average). Every system is pinned to one thread "
    "on Favorita too (`favorita.py`, `favorita_rolling.py`; before engine d873672 tidecast ran "
    "there on every core against a one-thread plain LightGBM) and on the messy, store and weekly "
    "panels. ÷ plain LGBM compares with the plain LightGBM baseline of `plain_lgbm.py` on the "
    "same rows."
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
    if (folder / f"{MISSING}.csv").exists():
        parts += [
            "",
            "## Missing target values",
            "",
            MISSING_NOTE,
            "",
            missing_markdown(pd.read_csv(folder / f"{MISSING}.csv")),
        ]
    if len(bars):
        parts += ["", "## Bars", "", bars_markdown(bars)]
    return "\n".join(parts) + "\n"


MISSING_NOTE = (
    "`benchmarks/missing.py` (its docstring reads the figures): each panel's last horizon held "
    "out, the training target blanked, dropped or cut in four-week blocks (dominicks_oj: its own "
    "absent weeks), fitted once per way of filling the target's gaps (`middlefill`); "
    "`any (no gaps)` is the clean panel, where every choice is the same."
)


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
