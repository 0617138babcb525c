"""Shared helpers for the benchmarks: data location, timing, scoring, result files.

Every benchmark script writes one CSV per dataset under `benchmarks/results/` (one row per
system) plus a `<name>.bars.csv` with the project's accuracy and speed bars, then calls
`regenerate_markdown()`, which rebuilds `benchmarks/results.md` from every CSV there. The
data folder is `../shared/data` next to the repository, or `$TIDECAST_BENCH_DATA`.
"""

from __future__ import annotations

import functools
import os
import platform
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tidecast.data.schema import TARGET
from tidecast.metrics import evaluate

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
RESULTS_MD = BENCH_DIR / "results.md"
QUANTILES: tuple[float, ...] = (0.1, 0.5, 0.9)

# Columns of a result row, in the order they are written.
ROW_COLUMNS: tuple[str, ...] = (
    "dataset",
    "system",
    "wql",
    "wape",
    "mase",
    "smape",
    "owa",
    "coverage",
    "seconds",
    "seconds_all",
    "wql_vs_snaive",
    "mase_vs_snaive",
    "wql_vs_autoets",
    "time_vs_autoets",
    "wql_vs_lgbm",
    "time_vs_lgbm",
    "note",
)
BAR_COLUMNS: tuple[str, ...] = ("benchmark", "bar", "value", "threshold", "passed", "detail")


def use_results_dir(folder: Path) -> None:
    """Write result CSVs under `folder` and results.md beside it (`--quick` keeps its own)."""
    global RESULTS_DIR, RESULTS_MD
    RESULTS_DIR = folder
    RESULTS_MD = folder.parent / f"{folder.name}.md"


def data_dir() -> Path:
    """The benchmark data folder: `$TIDECAST_BENCH_DATA`, else `<repo>/../shared/data`."""
    override = os.environ.get("TIDECAST_BENCH_DATA")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "shared" / "data"


