"""The AutoForecaster's search: plan the backtest windows, backtest every candidate, choose
the ensemble or the best model, calibrate its quantiles, and refit the chosen models.

Each step reads the forecaster's configuration and writes what it found into the `FitReport`.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tidecast.automl import pruning, screening
from tidecast.automl.backtest import CandidateResult, ProgressFn, run_candidate
from tidecast.automl.calibration import QuantileCalibration, calibrate_backtests
from tidecast.automl.ensemble import combine
from tidecast.automl.mean_estimate import choose_mean
from tidecast.automl.planning import BacktestPlan, plan_backtest
from tidecast.automl.presets import get_preset
from tidecast.automl.selection import NAIVE_COMPETITIVE, naive_is_competitive, select
from tidecast.data.arrays import SeriesArrays
from tidecast.data.schema import ITEM_ID, TARGET, DatasetSpec, quantile_column
from tidecast.errors import ClusterLost, ModelError
from tidecast.metrics import get_metric, wql
from tidecast.models.base import Forecaster
from tidecast.models.catalog import CATALOG

if TYPE_CHECKING:
    from tidecast.automl.fit_report import FitReport
    from tidecast.automl.forecaster import AutoForecaster

# The model every series gets when no candidate can be backtested at all.
FALLBACK_MODEL = "SeasonalNaive"
# An ensemble member with less weight keeps its backtest fit (it still forecasts from the
# latest history) rather than being refitted on all the data: its parameters move its share
# of the forecast by little, and its refit can cost more than the rest together
# (dominicks_oj origin 1: MSTLETS at weight 0.06 took most of a 65 s refit).
# Measured again at engine 3dc2253 (default preset, one thread, test wQL, every set of
# `benchmarks/`), since a kept fit is as old as the first backtest window (36 weeks before the
# origin of dominicks_oj 26 weeks ahead): refitting every member, then only the local ones.
# Every member: dominicks_oj 26 / 39 weeks 0.3161 / 0.3588 -> 0.3119 / 0.3552, the store panel
# 0.00892 -> 0.00874, visits 0.02893 -> 0.02879, but M4 hourly 0.02228 -> 0.02256, the short
# weekly cut 84/39 0.0623 -> 0.0640, tourism quarterly 0.0554 -> 0.0559. Local ones only: 26
# weeks 0.3156, 39 weeks 0.3552, store 0.00874, visits 0.02882, M4 hourly unchanged, 84/39
# 0.0640, tourism quarterly 0.0561. Either way a wash (a sum of log ratios of +0.005 to +0.006
# over 28 test cells), so the threshold stays.
MIN_REFIT_WEIGHT = 0.1


def plan_windows(
    auto: AutoForecaster, panel: pd.DataFrame, n_windows: int, m: int, report: FitReport
) -> tuple[BacktestPlan, list[str]]:
    """Windows that fit the histories (see `planning`); the report says what and why."""
    lengths = panel.groupby(ITEM_ID, sort=False).size()
    plan = plan_backtest(lengths.to_numpy(), auto.horizon, n_windows, m, auto.backtest_step)
    items = lengths.index.astype(str)
    eligible = items[plan.eligible]
    report.backtest_plan = plan.summary()
    report.short_series = items[~items.isin(eligible)].tolist()
    longest = int(lengths.max()) if len(lengths) else 0
    if auto.horizon > longest:  # allowed (up to MAX_HORIZON), but no backtest can judge it
        report.notes.append(
            f"the horizon ({auto.horizon} steps) is longer than any series' history (the longest "
            f"has {longest}): its far steps extrapolate what no backtest has scored"
        )
    chosen = (
        f"backtest: {plan.n_windows} window(s) of {plan.window_steps} steps, {plan.step} apart, "
        f"each after at least {plan.min_train} steps of history"
    )
    if plan.n_windows == 0:
        report.notes.append(
            f"{'; '.join(plan.reasons)}; every series is forecast by {FALLBACK_MODEL} without selection"
        )
        return plan, []
    if plan.reasons:
        report.notes.append(f"{chosen}: {'; '.join(plan.reasons)}")
    if report.short_series:
        report.notes.append(
            f"{len(report.short_series)} series shorter than {plan.needed} steps are left out of the "
            "backtest; they are forecast by the selected models, or each model's naive fallback where too short"
        )
    return plan, eligible.tolist()


def expecting(
    make: Callable[[], Forecaster], panel: SeriesArrays, horizon: int, reads_mean: bool = True
) -> Forecaster:
    """A new candidate told of the `panel` its refit will see and whether the run's metric
    reads the backtest's mean column (`Forecaster.expect`)."""
    model = make()
    model.expect(panel, horizon, reads_mean=reads_mean)
    return model


