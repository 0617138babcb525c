"""Screening: a costly local candidate is skipped when its sample score cannot win."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tidecast.automl import ensemble_value, screening
from tidecast.automl.backtest import CandidateResult, prepare_windows
from tidecast.automl.ensemble import BacktestForecast
from tidecast.automl.forecaster import AutoForecaster
from tidecast.automl.windows import BacktestWindow
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP, DatasetSpec
from tidecast.models.catalog import CATALOG

SPEC = DatasetSpec(freq="D")
QUANTILES = (0.1, 0.5, 0.9)


def flat_panel(n_series: int, length: int = 30, level: float = 10.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            ITEM_ID: np.repeat([f"s{i:03d}" for i in range(n_series)], length),
            TIMESTAMP: np.tile(pd.date_range("2024-01-01", periods=length), n_series),
            TARGET: level,
        }
    )


def noisy_panel() -> pd.DataFrame:
    """200 series of 40 days scattered around 10: large enough to be screened."""
    data = flat_panel(200, length=40)
    data[TARGET] = 10 + np.random.default_rng(0).normal(0, 1, len(data))
    return data


def constant_forecast(rows: int, value: float) -> BacktestForecast:
    return BacktestForecast(mean=np.full(rows, value), quantiles=np.full((rows, len(QUANTILES)), value))


def test_which_candidates_are_screened() -> None:
    assert screening.screened(CATALOG["MSTLETS"], 200)
    assert screening.screened(CATALOG["AutoTheta"], 200)
    assert not screening.screened(CATALOG["AutoTheta"], 199)  # a small panel runs everything
    assert not screening.screened(CATALOG["LightGBM"], 5000)  # global: no per-series sample
    assert not screening.screened(CATALOG["Naive"], 5000)  # cheap
    assert not screening.screened(CATALOG["DynamicRegression"], 5000)


def test_the_sample_is_a_fixed_share_of_the_series_with_their_own_rows() -> None:
    windows = prepare_windows(flat_panel(100), SPEC, [BacktestWindow(0, 2, 2), BacktestWindow(1, 2, 2)], 1)
    sample = screening.draw_sample(windows, seed=0)
    assert sample.n_series == 60  # 15% of 100 is below the floor of 60
    assert sample.rows.sum() == 60 * 2 * 2  # two windows of two steps
    for full, part in zip(windows, sample.windows, strict=True):
        assert part.history.n_series == 60
        assert set(part.actual[ITEM_ID]) <= set(full.actual[ITEM_ID])
        assert set(part.actual[ITEM_ID]) == set(part.history.item_ids)
        assert len(part.scale) == len(part.actual)
    assert screening.draw_sample(windows, seed=0).rows.tolist() == sample.rows.tolist()  # reproducible


@pytest.mark.parametrize(("n_series", "size"), [(400, 60), (500, 75), (660, 99), (700, 100), (3000, 100)])
def test_the_sample_grows_with_the_panel_up_to_a_fixed_size(n_series: int, size: int) -> None:
    windows = prepare_windows(flat_panel(n_series, length=6), SPEC, [BacktestWindow(0, 2, 2)], 1)
    sample = screening.draw_sample(windows, seed=0)
    assert sample.n_series == size == sample.windows[0].history.n_series
    assert sample.rows.sum() == size * 2


@pytest.mark.parametrize(("trial_value", "skipped"), [(11.6, True), (11.4, False)])
def test_a_candidate_beyond_the_margin_of_the_best_on_the_sample_is_skipped(
    trial_value: float, skipped: bool
) -> None:
    # Every actual is 10. The best candidate forecasts 9: WAPE 0.1 on any sample. A trial at
    # 11.6 scores 0.16 = 1.6x (beyond 1.5x: skipped); one at 11.4 scores 0.14 = 1.4x and, over
    # where the best is under, halves the ensemble's error (runs).
    windows = prepare_windows(flat_panel(100), SPEC, [BacktestWindow(0, 2, 2)], 1)
    sample = screening.draw_sample(windows, seed=1)
    best = CandidateResult("Naive", forecast=constant_forecast(len(windows[0].actual), 9.0))
    worse = CandidateResult("NPTS", forecast=constant_forecast(len(windows[0].actual), 5.0))
    trial = CandidateResult("MSTL", forecast=constant_forecast(int(sample.rows.sum()), trial_value))
    reason = screening.verdict(trial, [worse, best], sample, QUANTILES, "wape")
    if skipped:
        assert reason == (
            "skipped: on a sample of 60 series its wape was 0.16, 1.60x the best so far "
            "(Naive 0.1; runs in full within 1.5x)"
        )
    else:
        assert reason is None


def test_a_candidate_within_the_margin_that_adds_nothing_to_the_ensemble_is_skipped() -> None:
    # The trial forecasts what the best does (9 for 10): within any margin, but the ensemble
    # with it is the ensemble without it, on the sample and on every resample of its series.
    windows = prepare_windows(flat_panel(100), SPEC, [BacktestWindow(0, 2, 2)], 1)
    sample = screening.draw_sample(windows, seed=1)
    best = CandidateResult("Naive", forecast=constant_forecast(len(windows[0].actual), 9.0))
    trial = CandidateResult("MSTL", forecast=constant_forecast(int(sample.rows.sum()), 9.0))
    reason = screening.verdict(trial, [best], sample, QUANTILES, "wape")
    assert reason == (
        "skipped: on a sample of 60 series it took the ensemble of the models run so far from "
        "wape 0.1 to 0.1 (0.00% better), and 0 of 19 resamples of those series reached 0.5% "
        "(runs in full where the sample or 2 resamples do)"
    )


def test_a_candidate_that_fails_on_the_sample_runs_in_full() -> None:
    windows = prepare_windows(flat_panel(100), SPEC, [BacktestWindow(0, 2, 2)], 1)
    sample = screening.draw_sample(windows, seed=0)
    best = CandidateResult("Naive", forecast=constant_forecast(len(windows[0].actual), 9.0))
    assert screening.verdict(CandidateResult("MSTL", error="boom"), [best], sample, QUANTILES, "wape") is None


@pytest.mark.parametrize("margin", [0.0, 1e9])
def test_the_automl_screens_on_a_large_panel(monkeypatch: pytest.MonkeyPatch, margin: float) -> None:
    data = noisy_panel()
    monkeypatch.setattr(screening, "MARGIN", margin)
    monkeypatch.setattr(ensemble_value, "MIN_GAIN", 0.0)  # any gain, even none, pays
    auto = AutoForecaster(horizon=3, frequency="D", models=["Naive", "AutoTheta"], backtest_windows=2)
    board = auto.fit(data).leaderboard().set_index("model")
    theta = board.loc["AutoTheta"]
    if margin == 0.0:  # nothing is within 0x of the best: skipped after its sample run
        assert theta["error"].startswith("skipped: on a pilot of 30 series its wql was")
        assert np.isnan(theta["score"]) and theta["fit_seconds"] > 0
        assert auto.report_.best == "Naive"
    else:  # within any margin: backtested on every series and window
        assert theta["error"] == ""
        assert np.isfinite(theta["window_1_wql"]) and np.isfinite(theta["window_2_wql"])


def test_the_automl_skips_a_candidate_that_adds_too_little_to_its_ensemble(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = noisy_panel()
    monkeypatch.setattr(screening, "MARGIN", 1e9)  # within the margin, always
    monkeypatch.setattr(ensemble_value, "MIN_GAIN", 1.0)  # a gain of 100%: no forecast of noise can
    auto = AutoForecaster(horizon=3, frequency="D", models=["Naive", "AutoTheta"], backtest_windows=2)
    board = auto.fit(data).leaderboard().set_index("model")
    theta = board.loc["AutoTheta"]
    assert theta["error"].startswith(
        "skipped: on a sample of 60 series it took the ensemble of the models run so far"
    )
    assert theta["error"].endswith("(runs in full where the sample or 2 resamples do)")
    assert np.isnan(theta["score"]) and theta["fit_seconds"] > 0
    assert auto.report_.best == "Naive"


def scattered_forecast(windows: list, rows: np.ndarray | None, miss: np.ndarray) -> BacktestForecast:
    """10 (every actual) plus each point's series' `miss`, at the points `rows` picks."""
    codes = np.concatenate([w.actual[ITEM_ID].str[1:].astype(int).to_numpy() for w in windows])
    value = 10.0 + miss[codes]
    if rows is not None:
        value = value[rows]
    return BacktestForecast(mean=value, quantiles=np.repeat(value[:, None], len(QUANTILES), axis=1))


def split_panel(n_windows: int, seed: int, length: int = 8) -> tuple[list, screening.Sample, screening.Split]:
    """700 flat series' windows (two steps each), their sample and its split."""
    windows = prepare_windows(
        flat_panel(700, length=length), SPEC, [BacktestWindow(k, 2, 2) for k in range(n_windows)], 1
    )
    sample = screening.draw_sample(windows, seed=seed)
    split = screening.split_sample(windows, sample, seed=seed)
    assert split is not None
    return windows, sample, split


