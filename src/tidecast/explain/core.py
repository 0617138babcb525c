"""Why this forecast: the ensemble's forecast taken apart into contributions that add up to it.

Each member of the selected ensemble is explained by the best method it allows
(`member_terms`): exact terms for the dynamic regression, TreeSHAP for LightGBM's direct
strategy, ablation for every other model. The ensemble forecast is the weighted sum of its
members' forecasts (the calibrated bands touch the quantiles only), so its contributions
are the members' contributions times their weights, feature by feature. A forecast scaled
by the bias every backtest window showed (`automl.calibration`) gets a "backtest level"
adjustment, and a mean column taken from the calibrated quantiles (`automl.mean_estimate`) a
"mean from quantiles" one; closed days (the run's closure rules) zero the forecast after that: the "closed
days" adjustment, and so do dormant items (`automl.dormant`): the "dormant item" adjustment.
Whatever the methods leave unexplained (none, up to rounding, for the exact ones; none by
construction for ablation) is reported as "unexplained" rather than hidden,
so the sum of a row's contributions is always its forecast.

>>> explanation = explain(auto, future=future, items=["A", "B"])   # doctest: +SKIP
>>> explanation.contributions.head()          # item, timestamp, step, feature, kind, contribution
>>> explanation.importance()                  # global: mean |contribution| per feature

`explain` gives its tables in the user's item and timestamp columns, as `predict` gives the
forecast (`data.ingest.from_canonical`: a key of several columns in its parts, numeric keys
as numbers), unless asked for the canonical ones; `explain_arrays` gives canonical ones.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tidecast.automl.dormant import among, dormant_at_end
from tidecast.data.arrays import SeriesArrays
from tidecast.data.ingest import canonical_names, from_canonical
from tidecast.data.io import read_table
from tidecast.data.item_keys import compose, id_strings, text_columns
from tidecast.data.schema import ITEM_ID, MEAN, TIMESTAMP, DatasetSpec
from tidecast.errors import DataError
from tidecast.explain.ablation import ablation_terms, forecast_mean
from tidecast.explain.terms import (
    ADJUSTMENT,
    BACKTEST_LEVEL,
    CLOSED_DAYS,
    CONTRIBUTION,
    DORMANT_ITEM,
    QUANTILE_MEAN,
    UNEXPLAINED,
    Terms,
    importance,
    per_item,
    tidy,
)
from tidecast.models.base import Forecaster

if TYPE_CHECKING:
    from tidecast.automl.forecaster import AutoForecaster

EXACT, TREESHAP, ABLATION = "exact", "treeshap", "ablation"
# A member's terms further than this (relative to the forecast's size) from its forecast
# leave an "unexplained" term; below it the difference is rounding.
TOLERANCE = 1e-9


@dataclass
class Explanation:
    """Contributions (long: item, timestamp, step, feature, kind, contribution), the forecast
    they add up to (item, timestamp, mean), and how each member was explained. The item and
    timestamp columns are the user's where `spec` is given (`user_names`), else canonical."""

    contributions: pd.DataFrame
    forecast: pd.DataFrame
    methods: dict[str, str] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    spec: DatasetSpec | None = None

    def _canonical(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame if self.spec is None else canonical_names(frame, self.spec)

    def importance(self) -> pd.DataFrame:
        """Global importance: feature, kind, mean |contribution|, share, mean (largest first)."""
        return importance(self._canonical(self.contributions))

    def per_item(self) -> pd.DataFrame:
        """Per item and feature: total over the horizon and mean |contribution|."""
        totals = per_item(self._canonical(self.contributions))
        return totals if self.spec is None else from_canonical(totals, self.spec)

    def additivity_error(self) -> float:
        """The largest |sum of a row's contributions - its forecast| (0 up to rounding)."""
        contributions, forecast = self._canonical(self.contributions), self._canonical(self.forecast)
        sums = contributions.groupby([ITEM_ID, TIMESTAMP], sort=False)[CONTRIBUTION].sum()
        joined = forecast.merge(sums.rename("sum").reset_index(), on=[ITEM_ID, TIMESTAMP], how="left")
        joined["sum"] = joined["sum"].fillna(0.0)
        return float(np.max(np.abs(joined["mean"].to_numpy() - joined["sum"].to_numpy()), initial=0.0))


def member_terms(
    model: Forecaster, panel: SeriesArrays, future: pd.DataFrame | None, quantiles: tuple[float, ...]
) -> tuple[Terms, str]:
    """A member's contributions by the best method it allows, and the method's name."""
    from tidecast.models.gbm import LightGBM
    from tidecast.models.regression import DynamicRegression

    if isinstance(model, DynamicRegression):
        from tidecast.explain.regression import regression_terms

        return regression_terms(model, panel, future, quantiles), EXACT
    if isinstance(model, LightGBM) and model.strategy == "direct":
        from tidecast.explain.gbm import gbm_terms

        return gbm_terms(model, panel, future, quantiles), TREESHAP
    return ablation_terms(model, panel, future, quantiles), ABLATION


def select_items(panel: pd.DataFrame, items: Sequence[str] | None) -> pd.DataFrame:
    """The panel's rows of `items` (all when None); a DataError names unknown ones."""
    if items is None:
        return panel
    wanted = [str(i) for i in dict.fromkeys(items)]
    present = set(panel[ITEM_ID].astype(str).unique())
    unknown = [i for i in wanted if i not in present]
    if unknown:
        raise DataError(f"unknown items (not in the model's history): {unknown[:10]}")
    return panel[panel[ITEM_ID].astype(str).isin(wanted)].reset_index(drop=True)


def select_future(
    auto: AutoForecaster, future: pd.DataFrame | str | Path | None, items: Sequence[str] | None
) -> pd.DataFrame | str | Path | None:
    """The rows of `future` (user's columns, or a path) for `items` (all when None).

    Rows of items left out of the selection concern no forecast of it. Checked with them, a
    future file for every item named the trained items outside `--items` as "items the data
    does not have", in the very error that should have said the selected item's own rows were
    short of the horizon.
    """
    if future is None or items is None:
        return future
    item_col = auto.spec_.item_col
    frame = (
        read_table(future, text_columns=text_columns(item_col)) if isinstance(future, str | Path) else future
    )
    frame = compose(frame, item_col)
    if item_col not in frame.columns:
        return frame  # the future's own check names the column
    wanted = [str(i) for i in items]
    return frame[np.isin(id_strings(frame[item_col].to_numpy()), wanted)].reset_index(drop=True)


def forecast_inputs(
    auto: AutoForecaster,
    data: pd.DataFrame | str | Path | None,
    future: pd.DataFrame | str | Path | None,
    items: Sequence[str] | None,
) -> tuple[SeriesArrays, pd.DataFrame | None]:
    """The arrays of the history to forecast from (the stored one, or `data` prepared as the
    training data was) for `items`, and the canonical future covariates over the horizon, from
    the future's rows of those items (`select_future`)."""
    auto._check_fitted()
    if data is None and not hasattr(auto, "history_"):
        raise DataError("this model was loaded without its history: pass the data to forecast from")
    if data is None:
        panel, ahead = auto.history_, getattr(auto, "data_future_", None)
    else:
        panel, ahead = auto.prepare_newer(data)
    arrays = SeriesArrays.from_spec(select_items(panel, items), auto.spec_)
    if items is not None and ahead is not None:
        ahead = ahead[ahead[ITEM_ID].isin(arrays.item_ids)].reset_index(drop=True)
    return arrays, auto.future_for(select_future(auto, future, items), arrays, ahead)


def explain(
    auto: AutoForecaster,
    data: pd.DataFrame | str | Path | None = None,
    future: pd.DataFrame | str | Path | None = None,
    items: Sequence[str] | None = None,
    *,
    canonical: bool = False,
) -> Explanation:
    """Explain `auto`'s forecast of `items` (default all) from its stored history or `data`,
    with the known covariates of `future`: all in the user's column names, as for `predict`
    (`canonical`: the tables in item_id and timestamp, which the service's answer reads)."""
    arrays, ahead = forecast_inputs(auto, data, future, items)
    explanation = explain_arrays(auto, arrays, ahead)
    return explanation if canonical else user_names(explanation, auto.spec_)


def user_names(explanation: Explanation, spec: DatasetSpec) -> Explanation:
    """`explanation` with its tables in the user's item and timestamp columns, as forecasts are."""
    return replace(
        explanation,
        contributions=from_canonical(explanation.contributions, spec),
        forecast=from_canonical(explanation.forecast, spec),
        spec=spec,
    )


def explain_arrays(auto: AutoForecaster, arrays: SeriesArrays, future: pd.DataFrame | None) -> Explanation:
    """`explain` on a prepared panel's arrays and the canonical future (what the service has)."""
    started = time.perf_counter()
    quantiles = tuple(auto.quantiles_)
    ensemble = auto.predict_canonical(arrays, future)
    horizon = int(auto.horizon)
    final = ensemble[MEAN].to_numpy(dtype=np.float64).reshape(-1, horizon)
    combined = Terms(final.shape)
    members = np.zeros(final.shape)
    methods: dict[str, str] = {}
    for name, weight in auto.weights_.items():
        model = auto.members_[name]
        terms, methods[name] = member_terms(model, arrays, future, quantiles)
        if methods[name] != ABLATION:  # ablation's terms are its forecast by construction
            mean = forecast_mean(model, arrays, future, quantiles)
            left = mean - terms.total()
            if np.any(np.abs(left) > TOLERANCE * np.maximum(1.0, np.abs(mean))):
                terms.add(UNEXPLAINED, ADJUSTMENT, left)
        combined.add_scaled(terms, weight)
        members += terms.total() * weight
    level = float(getattr(getattr(auto, "calibration_", None), "level", 1.0))
    if level != 1.0:  # the whole forecast scaled by a bias every backtest window showed
        combined.add(BACKTEST_LEVEL, ADJUSTMENT, members * (level - 1.0))
        members = members * level
    items = ensemble[ITEM_ID].to_numpy()[::horizon] if horizon else np.zeros(0)
    asleep = np.zeros(len(items), dtype=bool)
    if auto._dormant:  # the rule the forecast applied (`AutoForecaster.predict_canonical`)
        asleep = among(items, dormant_at_end(arrays, horizon))
    rest = final - members  # what the rules after the members took away: closed days, dormant items
    if asleep.any():
        combined.add(DORMANT_ITEM, ADJUSTMENT, np.where(asleep[:, None], rest, 0.0))
    closed = np.where(asleep[:, None], 0.0, rest)
    if getattr(getattr(auto, "calibration_", None), "mean_from_quantiles", False):
        # The mean its quantiles imply, not the members': the difference is its own term
        # (on a day a closure zeroed, what is left is the closure's).
        shift = np.where(final != 0.0, closed, 0.0) if getattr(auto, "closures_", ()) else closed
        combined.add(QUANTILE_MEAN, ADJUSTMENT, shift)
        closed = closed - shift
    if getattr(auto, "closures_", ()) and np.any(np.abs(closed) > TOLERANCE * np.maximum(1.0, np.abs(final))):
        combined.add(CLOSED_DAYS, ADJUSTMENT, closed)
    stamps = ensemble[TIMESTAMP].to_numpy().reshape(-1, horizon)
    return Explanation(
        contributions=tidy(combined, items, stamps),
        forecast=ensemble[[ITEM_ID, TIMESTAMP, MEAN]].reset_index(drop=True),
        methods=methods,
        weights=dict(auto.weights_),
        seconds=time.perf_counter() - started,
    )
