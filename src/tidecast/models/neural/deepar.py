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

import numpy as np
import torch
from scipy.stats import t as student_t
from torch import nn

from tidecast.models.base import Tags
from tidecast.models.neural.common import Batch, NeuralForecaster, StaticEmbedding, short_periods

# Uniform draws are kept inside [U_CLIP, 1 - U_CLIP]: a Student-t with few degrees of freedom
# has tails so long that one extreme draw, fed back as a lag, derails the rest of its path.
U_CLIP = 1e-3
# Draws on the scaled axis are clipped to +-SAMPLE_CLIP (the context's mean |y| is 1).
SAMPLE_CLIP = 50.0


def default_lags(freq: str) -> tuple[int, ...]:
    """1, 2, 3 and each short seasonal period and its double."""
    lags = {1, 2, 3}
    for p in short_periods(freq):
        lags.update((p, 2 * p))
    return tuple(sorted(lags))


class DeepARNet(nn.Module):
    """LSTM (or GRU) over per-step inputs, with a Student-t head."""

    def __init__(
        self,
        n_lags: int,
        n_known: int,
        n_past: int,
        cardinalities: Sequence[int],
        n_static_real: int,
        hidden: int,
        layers: int,
        cell: str,
    ) -> None:
        super().__init__()
        self.static = StaticEmbedding(cardinalities, n_static_real)
        width = 2 * n_lags + n_known + n_past + self.static.width
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(width, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, 3)

    def forward(self, x: torch.Tensor, state: object = None) -> tuple[torch.Tensor, object]:
        out, state = self.rnn(x, state)
        return self.head(out), state

    @staticmethod
    def student(params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(location, scale, degrees of freedom) from the head's three outputs."""
        loc = params[..., 0]
        scale = nn.functional.softplus(params[..., 1]) + 1e-4
        df = 2.0 + nn.functional.softplus(params[..., 2])
        return loc, scale, df


class DeepAR(NeuralForecaster):
    """Global autoregressive LSTM with Student-t likelihood (module docstring)."""

    name = "DeepAR"
    tags = Tags(
        scope="global",
        cost=4.0,
        min_length=1,
        known_covariates=True,
        past_covariates=True,
        static_features=True,
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

    def _network(self) -> nn.Module:
        layout = self.layout_
        return DeepARNet(
            len(self._lags()),
            layout.n_known,
            layout.n_past,
            layout.static.cardinalities,
            layout.n_static_real,
            self.hidden_size,
            self.num_layers,
            self.cell,
        )

    def _inputs(
        self, net: DeepARNet, batch: Batch, y: torch.Tensor, observed: torch.Tensor, steps: torch.Tensor
    ) -> torch.Tensor:
        """Network inputs (B, len(steps), width) for the window positions `steps`."""
        lags = torch.from_numpy(self._lags()).to(y.device)
        at = steps[:, None] - lags[None, :]
        static = net.static(batch.static_codes, batch.static_real)
        return torch.cat(
            [
                y[:, at],
                observed[:, at],
                batch.known[:, steps],
                batch.past[:, steps - 1],
                static[:, None, :].expand(-1, len(steps), -1),
            ],
            dim=2,
        )

    def _loss(self, net: nn.Module, batch: Batch) -> torch.Tensor:
        assert isinstance(net, DeepARNet)
        steps = torch.arange(self._lookback(), self.window_, device=batch.y.device)
        params, _ = net(self._inputs(net, batch, batch.y, batch.observed, steps))
        loc, scale, df = net.student(params)
        distribution = torch.distributions.StudentT(df, loc, scale)
        mask = batch.observed[:, steps]
        nll = -distribution.log_prob(batch.y[:, steps]) * mask
        return nll.sum() / mask.sum().clamp(min=1.0)

    def _forecast(
        self, net: nn.Module, batch: Batch, quantiles: tuple[float, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        assert isinstance(net, DeepARNet)
        horizon, samples = self.horizon_, self.num_samples
        start = self.window_ - horizon
        where = batch.y.device
        context = torch.arange(self._lookback(), start, device=where)
        _, state = net(self._inputs(net, batch, batch.y, batch.observed, context))
        paths = Batch(*(t.repeat_interleave(samples, dim=0) for t in vars(batch).values()))
        state = (
            tuple(s.repeat_interleave(samples, dim=1) for s in state) if isinstance(state, tuple) else state
        )
        if isinstance(state, torch.Tensor):
            state = state.repeat_interleave(samples, dim=1)
        y, observed = paths.y.clone(), paths.observed.clone()
        uniforms = np.random.default_rng(self.seed).uniform(U_CLIP, 1 - U_CLIP, (samples, horizon))
        n = batch.y.shape[0]
        for h in range(horizon):
            step = torch.tensor([start + h], device=where)
            params, state = net(self._inputs(net, paths, y, observed, step), state)
            loc, scale, df = (v[:, 0].double().cpu().numpy() for v in net.student(params))
            u = np.tile(uniforms[:, h], n)
            draw = np.clip(loc + scale * student_t.ppf(u, df), -SAMPLE_CLIP, SAMPLE_CLIP)
            y[:, start + h] = torch.from_numpy(draw.astype(np.float32)).to(where)
            observed[:, start + h] = 1.0
        drawn = y[:, start:].double().cpu().numpy().reshape(n, samples, horizon)
        levels = np.quantile(drawn, np.asarray(quantiles), axis=1)  # (n_q, n, horizon)
        return drawn.mean(axis=1), np.moveaxis(levels, 0, -1)