def load_dataset(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) of a benchmark folder, in the canonical item_id/timestamp/target columns."""
    folder = data_dir() / name
    if not folder.is_dir():
        raise FileNotFoundError(f"benchmark data {folder} not found: set TIDECAST_BENCH_DATA")
    frames = []
    for part in ("train", "test"):
        frame = pd.read_parquet(folder / f"{part}.parquet")
        frame["item_id"] = frame["item_id"].astype(str)
        frame["timestamp"] = pd.to_datetime(frame["timestamp"]).astype("datetime64[ns]")
        frame[TARGET] = frame[TARGET].astype(np.float64)
        frames.append(frame.sort_values(["item_id", "timestamp"], kind="stable").reset_index(drop=True))
    return frames[0], frames[1]


@dataclass
class Stopwatch:
    """Elapsed wall-clock seconds of a `with timed() as sw:` block (time.perf_counter)."""

    seconds: float = 0.0
    _start: float = field(default=0.0, repr=False)


@contextmanager
def timed() -> Iterator[Stopwatch]:
    """Time a block with `time.perf_counter`; read `.seconds` after it."""
    watch = Stopwatch(_start=time.perf_counter())
    try:
        yield watch
    finally:
        watch.seconds = time.perf_counter() - watch._start


def score(
    actual: pd.DataFrame, forecast: pd.DataFrame | None, history: pd.DataFrame, season_length: int
) -> dict[str, float]:
    """wQL, WAPE, MASE (per series, then averaged), sMAPE in percent (M4's), p10–p90 coverage.

    Uses `tidecast.metrics.evaluate`, so every system is scored by the same code. Raises when
    the forecast misses any (item, timestamp) of `actual`, so a partial forecast cannot score.
    No forecast (a failed run) scores nothing: an empty dict.
    """
    if forecast is None:
        return {}
    keys = ["item_id", "timestamp"]
    covered = actual[keys].merge(forecast[keys], on=keys, how="inner")
    if len(covered) != len(actual):
        raise ValueError(f"forecast covers {len(covered)} of {len(actual)} test rows")
    m = evaluate(actual, forecast, history, QUANTILES, season_length)
    return {
        "wql": m["wql"],
        "wape": m["wape"],
        "mase": m["mase"],
        "smape": 100.0 * m["smape"],
        "coverage": m["coverage"],
    }


def best_of(runs: Sequence[float]) -> float:
    """The fastest of repeated timings: the least disturbed by other work on the machine."""
    return float(min(runs))


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """Fill the ratio columns of one dataset's rows against SeasonalNaive and AutoETS rows."""
    by_system = {r["system"]: r for r in rows}
    snaive = by_system.get("statsforecast SeasonalNaive")
    ets = by_system.get("statsforecast AutoETS")
    for r in rows:
        if snaive is not None:
            r["wql_vs_snaive"] = _ratio(r.get("wql"), snaive.get("wql"))
            r["mase_vs_snaive"] = _ratio(r.get("mase"), snaive.get("mase"))
        if ets is not None:
            r["wql_vs_autoets"] = _ratio(r.get("wql"), ets.get("wql"))
            r["time_vs_autoets"] = _ratio(r.get("seconds"), ets.get("seconds"))


def add_lgbm_ratios(rows: list[dict[str, Any]], plain_system: str) -> None:
    """Fill wQL and time of every row of one dataset against its plain LightGBM row."""
    plain = next((r for r in rows if r["system"] == plain_system), None)
    for r in rows:
        r["wql_vs_lgbm"] = _ratio(r.get("wql"), plain.get("wql") if plain else None)
        r["time_vs_lgbm"] = _ratio(r.get("seconds"), plain.get("seconds") if plain else None)


def _ratio(a: Any, b: Any) -> float:
    return float(a) / float(b) if _finite(a) and _finite(b) and float(b) != 0 else float("nan")


def _finite(x: Any) -> bool:
    try:
        return bool(np.isfinite(float(x)))
    except (TypeError, ValueError):
        return False


def write_rows(
    name: str,
    rows: list[dict[str, Any]],
    bars: list[dict[str, Any]],
    leaderboards: dict[str, pd.DataFrame] | None = None,
) -> Path:
    """Write `results/<name>.csv` (one row per system), `results/<name>.bars.csv`, and each
    tidecast leaderboard (fit and predict seconds per candidate) to `results/leaderboards/`."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    for dataset, board in (leaderboards or {}).items():
        (RESULTS_DIR / "leaderboards").mkdir(exist_ok=True)
        board.to_csv(RESULTS_DIR / "leaderboards" / f"{dataset}.csv", index=False)
    stamp = time.strftime("%Y-%m-%d %H:%M")
    frame = pd.DataFrame(rows)
    table = frame.reindex(columns=list(ROW_COLUMNS))
    # Rows kept from an earlier run (`m4.py --tidecast-only`) keep their own stamp and engine.
    for column, now in (("run_at", stamp), ("machine", machine()), ("engine", engine_version())):
        table[column] = frame[column].fillna(now) if column in frame else now
    path = RESULTS_DIR / f"{name}.csv"
    table.to_csv(path, index=False)
    pd.DataFrame(bars).reindex(columns=list(BAR_COLUMNS)).to_csv(
        RESULTS_DIR / f"{name}.bars.csv", index=False
    )
    return path


def machine() -> str:
    """One line naming the machine the timings come from."""
    return f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"


@functools.cache
def engine_version() -> str:
    """tidecast's version and commit, "+uncommitted" when `src/` differs from that commit.

    Read once per process, when this module is imported: a run imports the engine once, and a commit made
    while it runs (rows are written origin by origin) moved the label of its later rows to code
    the run never ran (dominicks_oj's rows of one run read five commits)."""
    import subprocess

    import tidecast

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=BENCH_DIR.parent, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    version = getattr(tidecast, "__version__", "?")
    try:
        commit = git("rev-parse", "--short", "HEAD")
        if git("status", "--porcelain", "--", "src"):
            commit += "+uncommitted"
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown commit"
    return f"tidecast {version} ({commit})"


engine_version()  # at import, beside the engine's own import: the code this process runs


def bar(benchmark: str, name: str, value: float, threshold: float, detail: str = "") -> dict[str, Any]:
    """One bar row: passed when `value <= threshold` (every bar here is a lower-is-better ratio)."""
    passed = _finite(value) and value <= threshold
    return {
        "benchmark": benchmark,
        "bar": name,
        "value": value,
        "threshold": threshold,
        "passed": passed,
        "detail": detail,
    }


def versus_plain(
    name: str, who: str, tide: dict[str, Any], plain: dict[str, Any], time_bar: float
) -> list[dict[str, Any]]:
    """Issue 10's two bars against the plain LightGBM of the same run: tidecast's wQL below its
    wQL, tidecast's seconds within `time_bar` times its seconds. `who` opens each bar's text
    ("weekly panel: tidecast")."""
    wql, plain_wql = tide.get("wql", np.nan), plain.get("wql", np.nan)
    return [
        bar(
            name,
            f"{who} wQL ÷ plain LightGBM wQL",
            wql / plain_wql,
            1.0,
            f"tidecast {wql:.4f}, plain LightGBM {plain_wql:.4f}",
        ),
        bar(
            name,
            f"{who} seconds ÷ plain LightGBM seconds",
            tide["seconds"] / plain["seconds"],
            time_bar,
            f"tidecast {tide['seconds']:.0f}s, plain LightGBM {plain['seconds']:.0f}s",
        ),
    ]


def print_rows(rows: list[dict[str, Any]], bars: list[dict[str, Any]]) -> None:
    """The rows and bars of one run, as the markdown that results.md will hold."""
    from report import bars_markdown, rows_markdown

    print(rows_markdown(pd.DataFrame(rows).reindex(columns=list(ROW_COLUMNS))))
    if bars:
        print()
        print(bars_markdown(pd.DataFrame(bars)))


def regenerate_markdown() -> str:
    """Rebuild `benchmarks/results.md` from every CSV in `benchmarks/results/`; return it."""
    from report import results_markdown

    text = results_markdown(RESULTS_DIR)
    RESULTS_MD.write_text(text)
    return text
