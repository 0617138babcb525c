"""Forecast reconciliation kernels: pure numpy on (nodes x points) arrays.

Every method maps base forecasts ŷ of all nodes (rows in `Structure` order: aggregates first,
the items last) to bottom-level forecasts b; the coherent forecast is then S b, so every
aggregate equals the sum of its items to the last bit of floating point.

- ``bottom_up``: the items' own forecasts, summed up.
- ``top_down``: the total split down a tree by forecast proportions (Athanasopoulos, Ahmed and
  Hyndman 2009): each node takes its parent's share in the ratio of its own base forecast to
  its siblings'; equal shares where the siblings' forecasts are all zero.
- ``ols``, ``wls_struct``, ``wls_var``, ``mint_shrink``: MinTrace (Wickramasuriya, Athanasopoulos
  and Hyndman 2019), b = G ŷ with G = (S' W⁻¹ S)⁻¹ S' W⁻¹ for W = I, diag(S 1), the diagonal of
  the base errors' variances, or their covariance shrunk towards its diagonal (Schäfer and
  Strimmer 2005). G is computed in the equivalent form J − J W U (U' W U)⁻¹ U', with
  U' = [I, −S_agg], which never inverts W (it may be near singular).

Non-negativity: MinTrace's bottom forecasts that come out negative are re-solved as the
constrained least squares min (ŷ − S b)' W⁻¹ (ŷ − S b) with b ≥ 0 (NNLS on W⁻¹'s Cholesky
factor), the exact constrained MinTrace; bottom-up and top-down clip the items at zero.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import nnls

from tidecast.errors import ConfigError

METHODS: tuple[str, ...] = ("bottom_up", "top_down", "ols", "wls_struct", "wls_var", "mint_shrink")
NEEDS_RESIDUALS = frozenset({"wls_var", "mint_shrink"})
RIDGE = 2e-8  # added to W's diagonal, as hierarchicalforecast does, so W is never singular


def shrunk_covariance(residuals: np.ndarray, ridge: float = RIDGE) -> np.ndarray:
    """Schäfer-Strimmer shrinkage of the residuals' covariance towards its diagonal.

    `residuals` is (n_series, n_obs). The sample covariance (ddof 1) keeps its diagonal; its
    correlations shrink towards 0 by λ* = Σ Var(r_ij) / Σ r_ij² over i ≠ j (clipped to [0, 1]),
    Schäfer and Strimmer's unbiased estimates from the standardised, centred residuals (as
    hierarchicalforecast computes it, checked in the tests).
    """
    r = np.asarray(residuals, dtype=np.float64)
    n_obs = r.shape[1]
    if n_obs < 2:
        raise ConfigError("mint_shrink needs at least two backtest errors per series")
    cov = np.atleast_2d(np.cov(r))
    centred = r - r.mean(axis=1, keepdims=True)
    std = np.sqrt((centred**2).mean(axis=1))
    safe = np.where(std > 0, std, 1.0)
    xs = np.where(std[:, None] > 0, centred / safe[:, None], 0.0).T  # (n_obs, n_series)
    w_bar = xs.T @ xs / n_obs  # the correlations (0 for a constant series)
    v = ((xs**2).T @ (xs**2) / n_obs - w_bar**2) * n_obs / (n_obs - 1) ** 3 * n_obs
    np.fill_diagonal(v, 0.0)
    d = (n_obs / (n_obs - 1) * w_bar) ** 2
    np.fill_diagonal(d, 0.0)
    lam = float(np.clip(v.sum() / d.sum(), 0.0, 1.0)) if d.sum() > 0 else 1.0
    shrunk = lam * np.diag(np.diag(cov)) + (1.0 - lam) * cov
    return np.asarray(shrunk + np.eye(len(cov)) * ridge)


def error_weights(S: np.ndarray, method: str, residuals: np.ndarray | None = None) -> np.ndarray:
    """W, the base errors' (assumed) covariance, of a MinTrace method."""
    n = S.shape[0]
    if method == "ols":
        return np.eye(n)
    if method == "wls_struct":
        return np.diag(S.sum(axis=1))
    if residuals is None:
        raise ConfigError(f"{method} needs the base forecasts' backtest errors")
    if method == "wls_var":
        return np.diag(np.nanmean(np.asarray(residuals) ** 2, axis=1) + RIDGE)
    if method == "mint_shrink":
        return shrunk_covariance(residuals)
    raise ConfigError(f"unknown MinTrace method {method!r}; choose one of {', '.join(METHODS)}")


def projection(S: np.ndarray, W: np.ndarray) -> np.ndarray:
    """G (n_bottom x n_nodes) of MinTrace with error covariance W."""
    n, m = S.shape
    k = n - m
    if k == 0:
        return np.eye(m)
    Ut = np.hstack([np.eye(k), -S[:k]])
    J = np.hstack([np.zeros((m, k)), np.eye(m)])
    WU = W @ Ut.T
    return np.asarray(J - J @ WU @ np.linalg.solve(Ut @ WU, Ut))


def top_down(S: np.ndarray, parents: Sequence[tuple[np.ndarray, np.ndarray]], base: np.ndarray) -> np.ndarray:
    """Bottom forecasts of top-down by forecast proportions.

    `parents` (from `Structure.parents`) lists, level by level down from the total, the rows of
    a level and each one's parent row. Negative base forecasts count as zero in the shares.
    """
    n, m = S.shape
    base = np.asarray(base, dtype=np.float64)
    positive = np.maximum(base, 0.0)
    share = np.zeros_like(base)
    share[0] = 1.0  # the total
    for rows, parent in parents:
        siblings = np.zeros_like(base)
        np.add.at(siblings, parent, positive[rows])
        count = np.bincount(parent, minlength=n)[parent].astype(np.float64)[:, None]
        total = siblings[parent]
        own = np.where(total > 0, positive[rows] / np.where(total > 0, total, 1.0), 1.0 / count)
        share[rows] = share[parent] * own
    return np.asarray(share[n - m :] * base[0])


def reconcile(
    S: np.ndarray,
    base: np.ndarray,
    method: str,
    *,
    residuals: np.ndarray | None = None,
    parents: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
    nonnegative: bool = False,
    G: np.ndarray | None = None,
    W: np.ndarray | None = None,
) -> np.ndarray:
    """Bottom-level forecasts (n_bottom x points) of `base` (n_nodes x points) by `method`.

    `G` and `W` may be passed when already computed (`projection`, `error_weights`).
    """
    base = np.asarray(base, dtype=np.float64)
    n, m = S.shape
    if method == "bottom_up":
        bottom = base[n - m :].copy()
    elif method == "top_down":
        if parents is None:
            raise ConfigError("top-down needs a nested hierarchy")
        bottom = top_down(S, parents, base)
    else:
        if W is None:
            W = error_weights(S, method, residuals)
        if G is None:
            G = projection(S, W)
        bottom = G @ base
        if nonnegative and (bottom < 0).any():
            bottom = _nonnegative(S, W, base, bottom)
    if nonnegative:
        bottom = np.maximum(bottom, 0.0)  # bottom-up/top-down; NNLS's own zeros stay zeros
    return np.asarray(bottom)


def _nonnegative(S: np.ndarray, W: np.ndarray, base: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """MinTrace under b >= 0 for the columns whose unconstrained solution has a negative item."""
    C = np.linalg.cholesky(np.linalg.inv(W))  # W⁻¹ = C C'
    A = C.T @ S
    out = bottom.copy()
    for j in np.flatnonzero((bottom < 0).any(axis=0)):
        out[:, j] = nnls(A, C.T @ base[:, j])[0]
    return out
