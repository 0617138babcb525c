"""How training and batch forecasting grow with the catalogue: 1k, 10k, 100k items.

Generates demo catalogues (`tidecast demo-data --items N`, three years daily, Parquet) once
under `benchmarks/.cache/scale/`, then runs the real commands in subprocesses and measures:

- train: `tidecast train --preset P` wall time and peak memory;
- batch: `tidecast batch` with a `fast` model (trained on the 1k catalogue) over each whole
  catalogue, in local worker processes and on a local Dask cluster; wall time, items per second
  per core, peak memory, and whether the two executors' forecasts are identical.

Peak memory is the largest sum over the command's whole process tree (workers and Dask
included) of RSS, and of PSS, which splits pages shared by forked workers among them instead of
counting them in each (so it is the honest figure for `train`, whose workers fork), sampled
every 0.2 s. Every timing is wall clock on this machine; the "per 1k items"
column is what shows whether growth is linear.

    python benchmarks/scale.py                          # everything (about an hour on 2 cores)
    python benchmarks/scale.py --batch-sizes 1000,10000 --train-sizes 1000 --presets fast
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import psutil

BENCH_DIR = Path(__file__).resolve().parent
CACHE = BENCH_DIR / ".cache" / "scale"
RESULTS = BENCH_DIR / "results" / "scale.csv"
README = BENCH_DIR.parent / "README.md"
START, END = "<!-- scale:start -->", "<!-- scale:end -->"
COLUMNS = ["--item-col", "item_id", "--timestamp-col", "timestamp", "--target-col", "target_value"]


@dataclass
class Row:
    task: str
    preset: str
    items: int
    rows: int
    executor: str
    workers: int
    seconds: float
    seconds_per_1k_items: float
    items_per_second_per_core: float
    peak_rss_mib: float
    peak_pss_mib: float
    same_forecasts: str
    load_avg_1m: float = 0.0
    run_at: str = ""

    @classmethod
    def measured(
        cls,
        task: str,
        preset: str,
        items: int,
        rows: int,
        executor: str,
        cores: int,
        seconds: float,
        peak: tuple[float, float],
    ) -> Row:
        per_1k, per_core = round(seconds / items * 1000, 2), round(items / seconds / cores, 1)
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        load = round(os.getloadavg()[0], 2)
        return cls(
            task,
            preset,
            items,
            rows,
            executor,
            cores,
            round(seconds, 1),
            per_1k,
            per_core,
            round(peak[0]),
            round(peak[1]),
            "",
            load,
            when,
        )


def tidecast(*args: str) -> list[str]:
    return [sys.executable, "-m", "tidecast.cli", *args]


def tree_memory(root: psutil.Process) -> tuple[int, int]:
    """RSS and PSS summed over `root` and every descendant (PSS 0 where the OS has none)."""
    rss = pss = 0
    for process in [root, *root.children(recursive=True)]:
        try:
            info = process.memory_full_info()
        except psutil.Error:
            continue
        rss += info.rss
        pss += getattr(info, "pss", 0)
    return rss, pss


def measure(command: list[str], log: Path) -> tuple[float, tuple[float, float]]:
    """Run `command`; return wall seconds and the peak (RSS, PSS) in MiB of its process tree."""
    peak = [0, 0]
    with log.open("w") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        root = psutil.Process(process.pid)
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                for i, value in enumerate(tree_memory(root)):
                    peak[i] = max(peak[i], value)
                done.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = process.wait()
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
    if code != 0:
        raise SystemExit(f"{' '.join(command)} failed ({code}); see {log}")
    return seconds, (peak[0] / 2**20, peak[1] / 2**20)


def catalogue(items: int) -> Path:
    path = CACHE / f"items-{items}.parquet"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            tidecast("demo-data", "--out", str(path), "--items", str(items), "--seed", "7"), check=True
        )
    return path


def rows_of(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def train(items: int, preset: str, cores: int, executor: str) -> tuple[Row, Path]:
    """`tidecast train` on the catalogue: forked processes, or `--workers` (a local Dask cluster)."""
    data = catalogue(items)
    out = CACHE / (f"run-{preset}-{items}" + ("" if executor == "processes" else f"-{executor}"))
    args = ["train", str(data), "--horizon", "14", *COLUMNS, "--freq", "D", "--preset", preset]
    args += ["--out", str(out)] + (["--workers", str(cores)] if executor == "dask" else [])
    seconds, peak = measure(tidecast(*args), CACHE / f"train-{preset}-{items}-{executor}.log")
    row = Row.measured("train", preset, items, rows_of(data), executor, cores, seconds, peak)
    return row, out / "model"


def batch(items: int, model: Path, executor: str, cores: int, chunk_rows: int) -> tuple[Row, Path]:
    data = catalogue(items)
    out = CACHE / f"batch-{items}-{executor}"
    args = ["batch", "--model", str(model), "--input", str(data), "--output", str(out)]
    args += ["--chunk-rows", str(chunk_rows), "--overwrite"]
    args += ["--workers" if executor == "dask" else "--jobs", str(cores)]
    for stale in out.glob("_chunks/*.json"):  # measure a whole batch, never a resumed one
        stale.unlink()
    seconds, peak = measure(tidecast(*args), CACHE / f"batch-{items}-{executor}.log")
    row = Row.measured("batch", "fast", items, rows_of(data), executor, cores, seconds, peak)
    return row, out


def same_forecasts(a: Path, b: Path) -> str:
    left = pd.read_parquet(a / "forecasts").sort_values(["item_id", "timestamp"], ignore_index=True)
    right = pd.read_parquet(b / "forecasts").sort_values(["item_id", "timestamp"], ignore_index=True)
    try:
        pd.testing.assert_frame_equal(left, right)
    except AssertionError:
        return "no"
    return "yes"


TABLE = (
    ("task", "task"),
    ("preset", "preset"),
    ("items", "items"),
    ("rows", "rows"),
    ("executor", "executor"),
    ("seconds", "seconds"),
    ("seconds_per_1k_items", "s per 1k items"),
    ("items_per_second_per_core", "items/s/core"),
    ("peak_rss_mib", "peak RSS MiB"),
    ("peak_pss_mib", "peak PSS MiB"),
    ("same_forecasts", "identical forecasts"),
    ("load_avg_1m", "load avg"),
)


def _cell(value: object) -> str:
    """Counts with thousands separators (also counts that a missing cell made floats)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and value >= 100):
        return f"{int(value):,}"
    return str(value)


