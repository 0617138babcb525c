"""Screening: a costly local candidate is tried on a sample of the series before the panel.

A local model (one fit per series) costs in proportion to the number of series, and its
score on a random sample of them estimates its score on all of them without bias. On a
large panel, a costly local candidate (AutoTheta, MSTL, MSTLETS, AutoETS, AutoARIMA,
Prophet) is first backtested on `SAMPLE_FRACTION` of the series; when its score there is
more than `MARGIN` times the best score of the candidates already run, measured on the same
sampled points, it cannot win and is skipped, with its sample score in the leaderboard's
`error` column. Within that margin it must still add to the ensemble of the models run so
far, on the sample or on enough bootstrap resamples of its series (`ensemble_value`), or it
is skipped too. Otherwise it runs on the whole panel as before.

The sample is at most `MAX_SAMPLE` series, whatever the panel's size: the two scores are taken
on the same sampled points, so how sure the comparison is depends on how many series it
covers, not on what share of the panel they are, while its cost grows with their number. A
share alone screened 1,500 series per costly candidate on a 10,000-series panel. Measured at
engine 7e3fb29 against the share alone (one thread, two runs each, alternating): on the
1,100-series store panel (`benchmarks/store_panel.py`, 165 sampled) the three screened
candidates, all skipped, took 12.4 of 55.5-56.6 s; sampled at 100 they took 7.5 and the run
51.2-51.3 s, the same three skipped at the same ratios within 0.11 (MSTLETS 1.88x -> 1.77x),
the same forecast (wQL 0.00892). The weekly panel (131 -> 100 sampled; 16.2-16.3 s ->
15.5-16.0 s) and dominicks_oj's three origins (137 -> 100) kept every decision and wQL too.

Why: on dominicks_oj (913 weekly series) MSTLETS, AutoTheta and MSTL took 56 of the 110
seconds of a default run and scored 1.5-4.7x the LightGBM's wQL; none earned a weight. In
the nine published leaderboards (`benchmarks/results/leaderboards/`) every member with a
weight scored within 1.6x of the best, and those beyond 1.4x held 0.05-0.15 of the weight
(one exception: DynamicRegression at 2.1x with 0.06 on M4 hourly, a cheap model that is not
screened). `MARGIN` 1.5 keeps the demo's MSTLETS member (1.42x, weight 0.15).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from tidecast.automl.backtest import CandidateResult, WindowData, windowed_scorer
from tidecast.automl.ensemble import BacktestForecast
from tidecast.automl.ensemble_value import MIN_GAIN, MIN_HITS, ensemble_gain
from tidecast.data.schema import ITEM_ID
from tidecast.models.base import Forecaster

# Local candidates at least this costly (catalog `Tags.cost`) are screened: MSTLETS, MSTL,
# AutoTheta, AutoETS, AutoARIMA, Prophet; not DynamicRegression (0.3) or the baselines.
MIN_COST = 0.4
# Panels with fewer backtested series run every candidate in full.
MIN_SERIES = 200
SAMPLE_FRACTION = 0.15
MIN_SAMPLE = 60
MAX_SAMPLE = 100
# A screened candidate runs in full unless its sample score exceeds the best's by this factor.
MARGIN = 1.5


def screened(model: type[Forecaster], n_series: int) -> bool:
    """Whether a candidate of this class is screened on a panel of `n_series` series."""
    return model.tags.scope == "local" and model.tags.cost >= MIN_COST and n_series >= MIN_SERIES


@dataclass(frozen=True)
class Sample:
    """The sampled series' windows and, per window, which of the panel's rows they are."""

    windows: list[WindowData]
    rows: np.ndarray  # boolean over the concatenated backtest points of every window
    n_series: int


def draw_sample(windows: Sequence[WindowData], seed: int) -> Sample:
    """`SAMPLE_FRACTION` of the backtested series (at least `MIN_SAMPLE`, at most `MAX_SAMPLE`),
    drawn once per run."""
    items = windows[0].history.item_ids
    size = min(len(items), MAX_SAMPLE, max(MIN_SAMPLE, round(SAMPLE_FRACTION * len(items))))
    chosen = np.sort(np.random.default_rng(seed).choice(len(items), size, replace=False))
    picked = set(items[chosen].tolist())
    sampled, masks = [], []
    for w in windows:
        history = w.history
        position = np.flatnonzero(np.isin(history.item_ids, list(picked)))
        sub = history.take(position, history.indptr[position], np.diff(history.indptr)[position])
        mask = w.actual[ITEM_ID].isin(picked).to_numpy()
        future = None if w.future is None else w.future[w.future[ITEM_ID].isin(picked)].reset_index(drop=True)
        sampled.append(
            replace(
                w,
                history=sub,
                actual=w.actual[mask].reset_index(drop=True),
                future=future,
                scale=w.scale[mask],
            )
        )
        masks.append(mask)
    return Sample(sampled, np.concatenate(masks), size)


def verdict(
    trial: CandidateResult,
    done: Sequence[CandidateResult],
    sample: Sample,
    quantiles: Sequence[float],
    metric: str,
    ensemble_size: int = 20,
    seed: int = 0,
) -> str | None:
    """Why the candidate is skipped, or None to run it: its sample score is beyond `MARGIN`
    times the best's, or it adds too little to the ensemble of the models run so far
    (`ensemble_value`; `ensemble_size` greedy rounds, `seed` for the resamples)."""
    if trial.error is not None or trial.forecast is None:
        return None  # failing on the sample says nothing sure about the panel: run it in full
    score = windowed_scorer(sample.windows, quantiles, metric)
    ran = {
        c.name: BacktestForecast(c.forecast.mean[sample.rows], c.forecast.quantiles[sample.rows])
        for c in done
        if c.error is None and c.forecast is not None
    }
    rivals = [(score(f.mean, f.quantiles), n) for n, f in ran.items()]
    rivals = [(s, n) for s, n in rivals if np.isfinite(s)]
    own = score(trial.forecast.mean, trial.forecast.quantiles)
    if not rivals or not np.isfinite(own):
        return None
    best, name = min(rivals)
    if own > MARGIN * best:
        return (
            f"skipped: on a sample of {sample.n_series} series its {metric} was {own:.4g}, "
            f"{own / best:.2f}x the best so far ({name} {best:.4g}; runs in full within {MARGIN}x)"
        )
    gain = ensemble_gain(
        ran, trial.name, trial.forecast, sample.windows, quantiles, metric, ensemble_size, seed
    )
    if gain.pays:
        return None
    return (
        f"skipped: on a sample of {sample.n_series} series it took the ensemble of the models run "
        f"so far from {metric} {gain.before:.4g} to {gain.after:.4g} ({gain.relative:.2%} better), and "
        f"{gain.hits} of {gain.drawn} resamples of those series reached {MIN_GAIN:.1%} "
        f"(runs in full where the sample or {MIN_HITS} resamples do)"
    )
