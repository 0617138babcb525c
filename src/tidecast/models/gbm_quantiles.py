"""The quantile side of the global LightGBM (`gbm.LightGBM`): which levels get boosters of their
own, how many rounds they run, and how a backtest fit mirrors the refit that will ship.

The levels the run asks for at fit get one booster each with LightGBM's quantile loss (direct
strategy only; `gbm_training.quantile_boosters`, their rounds `gbm_training.quantile_rounds`).
A fit that validates (holds out each series' last horizon) always trains them. A fit that
cannot (too little history for a holdout) trains them only when the AutoML said, through
`expect`, that the refit on the whole panel will validate: the backtest then scores a model
banded as the shipped one is (`QuantileStage._refit_validates`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays
from tidecast.models.gbm_features import FeatureLayout
from tidecast.models.gbm_rows import spares_holdout
from tidecast.models.gbm_training import min_context, quantile_boosters

if TYPE_CHECKING:
    import lightgbm as lgb

    from tidecast.models.base import Forecaster


class QuantileStage:
    """Mixed into `gbm.LightGBM` (before `Forecaster`): its quantile boosters, their rounds and
    the validation holdout they depend on. Reads the model's configuration and fitted layout."""

    # Configuration and fitted state of the model this is mixed into.
    quantile_levels: Sequence[float] | None
    quantile_rounds: int | None
    strategy: str
    monotone_covariates: Mapping[str, int] | None
    validation_horizons: float
    horizon_: int
    layout_: FeatureLayout
    features_: list[str]
    _train: Callable[..., lgb.Booster]

    # One booster per level of `quantile_levels` (objective "quantile"), by level.
    quantile_boosters_: dict[float, lgb.Booster]
    # The columns those boosters read: every feature. Models saved while they read only the point
    # model's high-gain ones keep that list, and `gbm_predict` reads it.
    quantile_features_: list[str]
    quantile_rounds_: int = 0  # rounds the quantile boosters ran; 0 without them (or saved before)

    def follow(self, fitted: Forecaster) -> str | None:
        """Take the quantile boosters' rounds from `fitted` (the backtest's fit) unless set.

        Their rounds follow the point model's early stopping over one validation horizon,
        a noisy judge: on Favorita's official split the backtest fit stopped at 200 rounds
        and the refit, 48 days later, at 34 (so 100, the floor). The backtest scored the
        200-round boosters on three windows; the refit shipped others. Following them,
        LightGBM alone scored wQL 0.0283 there against 0.0291, and the same at the three
        earlier origins, on dominicks_oj and on pasta_promo (their rounds agreed).
        """
        rounds = getattr(fitted, "quantile_rounds_", 0)
        if not rounds or self.quantile_rounds is not None:
            return None
        self.quantile_rounds = int(rounds)
        return f"quantile boosters at the backtest fit's {self.quantile_rounds} rounds"

    def expect(self, panel: SeriesArrays, horizon: int, *, reads_mean: bool = True) -> None:
        """Keep the longest series of the panel the refit will see (`_refit_validates`), and
        whether the backtest's mean column is read (`_point_unread`)."""
        self.refit_length_ = int(np.diff(panel.indptr).max(initial=0))
        self.backtest_reads_mean_ = reads_mean

    def _point_unread(self) -> bool:
        """Whether this backtest fit's point model would give nothing anyone reads.

        A fit that cannot validate but is banded for its refit (`_refit_validates`) has no
        early stopping for the point model to set the boosters' rounds by, and its boosters
        give every level asked, so the point model gives only the mean column, which only
        the RMSE objective reads (the run's median metrics read the 0.5 quantile). Then the
        0.5 booster serves as the point model and none is trained: on the weekly panel
        (`benchmarks/weekly_panel.py`, 1,000 series, one thread) 100 rounds on 60,000 rows,
        about 0.8 of a 13.6 s run, for the same forecast to the last bit. An ensemble member
        that keeps its backtest fit (weight under `search.MIN_REFIT_WEIGHT`) then gives its
        median as its mean.
        """
        reads = getattr(self, "backtest_reads_mean_", True)
        return not reads and 0.5 in self._levels

    @property
    def _holdout(self) -> int:
        """Steps at the end of each series whose targets validate (and calibrate) the model."""
        return max(1, round(self.validation_horizons * self.horizon_))

    @property
    def _levels(self) -> tuple[float, ...]:
        """The levels that get boosters of their own: the run's, with the direct strategy."""
        return tuple(self.quantile_levels or ()) if self._quantile_objective else ()

    @property
    def _quantile_objective(self) -> bool:
        """Whether fit trains quantile boosters (the run's levels given, direct strategy, no
        `monotone_covariates`: LightGBM refuses its constraints with the quantile loss)."""
        return bool(self.quantile_levels) and self.strategy == "direct" and not self.monotone_covariates

    def _fit_quantiles(self, x: pd.DataFrame, y: np.ndarray, rounds: int, stop: float | None) -> None:
        """One booster per asked level with LightGBM's quantile loss, `rounds` each, on the
        point model's rows (`gbm_training.quantile_boosters`); none without asked levels."""
        levels = self._levels
        self.quantile_features_ = list(self.features_)
        self.quantile_rounds_ = rounds if levels else 0
        categorical = list(self.layout_.categories)
        self.quantile_boosters_ = (
            quantile_boosters(self._train, x, y, levels, rounds, stop, categorical) if levels else {}
        )

    def _refit_validates(self) -> bool:
        """Whether the refit, on the panel `expect` was told of, can hold out a validation
        horizon; False when not told (a refit itself, or a model fitted alone).

        A backtest fit on a short cut (a weekly panel's first 59-65 weeks, horizon 39) cannot
        validate, and without validation a fit trains no quantile boosters: its quantiles are
        its point forecast. The refit on 104 weeks does validate and ships three boosters. The
        backtest then scored a LightGBM with no band at all, the ensemble gave its weight to
        members for their width, and the calibration widened the bands for it: with the
        shipped, banded LightGBM the forecast's p10-p90 held 0.94 of the test (3,300 weekly
        series: wQL 0.0681 against 0.0559 for the same LightGBM alone and the plain
        LightGBM's 0.0599). Where the refit cannot validate either (84 or 91 weeks, horizon 39
        or 52), the backtest fit stays as it was: it is the refit's.
        """
        length = getattr(self, "refit_length_", None)
        if length is None or not self._quantile_objective:
            return False
        lengths = np.array([length])
        return bool(spares_holdout(lengths, self.horizon_, min_context(self.layout_), self._holdout)[0])
