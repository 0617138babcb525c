"""AutoForecaster: prepare the data, backtest every candidate, ensemble, refit, forecast.

>>> from tidecast import AutoForecaster
>>> from tidecast.data.demo import generate
>>> data = generate(n_items=5)
>>> auto = AutoForecaster(horizon=7, preset="fast", target_col="target_value")
>>> forecasts = auto.fit(data).predict()          # doctest: +SKIP
>>> auto.leaderboard()                            # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tidecast.automl import search
from tidecast.automl.backtest import (
    ProgressFn,
    backtest_points,
    prepare_windows,
)
from tidecast.automl.closures import closed_weekdays_note, closures_note, learn_closures
from tidecast.automl.dormant import dormant_note
from tidecast.automl.fit_report import FitReport
from tidecast.automl.fitted_results import FittedResults
from tidecast.automl.forecast_plan import kept_plan
from tidecast.automl.options import OPTIONS, check_options
from tidecast.automl.peer_reference import PeerReference
from tidecast.automl.prediction import ensemble_forecast
from tidecast.automl.prepares_data import PreparesData
from tidecast.automl.presets import get_preset
from tidecast.automl.search import FALLBACK_MODEL  # noqa: F401  (re-exported)
from tidecast.automl.training_peers import FitForecast, training_peers
from tidecast.data.arrays import SeriesArrays
from tidecast.data.frequency import check_horizon, season_length
from tidecast.data.ingest import from_canonical
from tidecast.data.item_keys import item_column
from tidecast.data.schema import (
    ITEM_ID,
    TARGET,
    TIMESTAMP,
    DatasetSpec,
)
from tidecast.errors import DataError, ModelError
from tidecast.models.base import Forecaster
from tidecast.models.catalog import make_model, model_name
from tidecast.wording import counted

log = logging.getLogger(__name__)


class AutoForecaster(PreparesData, FittedResults):
    """Backtest candidate models, combine the best into a weighted ensemble, refit, forecast.

    Hyper-parameters are stored verbatim; fitted state ends in `_`.

    Covariates: `known_covariates` are columns known in advance (promotion, price, a holiday
    flag): their values over the horizon come from `predict(future=...)`, and in backtests
    from the data itself (never the target). `past_covariates` are only known up to the
    forecast origin. `static_columns` are per-item attributes, in the data or in
    `static_data` (an item-metadata table keyed by the item column, as a frame or a file).
    `holidays` are country codes of the `holidays` package ("US", "GB,DE"), `events` a
    table (or file) of date and name: models that use holidays build window features from
    them. Models that cannot use covariates simply ignore them.

    `date_format` (strftime codes such as "%d/%m/%Y") reads text timestamps; without it each
    column is read with one inferred format, and an ambiguous one (02/01/2023) is an error.

    `model_params` overrides candidates' hyper-parameters by name, e.g.
    `{"DeepAR": {"max_epochs": 20}}`; an unknown option is a ConfigError when the model is built.

    Each keyword is declared once in `automl.options` (default, help, check), where the
    command line and the job body take theirs from; `fit` checks them all there first.
    """

    # Models saved before the option existed unpickle without it: they read text timestamps
    # the inferred way, which is what None means.
    date_format: str | None = None
    # Closed-day rules (`automl.closures`); models saved before them have none.
    closures_: tuple[tuple[str, float], ...] = ()
    fallbacks_in_mix_: bool = False  # `selection.naive_is_competitive`; False for older models
    # The known covariates the stored history's forecast used (`forecast_plan`); older: none.
    forecast_future_: pd.DataFrame | None = None
    # The peers of short items (`peer_reference`); older models take them from each call.
    peer_reference_: PeerReference | None = None
    # The fit's forecast of its history, for the predict that follows it; never saved.
    _fit_forecast: FitForecast | None = None

    def __init__(
        self,
        horizon: int,
        frequency: str | None = None,
        quantiles: Sequence[float] | str = (0.1, 0.5, 0.9),
        metric: str = "wql",
        time_limit: float | None = None,
        preset: str = "medium",
        models: Sequence[str] | None = None,
        backtest_windows: int | None = None,
        backtest_step: int | None = None,
        refit_every_window: bool = False,
        refit_full: bool = True,
        item_col: str | Sequence[str] = ITEM_ID,
        timestamp_col: str = TIMESTAMP,
        target_col: str = TARGET,
        date_format: str | None = None,
        filling: dict[str, Any] | None = None,
        aggregation: dict[str, str] | None = None,
        known_covariates: Sequence[str] | str | None = None,
        past_covariates: Sequence[str] | str | None = None,
        static_columns: Sequence[str] | str | None = None,
        static_data: pd.DataFrame | str | Path | None = None,
        holidays: Sequence[str] | str | None = None,
        events: pd.DataFrame | str | Path | None = None,
        calibrate_quantiles: bool = True,
        calibrate_level: bool = True,
        calibrate_mean: bool = True,
        zero_dormant: bool = True,
        model_params: dict[str, dict[str, Any]] | None = None,
        n_jobs: int | None = None,
        seed: int = 0,
    ) -> None:
        self.horizon = horizon
        self.frequency = frequency
        self.quantiles = quantiles
        self.metric = metric
        self.time_limit = time_limit
        self.preset = preset
        self.models = models
        self.backtest_windows = backtest_windows
        self.backtest_step = backtest_step
        self.refit_every_window = refit_every_window
        self.refit_full = refit_full
        self.item_col = item_column(item_col)
        self.timestamp_col = timestamp_col
        self.target_col = target_col
        self.date_format = date_format
        self.filling = filling
        self.aggregation = aggregation
        self.known_covariates = known_covariates
        self.past_covariates = past_covariates
        self.static_columns = static_columns
        self.static_data = static_data
        self.holidays = holidays
        self.events = events
        self.calibrate_quantiles = calibrate_quantiles
        self.calibrate_level = calibrate_level
        self.calibrate_mean = calibrate_mean
        self.zero_dormant = zero_dormant
        self.model_params = model_params
        self.n_jobs = n_jobs
        self.seed = seed

    # ---- configuration ---------------------------------------------------------------
    def _check_config(self) -> tuple[tuple[float, ...], list[str], int]:
        """Every keyword checked by its option's check (`automl.options`, as the CLI and the job
        body are); the quantiles, candidate names and window count the search runs with."""
        checked = check_options({o.name: getattr(self, o.name, o.default) for o in OPTIONS})
        preset = get_preset(self.preset)
        names = checked["models"] or list(preset.models)
        windows = preset.backtest_windows if self.backtest_windows is None else int(self.backtest_windows)
        return tuple(checked["quantiles"]), names, windows

    def make_candidate(self, name: str, freq: str) -> Forecaster:
        """Catalog model `name` with the run's jobs and seed, the user's `model_params` on top
        (`{"LightGBM": {"n_jobs": 1}}` overrides the run's `n_jobs` for that model only)."""
        quantiles = getattr(self, "quantiles_", None)  # set by fit; a model built before has none
        run: dict[str, Any] = {"n_jobs": self.n_jobs, "seed": self.seed, "quantiles": quantiles}
        own = {model_name(k): v for k, v in (self.model_params or {}).items()}.get(name, {})
        return make_model(name, freq, **{**run, **own})

    # ---- fit ---------------------------------------------------------------------------
    def fit(
        self,
        data: pd.DataFrame | str | Path,
        progress: ProgressFn | None = None,
        future: pd.DataFrame | str | Path | None = None,
        *,
        will_forecast: bool = False,
    ) -> AutoForecaster:
        """Prepare `data` (a frame in the user's columns, or a path/URL), select and refit.

        `future`, the known covariates the forecast after the fit will use, is checked against
        the prepared data (columns, items, every horizon step) before the backtest starts: a
        bad file fails in seconds, not after hours of training. It is checked, not kept: pass
        it again to `predict`. Rows of `data` after its last target date that hold known
        covariates are that future too (`data.ahead`), kept and used by `predict` when it is
        given none. `will_forecast` (the command line's `train`) refuses, before the backtest,
        known covariates with neither.
        """
        started = time.monotonic()
        deadline = started + self.time_limit if self.time_limit else None
        emit = progress or (lambda event: None)
        arrays, spec, weights, plan = self._search(data, emit, started, deadline, future, will_forecast)
        emit({"stage": "refit", "models": list(weights)})
        t_refit = time.monotonic()
        self.members_ = search.refit(self, arrays, spec, weights, self.report_, deadline)
        self.report_.timings["refit_seconds"] = time.monotonic() - t_refit
        t_peers = time.monotonic()
        self.peer_reference_, self._fit_forecast = training_peers(self, arrays, plan)
        if self.peer_reference_.items.empty and arrays.static is not None and not arrays.static.empty:
            self.report_.notes.append(self.peer_reference_.note)
        self.report_.timings["peers_seconds"] = time.monotonic() - t_peers
        self.report_.timings["total_seconds"] = time.monotonic() - started
        emit({"stage": "done"})
        return self

    def evaluate(self, data: pd.DataFrame | str | Path, progress: ProgressFn | None = None) -> AutoForecaster:
        """Backtest and rank the candidates only: no refit, nothing to forecast with."""
        started = time.monotonic()
        deadline = started + self.time_limit if self.time_limit else None
        self._search(data, progress or (lambda event: None), started, deadline)
        self.report_.timings["total_seconds"] = time.monotonic() - started
        return self

    def _search(
        self,
        data: pd.DataFrame | str | Path,
        emit: ProgressFn,
        started: float,
        deadline: float | None,
        future: pd.DataFrame | str | Path | None = None,
        will_forecast: bool = False,
    ) -> tuple[SeriesArrays, DatasetSpec, dict[str, float], pd.DataFrame | None]:
        """Prepare, backtest and choose; the prepared panel's arrays, its spec, the weights and
        the known covariates' plan it was given (None when it read none)."""
        quantiles, names, n_windows = self._check_config()
        report = FitReport()
        emit({"stage": "prepare"})
        t_prepare = time.monotonic()
        panel, spec, summary = self._prepare(data)
        report.timings["prepare_seconds"] = time.monotonic() - t_prepare
        report.data_summary = summary
        m = season_length(spec.freq)
        self.quantiles_ = quantiles
        self.spec_ = spec
        self.season_length_ = m
        self.closures_ = learn_closures(panel, spec.known_covariates)
        arrays = SeriesArrays.from_spec(panel, spec)  # the one build: future, windows and refit share it
        report.notes += (
            closures_note(self.closures_)
            + closed_weekdays_note(arrays)
            + (dormant_note(arrays, self.horizon) if self._dormant else [])
        )
        # The future the forecast will use, given or (when a forecast follows) held by the data:
        # a bad one fails here, before any model is fitted; one that is needed and missing too.
        # A backtest or a fit whose forecast comes later reads the data's plan only then.
        checked = (
            self.future_for(future, arrays, self.data_future_)
            if future is not None or will_forecast
            else None
        )
        if checked is not None:
            report.notes += checked.attrs.get("notes", [])
        elif will_forecast and spec.known_covariates:
            raise DataError(
                f"the known covariates {list(spec.known_covariates)} need their values over the "
                f"{counted(self.horizon, 'forecast step')}: pass them as a future table (--future on the "
                'command line, future= in Python, "future" in an API request), or keep them in the data '
                "on rows after its last target date, with the target empty"
            )

        plan, eligible = search.plan_windows(self, panel, n_windows, m, report)
        windows = list(plan.windows)
        report.windows = [dataclasses.asdict(w) for w in windows]
        backtested = np.isin(arrays.item_ids, eligible)
        window_data = (
            prepare_windows(panel, spec, windows, m, arrays, backtested, self.horizon) if windows else []
        )

        t_backtest = time.monotonic()
        if window_data:
            self._backtest(names, window_data, arrays, spec, quantiles, deadline, started, emit, report)
        report.timings["backtest_seconds"] = time.monotonic() - t_backtest
        emit({"stage": "ensemble"})
        weights = search.choose(self, window_data, quantiles, report)
        self.calibration_ = search.calibrate(self, window_data, weights, quantiles, report)
        self.weights_ = weights
        self.history_ = panel
        report.backtest_points = backtest_points(window_data)
        self.report_ = report
        return arrays, spec, weights, checked

    def _backtest(
        self,
        names: list[str],
        window_data: list,
        arrays: SeriesArrays,
        spec: DatasetSpec,
        quantiles: tuple[float, ...],
        deadline: float | None,
        started: float,
        emit: ProgressFn,
        report: FitReport,
    ) -> None:
        """Every candidate on the same windows (see `search.run_candidates`); `arrays` is the
        whole panel, which the refit will see."""
        search.run_candidates(
            self, names, window_data, arrays, spec, quantiles, deadline, started, emit, report
        )

    # ---- predict ---------------------------------------------------------------------
    def predict(
        self,
        data: pd.DataFrame | str | Path | None = None,
        future: pd.DataFrame | str | Path | None = None,
    ) -> pd.DataFrame:
        """Forecast `horizon` steps after each series' end, in the user's column names.

        With `data`, forecasts from that (newer) history with the fitted models, no refit.
        `future` holds the known covariates over the horizon (item, timestamp and each known
        covariate, user's column names); gaps are filled by each column's `futurefill`. Without
        `data`, the plan used is kept as `forecast_future_` and saved with the model.
        """
        self._check_fitted()
        if data is None and not hasattr(self, "history_"):
            raise ModelError("this model was loaded without its history: pass the data to forecast from")
        if data is None:
            panel, ahead = self.history_, getattr(self, "data_future_", None)
        else:
            panel, ahead = self.prepare_newer(data)
        if len(panel):
            check_horizon(self.horizon, panel[TIMESTAMP].max(), self.spec_.freq)
        arrays = SeriesArrays.from_spec(panel, self.spec_)  # built once, read by every member
        canonical_future = self.future_for(future, arrays, ahead)
        made = self.__dict__.pop("_fit_forecast", None)  # the fit's forecast of this history, once
        reuse = made if data is None and made is not None and made.serves(canonical_future) else None
        forecast = self.predict_canonical(arrays, canonical_future, reuse)
        if data is None:
            self.forecast_future_ = kept_plan(canonical_future, self.spec_)
        return from_canonical(forecast, self.spec_)

    def predict_canonical(
        self,
        panel: pd.DataFrame | SeriesArrays,
        future: pd.DataFrame | None = None,
        made: FitForecast | None = None,
    ) -> pd.DataFrame:
        """The ensemble forecast of a prepared canonical panel (or its arrays), canonical columns.

        Reads the fitted state and writes none of it, so threads may share one forecaster;
        the items each member forecast by its fallback are in `attrs[FALLBACK_ITEMS]`. `made`:
        the members' forecast of this very panel and future, made by the fit (`training_peers`).
        """
        if not isinstance(panel, SeriesArrays):
            panel = SeriesArrays.from_spec(panel, self.spec_)  # built once, read by every member
        return ensemble_forecast(
            self.members_,
            self.weights_,
            panel,
            future,
            self.quantiles_,
            getattr(self, "calibration_", None),
            self.closures_,
            self.fallbacks_in_mix_,
            self.horizon if self._dormant else None,
            self.peer_reference_,
            (made.forecast, made.fallback) if made is not None else None,
        )

    @property
    def _dormant(self) -> bool:
        """Whether dormant items are forecast 0 (models saved before the option: yes)."""
        return bool(getattr(self, "zero_dormant", True))
