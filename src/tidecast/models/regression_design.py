"""The dynamic regression's design: what its columns mean and the rows of a forecast. Apart from the model class (`regression.py`) so the model file stays readable and
the explanations (`tidecast.explain.regression`) read the same rows the forecast is made of.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tidecast.data.calendar import fourier_terms, step_index
from tidecast.models.covariates import Exogenous, HolidayTable
from tidecast.models.robust import HUBER_C, trend_columns


@dataclass(frozen=True)
class Layout:
    """What the columns of one series' design mean; fixed at fit so the horizon's rows match."""

    origin: float
    span: float
    changepoints: np.ndarray
    periods: tuple[float, ...]
    orders: tuple[int, ...]
    growing: bool
    holidays: tuple[str, ...]
    covariates: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegressionState:
    """One series' fit: coefficients on y / scale, residual AR(1) and innovation spread."""

    layout: Layout
    beta: np.ndarray
    scale: float
    phi: float
    sigma: float


def design(layout: Layout, t: np.ndarray, exogenous: np.ndarray) -> np.ndarray:
    """The regression matrix for absolute step index `t` and its holiday and covariate columns."""
    tau = (t - layout.origin) / layout.span
    parts = [trend_columns(tau, layout.changepoints)]
    if layout.periods:
        cycles = fourier_terms(t, layout.periods, layout.orders).to_numpy()
        parts.append(cycles)
        if layout.growing:
            parts.append(cycles * (tau - 1.0)[:, None])
    parts.append(exogenous)
    return np.column_stack(parts)


def _varying(values: np.ndarray, names: Sequence[str]) -> tuple[str, ...]:
    varies = values.max(axis=0, initial=0.0) > values.min(axis=0, initial=0.0)
    return tuple(name for name, v in zip(names, varies, strict=True) if v)


def _columns(values: np.ndarray, names: Sequence[str], wanted: Sequence[str]) -> np.ndarray:
    index = {name: j for j, name in enumerate(names)}
    return values[:, [index[name] for name in wanted]] if wanted else np.zeros((len(values), 0))


@dataclass(frozen=True)
class Context:
    """What every series' fit or forecast shares: holidays, covariates, the horizon's stamps."""

    table: HolidayTable | None
    exogenous: Exogenous | None
    ahead: np.ndarray | None = None


def forecast_terms(
    state: RegressionState,
    y: np.ndarray,
    stamps: np.ndarray,
    future: np.ndarray,
    freq: str,
    table: HolidayTable | None,
    covariates: np.ndarray | None = None,
    covariate_names: Sequence[str] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """The design rows of `future` and the carried residual per step, both on y / scale:
    the forecast is (rows @ beta + carry) x scale, which is what makes it decomposable
    term by term (`tidecast.explain.regression`)."""
    layout = state.layout
    rows = np.concatenate([stamps[-1:], future])
    holidays = table.gather(rows, layout.holidays) if table is not None else np.zeros((len(rows), 0))
    known = covariates if covariates is not None else np.zeros((len(rows), 0))
    exogenous = np.column_stack([holidays, _columns(known, covariate_names, layout.covariates)])
    x = design(layout, step_index(rows, freq), exogenous)
    # The last residual, clipped like an outlier would be, moves the first steps.
    bound = HUBER_C * state.sigma
    last = float(np.clip(y[-1] / state.scale - x[0] @ state.beta, -bound, bound))
    decay = state.phi ** np.arange(1, len(future) + 1)
    return x[1:], last * decay
