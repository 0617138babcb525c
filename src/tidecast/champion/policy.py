"""When a challenger replaces the champion: `ChallengerPolicy`, set per endpoint (when a
challenger is attached, or in the alert rule that queues its retraining)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class ChallengerPolicy(BaseModel):
    """Promote the challenger when its `metric` over the paired forecasts (the same item,
    origin and horizon step served by both versions, with an actual) is at least `margin`
    lower than the champion's (0.05: 5 % lower), once at least `min_forecasts` forecasts of
    each are scored and their targets span at least `min_days` days. `mode` "auto" promotes
    at once; "approval" waits for ``POST /v1/endpoints/{name}/promote``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: Literal["wql", "wape", "mape", "mase"] = "wql"
    margin: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = 0.05
    min_forecasts: Annotated[int, Field(ge=1, le=10_000_000)] = 20
    min_days: Annotated[float, Field(ge=0, le=3660, allow_inf_nan=False)] = 0.0
    mode: Literal["auto", "approval"] = "approval"
