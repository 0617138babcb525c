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

The sample itself is tried in two steps: a pilot of `PILOT` of its series first, then the
rest. A candidate whose pilot score is beyond the margin, and stays beyond it on at least
`PILOT_SURE` of the resamples of the pilot's series, is skipped there (`pilot_verdict`): the
other 70 fits would only confirm it. Otherwise the rest is fitted and the two parts make the
trial on the whole sample (`merge`; a local model fits series by series), so a candidate the
pilot leaves open costs what it did before. The pruning judge (`pruning`) reads each part's
first window; a candidate stopped on both parts is skipped, one stopped on one part only is
tried on the whole sample, as without a pilot. Measured at engine 65748af (one thread): on the
store panel (`benchmarks/store_panel.py`) the three screened trials took 5.9 s against 10.3 s
(MSTLETS and AutoTheta skipped on their pilots), the forecast identical to the last bit; the
noisy store panel, the weekly panel, M4 hourly and weekly and tourism identical too. Asking the
ensemble's question on the pilot as well (skipped where none of its 20 resamples gains) was
measured and not taken: MSTL was skipped on M4 hourly's pilot, where on the whole sample it
earns weight, and the test wQL went from 0.02228 to 0.02370.

Screening from 100 backtested series instead of `MIN_SERIES` (engine cca2c93, measured, not
taken): the 193-series copy of the visits panel (`benchmarks/visits_panel.py --copies 4`) ran
77.4 -> 55.6 s with the same forecast (MSTL, MSTLETS and AutoTheta, none weighted, skipped) and
pasta_promo (118) 44.9 -> 39.5 s, the same forecast; the demo (125) was no faster (38.5 -> 40.1 s:
MSTLETS, which earns weight there, ran on its sample and then in full) and its target-only run
skipped MSTL on the pilot where in full it held 0.10 of the weight (wQL 0.00878 -> 0.00854).
Below 200 series a kept candidate's sample costs a third or more of its full run again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from tidecast.automl import pruning
from tidecast.automl.backtest import CandidateResult, WindowData, windowed_scorer
from tidecast.automl.ensemble import BacktestForecast
from tidecast.automl.ensemble_value import MIN_GAIN, MIN_HITS, ensemble_gain, resample_picks, series_codes
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
# The sample's pilot: this many of its series, tried first; beyond the margin there on at least
# PILOT_SURE of PILOT_RESAMPLES resamples of them, the candidate is skipped without the rest.
PILOT = 30
PILOT_RESAMPLES = 100
PILOT_SURE = 0.95


def screened(model: type[Forecaster], n_series: int) -> bool:
    """Whether a candidate of this class is screened on a panel of `n_series` series."""
    return model.tags.scope == "local" and model.tags.cost >= MIN_COST and n_series >= MIN_SERIES


@dataclass(frozen=True)
class Sample:
    """The sampled series' windows and, per window, which of the panel's rows they are."""

    windows: list[WindowData]
    rows: np.ndarray  # boolean over the concatenated backtest points of every window
    n_series: int


@dataclass(frozen=True)
class Split:
    """A sample cut in two: its pilot (`PILOT` of its series, drawn at random) and the rest,
    each a `Sample` of the panel, and per sample window which of its points are the pilot's."""

    pilot: Sample
    rest: Sample
    masks: list[np.ndarray]


def draw_sample(windows: Sequence[WindowData], seed: int) -> Sample:
    """`SAMPLE_FRACTION` of the backtested series (at least `MIN_SAMPLE`, at most `MAX_SAMPLE`),
    drawn once per run."""
    items = windows[0].history.item_ids
    size = min(len(items), MAX_SAMPLE, max(MIN_SAMPLE, round(SAMPLE_FRACTION * len(items))))
    chosen = np.sort(np.random.default_rng(seed).choice(len(items), size, replace=False))
    return sample_of(windows, set(items[chosen].tolist()))


def sample_of(windows: Sequence[WindowData], picked: set[str]) -> Sample:
    """The `picked` series' part of `windows`, their points in the windows' order."""
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
    return Sample(sampled, np.concatenate(masks), len(picked))


def split_sample(windows: Sequence[WindowData], sample: Sample, seed: int) -> Split | None:
    """The sample's pilot and rest (`Split`); None when it has under twice `PILOT` series."""
    items = sample.windows[0].history.item_ids
    if len(items) < 2 * PILOT:
        return None
    chosen = np.random.default_rng([seed, PILOT]).choice(len(items), PILOT, replace=False)
    pilot = set(items[np.sort(chosen)].tolist())
    rest = set(items.tolist()) - pilot
    masks = [w.actual[ITEM_ID].isin(pilot).to_numpy() for w in sample.windows]
    return Split(sample_of(windows, pilot), sample_of(windows, rest), masks)


def merge(split: Split, pilot: CandidateResult, rest: CandidateResult) -> CandidateResult:
    """One trial on the whole sample from its trials on the pilot and on the rest: each
    window's points put back in the sample's order (a local model fits series by series, so
    this is the trial on the whole sample). Failed or stopped if either part was."""
    merged = CandidateResult(
        rest.name,
        fit_seconds=pilot.fit_seconds + rest.fit_seconds,
        predict_seconds=pilot.predict_seconds + rest.predict_seconds,
        error=pilot.error or rest.error,
        stopped=pilot.stopped or rest.stopped,
    )
    if merged.error is not None or pilot.forecast is None or rest.forecast is None:
        return merged
    means, quantiles = [], []
    at_pilot = at_rest = 0
    for mask in split.masks:
        n_pilot, n_rest = int(mask.sum()), int((~mask).sum())
        mean = np.empty(len(mask))
        q = np.empty((len(mask), pilot.forecast.quantiles.shape[1]))
        mean[mask] = pilot.forecast.mean[at_pilot : at_pilot + n_pilot]
        mean[~mask] = rest.forecast.mean[at_rest : at_rest + n_rest]
        q[mask] = pilot.forecast.quantiles[at_pilot : at_pilot + n_pilot]
        q[~mask] = rest.forecast.quantiles[at_rest : at_rest + n_rest]
        means.append(mean)
        quantiles.append(q)
        at_pilot, at_rest = at_pilot + n_pilot, at_rest + n_rest
    merged.forecast = BacktestForecast(np.concatenate(means), np.concatenate(quantiles))
    return merged