def test_the_pilot_is_a_fixed_number_of_the_samples_series_and_the_rest_the_others() -> None:
    windows, sample, split = split_panel(2, seed=0)
    assert (split.pilot.n_series, split.rest.n_series) == (30, 70)
    pilot, rest = (set(s.windows[0].history.item_ids) for s in (split.pilot, split.rest))
    assert not pilot & rest and pilot | rest == set(sample.windows[0].history.item_ids)
    # Panel rows: the pilot's and the rest's are the sample's, apart; masks pick the pilot's.
    assert not (split.pilot.rows & split.rest.rows).any()
    assert ((split.pilot.rows | split.rest.rows) == sample.rows).all()
    for part, mask in zip(sample.windows, split.masks, strict=True):
        assert set(part.actual[ITEM_ID][mask]) == pilot
    assert (
        screening.split_sample(
            windows, screening.sample_of(windows, set(list(pilot)[:20]) | set(list(rest)[:39])), 0
        )
        is None
    )


def test_a_trial_on_the_pilot_and_the_rest_merges_into_the_trial_on_the_whole_sample() -> None:
    _, sample, split = split_panel(2, seed=3)
    miss = np.random.default_rng(0).normal(0, 1, 700)

    def trial(part: screening.Sample) -> CandidateResult:
        return CandidateResult("MSTL", forecast=scattered_forecast(part.windows, None, miss), fit_seconds=1.0)

    merged = screening.merge(split, trial(split.pilot), trial(split.rest))
    whole = trial(sample).forecast
    assert merged.forecast is not None and whole is not None
    assert np.array_equal(merged.forecast.mean, whole.mean)
    assert np.array_equal(merged.forecast.quantiles, whole.quantiles)
    assert merged.fit_seconds == 2.0
    stopped = CandidateResult("MSTL", error="stopped after window 1: ...", stopped=True)
    assert screening.merge(split, trial(split.pilot), stopped).stopped


