"""`Reconciler`: one method's coherent mean and quantiles from every node's base forecasts.

The mean column is the reconciled base mean (exactly coherent); the quantiles are read off
reconciled joint samples (`samples`), which are coherent draw by draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tidecast.hierarchy.reconcile import NEEDS_RESIDUALS, error_weights, projection, reconcile
from tidecast.hierarchy.samples import copula_factor, draw, sample_quantiles
from tidecast.hierarchy.structure import Structure


@dataclass
class Reconciler:
    """Reconcile base forecasts (n_nodes, steps, 1 + Q: mean then quantiles) by `method`.

    `residuals` (n_nodes, n_obs) are the base forecasts' backtest errors: MinT's W for
    ``wls_var`` and ``mint_shrink``, and the copula's correlation for every method.
    """

    structure: Structure
    method: str
    quantiles: Sequence[float]
    residuals: np.ndarray | None = None
    nonnegative: bool = False
    n_samples: int = 500
    seed: int = 0

    def __post_init__(self) -> None:
        S = self.structure.S
        self.W_: np.ndarray | None = None
        self.G_: np.ndarray | None = None
        self.parents_ = self.structure.parents() if self.method == "top_down" else None
        if self.method not in ("bottom_up", "top_down"):
            residuals = self.residuals if self.method in NEEDS_RESIDUALS else None
            self.W_ = error_weights(S, self.method, residuals)
            self.G_ = projection(S, self.W_)
        self.factor_ = copula_factor(self.residuals, S.shape[0])

    def bottom(self, base: np.ndarray, nonnegative: bool | None = None) -> np.ndarray:
        """Bottom-level forecasts of base values (n_nodes, points)."""
        return reconcile(
            self.structure.S,
            base,
            self.method,
            parents=self.parents_,
            nonnegative=self.nonnegative if nonnegative is None else nonnegative,
            G=self.G_,
            W=self.W_,
        )

    def mean(self, base_mean: np.ndarray) -> np.ndarray:
        """Coherent means (n_nodes, steps) of the base means (n_nodes, steps)."""
        return np.asarray(self.structure.S @ self.bottom(base_mean))

    def samples(self, base: np.ndarray) -> np.ndarray:
        """Coherent joint samples (n_nodes, steps, n_samples) of the base quantile forecasts."""
        n, steps, _ = base.shape
        drawn = draw(base[:, :, 1:], self.quantiles, self.factor_, self.n_samples, self.seed)
        # Samples are reconciled without NNLS (too costly per draw): negatives clipped instead.
        bottom = self.bottom(drawn.reshape(n, -1), nonnegative=False)
        if self.nonnegative:
            bottom = np.maximum(bottom, 0.0)
        return np.asarray(self.structure.S @ bottom).reshape(n, steps, self.n_samples)

    def apply(self, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(coherent means (n_nodes, steps), quantiles (n_nodes, steps, Q))."""
        return self.mean(base[:, :, 0]), sample_quantiles(self.samples(base), self.quantiles)
