"""The PyTorch networks behind DeepAR and CNN-QR, each with its training loss and forecast.

The designs are described in `deepar.py` and `cnnqr.py`, next to the forecasters and their
hyper-parameters. This module imports torch, so the forecasters import it only when they
build a network (in fit, or in the first predict after unpickling).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from scipy.stats import t as student_t
from torch import nn

from tidecast.models.neural.quantiles import interpolate_quantiles
from tidecast.models.neural.windows import Batch

# Uniform draws are kept inside [U_CLIP, 1 - U_CLIP]: a Student-t with few degrees of freedom
# has tails so long that one extreme draw, fed back as a lag, derails the rest of its path.
U_CLIP = 1e-3
# Draws on the scaled axis are clipped to +-SAMPLE_CLIP (the context's mean |y| is 1).
SAMPLE_CLIP = 50.0


class StaticEmbedding(nn.Module):
    """Embeddings of the static category codes, concatenated with the static numbers."""

    def __init__(self, cardinalities: Sequence[int], n_real: int) -> None:
        super().__init__()
        tables = [nn.Embedding(c, min(8, (c + 1) // 2 + 1)) for c in cardinalities]
        self.tables = nn.ModuleList(tables)
        self.width = sum(t.embedding_dim for t in tables) + n_real

    def forward(self, codes: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        parts = [table(codes[:, j]) for j, table in enumerate(self.tables)]
        return torch.cat([*parts, real], dim=1)


# ---- DeepAR -------------------------------------------------------------------------------------
class DeepARNet(nn.Module):
    """LSTM (or GRU) over per-step inputs, with a Student-t head.

    The lags are plain attributes, not buffers, so the state dict holds weights only.
    """

    def __init__(
        self,
        lags: Sequence[int],
        n_known: int,
        n_past: int,
        cardinalities: Sequence[int],
        n_static_real: int,
        hidden: int,
        layers: int,
        cell: str,
    ) -> None:
        super().__init__()
        self.lags = tuple(int(lag) for lag in lags)
        self.static = StaticEmbedding(cardinalities, n_static_real)
        width = 2 * len(self.lags) + n_known + n_past + self.static.width
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(width, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, 3)

    @property
    def lookback(self) -> int:
        """Steps of history a window needs before its context: the longest lag."""
        return max(self.lags)

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

    def inputs(
        self, batch: Batch, y: torch.Tensor, observed: torch.Tensor, steps: torch.Tensor
    ) -> torch.Tensor:
        """Network inputs (B, len(steps), width) for the window positions `steps`."""
        lags = torch.tensor(self.lags, dtype=torch.int64, device=y.device)
        at = steps[:, None] - lags[None, :]
        static = self.static(batch.static_codes, batch.static_real)
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

    def loss(self, batch: Batch) -> torch.Tensor:
        """Student-t negative log-likelihood of the observed steps, teacher-forced."""
        steps = torch.arange(self.lookback, batch.y.shape[1], device=batch.y.device)
        params, _ = self(self.inputs(batch, batch.y, batch.observed, steps))
        loc, scale, df = self.student(params)
        distribution = torch.distributions.StudentT(df, loc, scale)
        mask = batch.observed[:, steps]
        nll = -distribution.log_prob(batch.y[:, steps]) * mask
        return nll.sum() / mask.sum().clamp(min=1.0)

    def forecast(
        self, batch: Batch, horizon: int, quantiles: tuple[float, ...], samples: int, seed: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sample mean and quantiles (scaled axis) of `samples` ancestral paths per series.

        The same uniform numbers (from `seed`) drive every series' paths (common random
        numbers), so a series' forecast does not depend on the others in its batch.
        """
        start = batch.y.shape[1] - horizon
        where = batch.y.device
        context = torch.arange(self.lookback, start, device=where)
        _, state = self(self.inputs(batch, batch.y, batch.observed, context))
        paths = Batch(*(t.repeat_interleave(samples, dim=0) for t in vars(batch).values()))
        state = (
            tuple(s.repeat_interleave(samples, dim=1) for s in state) if isinstance(state, tuple) else state
        )
        if isinstance(state, torch.Tensor):
            state = state.repeat_interleave(samples, dim=1)
        y, observed = paths.y.clone(), paths.observed.clone()
        uniforms = np.random.default_rng(seed).uniform(U_CLIP, 1 - U_CLIP, (samples, horizon))
        n = batch.y.shape[0]
        for h in range(horizon):
            step = torch.tensor([start + h], device=where)
            params, state = self(self.inputs(paths, y, observed, step), state)
            loc, scale, df = (v[:, 0].double().cpu().numpy() for v in self.student(params))
            u = np.tile(uniforms[:, h], n)
            draw = np.clip(loc + scale * student_t.ppf(u, df), -SAMPLE_CLIP, SAMPLE_CLIP)
            y[:, start + h] = torch.from_numpy(draw.astype(np.float32)).to(where)
            observed[:, start + h] = 1.0
        drawn = y[:, start:].double().cpu().numpy().reshape(n, samples, horizon)
        levels = np.quantile(drawn, np.asarray(quantiles), axis=1)  # (n_q, n, horizon)
        return drawn.mean(axis=1), np.moveaxis(levels, 0, -1)


