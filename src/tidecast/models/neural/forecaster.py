"""Fit and predict shared by the neural forecasters, without importing torch.

The model catalog imports every forecaster class, and torch takes seconds to import, so this
module and the forecaster modules stay torch-free: the torch side (`windows`, `training`,
`nets`) is imported inside `_fit`, `_predict` and `_network`, the first time a neural model is
actually trained or used. Torch types appear here only in annotations.

Both networks see the panel the same way (`features.FeatureLayout`, `features.Panel`), are
trained the same way (`training.train`: Adam, gradient clipping, early stopping on the last
horizon of each series, a deadline checked after every batch) and are reproducible: the same
seed gives the same forecasts to the last digit on CPU.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays
from tidecast.models.base import Forecaster, Prediction
from tidecast.models.covariates import append_horizon
from tidecast.models.intervals import naive_fallback
from tidecast.models.neural.features import FeatureLayout, default_context

if TYPE_CHECKING:
    import torch
    from torch import nn

    from tidecast.models.neural.windows import Batch

NetT = TypeVar("NetT", bound="nn.Module")


class NeuralForecaster(Forecaster, Generic[NetT]):
    """Fit / predict shared by the neural models; subclasses define the network and its use.

    A subclass implements `_network()` (a fresh, untrained module of type `NetT`; import the
    network class inside it), `_loss(net, batch)` and `_forecast(net, batch, quantiles)`,
    which returns (mean, quantiles) on the scaled axis, and `_lookback()` when its windows
    need history before the context. The fitted weights are kept as numpy arrays
    (`weights_`), so a model pickles without torch state and the network is rebuilt on first
    use after loading.
    """

    PREDICT_CHUNK: ClassVar[int] = 1024

    seed: int
    n_threads: int | None
    n_jobs: int | None
    context_length: int | None
    max_epochs: int
    batches_per_epoch: int
    batch_size: int
    learning_rate: float
    patience: int
    history_span: int

    layout_: FeatureLayout
    context_: int
    window_: int
    weights_: dict[str, np.ndarray]
    epochs_: int
    best_epoch_: int
    val_history_: list[float]
    stopped_by_deadline_: bool
    _net: NetT | None = None

    # ---- hooks --------------------------------------------------------------------------------
    def _lookback(self) -> int:
        """Steps of history a window needs before its context (lags)."""
        return 0

    def _network(self) -> NetT:
        raise NotImplementedError

    def _loss(self, net: NetT, batch: Batch) -> torch.Tensor:
        raise NotImplementedError

    def _forecast(
        self, net: NetT, batch: Batch, quantiles: tuple[float, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    @property
    def _stateful(self) -> bool:
        """Fitted weights are state: a forecast is not a function of the history alone."""
        return True

    # ---- template -----------------------------------------------------------------------------
    def _threads(self) -> int:
        """`n_threads`, else one: on the shared 2-core machine an epoch on the demo took
        2.8 s (CNN-QR) and 4.2 s (DeepAR) with one thread, 48 s and 47 s with two."""
        return self.n_threads if self.n_threads is not None else 1

    def _fit(self, data: SeriesArrays, deadline: float | None) -> None:
        # Torch is imported here, on the first fit, not when the catalog is imported.
        from tidecast.models.neural.training import (
            TrainConfig,
            device,
            numpy_weights,
            seeded,
            torch_threads,
            train,
        )
        from tidecast.models.neural.windows import WindowSampler, validation_batch

        horizon = self.horizon_
        self.context_ = self.context_length or default_context(self.spec_.freq, horizon)
        self.window_ = self._lookback() + self.context_ + horizon
        self._net = None
        with torch_threads(self._threads()), seeded(self.seed):
            rng = np.random.default_rng(self.seed)
            self.layout_ = FeatureLayout.fit(data.tail(self.history_span + self.window_), self.spec_)
            panel = self.layout_.panel(data, self.history_span + self.window_)
            sampler = WindowSampler(panel, self.layout_, self.window_, self.context_, horizon, horizon)
            validation = validation_batch(
                panel, self.layout_, self.window_, self.context_, horizon, 4 * self.batch_size, self.seed
            )
            if sampler.sample(np.random.default_rng(0), 1) is None:
                # Every series is too short to hold out a horizon: train on all of it.
                sampler = WindowSampler(panel, self.layout_, self.window_, self.context_, horizon, 0)
                validation = None
            net = self._network().to(device())
            config = TrainConfig(
                self.max_epochs, self.batches_per_epoch, self.batch_size, self.learning_rate, self.patience
            )
            result = train(net, self._loss, sampler.sample, validation, config, rng, deadline)
        self.weights_ = numpy_weights(net)
        self.epochs_ = result.epochs
        self.best_epoch_ = result.best_epoch
        self.val_history_ = result.history
        self.stopped_by_deadline_ = result.stopped_by_deadline

    def _loaded_network(self) -> NetT:
        """The fitted network, rebuilt from `weights_` on first use (after fit or unpickling).

        Built into a local and published with one assignment: two threads racing here each
        build the same network and one wins, so concurrent predictions never see half a net.
        """
        net = self._net
        if net is None:
            from tidecast.models.neural.training import load_weights

            net = load_weights(self._network(), self.weights_)
            self._net = net
        return net

    def _predict(
        self,
        data: SeriesArrays,
        future: pd.DataFrame | None,
        quantiles: tuple[float, ...],
        deadline: float | None,
    ) -> Prediction:
        from tidecast.models.neural.training import device, inference
        from tidecast.models.neural.windows import make_batch

        horizon = self.horizon_
        history = self.window_ - horizon
        extended = append_horizon(data.tail(history), horizon, future, self.spec_.known_covariates)
        panel = self.layout_.panel(extended, self.window_)
        mean = np.zeros((data.n_series, horizon))
        qs = np.zeros((data.n_series, horizon, len(quantiles)))
        with inference(self._threads()):
            net = self._loaded_network()
            for start in range(0, data.n_series, self.PREDICT_CHUNK):
                series = np.arange(start, min(start + self.PREDICT_CHUNK, data.n_series))
                ends = np.full(len(series), panel.length)
                batch = make_batch(panel, self.layout_, series, ends, self.window_, self.context_, horizon)
                m, q = self._forecast(net, batch.to(device()), quantiles)
                scale = batch.scale.numpy().astype(np.float64)
                mean[series] = m * scale[:, None]
                qs[series] = q * scale[:, None, None]
        empty = ~np.array([np.isfinite(data.series(i)).any() for i in range(data.n_series)], dtype=bool)
        fallback = tuple(str(item) for item in data.item_ids[empty])
        for i in np.flatnonzero(empty):
            mean[i], qs[i] = naive_fallback(data.series(int(i)), horizon, quantiles)
        return Prediction(mean=mean, quantiles=qs, fallback=fallback)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(vars(self))
        state.pop("_net", None)
        return state
