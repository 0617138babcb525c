"""Would a costly candidate earn its place in the ensemble? Asked on screening's sample.

Screening (`screening`) skips a costly local candidate whose score on a sample of the series
is far behind the best so far. A candidate within that margin can still be worth nothing:
the ensemble needs what it adds to the models already run, not its own score. On a noisy
1,100-store daily panel (`benchmarks/store_panel.py --noise 0.12`) MSTLETS, MSTL and
AutoTheta scored 1.05-1.17x LightGBM's backtest wQL, so all three ran on every series (106
of the backtest's 144 s) for ensemble weights of 0.10, 0.05 and 0, and MSTLETS's 0.10 had it
refitted on every series too (54 s): 209.8 s in all, test wQL 0.07286. Skipped as below:
62.8 s, wQL 0.0729. With twice the scatter (`--noise 0.25`): 175.4 s, 0.13160 against 60.4 s,
0.13173.

So a candidate within the margin is asked what it adds: the greedy ensemble (`ensemble`) of
the models run so far is fitted on the sample's backtest points with and without it, and its
gain is the relative drop in the ensemble's score. The sample is small (60-100 series), and
a gain fitted and measured on the same points is optimistic and noisy: on tourism quarterly
(64 sampled series) AutoTheta gained 0.0% on the sample yet held 0.29 of the weight fitted on
every series, and skipping it cost 7% of the test wQL. Hence a bootstrap over the sampled
series: the candidate runs in full when its gain on the whole sample reaches `MIN_GAIN`, or
when at least `MIN_HITS` of `RESAMPLES` resamples of the series (drawn with replacement) do,
i.e. when there is a fair chance (about one in ten) that it pays. Measured (gain on the sample;
the 90th percentile over 20 resamples): the noisy store panel MSTLETS 0.00% / 0.04%, AutoTheta
0.00% / 0.00%, MSTL 0.10% / 0.27%; tourism quarterly 0.43% / 3.3%, 0.00% / 0.80%, 1.5% / 2.7%;
tourism monthly 0.25% / 2.5%, 0.64% / 1.4%, 0.25% / 0.73%; M4 hourly AutoTheta 0.05% / 1.1%.

To keep the question cheap, the resamples weigh only the models that the sample's ensemble
uses with the candidate or without it, fit the rivals alone only where the candidate is
picked, and the count stops once its answer is known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tidecast.automl.backtest import WindowData, windowed_scorer
from tidecast.automl.ensemble import BacktestForecast, Scorer, combine, greedy_ensemble
from tidecast.data.schema import ITEM_ID

# A candidate runs in full when adding it lowers the ensemble's score by this share...
MIN_GAIN = 0.005
# ...on the whole sample, or on at least MIN_HITS of RESAMPLES bootstrap resamples of its series.
RESAMPLES = 20
MIN_HITS = 2


@dataclass(frozen=True)
class Gain:
    """What adding a candidate does to the ensemble of the models run so far, on a sample."""

    before: float  # the ensemble's score without the candidate
    after: float  # with it
    hits: int  # resamples whose gain reached MIN_GAIN
    drawn: int  # resamples drawn (0 when the whole sample's gain already decided)

    @property
    def relative(self) -> float:
        """The share by which the candidate lowers the ensemble's score (0 when it does not)."""
        if not (np.isfinite(self.before) and self.before > 0):
            return 0.0
        return max(0.0, 1.0 - self.after / self.before)

    @property
    def pays(self) -> bool:
        """Whether the candidate is worth running on every series."""
        return self.relative >= MIN_GAIN or self.hits >= MIN_HITS


def series_codes(windows: Sequence[WindowData]) -> tuple[int, list[np.ndarray]]:
    """The number of series in `windows` and, per window, each point's series (0, 1, ...):
    what a bootstrap over the series draws from."""
    named = [w.actual[ITEM_ID].astype(str).to_numpy() for w in windows]
    items = np.unique(np.concatenate(named))
    return len(items), [np.searchsorted(items, names) for names in named]


def resample_picks(rng: np.random.Generator, n_series: int, codes: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Per window, the points of a resample of the series drawn with replacement (a series
    drawn twice lists its points twice)."""
    copies = np.bincount(rng.integers(0, n_series, n_series), minlength=n_series)
    return [np.repeat(np.arange(len(code)), copies[code]) for code in codes]


def ensemble_score(
    forecasts: Mapping[str, BacktestForecast], score: Scorer, size: int
) -> tuple[float, list[str]]:
    """The greedy ensemble's score over `forecasts` and the names it weighs."""
    weights = greedy_ensemble(forecasts, score, size=size)
    if not weights:
        return float("inf"), []
    mixed = combine(forecasts, weights)
    return score(mixed.mean, mixed.quantiles), list(weights)


def ensemble_gain(
    rivals: Mapping[str, BacktestForecast],
    name: str,
    trial: BacktestForecast,
    windows: Sequence[WindowData],
    quantiles: Sequence[float],
    metric: str,
    size: int,
    seed: int,
) -> Gain:
    """The gain of adding `trial` (named `name`) to the ensemble of `rivals`, all forecasts of
    the points of `windows` (screening's sample), and its bootstrap over their series."""
    both = {**rivals, name: trial}
    score = windowed_scorer(windows, quantiles, metric)
    before, without = ensemble_score(rivals, score, size)
    after, with_it = ensemble_score(both, score, size)
    whole = Gain(before, after, hits=0, drawn=0)
    if whole.pays:
        return whole
    shortlist = list(dict.fromkeys([*without, *with_it]))
    rivals_short = {n: rivals[n] for n in shortlist if n in rivals}
    both_short = {**rivals_short, name: trial}
    n_series, codes = series_codes(windows)
    rng = np.random.default_rng(seed)
    hits = 0
    for drawn in range(1, RESAMPLES + 1):
        resampled = windowed_scorer(windows, quantiles, metric, resample_picks(rng, n_series, codes))
        plus, members = ensemble_score(both_short, resampled, size)
        # Unpicked, the candidate leaves the greedy path the rivals' own (ties go to them,
        # listed first), so it gains nothing there: no need to fit the rivals alone.
        if name in members:
            base, _ = ensemble_score(rivals_short, resampled, size)
            hits += int(np.isfinite(base) and base > 0 and 1.0 - plus / base >= MIN_GAIN)
        if hits >= MIN_HITS or hits + (RESAMPLES - drawn) < MIN_HITS:
            return Gain(before, after, hits, drawn)
    return Gain(before, after, hits, RESAMPLES)
