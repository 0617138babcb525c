"""The catalog: the plain dict from model names to classes, and defaults per frequency.

Explicit on purpose: adding a model is one line here, and every name the AutoML, the CLI or
the API accepts is visible in one place. `make_model` is the one way to build a catalog model
for a panel of a given frequency.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Iterable, Mapping
from typing import Any

from tidecast.data.frequency import season_length, seasonal_periods
from tidecast.errors import ConfigError
from tidecast.models.base import Forecaster
from tidecast.models.baseline import Average, Naive, SeasonalNaive
from tidecast.models.decomposition import MSTLETS
from tidecast.models.gbm import LightGBM
from tidecast.models.gbm_lagged import HorizonLagLightGBM
from tidecast.models.intermittent import TSB, CrostonSBA
from tidecast.models.mstl import MSTL
from tidecast.models.neural import CNNQR, DeepAR
from tidecast.models.npts import NPTS
from tidecast.models.prophet import Prophet
from tidecast.models.regression import DynamicRegression
from tidecast.models.statistical import AutoARIMA, AutoETS
from tidecast.models.theta import AutoTheta

CATALOG: dict[str, type[Forecaster]] = {
    "Naive": Naive,
    "SeasonalNaive": SeasonalNaive,
    "Average": Average,
    "NPTS": NPTS,
    "CrostonSBA": CrostonSBA,
    "TSB": TSB,
    "AutoETS": AutoETS,
    "AutoARIMA": AutoARIMA,
    "AutoTheta": AutoTheta,
    "MSTL": MSTL,
    "MSTLETS": MSTLETS,
    "DynamicRegression": DynamicRegression,
    "Prophet": Prophet,
    "DeepAR": DeepAR,
    "CNNQR": CNNQR,
    "LightGBM": LightGBM,
    "LightGBMHorizonLags": HorizonLagLightGBM,
}

# Models whose output depends on a random seed; the others ignore the `seed` run option.
SEEDED: frozenset[str] = frozenset({"NPTS", "DeepAR", "CNNQR", "Prophet", "LightGBM", "LightGBMHorizonLags"})

# Models that fit the run's quantile levels themselves (as `quantile_levels`); the others
# derive any level at predict time and ignore the `quantiles` run option.
QUANTILE_AWARE: frozenset[str] = frozenset({"LightGBM", "LightGBMHorizonLags"})


def model_name(name: str) -> str:
    """The catalog's spelling of model `name`, matched without regard to case.

    The one place a user's model name is resolved (AutoML, CLI, job bodies): `autoets` and
    `AUTOETS` are AutoETS. Catalog names differ by more than case, so the match is unique.

    >>> model_name("autoets")
    'AutoETS'
    """
    if name in CATALOG:
        return name
    folded = {known.casefold(): known for known in CATALOG}
    found = folded.get(str(name).strip().casefold())
    if found is None:
        raise ConfigError(f"unknown model {name!r}; choose from {', '.join(CATALOG)}")
    return found


def model_names(names: Iterable[str]) -> list[str]:
    """`model_name` over several names, with every unknown one named in a single error."""
    resolved, unknown = [], []
    for name in names:
        try:
            resolved.append(model_name(name))
        except ConfigError:
            unknown.append(name)
    if unknown:
        raise ConfigError(f"unknown model(s) {unknown}; choose from {', '.join(CATALOG)}")
    return resolved


# Set by the AutoML itself (`make_model`), not hyper-parameters a user gives in model_params.
_SUPPLIED = frozenset({"n_jobs", "seed", "quantiles", "quantile_levels"})


def accepted_params(name: str) -> list[str]:
    """The hyper-parameters model `name` takes (its constructor's), less those the AutoML sets."""
    signature = inspect.signature(CATALOG[model_name(name)].__init__)
    return [p for p in list(signature.parameters)[1:] if p not in _SUPPLIED]


def check_params(name: str, params: Mapping[str, Any]) -> None:
    """ConfigError naming the options of `params` that model `name` does not take, and the
    ones it does, with the nearest name for a misspelt one (a typo used to skip the model for
    the whole run, with only a log line listing every option it was built with)."""
    accepted = accepted_params(name)
    unknown = [key for key in params if key not in accepted and key not in _SUPPLIED]
    if not unknown:
        return
    hints = [
        f"{key!r} (did you mean {near[0]!r}?)"
        if (near := difflib.get_close_matches(key, accepted, 1))
        else repr(key)
        for key in unknown
    ]
    raise ConfigError(
        f"model_params for {model_name(name)}: unknown option(s) {', '.join(hints)}; it takes {accepted}"
    )


def default_params(name: str, freq: str) -> dict[str, Any]:
    """The hyper-parameters a model gets for data of frequency `freq` (seasonal periods)."""
    main = {"season_length": season_length(freq)}
    table: dict[str, dict[str, Any]] = {
        "SeasonalNaive": main,
        "NPTS": main,
        "AutoETS": main,
        "AutoARIMA": main,
        "AutoTheta": main,
        "MSTL": {"season_lengths": seasonal_periods(freq)},
        "MSTLETS": {"season_lengths": seasonal_periods(freq)},
        "DynamicRegression": {"season_lengths": seasonal_periods(freq)},
    }
    return dict(table.get(name, {}))


def make_model(name: str, freq: str, **overrides: Any) -> Forecaster:
    """Build catalog model `name` with defaults for `freq`, then `overrides` on top.

    `n_jobs` goes to every model; `seed` only to the models in `SEEDED` (so a caller can pass
    one seed to all candidates), `quantiles` only to those in `QUANTILE_AWARE`. Any other override must be a hyper-parameter of the model.

    >>> make_model("SeasonalNaive", "h")
    SeasonalNaive(season_length=24, n_jobs=1)
    """
    name = model_name(name)
    params = default_params(name, freq)
    seed = overrides.pop("seed", None)
    if seed is not None and name in SEEDED:
        params["seed"] = seed
    quantiles = overrides.pop("quantiles", None)
    if quantiles is not None and name in QUANTILE_AWARE:
        params["quantile_levels"] = tuple(float(q) for q in quantiles)
    check_params(name, overrides)
    params.update(overrides)
    try:
        return CATALOG[name](**params)
    except TypeError as exc:
        raise ConfigError(f"{name} does not accept the options {sorted(params)}: {exc}") from exc