def _rivals(done: Sequence[CandidateResult], sample: Sample) -> dict[str, BacktestForecast]:
    """The forecasts of the candidates run so far at the sample's points."""
    return {
        c.name: BacktestForecast(c.forecast.mean[sample.rows], c.forecast.quantiles[sample.rows])
        for c in done
        if c.error is None and c.forecast is not None
    }


def pilot_verdict(
    trial: CandidateResult,
    done: Sequence[CandidateResult],
    pilot: Sample,
    quantiles: Sequence[float],
    metric: str,
    seed: int = 0,
) -> str | None:
    """Why the candidate is skipped on its pilot alone, or None to try it on the rest.

    Skipped when its pilot score is beyond `MARGIN` times the best's and stays so on at
    least `PILOT_SURE` of `PILOT_RESAMPLES` resamples of the pilot's series: the whole
    sample would then say the same but for a small chance, and its other series are not
    fitted. The count stops once the answer is known.
    """
    if trial.error is not None or trial.forecast is None:
        return None
    score = windowed_scorer(pilot.windows, quantiles, metric)
    ran = _rivals(done, pilot)
    rivals = [(s, n) for n, f in ran.items() if np.isfinite(s := score(f.mean, f.quantiles))]
    own = score(trial.forecast.mean, trial.forecast.quantiles)
    if not rivals or not np.isfinite(own):
        return None
    best, name = min(rivals)
    if not own > MARGIN * best:
        return None
    n_series, codes = series_codes(pilot.windows)
    rng = np.random.default_rng(seed)
    misses_allowed = PILOT_RESAMPLES - int(np.ceil(PILOT_SURE * PILOT_RESAMPLES))
    beyond = misses = 0
    for _ in range(PILOT_RESAMPLES):
        resampled = windowed_scorer(pilot.windows, quantiles, metric, resample_picks(rng, n_series, codes))
        own_r = resampled(trial.forecast.mean, trial.forecast.quantiles)
        best_r = resampled(ran[name].mean, ran[name].quantiles)
        if np.isfinite(own_r) and np.isfinite(best_r) and own_r > MARGIN * best_r:
            beyond += 1
        else:
            misses += 1
            if misses > misses_allowed:
                return None
    return (
        f"skipped: on a pilot of {pilot.n_series} series its {metric} was {own:.4g}, {own / best:.2f}x "
        f"the best so far ({name} {best:.4g}), and beyond {MARGIN}x on {beyond} of {PILOT_RESAMPLES} "
        "resamples of those series (runs in full within the margin)"
    )


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
    ran = _rivals(done, sample)
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


def screen(
    run: Callable[..., CandidateResult],
    windows: Sequence[WindowData],
    sample: Sample,
    split: Split | None,
    done: Sequence[CandidateResult],
    quantiles: Sequence[float],
    metric: str,
    ensemble_size: int = 20,
    seed: int = 0,
) -> CandidateResult | None:
    """Try a screened candidate on the sample: its skipped result (`error` says why, its
    seconds what the trial took), or None to run it on every series.

    `run(windows, judge_first=...)` backtests it on a sample's windows, stopping after the
    first window when the judge (`pruning`) says so. With a `split`, the pilot goes first and
    the rest only when the pilot leaves the answer open; the two make the sample's trial.
    """
    n_first = len(windows[0].actual)

    def judged(part: Sample) -> CandidateResult:
        judge = pruning.first_window_judge(done, part.windows, quantiles, metric, part.rows[:n_first])
        return run(part.windows, judge_first=judge)

    def skipped(trial: CandidateResult, reason: str) -> CandidateResult:
        return CandidateResult(
            trial.name, fit_seconds=trial.fit_seconds, predict_seconds=trial.predict_seconds, error=reason
        )

    if split is None:
        trial, where = judged(sample), f"on a sample of {sample.n_series} series"
    else:
        first = judged(split.pilot)
        if first.error is not None and not first.stopped:
            return None  # failing on the pilot says nothing sure about the panel: run it in full
        if not first.stopped:
            reason = pilot_verdict(first, done, split.pilot, quantiles, metric, seed)
            if reason is not None:
                return skipped(first, reason)
        rest = judged(split.rest)
        trial, where = merge(split, first, rest), f"on a sample of {sample.n_series} series"
        if first.stopped and rest.stopped:
            trial.error = rest.error  # both parts stopped: the whole sample would have
            where += f" ({split.pilot.n_series} first, then the rest)"
        elif first.stopped or rest.stopped:  # the parts disagree: the whole sample decides
            again = judged(sample)
            again.fit_seconds += trial.fit_seconds
            again.predict_seconds += trial.predict_seconds
            trial = again
    if trial.stopped:
        return skipped(trial, f"skipped: {where}, {trial.error}")
    reason = verdict(trial, done, sample, quantiles, metric, ensemble_size, seed)
    return None if reason is None else skipped(trial, reason)
