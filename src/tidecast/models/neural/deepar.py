"""DeepAR (Salinas et al., 2020): an autoregressive recurrent network with a Student-t output.

At every step an LSTM reads the scaled target at a few lags (1, 2, 3 and the short seasonal
periods and their doubles: 7 and 14 for daily data), whether each lag was observed, the
step's time features and known covariates, the previous step's past covariates, embedded
static categories and the log of the window's scale; it emits the location, scale and
degrees of freedom of a Student-t for the scaled target. Student-t rather than negative
binomial because targets may be non-integer or negative, and its heavy tail absorbs spikes
that a Gaussian would chase.

Training maximises the likelihood with teacher forcing (true lags) over the context and the
horizon of each window. Forecasting runs the context through the network once, then draws
`num_samples` paths ancestrally, feeding each draw back as the next step's lag; the mean is
the sample mean and quantiles are sample quantiles. Draws use common random numbers: the
same uniform numbers (from `seed`) for every series, turned into Student-t values by the
inverse CDF, so a series' forecast does not depend on which other series share its batch.

Measured on the demo hold-out (125 daily series, last 14 days, promotion and is_holiday as
known covariates, category and region static, US holidays; shared 2-core CPU, seed 0,
defaults): wQL 0.0120, WAPE 0.0188, p10-p90 coverage 0.815; fit 21.7 s (10 epochs of 50
batches, best epoch 8) and predict 1.3 s on one torch thread. For comparison AutoETS scores
0.0217 and DynamicRegression with US holidays 0.0079 there. With a 28-step context instead
of 56 it fitted in 11 s but scored 0.0166. One epoch took 4.2 s on one thread and 46.6 s on
two (threads fight over the shared cores), hence one thread by default.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from tidecast.models.base import Tags
from tidecast.models.neural.features import short_periods
from tidecast.models.neural.forecaster import NeuralForecaster

if TYPE_CHECKING:
    import torch

    from tidecast.models.neural.nets import DeepARNet
    from tidecast.models.neural.windows import Batch


def default_lags(freq: str) -> tuple[int, ...]:
    """1, 2, 3 and each short seasonal period and its double."""
    lags = {1, 2, 3}
    for p in short_periods(freq):
        lags.update((p, 2 * p))
    return tuple(sorted(lags))


class DeepAR(NeuralForecaster["DeepARNet"]):
    """Global autoregressive LSTM with Student-t likelihood (module docstring)."""

    name = "DeepAR"
    tags = Tags(
        scope="global",
        cost=4.0,
        min_length=1,
        known_covariates=True,
        past_covariates=True,
        static_features=True,
        handles_missing_target=True,
    )
    PREDICT_CHUNK = 256

    def __init__(
        self,
        context_length: int | None = None,
        lags: Sequence[int] | None = None,
        hidden_size: int = 40,
        num_layers: int = 2,
        cell: str = "lstm",
        num_samples: int = 100,
        max_epochs: int = 10,
        batches_per_epoch: int = 50,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        patience: int = 4,
        history_span: int = 730,
        seed: int = 0,
        n_threads: int | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.context_length = context_length
        self.lags = lags
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.cell = cell
        self.num_samples = num_samples
        self.max_epochs = max_epochs
        self.batches_per_epoch = batches_per_epoch
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.patience = patience
        self.history_span = history_span
        self.seed = seed
        self.n_threads = n_threads
        self.n_jobs = n_jobs

    def _lags(self) -> np.ndarray:
        lags = self.lags if self.lags is not None else default_lags(self.spec_.freq)
        return np.asarray(sorted({int(x) for x in lags if int(x) >= 1}), dtype=np.int64)

    def _lookback(self) -> int:
        return int(self._lags().max())

    def _network(self) -> DeepARNet:
        from tidecast.models.neural.nets import DeepARNet

        layout = self.layout_
        return DeepARNet(
            self._lags().tolist(),
            layout.n_known,
            layout.n_past,
            layout.static.cardinalities,
            layout.n_static_real,
            self.hidden_size,
            self.num_layers,
            self.cell,
        )

    def _loss(self, net: DeepARNet, batch: Batch) -> torch.Tensor:
        return net.loss(batch)

    def _forecast(
        self, net: DeepARNet, batch: Batch, quantiles: tuple[float, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        return net.forecast(batch, self.horizon_, quantiles, self.num_samples, self.seed)
