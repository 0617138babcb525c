"""Probabilistic coherence: reconcile sample paths drawn from every node's quantile forecast.

Quantiles do not add up (the p90 of a total is not the sum of its items' p90s unless they
move in lockstep), so reconciling each quantile column as if it were a point forecast assumes
perfect dependence and makes the aggregates' intervals too wide. Instead, following
Panagiotelis et al. (2023, "Probabilistic forecast reconciliation"), we draw joint samples of
all nodes' base forecasts, reconcile every sample with the same method as the point forecast,
and read each node's quantiles off the coherent samples: every sample adds up exactly at
every level, and each node's marginal quantiles come from a coherent distribution.

The draws: each node's quantile function is its forecast quantiles interpolated linearly in
normal scores z = Φ⁻¹(q) (so a normal forecast is reproduced exactly, tails included), and the
nodes are tied together by a Gaussian copula whose correlation is the base forecasts' backtest
error correlation, shrunk (Schäfer-Strimmer); without errors, independent. Each node's draws
are stratified (the copula's ranks, exact normal scores), so its marginal is its forecast. Non-negativity on
samples clips the items at zero before they are summed up (the "set negatives to zero"
heuristic, exact NNLS per sample would cost far more and changes little).

The mean column is the reconciled base mean, not the mean of the samples: where a node's
model mean and its quantiles disagree (dominicks_oj store x brand items whose p10 is near 0),
the reconciled total's p10 can lie above its mean. Two ways to agree, measured (engine
1efa9e2, `benchmarks/hierarchy.py`'s two origins each, medium preset, held-out wQL / WAPE of
the mean per level, not taken): the mean read off the reconciled samples leaves wQL as is and
helps pasta_promo's brands and items (bottom-up WAPE 0.2098 / 0.6248 -> 0.1748 / 0.6085, MinT
0.2162 / 0.6317 -> 0.1980 / 0.6233) but costs its total under the MinT family (OLS 0.0958 ->
0.1116, WLS-struct 0.0996 -> 0.1047), the demo all but unchanged; shifting every node's draws
to its base mean costs wQL at every level of pasta_promo (bottom-up items 0.3674 -> 0.3869,
brands 0.1101 -> 0.1362). Neither is a win across levels and methods on two origins.

Items' p10 at 0 under top-down and OLS, diagnosed, not fixed (dominicks_oj, `tidecast reconcile
--hierarchy store`, SeasonalNaive, DynamicRegression and AutoTheta, 2 backtest windows: share
of item rows with p10 = 0: top_down 0.93, ols 0.95, wls_struct 0.44, wls_var 0.25, mint_shrink
0.21, bottom_up 0; the base items' p10 is 64-4,635). Three causes:

- the normal tail: below the lowest quantile the quantile function goes on linearly in z, and
  crosses zero for a right-skewed forecast (the total's p10 is 23,771 for a p50 of 188,786):
  4.6% of the items' draws, 7.2% of the stores' and of the total's are negative;
- top-down takes each draw's shares from that draw's own item and store values: an item is 0
  wherever its draw or its store's is <= 0 (about 11% of draws), and the ratio of draws that
  are nearly independent spreads the rest, so its p10 is 0;
- the MinT family gets draws that are far from coherent, as the base forecasts are: the total's
  quantiles are wider than its items' could add up to (p10 23,771 against the items' p10s summing
  to 43,976), and the copula's total-item correlation is 0.16 after shrinkage (0.31 raw, 8 errors
  a node) where the total's backtest errors and its items' summed ones correlate at 0.975. The
  projection moves each draw's gap into the items, OLS in equal parts whatever their scale: 25%
  of its item draws are negative (wls_struct 18%, wls_var 7.6%, mint_shrink 6.7%), clipped to 0.
  This is the method's distribution, not the clip's: exact NNLS per draw leaves every item's
  step-1 p10 at 0 (the clip 19 of 20), the raw correlation 0.78 of rows instead of 0.95.

Measured and not taken (`benchmarks/hierarchy.py`'s data, fits and scores, medium preset, two
origins a data set, every origin fitted once and reconciled by each sampler; held-out wQL):
- top-down splitting the total's draws by the base means' shares (the linear map the mean takes,
  as fable reconciles sample paths): no zero left on dominicks_oj, but every item takes the
  total's relative spread: pasta_promo items 0.3798 -> 0.5257, brands 0.1438 -> 0.1609, the demo's
  items 0.0036 -> 0.0064 (dominicks_oj backtest items 0.4050 -> 0.4534);
- a positive (log-linear in z) tail below the lowest quantile for non-negative forecasts: zeros
  on dominicks_oj top_down 0.93 -> 0, ols 0.95 -> 0.75, mint_shrink 0.21 -> 0.17, but pasta_promo's
  bottom-up total 0.0666 -> 0.0682 and brands 0.1101 -> 0.1111, top-down items 0.3798 -> 0.3807
  (items with a small positive p10 lose their draws at 0), the MinT family within 0.001 either
  way (OLS total 0.0630 -> 0.0620), the demo the same to 4 decimals; clipping the draws at 0 as
  well changes none of that. Neither is a win across methods.

The choice sees the zeros: on dominicks_oj's backtests top-down's items score 0.4050 against
the base's 0.4196 (a p10 at 0 costs a tenth of the actual), OLS's 0.4443.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import ndtri

from tidecast.hierarchy.reconcile import shrunk_covariance


def copula_factor(residuals: np.ndarray | None, n_nodes: int) -> np.ndarray:
    """A Cholesky factor of the nodes' (shrunk) error correlation; the identity without errors."""
    if residuals is None or residuals.shape[1] < 3:
        return np.eye(n_nodes)
    cov = shrunk_covariance(residuals)
    std = np.sqrt(np.diag(cov))
    corr = cov / np.outer(std, std)
    vals, vecs = np.linalg.eigh(corr)  # clip tiny negative eigenvalues, then factor
    return np.asarray(vecs * np.sqrt(np.clip(vals, 1e-10, None)))


