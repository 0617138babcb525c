"""A store panel shaped like issue 10's held-out one: is tidecast fast enough on it?

Issue 10 (part 6): the default preset trains a ~1,100-series daily panel of 2.5 years in at
most 2x the time statsforecast AutoETS alone takes on it, and any retail panel in at most 3x
the plain LightGBM's time, measured in the same run. The held-out panel is ~1,100 stores,
daily, ~2.5 years, horizon 48 days, known covariates store open/closed, promotion, state and
school holidays, closed days (mostly Sundays) selling 0, and ~180 stores missing 6 months of
rows. We do not have it; this is a synthetic analogue from the project's demo generator.

The panel (`panel(n_items, seed)`): the clean demo `tidecast.data.demo.generate(n_items,
seed)` (its levels, trends, annual, quarterly and weekly cycles, holiday windows, promotions
with a lift of 0.7x the item's level, noise), cut to its last `DAYS` = 940 days (2021-06-05 to
2023-12-31), then made store-like here rather than with `messy=True`, whose history kinds
(late starts, early ends, short and new items, returns) are not this panel's:

- `open` is 0 on every Sunday and on the demo's closing days (`demo_messy.is_open` with every
  store in a Sunday-closed region), and sales are exactly 0 then;
- `state_holiday` is the demo's holiday flag, `school_holiday` a school-vacation calendar
  (summer, Christmas, autumn and spring weeks) shifted by a week per region, as German states
  stagger theirs; open days of a school holiday sell `SCHOOL_LIFT` more;
- `round(n_items * 180 / 1,100)` series (180 of 1,100) miss every row of the six months `GAP`
  (2022-07-01 to 2022-12-31), as the held-out panel's ~180 stores do.

Split: the last 48 days (2023-11-14 to 2023-12-31) are the test, everything before the history;
the future holds the four known covariates of those days.

Systems, one after another in one run, every one on one thread:
- tidecast `AutoForecaster`, default preset, the four known covariates, static category and
  region, `predict(future=...)`: no other option, as a new user would run it;
- statsforecast AutoETS(7) alone, on each series' daily grid with the gap interpolated: its
  fit + predict seconds are issue 10's reference for the 2x bar; scored too;
- the plain LightGBM of `plain_lgbm.py` with the same covariates and statics;
- statsforecast SeasonalNaive(7), as the other benchmarks have it;
- AutoGluon-TimeSeries (`medium_quality`, the same covariates and statics, on each series'
  daily grid, the gap NaN: `systems.history_grid`) when `--autogluon-python` names
  an interpreter that has it; bars: tidecast's wQL and seconds within AutoGluon's (issue 10's
  held-out panel: AutoGluon 0.061 in 148 s there).

Scores (`common.score`): wQL (p10/p50/p90), WAPE, MASE, sMAPE, coverage, seconds. Rows:
`results/store_panel.csv`; bars: tidecast ÷ AutoETS seconds ≤ 2, tidecast ÷ plain LightGBM
seconds ≤ 3, tidecast ÷ plain LightGBM wQL ≤ 1. The load average at the start and the end of
the run goes into the tidecast row's note, since the machine may be shared.

Results (2026-12-03, 2 shared cores, load 1.9 at the start and 3.6 at the end, 1,100 series,
seed 42, engine b9cdebc, `results/store_panel.csv`): tidecast 73.9 s, wQL 0.0173; AutoETS 180.5 s,
wQL 0.0614; plain LightGBM 119.6 s, wQL 0.0631; SeasonalNaive 0.9 s, wQL 0.0662. tidecast takes
0.41x AutoETS's time (bar 2x), 0.62x the plain LightGBM's (bar 3x) at 0.27x its wQL (bar 1x):
all three pass. Where tidecast's time went (leaderboard, report timings): backtest 58.7 s, refit
7.9 s (LightGBM, weight 0.86), forecast 2.8 s; in the backtest the screening of MSTLETS, MSTL
and AutoTheta on 165 sampled series 27 s (all three skipped: MSTLETS at 1.7x LightGBM's wQL
there, MSTL and AutoTheta stopped after window 1 at 3.3x and 10x), DynamicRegression 10.5 s
(no weight), LightGBMHorizonLags 9.8 s (stopped after window 1 at 3.4x DynamicRegression's
score, the best so far), LightGBM 8.0 s. The engine before (e43ea2c, load 2.7-3.5): 82.5 s, wQL
0.0178, 0.51x AutoETS (160.7 s) and 0.69x plain LightGBM (118.8 s); cProfile put 12 s of each
LightGBM fit (backtest and refit) in listing its 47 million candidate training rows before
sampling 60,000, now drawn directly (`models.gbm_rows`), and 5 s in NPTS's forecasts of
windows 2-3 at 4.3x SeasonalNaive's score, now stopped after window 1 (`automl.pruning`).
With 200 series (engine e43ea2c): tidecast 28.8 s, AutoETS 32.4 s, plain LightGBM 23.0 s.

At engine af776a8 (load 2.8-3.7): tidecast 60 s, wQL 0.0207; AutoETS 135 s, wQL 0.0614; plain
LightGBM 77 s, wQL 0.0631. The wQL was worse than b9cdebc's 0.0173 because LightGBM's quantile
boosters read only the point model's high-gain features from cba054f (LightGBM alone 0.0208 ->
0.0341). At engine 3ca4514 (every feature again; load 1.0-1.6): tidecast 94 s, wQL 0.0116;
AutoETS 254 s; plain LightGBM 107 s: 0.37x AutoETS's time, 0.88x the plain LightGBM's, 0.18x its
wQL. At engine 79af09a (LightGBM without Fourier pairs on daily data; load 2-3, a second job
on the machine): tidecast 109 s, wQL 0.0102; AutoETS 228 s, wQL 0.0614; plain LightGBM 115 s,
wQL 0.0631: 0.48x AutoETS's time, 0.95x the plain LightGBM's, 0.16x its wQL.
At engine 7e3fb29 with AutoGluon 1.6.3 in the same run (load 0.2-2.0): tidecast 56 s, wQL
0.0089; AutoGluon 476 s, wQL 0.0469 (its validation score was 0.023: a WeightedEnsemble of
RecursiveTabular and ETS, which did not carry to the test's closed days and December);
AutoETS 146 s, plain LightGBM 77 s: 0.12x AutoGluon's time and 0.19x its wQL.

This panel does not reproduce the held-out one's 384 s against the plain LightGBM's 16 s:
here the plain model trains on every row (900,000, three quantiles, 400 rounds each) where
tidecast samples 60,000, and the demo's smooth demand lets LightGBM beat the local models so
clearly that screening skips them; on real store sales they may come within screening's 1.5x
and then run on every one of the 1,100 long series, which is where such a run would spend
its time.

**The noisy panel** (`--noise 0.12`, `results/store_panel_noisy.csv`): a real store's sales
scatter by about 10% a day around what weekday, promotion and holidays explain, and drift with
local events; the demo's scatter is about 1%. `store_noise` multiplies the sales by a mean-one
lognormal of log sd 0.12 x U(0.5, 1.5) per store, on a log AR(1) drift of the store's level
(0.97, innovations 0.02); everything else is the clean panel's. There the local models come
within screening's 1.5x of LightGBM, as the paragraph above expected of real sales. At engine
cd3ff5b (before the ensemble-value screening of `automl/ensemble_value.py`) tidecast took
209.8 s on it, wQL 0.07286: MSTLETS, MSTL and AutoTheta ran on every series (86 s of backtest)
for weights of 0.10, 0.05 and 0, and MSTLETS's 0.10 was refitted on all of them (refit 54 s).
At engine 44dc2b5 (2026-12-05, load 1.0-1.4, AutoGluon 1.6.3 in the same run): tidecast 62.8 s,
wQL 0.0729 (the three skipped on screening's sample: 0.00% of ensemble gain there, on 0 of 19
resamples either); AutoETS 163.3 s, wQL 0.1166; plain LightGBM 75.5 s, wQL 0.1071;
SeasonalNaive 0.1299; AutoGluon 395.4 s, wQL 0.1074. tidecast takes 0.38x AutoETS's time,
0.83x the plain LightGBM's and 0.16x AutoGluon's, at 0.68x the plain LightGBM's wQL.
Rerun at engine 0fb0fca (scoring and NPTS made cheaper, the same decisions; load 1.0, every
system slower than that morning): tidecast 66.8 s, AutoETS 177.7 s, plain LightGBM 81.8 s,
AutoGluon 454.0 s, each wQL the same: 0.38x AutoETS's time, 0.82x the plain LightGBM's.
Rerun at engine 55ae01f (the same forecasts to the last bit, computed with less: the gap fill,
the greedy ensemble's scoring, the regression's Fourier terms and the normal levels; load 1.0,
every system slower again): tidecast 72.8 s, AutoETS 213.0 s, plain LightGBM 94.0 s, AutoGluon
489.0 s: 0.34x AutoETS's time, 0.78x the plain LightGBM's, 0.15x AutoGluon's. Against the engine
before (652477e), tidecast alone, two pairs run in turn: 65.6 / 71.1 s against 77.0 / 85.3 s
(0.86x the wall time of the whole process, data generation included).
Rerun at engine 94c5cad (screening's pilot, 2026-12-06, load 0.9-1.2): tidecast 66.6 s, wQL
0.0729 (the same forecast); AutoETS 164.8 s, 0.1166; plain LightGBM 101.3 s, 0.1071; AutoGluon
458.7 s, 0.1074: 0.40x AutoETS's time, 0.66x the plain LightGBM's, 0.15x AutoGluon's.

Rerun: `OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/store_panel.py [--items 1100] [--seed 42]
[--autogluon-python /path/to/agvenv/bin/python] [--noise 0.12]`
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from autogluon_client import LABEL as AG_LABEL
from autogluon_client import versus_autogluon
from common import bar
from panel_systems import run_on_panel
from scatter import scatter
from systems import Run, compare_systems, warm_up
from tidecast.data.demo import END, generate
from tidecast.data.demo_messy import SUNDAY_CLOSED_REGIONS, is_open

NAME = "store_panel"
DATASET = "store panel (store_panel.py)"
HORIZON, SEASON = 48, 7
DAYS = 940  # about 2.5 years, the held-out panel's length
ITEMS = 1_100
GAP_SHARE = 180 / 1_100  # the held-out panel's stores without six months of rows
GAP = ("2022-07-01", "2022-12-31")
SCHOOL_LIFT = 0.1
DRIFT_PHI, DRIFT_SD = 0.97, 0.02  # `store_noise`'s slow drift of a store's level
NOISE = 0.12  # `run_all`'s noisy panel: a store's daily scatter (log sd, 0.06-0.18 by store)
SCHOOL_WEEKS = (("07-01", "08-11"), ("10-14", "10-27"), ("12-22", "01-05"), ("03-30", "04-12"))
KNOWN = ("open", "promotion", "state_holiday", "school_holiday")
STATIC = ("category", "region")
SCALE_WINDOW = 56  # the plain LightGBM's per-series scale window (daily, as pasta_promo)
LABELS = {
    "tidecast": "tidecast AutoForecaster (medium, covariates + statics)",
    "AutoETS": "statsforecast AutoETS",
    "plain_lgbm": "plain LightGBM (direct, quantile, covariates)",
    "SeasonalNaive": "statsforecast SeasonalNaive",
}
TIME_BAR_ETS, TIME_BAR_LGBM, WQL_BAR_LGBM = 2.0, 3.0, 1.0


@dataclass
class Panel:
    """The store panel split at the origin."""

    train: pd.DataFrame  # item_id, timestamp, target, known, statics; observed rows only
    filled: pd.DataFrame  # item_id, timestamp, target on each item's daily grid, gap interpolated
    future: pd.DataFrame  # item_id, timestamp, known of the horizon
    test: pd.DataFrame  # item_id, timestamp, target of the horizon
    statics: pd.DataFrame  # item_id, category, region


def school_holiday(regions: np.ndarray, dates: pd.DatetimeIndex) -> np.ndarray:
    """(items, days) bool: the `SCHOOL_WEEKS` vacations, a week later per region in turn."""
    order = {r: k for k, r in enumerate(sorted(set(regions)))}
    shift = np.array([order[r] for r in regions]) * 7
    out = np.zeros((len(regions), len(dates)), dtype=bool)
    for days in np.unique(shift):
        moved = dates - pd.Timedelta(days=int(days))
        md = np.asarray(moved.strftime("%m-%d"))
        on = np.zeros(len(dates), dtype=bool)
        for start, end in SCHOOL_WEEKS:
            on |= (md >= start) & (md <= end) if start <= end else (md >= start) | (md <= end)
        out[shift == days] = on
    return out


def store_noise(n_items: int, seed: int, noise: float) -> np.ndarray:
    """Mean-one multiplicative noise (items x days): a store's own day-to-day scatter, log sd
    `noise` x U(0.5, 1.5) per store, on a slow drift of its level (log AR(1), `DRIFT_PHI`,
    innovations of sd `DRIFT_SD`), from its own random stream (`scatter`)."""
    return scatter(n_items, DAYS, seed, noise, DRIFT_PHI, DRIFT_SD)


def store_rows(n_items: int, seed: int, noise: float = 0.0) -> pd.DataFrame:
    """Every row of the panel (the gap left out): item_id, timestamp, target, known, statics;
    with `noise` > 0, the sales scattered by `store_noise`."""
    data = generate(n_items, seed)
    dates = pd.date_range(end=END, periods=DAYS, freq="D")
    data = data[data["timestamp"] >= dates[0]].reset_index(drop=True)
    regions = data["region"].to_numpy().reshape(n_items, DAYS)[:, 0]
    opened = is_open(np.full(n_items, SUNDAY_CLOSED_REGIONS[0]), dates)
    school = school_holiday(regions, dates)
    sales = data["target_value"].to_numpy().reshape(n_items, DAYS) * (1 + SCHOOL_LIFT * school)
    if noise > 0:
        sales = sales * store_noise(n_items, seed, noise)
    frame = pd.DataFrame(
        {
            "item_id": data["item_id"],
            "timestamp": data["timestamp"],
            "target": np.where(opened, np.round(sales, 2), 0.0).ravel(),
            "open": opened.astype(np.int8).ravel(),
            "promotion": data["promotion"].to_numpy() * opened.ravel(),
            "state_holiday": data["is_holiday"],
            "school_holiday": school.astype(np.int8).ravel(),
            "category": data["category"],
            "region": data["region"],
        }
    )
    rng = np.random.default_rng([seed, 3])
    gapped = rng.choice(n_items, size=round(n_items * GAP_SHARE), replace=False)
    in_gap = frame["timestamp"].between(*GAP).to_numpy().reshape(n_items, DAYS)
    in_gap[np.setdiff1d(np.arange(n_items), gapped)] = False
    return frame[~in_gap.ravel()].reset_index(drop=True)


def panel(n_items: int = ITEMS, seed: int = 42, noise: float = 0.0) -> Panel:
    """The store panel of `n_items` series at `seed` (`noise`: `store_noise`'s scatter), split
    `HORIZON` days before its end."""
    data = store_rows(n_items, seed, noise)
    origin = pd.Timestamp(END) - pd.Timedelta(days=HORIZON)
    past = data["timestamp"] <= origin
    train = data[past].reset_index(drop=True)
    horizon = data[~past].reset_index(drop=True)
    statics = train.groupby("item_id", sort=True)[list(STATIC)].first().reset_index()
    return Panel(
        train,
        _filled(train),
        horizon[["item_id", "timestamp", *KNOWN]],
        horizon[["item_id", "timestamp", "target"]],
        statics,
    )


def _filled(train: pd.DataFrame) -> pd.DataFrame:
    """Each series on its daily grid, the gap linearly interpolated (statsforecast reads a
    series as consecutive steps)."""
    grid = pd.MultiIndex.from_product(
        [train["item_id"].unique(), pd.date_range(train["timestamp"].min(), train["timestamp"].max())],
        names=["item_id", "timestamp"],
    ).to_frame(index=False)
    grid = grid.merge(train[["item_id", "timestamp", "target"]], on=["item_id", "timestamp"], how="left")
    grid["target"] = grid.groupby("item_id", sort=False)["target"].transform(
        lambda s: s.interpolate(limit_direction="both")
    )
    return grid


def run_system(system: str, p: Panel, autogluon: str | None = None) -> Run:
    """Fit + forecast one system, timed, on one thread (`autogluon`: its Python)."""
    return run_on_panel(
        system,
        p,
        horizon=HORIZON,
        season=SEASON,
        freq="D",
        known=KNOWN,
        scale_window=SCALE_WINDOW,
        autogluon=autogluon,
        static_columns=list(STATIC),
    )


def main(
    n_items: int = ITEMS, seed: int = 42, autogluon: str | None = None, noise: float = 0.0
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every system on the panel, one after another; write `results/store_panel.csv` (with
    `noise`, `results/store_panel_noisy.csv`) and its bars. `autogluon` is a Python with
    AutoGluon (`autogluon_client`), which then runs too."""
    p = panel(n_items, seed, noise)
    warm_up(p.filled, "D", HORIZON, {m: SEASON for m in ("SeasonalNaive", "AutoETS")})
    frames = (p.train, p.test, p.filled)
    labels = {**LABELS, "autogluon": AG_LABEL} if autogluon else LABELS
    name, dataset = (
        (NAME, DATASET) if noise <= 0 else (f"{NAME}_noisy", f"store panel, noise {noise:g} (store_panel.py)")
    )
    return compare_systems(
        name,
        dataset,
        labels,
        lambda system: run_system(system, p, autogluon),
        frames,
        SEASON,
        lambda rows: store_bars(rows, name),
    )


def store_bars(rows: list[dict[str, Any]], name: str = NAME) -> list[dict[str, Any]]:
    """Issue 10's two time bars and the retail wQL bar, all as same-run ratios."""
    by = {r["system"]: r for r in rows}
    label = "store panel" if name == NAME else "noisy store panel"
    tide, ets, plain = (by[LABELS[s]] for s in ("tidecast", "AutoETS", "plain_lgbm"))
    detail = f"tidecast {tide['seconds']:.0f}s, AutoETS {ets['seconds']:.0f}s, plain LightGBM {plain['seconds']:.0f}s"
    return [
        *versus_autogluon(name, f"{label}: tidecast", tide, by.get(AG_LABEL)),
        bar(
            name,
            f"{label}: tidecast seconds ÷ AutoETS seconds",
            tide["seconds"] / ets["seconds"],
            TIME_BAR_ETS,
            detail,
        ),
        bar(
            name,
            f"{label}: tidecast seconds ÷ plain LightGBM seconds",
            tide["seconds"] / plain["seconds"],
            TIME_BAR_LGBM,
            detail,
        ),
        bar(
            name,
            f"{label}: tidecast wQL ÷ plain LightGBM wQL",
            tide.get("wql", np.nan) / plain.get("wql", np.nan),
            WQL_BAR_LGBM,
            f"tidecast {tide.get('wql', np.nan):.4f}, plain LightGBM {plain.get('wql', np.nan):.4f}, "
            f"AutoETS {ets.get('wql', np.nan):.4f}",
        ),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=ITEMS, help="series in the panel (1,100 as issue 10's)")
    parser.add_argument("--seed", type=int, default=42, help="the generator seed")
    parser.add_argument("--autogluon-python", default=None, help="a Python that has autogluon.timeseries")
    parser.add_argument(
        "--noise", type=float, default=0.0, help="log sd of each store's daily scatter (0: the clean panel)"
    )
    args = parser.parse_args()
    main(args.items, args.seed, args.autogluon_python, args.noise)
