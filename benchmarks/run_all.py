"""Run every benchmark, rebuild `benchmarks/results.md`, and copy its table into README.md.

Full run (about 70 minutes on 2 cores): the demo holdout (repeated when the time bar is
borderline; timings are then the fastest, all are listed), the messy demo against the clean
one (`messy.py`), the 1,100-series store panel of issue 10's speed bar (`store_panel.py`), clean
and with a real store's daily scatter (`--noise 0.12`, where the local models come within
screening's margin),
the 1,000-series weekly store-department panel of issue 10's season-52 case (`weekly_panel.py`),
then M4 hourly and weekly and tourism monthly, quarterly and yearly, then Favorita (tidecast
with and without Ecuador's holiday calendar and the store attributes, and the plain
LightGBM; then tidecast with the calendar and the plain LightGBM at four rolling origins,
`favorita_rolling.py`; then Favorita read as a visits panel, closed days absent, ragged starts,
39 days ahead, `visits_panel.py`), then the retail panels (`retail.py`: pasta_promo and dominicks_oj, three rolling
origins), every system on every series, then dominicks_oj 13, 26 and 39 weeks ahead
(`long_horizon.py`, about 6 minutes), then tidecast and the plain LightGBM over seeds 0-2
on Favorita, dominicks_oj, pasta_promo, the weekly panel and the visits panel (`seeds.py`, about
12 minutes),
then the forecast service under load (`load.py`: 10 s per scenario after 2 s of warm-up). The README
block between `<!-- results:start -->` and `<!-- results:end -->` is replaced with the table
and the bars; nothing else is touched.

`--quick` is a smoke test of a few minutes: the demo once, the messy demo, the store panel
and the weekly panel with 40 items, and the first 40 series of each other dataset (Favorita
without its oil run), the load test at 2 s per scenario, written to `benchmarks/.cache/quick/`
and `.cache/quick.md` (git-ignored); README.md and `results.md` are left alone, since a subset
is not comparable with M4's official figures.

`--autogluon-python PATH` (a Python with AutoGluon-TimeSeries, `autogluon_client.py`) adds
AutoGluon to the store, weekly, Favorita, visits and retail benchmarks, each in the same run as tidecast.

`--report-only` rebuilds `results.md` and the README block from the CSVs already in
`benchmarks/results/` (after running one script by hand, for instance).

Rerun: `make bench`, or `.venv/bin/python benchmarks/run_all.py [--quick] [--demo-repeats N]`
"""

from __future__ import annotations

import argparse
import time

import common
import demo_holdout
import favorita
import favorita_rolling
import load
import long_horizon
import m4
import messy
import neural
import retail
import seeds
import short_weekly
import store_panel
import visits_panel
import weekly_panel
from report import readme_block, update_readme

QUICK_SERIES = 40


def main(
    quick: bool = False, demo_repeats: int = 1, report_only: bool = False, autogluon_python: str | None = None
) -> None:
    """Run all benchmarks (or none, with `report_only`); unless quick, refresh the README block."""
    started = time.perf_counter()
    if quick:
        common.use_results_dir(common.BENCH_DIR / ".cache" / "quick")
    if not report_only:
        demo_holdout.main(1 if quick else demo_repeats)
        messy.main(QUICK_SERIES if quick else messy.ITEMS)
        store_panel.main(QUICK_SERIES if quick else store_panel.ITEMS, autogluon=autogluon_python)
        if not quick:
            store_panel.main(store_panel.ITEMS, autogluon=autogluon_python, noise=store_panel.NOISE)
        weekly_panel.main(QUICK_SERIES if quick else weekly_panel.ITEMS, autogluon=autogluon_python)
        short_weekly.main(QUICK_SERIES if quick else short_weekly.ITEMS)
        if not quick:
            neural.main()
        for bench in m4.BENCHMARKS.values():
            m4.run(bench, QUICK_SERIES if quick else None)
        favorita.run(
            QUICK_SERIES if quick else None,
            oil=not quick,
            pairs=0 if quick else favorita.TIME_PAIRS,
            autogluon=autogluon_python,
        )
        if not quick:
            favorita_rolling.main(4)
            visits_panel.main(autogluon=autogluon_python)
        options = ["--max-series", str(QUICK_SERIES), "--origins", "1"] if quick else []
        options += ["--autogluon-python", autogluon_python] if autogluon_python else []
        retail.main(retail.arguments().parse_args(options))
        if not quick:
            long_horizon.main(autogluon=autogluon_python)
            seeds.main()
        durations = load.QUICK if quick else load.FULL
        load.main(durations.seconds, durations.warmup)
    text = common.regenerate_markdown()
    print(text)
    if not quick and not update_readme(readme_block(common.RESULTS_DIR)):
        print("README.md has no results markers; left unchanged")
    print(f"all benchmarks: {time.perf_counter() - started:.0f}s; table in {common.RESULTS_MD}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a few minutes on a subset; README untouched")
    parser.add_argument("--demo-repeats", type=int, default=1, help="time the demo systems this many times")
    parser.add_argument("--report-only", action="store_true", help="only rebuild the tables from results/")
    parser.add_argument(
        "--autogluon-python",
        default=None,
        help="a Python with autogluon.timeseries (store, weekly, Favorita, retail)",
    )
    args = parser.parse_args()
    main(args.quick, args.demo_repeats, args.report_only, args.autogluon_python)