def run_candidates(
    auto: AutoForecaster,
    names: list[str],
    window_data: list,
    panel: SeriesArrays,
    spec: DatasetSpec,
    quantiles: tuple[float, ...],
    deadline: float | None,
    started: float,
    emit: ProgressFn,
    report: FitReport,
) -> None:
    """Every candidate on the same windows; cheap ones first, each with a fair time share.

    On a large panel the costly local candidates come last and are first tried on a sample
    of the series (`screening`): one that cannot win there is skipped. Any candidate far
    behind the best so far after its first window stops there (`pruning`), on the sample
    as on the panel.
    """
    n_series = window_data[0].history.n_series if window_data else 0
    order = sorted(names, key=lambda n: (screening.screened(CATALOG[n], n_series), CATALOG[n].tags.cost))
    reads_mean = get_metric(auto.metric).forecast == "mean"  # told to every candidate (`expect`)
    sample: screening.Sample | None = None
    split: screening.Split | None = None
    # Keep a fifth of the budget for the ensemble and the refit.
    budget_end = None if deadline is None else started + 0.8 * (deadline - started)
    for i, name in enumerate(order):
        cand_deadline = None
        if budget_end is not None:
            remaining = budget_end - time.monotonic()
            weights = [max(CATALOG[n].tags.cost, 0.05) for n in order[i:]]
            cand_deadline = time.monotonic() + max(remaining, 0.0) * weights[0] / sum(weights)
            if remaining <= 0:
                report.candidates.append(CandidateResult(name=name, error="skipped: time limit reached"))
                continue
        emit(
            {
                "stage": "backtest",
                "candidate": name,
                "index": i + 1,
                "candidates": len(order),
                "time_left": None if deadline is None else deadline - time.monotonic(),
            }
        )
        run = functools.partial(
            run_candidate,
            name,
            functools.partial(
                expecting,
                functools.partial(auto.make_candidate, name, spec.freq),
                panel,
                auto.horizon,
                reads_mean,
            ),
            spec=spec,
            horizon=auto.horizon,
            quantiles=quantiles,
            metric=auto.metric,
            deadline=cand_deadline,
            refit_every_window=auto.refit_every_window,
            progress=emit,
            closures=auto.closures_,
            dormant=auto._dormant,
        )
        if screening.screened(CATALOG[name], n_series) and report.candidates:
            if sample is None:
                sample = screening.draw_sample(window_data, auto.seed)
                split = screening.split_sample(window_data, sample, auto.seed)
            skipped = screening.screen(
                run,
                window_data,
                sample,
                split,
                report.candidates,
                quantiles,
                auto.metric,
                ensemble_size=get_preset(auto.preset).ensemble_size,
                seed=auto.seed,
            )
            if skipped is not None:
                reason = skipped.error
                report.candidates.append(skipped)
                emit({"stage": "candidate_done", "candidate": name, "score": float("inf"), "error": reason})
                continue
        judge = pruning.first_window_judge(report.candidates, window_data, quantiles, auto.metric)
        result = run(window_data, judge_first=judge)
        report.candidates.append(result)
        if result.stopped:
            report.notes.append(f"{name} {result.error}")
        emit({"stage": "candidate_done", "candidate": name, "score": result.score, "error": result.error})


def choose(
    auto: AutoForecaster, window_data: list, quantiles: tuple[float, ...], report: FitReport
) -> dict[str, float]:
    """Ensemble or best single model, compared on backtest points neither was chosen on."""
    auto.fallbacks_in_mix_ = naive_is_competitive(report.candidates)
    if not any(c.forecast is not None and c.error is None for c in report.candidates):
        if window_data:
            report.notes.append(f"every candidate failed; forecasting with {FALLBACK_MODEL}")
        report.best = FALLBACK_MODEL
        return {FALLBACK_MODEL: 1.0}
    size = get_preset(auto.preset).ensemble_size
    selection = select(report.candidates, window_data, quantiles, auto.metric, size)
    if selection is None:
        # No finite score anywhere (e.g. every backtest actual is zero, so wQL is undefined).
        report.notes.append(
            f"no candidate has a finite {auto.metric} on the backtests; using {FALLBACK_MODEL}"
        )
        report.best = FALLBACK_MODEL
        return {FALLBACK_MODEL: 1.0}
    report.ensemble_weights = selection.ensemble_weights
    metrics_ = selection.ensemble_metrics
    report.ensemble_score = metrics_.get(auto.metric, float("nan"))
    held_out_window = selection.scored_window
    report.ensemble_window_metrics = [
        metrics_ if k == held_out_window else {} for k in range(len(window_data))
    ]
    report.ensemble_window_scores = [
        report.ensemble_score if k == held_out_window else float("nan") for k in range(len(window_data))
    ]
    report.ensemble_holdout = {
        "scored_on": selection.scored_on,
        "in_sample": selection.in_sample,
        "fit_weights": selection.fit_weights,
        "weighted_by": selection.weighted_by,
        "scores": selection.holdout_scores,
        "earlier_duel": selection.earlier_duel,
    }
    report.notes.extend(selection.notes)
    if auto.fallbacks_in_mix_:
        report.notes.append(
            f"Naive scored within {NAIVE_COMPETITIVE:g}x of the best model on the backtests, so a "
            "member's naive fallback for a short item stays in that item's mix at its weight"
        )
    report.best = selection.best
    return selection.weights