def markdown(table: pd.DataFrame) -> str:
    """The README table; growth is linear when "s per 1k items" stays flat down a task."""
    lines = ["| " + " | ".join(h for _, h in TABLE) + " |", "|" + "---|" * len(TABLE)]
    for row in table.to_dict("records"):
        cells = [_cell(row.get(k)) for k, _ in TABLE]
        lines.append("| " + " | ".join(cells) + " |")
    runs = table["run_at"].dropna() if "run_at" in table else pd.Series(dtype=str)
    when = f"{runs.min()} to {runs.max()}" if len(runs) else "unknown time"
    intro = (
        f"`benchmarks/scale.py`, {when}, {table['machine'].iloc[0]}; peak RSS and PSS sum every process of the "
        "command (workers and Dask included); load avg is the machine's 1-minute load average after the run."
    )
    return "\n".join([intro, "", *lines])


def update_readme(text: str) -> None:
    readme = README.read_text()
    if START in readme and END in readme:
        head, rest = readme.split(START, 1)
        README.write_text(f"{head}{START}\n{text}\n{END}{rest.split(END, 1)[1]}")


KEY = ["task", "preset", "items", "executor"]


def save(rows: list[Row], cores: int) -> None:
    """Merge `rows` into scale.csv (a row replaces the earlier one of its task, preset, size
    and executor) and refresh the README table."""
    table = pd.DataFrame([asdict(r) for r in rows])
    table["machine"] = f"{platform.machine()}, {cores} cores"
    if RESULTS.exists():
        table = pd.concat([pd.read_csv(RESULTS), table], ignore_index=True)
    table = table.drop_duplicates(KEY, keep="last")
    order = {"train": 0, "batch": 1}
    table = table.sort_values(KEY, key=lambda c: c.map(order) if c.name == "task" else c, kind="stable")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(RESULTS, index=False)
    update_readme(markdown(table))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=["train", "batch", "all"], default="all")
    parser.add_argument("--batch-sizes", default="1000,10000,100000")
    parser.add_argument("--train-sizes", default="1000,10000")
    parser.add_argument("--presets", default="fast,medium")
    parser.add_argument(
        "--medium-max-items", type=int, default=1000, help="largest catalogue to train medium on"
    )
    parser.add_argument("--executors", default="processes,dask")
    parser.add_argument("--chunk-rows", type=int, default=500_000)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    executors = args.executors.split(",")
    rows: list[Row] = []

    def record(row: Row) -> None:
        rows.append(row)
        print(row, flush=True)
        save(rows, cores)

    train_sizes = sorted(map(int, args.train_sizes.split(",")))
    model = CACHE / f"run-fast-{train_sizes[0]}" / "model"
    if args.only in ("batch", "all"):
        # The batch model: the fast preset on the smallest catalogue.
        if not (model / "manifest.json").exists():
            record(train(train_sizes[0], "fast", cores, "processes")[0])
        for items in map(int, args.batch_sizes.split(",")):
            outputs = {}
            for executor in executors:
                row, outputs[executor] = batch(items, model, executor, cores, args.chunk_rows)
                record(row)
            if len(outputs) == 2:
                verdict = same_forecasts(*outputs.values())
                for row in rows[-2:]:
                    row.same_forecasts = verdict
                save(rows, cores)
    if args.only in ("train", "all"):
        for preset in args.presets.split(","):
            for items in train_sizes:
                if preset == "medium" and items > args.medium_max_items:
                    continue
                for executor in executors:
                    record(train(items, preset, cores, executor)[0])


if __name__ == "__main__":
    main()