def quantile_function(qvalues: np.ndarray, quantiles: Sequence[float], u: np.ndarray) -> np.ndarray:
    """Values at probability `u` of forecasts given by their quantiles, per row.

    `qvalues` is (rows, Q) with sorted `quantiles`; `u` is (rows, draws). Linear in normal
    scores between the given quantiles, extended with the outer segments' slopes.
    """
    q = np.asarray(quantiles, dtype=np.float64)
    values = np.sort(np.asarray(qvalues, dtype=np.float64), axis=1)  # crossing quantiles sorted
    if len(q) == 1:
        return np.repeat(values, u.shape[1], axis=1)
    return at_scores(values, q, ndtri(np.clip(u, 1e-6, 1 - 1e-6)))


def at_scores(values: np.ndarray, q: np.ndarray, z: np.ndarray) -> np.ndarray:
    """`quantile_function` at normal scores z = Φ⁻¹(u) (sorted values, at least two quantiles)."""
    zq = ndtri(q)
    k = np.clip(np.searchsorted(zq, z) - 1, 0, len(q) - 2)  # segment per draw
    rows = np.arange(values.shape[0])[:, None]
    lo, hi = values[rows, k], values[rows, k + 1]
    return np.asarray(lo + (hi - lo) * (z - zq[k]) / (zq[k + 1] - zq[k]))


def draw(
    qvalues: np.ndarray,
    quantiles: Sequence[float],
    factor: np.ndarray,
    n_samples: int,
    seed: int = 0,
) -> np.ndarray:
    """Joint samples (n_nodes, steps, n_samples) of base forecasts (n_nodes, steps, Q)."""
    n_nodes, steps, _ = qvalues.shape
    rng = np.random.default_rng(seed)
    z = np.einsum("ij,jsk->isk", factor, rng.standard_normal((n_nodes, steps, n_samples)))
    # Keep the draws' ranks (their dependence) but give every node the exact stratified normal
    # scores Φ⁻¹((rank + ½) / n): each node's own quantiles come back without sampling noise,
    # so bottom-up leaves the items' quantiles (and top-down the total's) as forecast.
    ranks = np.argsort(np.argsort(z, axis=2), axis=2)
    z = ndtri((ranks + 0.5) / n_samples)
    values = np.sort(qvalues.reshape(n_nodes * steps, -1), axis=1)
    if values.shape[1] == 1:
        return np.repeat(qvalues, n_samples, axis=2)
    flat = at_scores(values, np.asarray(quantiles, dtype=np.float64), z.reshape(n_nodes * steps, -1))
    return flat.reshape(n_nodes, steps, n_samples)


def sample_quantiles(samples: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """(n_nodes, steps, Q) quantiles of samples (n_nodes, steps, n_samples)."""
    return np.moveaxis(np.quantile(samples, list(quantiles), axis=2), 0, -1)
