"""HierarchicalForecaster: the AutoML engine at every level of a hierarchy, reconciled.

>>> from tidecast.data.demo import generate
>>> h = HierarchicalForecaster("category/product", horizon=14, preset="fast",
...                            target_col="target_value")            # doctest: +SKIP
>>> forecasts = h.fit(generate(n_items=25)).predict()               # doctest: +SKIP

The items are fitted first, by an AutoForecaster with the given options (the hierarchy's
attributes added to its static columns); its prepared panel is summed up to every node of
every level, and each level gets its own AutoForecaster with the same options, so each level
picks its own models on its own backtests. The levels' backtest forecasts then choose the
reconciliation method (`selection`), and `predict` returns every node's coherent forecast
with a `level` column.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tidecast.automl.backtest import ProgressFn
from tidecast.automl.options import OPTIONS
from tidecast.data.ingest import canonical_names
from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, quantile_columns
from tidecast.errors import ConfigError, ModelError
from tidecast.hierarchy.aggregate import aggregate_level, item_attributes, stack
from tidecast.hierarchy.checks import check_attributes, check_methods
from tidecast.hierarchy.coherent import Reconciler
from tidecast.hierarchy.reconcile import METHODS, NEEDS_RESIDUALS
from tidecast.hierarchy.selection import (
    BASE,
    choose,
    ensemble_backtests,
    residuals_of,
    score_methods,
    window_arrays,
)
from tidecast.hierarchy.structure import (
    BOTTOM,
    LEVEL,
    Hierarchy,
    build_structure,
    level_name,
    parse_hierarchy,
)

# What the levels above the items are given instead of the user's data options: they read the
# bottom model's prepared, canonical panel.
_CANONICAL = {
    "item_col": ITEM_ID,
    "timestamp_col": TIMESTAMP,
    "target_col": TARGET,
    "date_format": None,
    "filling": None,
    "aggregation": None,
    "static_data": None,
}


class HierarchicalForecaster:
    """Forecast every level of `hierarchy` (``category/product``, ``region*category``...) with
    the AutoML engine and reconcile them.

    `methods` are the reconciliation candidates (default: all of `reconcile.METHODS` that the
    hierarchy and the backtests allow); `method` fixes one instead of choosing by backtest.
    `nonnegative` (default: when the history has no negative value) keeps every forecast >= 0.
    Every other keyword is an `AutoForecaster` option, used at every level.
    """

    def __init__(
        self,
        hierarchy: str,
        methods: Sequence[str] | None = None,
        method: str | None = None,
        nonnegative: bool | None = None,
        **options: Any,
    ) -> None:
        self.hierarchy = hierarchy
        self.methods = methods
        self.method = method
        self.nonnegative = nonnegative
        self.options = options

    # ---- fit ---------------------------------------------------------------------------
    def fit(
        self,
        data: pd.DataFrame | str | Path,
        future: pd.DataFrame | str | Path | None = None,
        progress: ProgressFn | None = None,
    ) -> HierarchicalForecaster:
        from tidecast.automl.forecaster import AutoForecaster

        emit = progress or (lambda event: None)
        tree = self.check(data)
        options = dict(self.options)
        statics = _names(options.get("static_columns"))
        options["static_columns"] = list(dict.fromkeys([*statics, *tree.attributes]))
        started = time.monotonic()
        emit({"stage": "level", "level": BOTTOM})
        bottom = AutoForecaster(**options).fit(data, progress=progress, future=future)
        panel, spec = bottom.history_, bottom.spec_
        _check_aligned(panel)
        self.structure_ = build_structure(tree, item_attributes(panel, tree.attributes), ITEM_ID)
        self.spec_ = spec
        self.covariates_ = [*spec.known_covariates, *spec.past_covariates]
        upper = {**{o.name: getattr(bottom, o.name) for o in OPTIONS}, **_CANONICAL, "frequency": spec.freq}
        upper["known_covariates"] = list(spec.known_covariates) or None
        upper["past_covariates"] = list(spec.past_covariates) or None
        items = item_attributes(panel, tree.attributes)
        agg_future = self._canonical_future(bottom, future)
        self.levels_: dict[str, Any] = {}
        seconds = {BOTTOM: time.monotonic() - started}
        for level in self.structure_.hierarchy.levels:  # the levels that are not the items again
            name = level_name(level)
            emit({"stage": "level", "level": name})
            t = time.monotonic()
            level_panel = aggregate_level(panel, items, level, self.covariates_)
            auto = AutoForecaster(**{**upper, "static_columns": list(level) or None})
            level_future = (
                None if agg_future is None else aggregate_level(agg_future, items, level, self.covariates_)
            )
            self.levels_[name] = auto.fit(level_panel, future=level_future)
            seconds[name] = time.monotonic() - t
        self.levels_[BOTTOM] = bottom
        self.items_ = items
        self.quantiles_ = tuple(bottom.quantiles_)
        if self.nonnegative is None:
            self.nonnegative_ = bool(np.nanmin(panel[TARGET].to_numpy()) >= 0)
        else:
            self.nonnegative_ = bool(self.nonnegative)
        self._choose(emit)
        self.report_["level_fit_seconds"] = seconds
        return self

    def check(self, data: pd.DataFrame | str | Path) -> Hierarchy:
        """The parsed hierarchy, once the method and the attributes are checked against it and
        the data's columns (`checks`): a ConfigError otherwise. `fit` calls it before fitting
        anything; a caller may call it first to fail before announcing the fit."""
        tree = parse_hierarchy(self.hierarchy)
        check_methods(tree, self.method, self.methods, self.options.get("backtest_windows"))
        check_attributes(tree, data, self.options.get("static_data"))
        return tree

    def _choose(self, emit: ProgressFn) -> None:
        emit({"stage": "reconcile"})
        tables = [ensemble_backtests(self.levels_[name]) for name in self.structure_.level_names]
        windows, notes = window_arrays(tables, self.structure_, self.quantiles_)
        notes = [*getattr(self.structure_, "notes", ()), *notes]
        methods = self._candidates(bool(windows))
        scores = pd.DataFrame(columns=["method", "window", "level", "wql"])
        chosen = self.method or ("wls_struct" if "wls_struct" in methods else methods[0])
        if windows:
            scores = score_methods(windows, self.structure_, methods, self.quantiles_, self.nonnegative_)
            best, table = choose(scores)
            chosen = self.method or best
        else:
            table = pd.DataFrame()
            notes.append(f"no complete backtest window: {chosen} used without a choice")
        if len(windows) == 1:
            notes.append("one backtest window: wls_var and mint_shrink learn its errors in-sample")
        self.method_ = chosen
        self.residuals_ = residuals_of(windows)
        self.reconciler_ = self._reconciler(chosen)
        self.scores_ = scores
        self.report_: dict[str, Any] = {
            "hierarchy": self.hierarchy,
            "levels": self.structure_.level_names,
            "nodes": {n: len(self.structure_.level_rows(n)) for n in self.structure_.level_names},
            "method": chosen,
            "chosen_by": "fixed" if self.method else "backtest",
            "methods": list(methods),
            "nonnegative": self.nonnegative_,
            "backtest_windows": len(windows),
            "backtest_wql": {} if table.empty else table.round(6).to_dict(orient="index"),
            "notes": notes,
        }

    def _reconciler(self, method: str) -> Reconciler:
        return Reconciler(self.structure_, method, self.residuals_, self.nonnegative_)

    def _candidates(self, have_windows: bool) -> list[str]:
        """The methods asked for (known: `check`) that the hierarchy and the backtests allow."""
        asked = list(self.methods or METHODS)
        tree = self.structure_.hierarchy.is_tree
        allowed = [
            m for m in asked if (m != "top_down" or tree) and (m not in NEEDS_RESIDUALS or have_windows)
        ]
        if not allowed:
            raise ConfigError(f"none of the methods {asked} applies: no complete backtest window gave errors")
        return allowed

    # ---- predict -----------------------------------------------------------------------
    def predict(
        self,
        future: pd.DataFrame | str | Path | None = None,
        reconciled: bool = True,
        method: str | None = None,
    ) -> pd.DataFrame:
        """Every node's forecast: `level`, the item column (node ids above the items), the
        timestamp, `mean`, the quantiles and the hierarchy's attributes. `reconciled=False`
        gives the levels' own (base) forecasts, for comparison; `method` reconciles by another
        method than the chosen one."""
        name = (method or self.method_) if reconciled else BASE
        return self.predict_methods(future, [name])[name]

    def predict_methods(
        self, future: pd.DataFrame | str | Path | None = None, methods: Sequence[str] | None = None
    ) -> dict[str, pd.DataFrame]:
        """The forecast of every node by each of `methods` (`base`: not reconciled), from one
        forecast of every level; default: the chosen method and the base."""
        unknown = [m for m in methods or () if m != BASE and m not in METHODS]
        if unknown:  # before any forecast; else MinT's "needs backtest errors" named the wrong cause
            raise ConfigError(
                f"unknown reconciliation method(s) {unknown}; choose from {', '.join([BASE, *METHODS])}"
            )
        base, stamps = self._base(future)
        out = {}
        for name in methods or [self.method_, BASE]:
            if name == BASE:
                values = base
            else:
                reconciler = self.reconciler_ if name == self.method_ else self._reconciler(name)
                mean, qvalues = reconciler.apply(base)
                values = np.concatenate([mean[:, :, None], qvalues], axis=2)
            out[name] = self._frame(values, stamps, self._columns())
        return out

    def _columns(self) -> list[str]:
        return [MEAN, *quantile_columns(self.quantiles_)]

    def _base(self, future: pd.DataFrame | str | Path | None) -> tuple[np.ndarray, np.ndarray]:
        """Every node's base forecast (n_nodes, steps, 1 + Q) and timestamps (n_nodes, steps)."""
        if not hasattr(self, "reconciler_"):
            raise ModelError("this HierarchicalForecaster is not fitted yet: call fit() first")
        bottom = self.levels_[BOTTOM]
        agg_future = self._canonical_future(bottom, future)
        frames = {}
        for name, auto in self.levels_.items():
            if name == BOTTOM:
                frame = canonical_names(bottom.predict(future=future), self.spec_)
            else:
                level = next(lv for lv in self.structure_.hierarchy.levels if level_name(lv) == name)
                level_future = (
                    None
                    if agg_future is None
                    else aggregate_level(agg_future, self.items_, level, self.covariates_)
                )
                frame = auto.predict(future=level_future)
            frames[name] = frame.assign(_t=frame[TIMESTAMP].astype("int64"))
        base = stack(frames, self.structure_, self._columns())
        return base, stack(frames, self.structure_, ["_t"])[:, :, 0]

    def _frame(self, values: np.ndarray, stamps: np.ndarray, columns: list[str]) -> pd.DataFrame:
        n, steps, _ = values.shape
        s = self.structure_
        frame = pd.DataFrame(
            {
                LEVEL: np.repeat(s.node_level, steps),
                self.spec_.item_col: np.repeat(s.nodes, steps),
                self.spec_.timestamp_col: pd.to_datetime(stamps.ravel().astype("int64")),
            }
        )
        frame[columns] = values.reshape(n * steps, -1)
        attrs = s.attributes.loc[s.attributes.index.repeat(steps)].reset_index(drop=True)
        return pd.concat([frame, attrs], axis=1)

    def _canonical_future(self, bottom: Any, future: pd.DataFrame | str | Path | None) -> pd.DataFrame | None:
        """The items' future covariates, canonical: the `future` given, else the plan the
        training data held after its last date (`data.ahead`), which every level sums up."""
        return bottom.future_for(future, bottom.history_, getattr(bottom, "data_future_", None))

    def backtest_scores(self) -> pd.DataFrame:
        """Mean backtest wQL per method (rows, `base` = unreconciled) and level (columns)."""
        return pd.DataFrame(self.report_["backtest_wql"]).T


def _names(value: Sequence[str] | str | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return list(value)


def _check_aligned(panel: pd.DataFrame) -> None:
    """Aggregates need every item to end at the same time (else a step mixes dates)."""
    ends = panel.groupby(ITEM_ID, sort=False)[TIMESTAMP].max()
    if ends.nunique() > 1:
        raise ConfigError(
            "a hierarchy needs every item's history to end at the same time; "
            f"{int((ends != ends.max()).sum())} item(s) end earlier (extend them, e.g. "
            'filling {"target": {"backfill": "zero"}})'
        )