@pytest.mark.parametrize("concentrated", [False, True])
def test_the_pilot_skips_only_when_its_resamples_agree(concentrated: bool) -> None:
    # The best forecasts 9 (WAPE 0.1 on any series); the trial misses by 1.8 on average over
    # the pilot (WAPE 0.18, 1.8x). Every series alike: every resample is beyond 1.5x (skipped
    # on the pilot). Three series of 30 missing by 18 and the rest not at all: a resample that
    # draws one of them or none is within (left to the whole sample).
    windows, _, split = split_panel(1, seed=1)
    best = CandidateResult("Naive", forecast=constant_forecast(len(windows[0].actual), 9.0))
    pilot_series = np.unique(split.pilot.windows[0].actual[ITEM_ID].str[1:].astype(int).to_numpy())
    miss = np.full(700, 1.8)
    if concentrated:
        miss[pilot_series] = 0.0
        miss[pilot_series[:3]] = 18.0
    trial = CandidateResult("MSTL", forecast=scattered_forecast(split.pilot.windows, None, miss))
    reason = screening.pilot_verdict(trial, [best], split.pilot, QUANTILES, "wape")
    if concentrated:
        assert reason is None
    else:
        assert reason == (
            "skipped: on a pilot of 30 series its wape was 0.18, 1.80x the best so far (Naive 0.1), "
            "and beyond 1.5x on 100 of 100 resamples of those series (runs in full within the margin)"
        )


@pytest.mark.parametrize(
    ("pilot_stops", "rest_stops", "runs", "skipped_as"),
    [
        (
            True,
            True,
            [30, 70],
            "skipped: on a sample of 100 series (30 first, then the rest), stopped after window 1: 70",
        ),
        (True, False, [30, 70, 100], None),  # the parts disagree: the whole sample, which goes on
        (False, True, [30, 70, 100], None),  # stopped on the rest only: the whole sample decides
    ],
)
def test_screen_asks_the_rest_and_then_the_whole_sample_when_the_pilot_leaves_it_open(
    pilot_stops: bool, rest_stops: bool, runs: list[int], skipped_as: str | None
) -> None:
    # Three windows: the judge may stop a trial after the first. The trial forecasts what the
    # best does, so where it goes on it is within the margin and adds nothing: it would be
    # skipped by the ensemble's question, which `MIN_GAIN` -1 turns off here.
    windows, sample, split = split_panel(3, seed=0, length=12)
    best = CandidateResult("Naive", forecast=constant_forecast(sum(len(w.actual) for w in windows), 9.0))
    seen: list[int] = []

    def run(part: list, judge_first: object = None) -> CandidateResult:
        n = part[0].history.n_series
        seen.append(n)
        if (n == 30 and pilot_stops) or (n == 70 and rest_stops):
            return CandidateResult("MSTL", error=f"stopped after window 1: {n}", stopped=True)
        return CandidateResult("MSTL", forecast=constant_forecast(sum(len(w.actual) for w in part), 9.0))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ensemble_value, "MIN_GAIN", -1.0)
        result = screening.screen(run, windows, sample, split, [best], QUANTILES, "wape")
    assert seen == runs
    assert (result.error if result else None) == skipped_as
