"""Known covariates whose effect LightGBM must keep to one direction (`monotone_covariates`).

A tree learns a covariate's effect as steps fitted to the rows it saw, and nothing keeps the
steps in order. On dominicks_oj, the last 4 weeks held out, LightGBM alone, a what-if of
the own-brand price times 0.95, 0.9, ... 0.5 forecast fewer units at some deeper cut on 55 of
132 item-weeks (store-brands of stores 2, 5 and 8; s002_b02 8,232 units at a 30% cut, 8,190
at 40%) and on 368 of 440 (stores 33 to 52). The scenario changed the right rows, and the
forecast is what the model says with them: its own steps went the wrong way.

A user who knows the direction declares it: `LightGBM(monotone_covariates={"price": -1})`,
or in a run `model_params={"LightGBM": {"monotone_covariates": {"price": -1}}}`. -1: the
forecast never rises as the covariate rises (a price); 1: it never falls (a display's
size). Every booster of the model trains with LightGBM's `monotone_constraints` on the
covariate's value at the target time. LightGBM refuses them with its quantile loss, so such
a model has no quantile boosters: its quantiles are the conformal band (point forecast plus
a residual quantile times the series' scale), and each moves with the point forecast. Under
the direct strategy the mean and every quantile of each step then move one way only with
the covariate, and so does an ensemble whose other members ignore it or move the same way.
Those 55 and 368 item-weeks became 0. The band costs accuracy: hold-out wQL 0.3327 -> 0.3665
and 0.3156 -> 0.3447, WAPE 0.405 -> 0.507 and 0.423 -> 0.466 (the same model without the
constraint and without quantile boosters: wQL 0.3688 on the first set, so the cost is the
band's); hence off by default, for runs made to answer what-if questions.

Not guaranteed: under the recursive strategy (a step's forecast becomes the next step's lag,
which is free), for the features a 0/1 flag adds (the distance to its next and last event,
its share of the recent window), which stay free, and for a second column holding the same
value (dominicks_oj's own price is also its `price_bNN`, which a rule on `price` leaves as
it was). Text covariates have no order and are refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tidecast.errors import ConfigError
from tidecast.models.gbm_features import FeatureLayout

DIRECTIONS = (-1, 1)


def check_directions(monotone: Mapping[str, Any] | None) -> None:
    """The option's shape: a mapping of covariate names to -1 or 1 (ConfigError otherwise)."""
    if monotone is None:
        return
    if not isinstance(monotone, Mapping):
        raise ConfigError(f"LightGBM monotone_covariates: give {{covariate: -1 or 1}}, got {monotone!r}")
    wrong = {k: v for k, v in monotone.items() if isinstance(v, bool) or v not in DIRECTIONS}
    if wrong:
        raise ConfigError(
            f"LightGBM monotone_covariates: directions are -1 (falls as the covariate rises) or 1 "
            f"(rises), got {wrong}"
        )


def check_covariates(monotone: Mapping[str, int] | None, layout: FeatureLayout) -> None:
    """Every declared covariate is a numeric known covariate of the data (ConfigError naming
    the ones that are not, and the ones there are)."""
    numeric = [c for c in layout.known if f"kc_{c}" not in layout.categories]
    unknown = [c for c in monotone or {} if c not in numeric]
    if unknown:
        raise ConfigError(
            f"LightGBM monotone_covariates: {unknown} not numeric known covariates of the data; "
            f"it has {numeric}"
        )


def monotone_params(monotone: Mapping[str, int] | None, columns: Iterable[str]) -> dict[str, Any]:
    """LightGBM's `monotone_constraints` for feature `columns` (none when nothing is declared)."""
    if not monotone:
        return {}
    by_feature = {f"kc_{column}": int(direction) for column, direction in monotone.items()}
    return {"monotone_constraints": [by_feature.get(column, 0) for column in columns]}
