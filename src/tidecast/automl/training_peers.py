"""The training panel's items as the peers of every short item a fitted model will forecast.

Taken once at the end of `AutoForecaster.fit` (`automl.peer_reference` says why): the refit
members forecast the whole training panel as `predict` would, up to the point where short items
get their profile, and the items they could forecast become the peers.

That forecast is the one a `predict()` of the stored history with the same plan starts from,
the command line's and a job's next step after the fit, so it is handed back with the peers
(`FitForecast`) and that predict reuses it (`AutoForecaster.predict`) rather than forecasting
the whole panel a second time: the peers then cost the fit nothing but their own frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from tidecast.automl.closures import require_plan
from tidecast.automl.peer_reference import LEVEL_STEPS, PeerReference, plan_lifts, reference_from
from tidecast.automl.prediction import members_forecast
from tidecast.automl.short_items import short_items
from tidecast.coldstart.peer_sample import MAX_PEERS
from tidecast.data.arrays import SeriesArrays
from tidecast.errors import ConfigError, DataError, ModelError

if TYPE_CHECKING:
    from tidecast.automl.forecaster import AutoForecaster


@dataclass(frozen=True)
class FitForecast:
    """The members' forecast of the training panel (`prediction.members_forecast`: the frame
    and the items each member forecast by its fallback) with the `plan` it used."""

    plan: pd.DataFrame | None
    forecast: pd.DataFrame
    fallback: dict[str, list[str]]

    def serves(self, plan: pd.DataFrame | None) -> bool:
        """Whether a predict of the same panel with `plan` would forecast the same."""
        if self.plan is None or plan is None:
            return self.plan is None and plan is None
        return self.plan.equals(plan)


def training_peers(
    auto: AutoForecaster, arrays: SeriesArrays, plan: pd.DataFrame | None
) -> tuple[PeerReference, FitForecast | None]:
    """The peers of `auto` (fitted on `arrays`): its forecast of every training item with the
    known covariates' `plan` (the fit's future, else the one the data holds after its last
    date); none, with the reason in `note`, without static attributes or where the members
    cannot forecast without the plan. Beside them, that forecast (None where none was made)."""
    if arrays.static is None or arrays.static.empty:
        return PeerReference(note="the data has no static attributes"), None
    if plan is None:
        plan = _data_plan(auto, arrays)
    try:
        require_plan(plan, auto.closures_, arrays)
        forecast, fallback = members_forecast(
            auto.members_,
            auto.weights_,
            arrays,
            plan,
            auto.quantiles_,
            getattr(auto, "calibration_", None),
            auto.fallbacks_in_mix_,
        )
    except (DataError, ModelError, ConfigError) as exc:
        return PeerReference(
            note="items too short for every model will keep the models' forecast, not their peers' "
            f"profile: the training items could not be forecast as their peers ({exc})"
        ), None
    short = short_items(fallback, [name for name, w in auto.weights_.items() if w > 0])
    lifts = plan_lifts(arrays, plan, auto.closures_)
    keep = arrays.steps_from_end() <= LEVEL_STEPS
    reference = reference_from(
        forecast, arrays, short, auto.quantiles_, keep, lifts, auto.closures_, plan, max_peers=MAX_PEERS
    )
    return reference, FitForecast(plan, forecast, fallback)


def _data_plan(auto: AutoForecaster, arrays: SeriesArrays) -> pd.DataFrame | None:
    """The known covariates' plan the data holds after its last date, where it holds a whole
    one (None otherwise: the fit did not need it, and does not fail for it here)."""
    try:
        return auto.future_for(None, arrays, getattr(auto, "data_future_", None))
    except (DataError, ConfigError):
        return None
