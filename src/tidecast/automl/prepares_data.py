"""How an `AutoForecaster` prepares what it is given, through one `Preparer` (`preparation`).

Training data, newer history and the known covariates' future (given, or held by the data on
rows after its last target date: `data.ahead`) all go through the same column configuration, so a
model forecasts from newer data exactly as it was fitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tidecast.automl.preparation import Preparer
from tidecast.data.arrays import SeriesArrays
from tidecast.data.schema import DatasetSpec


class PreparesData:
    """How an `AutoForecaster` prepares what it is given: training data, newer history and
    future covariates, each through one `Preparer` built from its column configuration.

    A mixin, so the forecaster's keywords stay its own attributes (and models pickled before
    keep loading); its fitted `spec_`, `horizon` and filling plan are read from it.
    """

    item_col: str
    timestamp_col: str
    target_col: str
    date_format: str | None
    filling: dict[str, Any] | None
    aggregation: dict[str, str] | None
    known_covariates: Sequence[str] | str | None
    past_covariates: Sequence[str] | str | None
    static_columns: Sequence[str] | str | None
    static_data: pd.DataFrame | str | Path | None
    holidays: Sequence[str] | str | None
    events: pd.DataFrame | str | Path | None
    frequency: str | None
    horizon: int
    spec_: DatasetSpec
    filling_plan_: Any
    data_future_: pd.DataFrame | None

    def _prepare(self, data: pd.DataFrame | str | Path) -> tuple[pd.DataFrame, DatasetSpec, dict[str, Any]]:
        preparer = self._preparer()
        try:
            prepared, spec, summary = preparer.training(data, self.frequency, self.horizon)
        finally:
            self._keep_static(preparer)
        # The training data's filling plan also fills gaps in future covariates (futurefill).
        self.filling_plan_ = prepared.filling
        self.data_future_ = preparer.ahead
        return prepared.panel, spec, summary

    def _preparer(self) -> Preparer:
        """The column configuration as it is now, with the item metadata already read."""
        return Preparer(
            item_col=self.item_col,
            timestamp_col=self.timestamp_col,
            target_col=self.target_col,
            date_format=self.date_format,
            filling=self.filling,
            aggregation=self.aggregation,
            known_covariates=self.known_covariates,
            past_covariates=self.past_covariates,
            static_columns=self.static_columns,
            static_data=self.static_data,
            holidays=self.holidays,
            events=self.events,
            static_cache=getattr(self, "_static_cache", None),
            text_covariates=self._text_covariates(),
        )

    def _text_covariates(self) -> tuple[str, ...]:
        """The covariates the fitted model read as text (none before fit): they stay text in newer
        tables, as when the model was fitted: a future holding only "0" of a state-holiday column
        fitted on "0", "a" and "b", or only Y and N where a model saved before yes/no words
        became 1/0 read them as categories."""
        history = getattr(self, "history_", None)
        spec = getattr(self, "spec_", None)
        if history is None or spec is None:
            return ()
        roles = [*spec.known_covariates, *spec.past_covariates]
        return tuple(
            c
            for c in roles
            if c in history.columns
            and not pd.api.types.is_numeric_dtype(history[c].dtype)
            and not pd.api.types.is_bool_dtype(history[c].dtype)
        )

    def _keep_static(self, preparer: Preparer) -> None:
        """Keep the item metadata the preparer read, for the next preparation (never saved)."""
        if preparer.static_cache is not None:
            self._static_cache = preparer.static_cache

    def future_for(
        self,
        future: pd.DataFrame | str | Path | None,
        panel: pd.DataFrame | SeriesArrays,
        ahead: pd.DataFrame | None,
        steps: int | None = None,
    ) -> pd.DataFrame | None:
        """The known covariates over the horizon after `panel`: the `future` given, else the
        rows its data held after its last target date (`ahead`, `data.ahead`); None without
        known covariates or either (a model that needs them then says so). `steps`: the
        forecast steps read, when fewer than the horizon (`data.future.fill_future`)."""
        if not self.spec_.known_covariates:
            return None
        if future is not None:
            return self.prepare_future(future, panel, steps)
        if ahead is not None and len(ahead):
            plan = getattr(self, "filling_plan_", None)
            return Preparer.future_in_data(ahead, panel, self.spec_, self.horizon, plan)
        return None

    def prepare_future(
        self, future: pd.DataFrame | str | Path, panel: pd.DataFrame | SeriesArrays, steps: int | None = None
    ) -> pd.DataFrame:
        """The user's future covariates, validated and filled onto each series' horizon (after
        the prepared panel, or its arrays)."""
        plan = getattr(self, "filling_plan_", None)
        return self._preparer().future(future, panel, self.spec_, self.horizon, plan, steps)

    def prepare_history(self, data: pd.DataFrame | str | Path) -> pd.DataFrame:
        """Newer history in the user's columns, prepared exactly as the training data was
        (same frequency, filling and roles): the canonical panel `predict_canonical` takes.
        The service and batch forecast through this and `prepare_future`, never around them."""
        return self.prepare_newer(data)[0]

    def prepare_newer(self, data: pd.DataFrame | str | Path) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """`prepare_history`, and the rows the newer data holds after its last target date with
        known covariates (`data.ahead`): the future it gives."""
        preparer = self._preparer()
        try:
            return preparer.canonical(data, self.spec_.freq, None)[0].panel, preparer.ahead
        finally:
            self._keep_static(preparer)