def calibrate(
    auto: AutoForecaster,
    window_data: list,
    weights: dict[str, float],
    quantiles: tuple[float, ...],
    report: FitReport,
) -> QuantileCalibration | None:
    """Scale the forecast's level and each quantile's band around the median to fit the
    backtests (see `calibration`)."""
    forecasts = {c.name: c.forecast for c in report.candidates if c.forecast is not None and c.error is None}
    if not auto.calibrate_quantiles or not window_data or any(n not in forecasts for n in weights):
        return None
    ensemble = combine(forecasts, weights)
    y = np.concatenate([w.actual[TARGET].to_numpy(dtype=np.float64) for w in window_data])
    sizes = [len(w.actual) for w in window_data]
    fits = calibrate_backtests(
        y,
        ensemble.mean,
        ensemble.quantiles,
        quantiles,
        sizes,
        auto.refit_every_window,
        getattr(auto, "calibrate_level", True),
    )
    calibration = fits.chosen
    # The mean column: the models' or the one the calibrated quantiles imply (`mean_estimate`).
    mean = choose_mean(y, *calibration.calibrated(ensemble.mean, ensemble.quantiles), quantiles)
    if mean.from_quantiles and getattr(auto, "calibrate_mean", True):
        calibration = dataclasses.replace(calibration, mean_from_quantiles=True)
    ok = np.isfinite(y)
    before = wql(y[ok], ensemble.quantiles[ok], quantiles)
    after = wql(y[ok], calibration.apply(ensemble.mean, ensemble.quantiles)[ok], quantiles)

    def factors(fitted: QuantileCalibration) -> dict[str, float]:
        return {quantile_column(q): f for q, f in zip(quantiles, fitted.factors, strict=True)}

    report.calibration = {
        "factors_every_window": factors(fits.every_window),
        "factors_fresh_fit": factors(fits.fresh_fit),
        "factors": factors(calibration),
        "narrowing_asked": {
            quantile_column(q): a for q, a in zip(quantiles, fits.narrowing_asked, strict=True)
        },
        "level": calibration.level,
        "level_per_window": fits.level.per_window,
        "level_reason": fits.level.reason,
        "backtest_wql_before": before,
        "backtest_wql_after": after,
        "mean_from_quantiles": calibration.mean_from_quantiles,
        "mean_backtest_rmse": {"models": mean.rmse_models, "quantiles": mean.rmse_quantiles},
    }
    if calibration.level != 1.0:
        report.notes.append(fits.level.reason)
    if calibration.mean_from_quantiles:
        report.notes.append(mean.reason)
    return None if calibration.identity else calibration


def refit(
    auto: AutoForecaster,
    panel: pd.DataFrame | SeriesArrays,
    spec: DatasetSpec,
    weights: dict[str, float],
    report: FitReport,
    deadline: float | None,
) -> dict[str, Forecaster]:
    """Refit the chosen models on all the data, or keep the backtest fit when time is short
    or the member's weight is under `MIN_REFIT_WEIGHT`."""
    fitted = {c.name: c.model for c in report.candidates if c.model is not None}
    members: dict[str, Forecaster] = {}
    for name, weight in weights.items():
        previous = fitted.get(name)
        cost = next((c.fit_seconds for c in report.candidates if c.name == name), 0.0)
        no_time = deadline is not None and time.monotonic() + cost > deadline
        minor = weight < MIN_REFIT_WEIGHT
        if previous is not None and (not auto.refit_full or no_time or minor):
            members[name] = previous
            report.refit[name] = "kept backtest fit (parameters from the first window's history)"
            if no_time:
                report.notes.append(f"{name} not refitted: not enough time left in the budget")
            elif minor and auto.refit_full:
                report.notes.append(
                    f"{name} not refitted: its ensemble weight {weight:.2f} is under {MIN_REFIT_WEIGHT}"
                )
            continue
        model = auto.make_candidate(name, spec.freq)
        # Ship the configuration the backtest scored (`Forecaster.follow`).
        adopted = model.follow(previous) if previous is not None else None
        try:
            model.fit(panel, spec, auto.horizon)
            report.refit[name] = "refitted on all data" + (f", {adopted}" if adopted else "")
        except ClusterLost:
            raise
        except Exception as exc:
            if previous is None:
                raise ModelError(f"refitting {name} on all data failed: {exc}") from exc
            model = previous
            report.refit[name] = "kept backtest fit (its refit on all data failed)"
            report.notes.append(f"{name} refit failed ({exc}); kept its backtest fit")
        members[name] = model
    return members
