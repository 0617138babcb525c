"""`Reconciler`: one method's coherent mean, and every node's own quantiles moved with it.

The mean column is the reconciled base mean (`reconcile`), coherent exactly. Quantiles do not
add up, so none is reconciled as if it were a mean: each node keeps its own base quantiles,
moved to its reconciled mean (`recentred`). For a non-negative target they are scaled by
reconciled / base mean, so a p10 of 0 (an intermittent item) stays 0, a positive one stays
positive, and the band keeps its width relative to the level; where the target may be negative,
or the base mean is not positive, they are shifted by the mean's adjustment (then clipped at 0
for a non-negative target). Sorted first, so they never cross.

Why: the quantiles were read off reconciled joint samples (every node's quantile function drawn,
tied by a Gaussian copula of the backtest errors, each draw reconciled by the method, negatives
clipped at 0). The draws are as incoherent as the base forecasts, so top-down split each draw of
a wide total by that draw's own shares, and OLS moved each draw's gap into the items in equal
parts whatever their scale: an item that sells every week got negative draws, clipped to 0. On
dominicks_oj the items' p10 was 0 in 79% of node-steps under OLS (wls_struct 58%, wls_var and
mint_shrink 25%, top_down 11%; the base forecasts 0%).

Before -> after (`benchmarks/hierarchy.py`, the same fits, two held-out origins a data set;
`results/hierarchy.md` has every level): wQL of the items and of the total, the items' p10-p90
coverage, the share of the items' p10 at 0.

- dominicks_oj (store level, 638 store-brands, 4 weeks; base: items 0.4364, total 0.0968):
  top_down 0.4150 -> 0.4328, 0.0966 -> 0.0968, coverage 0.92 -> 0.90, p10 at 0 11% -> 0;
  ols 0.4434 -> 0.4352, 0.1197 -> 0.0967, 0.95 -> 0.89, 79% -> 0.3%;
  wls_struct 0.4331 -> 0.4340, 0.1433 -> 0.0978, 0.93 -> 0.90, 58% -> 0.04%;
  wls_var 0.4185 -> 0.4321, 0.1410 -> 0.0975, 0.91 -> 0.90, 25% -> 0;
  mint_shrink 0.4235 -> 0.4324, 0.1583 -> 0.0976, 0.89 -> 0.90, 25% -> 0;
  bottom_up items unchanged, total 0.2761 -> 0.1012 (its coverage 0 -> 1). The items' wQL the
  samples had below the base's came from their p50, pulled down by the skew of the clipped draws
  where two thirds to three quarters of the actuals lie below the base p50; the remaining 0.3%
  are items whose reconciled mean itself is 0 (NNLS).
- pasta_promo (brand level, 118 SKUs, 14 days; base: items 0.3673, total 0.0653, brands 0.1426):
  top_down 0.3799 -> 0.3698, 0.0652 -> 0.0653, coverage 0.64 -> 0.79;
  ols 0.3868 -> 0.3701, 0.0632 -> 0.0655, 0.86 -> 0.79;
  wls_struct 0.3764 -> 0.3668, 0.0596 -> 0.0666, 0.82 -> 0.79;
  wls_var 0.3757 -> 0.3677, 0.0639 -> 0.0676, 0.78 -> 0.79;
  mint_shrink 0.3757 -> 0.3676, 0.0634 -> 0.0676, 0.78 -> 0.79;
  bottom_up items unchanged (coverage 0.61 -> 0.79: the samples' p10 of an intermittent item
  was a hair above 0 and missed its days without sales), total 0.0664 -> 0.0711. Its
  aggregates lose (brands 0.1101-0.1445 -> 0.1325-0.1471): the brands' own bands are worse
  than their items' summed through the copula were.
- demo: top_down's and OLS's items 0.0036 -> 0.0058 and 0.0033 -> 0.0048. Their means are off
  (items' WAPE 0.0075 and 0.0065 against the base's 0.0036: category=home's ensemble mean is 16%
  above its own p50 and its items' sum on two steps, and the methods pass it down), and the
  quantiles now follow the mean they are reported with. The backtests choose wls_struct and
  bottom_up there, as before.

Measured on the same fits and not taken:
- shifting by the mean's adjustment for a non-negative target too (clipped at 0): p10 at 0 on
  dominicks_oj's items under OLS 13%, wls_struct 11%, top_down 3%, and pasta_promo's items
  top_down 0.3836, OLS 0.3850: a shift moves an intermittent item's p10 of 0 off 0;
- scaling down and shifting up: pasta_promo's items top_down 0.3826, OLS 0.3858, the same way;
- the aggregates' quantiles read off the items' moved quantiles drawn jointly (the copula of
  the items' backtest errors) and summed, as Ben Taieb et al. (2017) do: pasta_promo's total
  0.0555-0.0633 and brands 0.1061-0.1216, better than either, but dominicks_oj's total
  0.23-0.25 with a coverage of 0, as 12 backtest errors cannot tie 638 items together and their
  sum comes out far too narrow. Choosing per level on the backtests between a node's own band
  and its items' summed draws could take the better of each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tidecast.hierarchy.reconcile import NEEDS_RESIDUALS, error_weights, projection, reconcile
from tidecast.hierarchy.structure import Structure


def recentred(qvalues: np.ndarray, base_mean: np.ndarray, mean: np.ndarray, nonnegative: bool) -> np.ndarray:
    """Base quantiles (..., Q) moved from their base mean (...) to the reconciled `mean` (...).

    Non-negative: scaled by mean / base_mean where the base mean is positive, else shifted by
    mean - base_mean, and clipped at 0. Otherwise shifted. Sorted first: never crossing.
    """
    q = np.sort(np.asarray(qvalues, dtype=np.float64), axis=-1)
    base_mean = np.asarray(base_mean, dtype=np.float64)
    mean = np.asarray(mean, dtype=np.float64)
    shifted = q + (mean - base_mean)[..., None]
    if not nonnegative:
        return shifted
    positive = base_mean > 0
    ratio = np.where(positive, mean / np.where(positive, base_mean, 1.0), 1.0)[..., None]
    return np.maximum(np.where(positive[..., None], q * ratio, shifted), 0.0)


@dataclass
class Reconciler:
    """Reconcile base forecasts (n_nodes, steps, 1 + Q: mean then quantiles) by `method`.

    `residuals` (n_nodes, n_obs) are the base forecasts' backtest errors, MinT's W for
    ``wls_var`` and ``mint_shrink``.
    """

    structure: Structure
    method: str
    residuals: np.ndarray | None = None
    nonnegative: bool = False

    def __post_init__(self) -> None:
        S = self.structure.S
        self.W_: np.ndarray | None = None
        self.G_: np.ndarray | None = None
        self.parents_ = self.structure.parents() if self.method == "top_down" else None
        if self.method not in ("bottom_up", "top_down"):
            residuals = self.residuals if self.method in NEEDS_RESIDUALS else None
            self.W_ = error_weights(S, self.method, residuals)
            self.G_ = projection(S, self.W_)

    def bottom(self, base: np.ndarray) -> np.ndarray:
        """Bottom-level forecasts of base values (n_nodes, points)."""
        return reconcile(
            self.structure.S,
            base,
            self.method,
            parents=self.parents_,
            nonnegative=self.nonnegative,
            G=self.G_,
            W=self.W_,
        )

    def mean(self, base_mean: np.ndarray) -> np.ndarray:
        """Coherent means (n_nodes, steps) of the base means (n_nodes, steps)."""
        return np.asarray(self.structure.S @ self.bottom(base_mean))

    def apply(self, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(coherent means (n_nodes, steps), quantiles (n_nodes, steps, Q))."""
        mean = self.mean(base[:, :, 0])
        return mean, recentred(base[:, :, 1:], base[:, :, 0], mean, self.nonnegative)