# ---- CNN-QR -------------------------------------------------------------------------------------
def dilations(context: int) -> tuple[int, ...]:
    """1, 2, 4, ... until a kernel-2 stack sees the whole context (receptive field 2^k)."""
    out = [1]
    while 2 * out[-1] < context:
        out.append(2 * out[-1])
    return tuple(out)


class CausalConv(nn.Module):
    """Conv1d with kernel 2 padded on the left only, so step t sees steps <= t."""

    def __init__(self, channels_in: int, channels_out: int, dilation: int) -> None:
        super().__init__()
        self.pad = dilation
        self.conv = nn.Conv1d(channels_in, channels_out, kernel_size=2, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(nn.functional.pad(x, (self.pad, 0)))


def pinball(
    prediction: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, levels: torch.Tensor
) -> torch.Tensor:
    """Mean pinball loss over observed steps; prediction (B, H, Q), y and mask (B, H)."""
    error = y[..., None] - prediction
    loss = torch.maximum(levels * error, (levels - 1.0) * error) * mask[..., None]
    return loss.sum() / (mask.sum().clamp(min=1.0) * len(levels))


class CNNQRNet(nn.Module):
    """Dilated causal CNN encoder, global + local MLP decoder of monotone quantiles.

    `grid` is the sorted quantile levels the network emits; it must hold 0.5 (the median,
    which the monotone head builds outwards from and which serves as the mean).
    """

    def __init__(
        self,
        n_known: int,
        n_past: int,
        cardinalities: Sequence[int],
        n_static_real: int,
        horizon: int,
        context: int,
        channels: int,
        decoder_hidden: int,
        local_width: int,
        grid: Sequence[float],
    ) -> None:
        super().__init__()
        self.horizon, self.context, self.local_width = horizon, context, local_width
        self.grid = tuple(float(q) for q in grid)
        self.median_index = self.grid.index(0.5)
        self.static = StaticEmbedding(cardinalities, n_static_real)
        width = 2 + n_known + n_past + self.static.width
        self.convs = nn.ModuleList(
            CausalConv(width if i == 0 else channels, channels, d) for i, d in enumerate(dilations(context))
        )
        self.global_mlp = nn.Sequential(
            nn.Linear(channels + horizon * n_known + self.static.width, decoder_hidden),
            nn.ReLU(),
            nn.Linear(decoder_hidden, (horizon + 1) * local_width),
        )
        self.local_mlp = nn.Sequential(
            nn.Linear(2 * local_width + n_known, decoder_hidden),
            nn.ReLU(),
            nn.Linear(decoder_hidden, len(self.grid)),
        )

    def forward(self, batch: Batch) -> torch.Tensor:
        """Quantiles on the scaled axis, (B, horizon, len(grid)), sorted along the last axis."""
        context = self.context
        static = self.static(batch.static_codes, batch.static_real)
        head = slice(batch.y.shape[1] - self.horizon - context, batch.y.shape[1] - self.horizon)
        series = torch.cat(
            [
                batch.y[:, head, None],
                batch.observed[:, head, None],
                batch.known[:, head],
                batch.past[:, head],
                static[:, None, :].expand(-1, context, -1),
            ],
            dim=2,
        ).transpose(1, 2)
        h = series
        for i, conv in enumerate(self.convs):
            out = torch.relu(conv(h))
            h = out if i == 0 else h + out
        encoding = h[:, :, -1]
        future = batch.known[:, -self.horizon :]
        contexts = self.global_mlp(torch.cat([encoding, future.flatten(1), static], dim=1))
        contexts = contexts.view(-1, self.horizon + 1, self.local_width)
        shared = contexts[:, -1:, :].expand(-1, self.horizon, -1)
        raw = self.local_mlp(torch.cat([contexts[:, :-1], shared, future], dim=2))
        return self.monotone(raw)

    def monotone(self, raw: torch.Tensor) -> torch.Tensor:
        """The median column plus cumulative positive steps above it and below it."""
        m = self.median_index
        median = raw[..., m : m + 1]
        up = median + torch.cumsum(nn.functional.softplus(raw[..., m + 1 :]), dim=-1)
        down = median - torch.cumsum(nn.functional.softplus(raw[..., :m].flip(-1)), dim=-1)
        return torch.cat([down.flip(-1), median, up], dim=-1)

    def loss(self, batch: Batch) -> torch.Tensor:
        """Pinball loss of the grid over the horizon's observed steps."""
        levels = torch.tensor(self.grid, dtype=torch.float32, device=batch.y.device)
        h = self.horizon
        return pinball(self(batch), batch.y[:, -h:], batch.observed[:, -h:], levels)

    def forecast(self, batch: Batch, quantiles: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
        """The median as the mean, and `quantiles` interpolated from the grid (scaled axis)."""
        values = self(batch).double().cpu().numpy()
        return values[..., self.median_index], interpolate_quantiles(self.grid, values, quantiles)
