"""What the neural forecasters share: features, training windows, the training loop, threads.

Both networks see the panel the same way:

- **Features per step** (`FeatureLayout`): the calendar, holiday and Fourier columns of
  `tidecast.data.features.time_features`, the known covariates (numbers standardised,
  text one-hot over the categories seen in fit) and, for indicator covariates such as a
  promotion flag, the steps to the next and since the previous event (`event_distances`,
  over history and horizon together, so a day before a planned promotion knows it). Past
  covariates are a separate block the models use only where they are observed (the context).
  Static columns become category codes for embeddings (code 0 is "not seen in fit", so an
  unseen category never crashes) or standardised numbers.
- **Windows** (`Panel`, `Batch`): the recent history of every series right-aligned in one
  padded array, so a training window is one fancy-indexing gather, and windows reaching
  before a series' start are padding with an observed-flag of 0 (short series need no
  fallback). Every window is divided by the mean absolute value of its context (DeepAR's
  scaling), and the log of that scale is an input: one network serves series of every size.
- **Training** (`train`): Adam, gradient-norm clipping, an epoch of `batches_per_epoch`
  random windows whose origins lie in the recent history before the last horizon, early
  stopping on the last horizon of each series (never trained on), restoring the best
  weights, and a `deadline` checked after every batch.
- **Reproducibility**: weights are initialised under `torch.manual_seed(seed)` inside a
  forked RNG state (the caller's torch RNG is left alone) and windows are drawn by a numpy
  Generator, so the same seed gives the same forecasts to the last digit on CPU.
- **Threads**: small nets on short sequences spend their time in per-op overhead, not
  arithmetic; `torch_threads` sets the count for a fit or predict and restores the caller's.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from scipy.stats import norm
from torch import nn

from tidecast.data.arrays import SeriesArrays, ranges
from tidecast.data.features import EVENT_CAP, event_distances, spec_calendar, time_features
from tidecast.data.frequency import future_timestamps, seasonal_periods
from tidecast.data.schema import DatasetSpec
from tidecast.models.base import Forecaster, Prediction
from tidecast.models.intervals import naive_fallback

# At most this many categories of a text covariate or static column get their own column or
# embedding row; rarer ones share the "unseen" code.
MAX_CATEGORIES = 50
# Seasonal periods longer than this enter only through Fourier terms, never as lags or as
# context length: a yearly lag of daily data would need two years of history per window.
MAX_LAG_PERIOD = 200
# A window's scale is at least this, so an all-zero context divides by one, not by zero.
MIN_SCALE = 1e-8


def device() -> torch.device:
    """CUDA when this torch build sees a GPU, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with `n` intra-op torch threads, then restore the caller's setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def short_periods(freq: str) -> tuple[int, ...]:
    """The frequency's seasonal periods short enough to serve as lags and set context length."""
    return tuple(int(p) for p in seasonal_periods(freq) if 1 < p <= MAX_LAG_PERIOD)


def default_context(freq: str, horizon: int) -> int:
    """Four horizons, or two of the longest short season, between 16 and MAX_LAG_PERIOD steps."""
    periods = short_periods(freq)
    return int(np.clip(max(4 * horizon, 2 * max(periods, default=1)), 16, MAX_LAG_PERIOD))


# ---- features -----------------------------------------------------------------------------------
def _is_numeric(values: np.ndarray) -> bool:
    return values.dtype.kind in "biuf"


def _vocabulary(values: np.ndarray) -> tuple[str, ...]:
    """The most frequent categories (as text), most frequent first, ties by name."""
    text = pd.Series(values).dropna().astype(str)
    counts = text.value_counts()
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(str(k) for k, _ in order[:MAX_CATEGORIES])


def _codes(values: np.ndarray, vocabulary: Sequence[str]) -> np.ndarray:
    """1-based codes into `vocabulary`; 0 for missing or unseen categories."""
    lookup = {v: i + 1 for i, v in enumerate(vocabulary)}
    text = pd.Series(values).astype(object)
    return np.array([0 if pd.isna(v) else lookup.get(str(v), 0) for v in text], dtype=np.int64)


@dataclass(frozen=True)
class ColumnCoder:
    """How one time-varying covariate becomes columns: a number, or one-hot categories."""

    name: str
    vocabulary: tuple[str, ...] | None  # None: numeric
    indicator: bool  # numeric 0/1 column: add distances to the next / previous event

    @classmethod
    def fit(cls, name: str, values: np.ndarray, known: bool) -> ColumnCoder:
        values = np.asarray(values)
        if _is_numeric(values):
            finite = values[np.isfinite(values.astype(np.float64))]
            binary = len(finite) > 0 and bool(np.isin(finite, (0.0, 1.0)).all())
            return cls(name, None, known and binary)
        return cls(name, _vocabulary(values), False)

    @property
    def width(self) -> int:
        if self.vocabulary is not None:
            return len(self.vocabulary)
        return 3 if self.indicator else 1

    def encode(self, values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
        """Columns (rows, width), float32; NaN where a number is missing."""
        if self.vocabulary is not None:
            codes = _codes(values, self.vocabulary)
            onehot = np.zeros((len(codes), len(self.vocabulary) + 1), dtype=np.float32)
            onehot[np.arange(len(codes)), codes] = 1.0
            return onehot[:, 1:]
        number = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float32)
        if not self.indicator:
            return number[:, None]
        to_next, since = event_distances(number, indptr)
        return np.column_stack([number, to_next / EVENT_CAP, since / EVENT_CAP]).astype(np.float32)


@dataclass(frozen=True)
class Standardizer:
    """Column centres and spreads learnt in fit; NaN becomes 0 (the centre) after scaling."""

    center: np.ndarray
    spread: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray, min_spread: float = 1e-6) -> Standardizer:
        """Column means and standard deviations; a spread below `min_spread` becomes 1."""
        if x.shape[0] == 0:
            return cls(np.zeros(x.shape[1], np.float32), np.ones(x.shape[1], np.float32))
        with np.errstate(all="ignore"):
            center = np.nan_to_num(np.nanmean(x, axis=0), nan=0.0)
            spread = np.nan_to_num(np.nanstd(x, axis=0), nan=1.0)
        return cls(center.astype(np.float32), np.where(spread > min_spread, spread, 1.0).astype(np.float32))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.nan_to_num((x - self.center) / self.spread, nan=0.0).astype(np.float32)


@dataclass(frozen=True)
class StaticCoder:
    """Static columns: text as 1-based codes for embeddings, numbers standardised."""

    categorical: tuple[tuple[str, tuple[str, ...]], ...]
    numeric: tuple[str, ...]
    standardizer: Standardizer

    @classmethod
    def fit(cls, static: pd.DataFrame | None, columns: Sequence[str]) -> StaticCoder:
        categorical: list[tuple[str, tuple[str, ...]]] = []
        numeric: list[str] = []
        for name in columns:
            if static is None or name not in static:
                continue
            values = static[name].to_numpy()
            if _is_numeric(values) and values.dtype.kind != "b":
                numeric.append(name)
            else:
                categorical.append((name, _vocabulary(values)))
        raw = cls._numbers(static, numeric)
        return cls(tuple(categorical), tuple(numeric), Standardizer.fit(raw))

    @staticmethod
    def _numbers(static: pd.DataFrame | None, numeric: Sequence[str]) -> np.ndarray:
        if static is None or not numeric:
            return np.zeros((0 if static is None else len(static), len(numeric)), np.float32)
        return np.column_stack(
            [pd.to_numeric(static[c], errors="coerce").to_numpy(np.float32) for c in numeric]
        )

    @property
    def cardinalities(self) -> tuple[int, ...]:
        """Embedding table sizes, counting the "unseen" code 0."""
        return tuple(len(v) + 1 for _, v in self.categorical)

    def encode(self, static: pd.DataFrame | None, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(codes (n, n_categorical) int64, numbers (n, n_numeric) float32)."""
        codes = np.zeros((n, len(self.categorical)), dtype=np.int64)
        numbers = np.full((n, len(self.numeric)), np.nan, dtype=np.float32)
        if static is not None:
            for j, (name, vocabulary) in enumerate(self.categorical):
                if name in static:
                    codes[:, j] = _codes(static[name].to_numpy(), vocabulary)
            present = [c for c in self.numeric if c in static]
            if present:
                raw = self._numbers(static, present)
                for k, name in enumerate(present):
                    numbers[:, self.numeric.index(name)] = raw[:, k]
        return codes, self.standardizer(numbers)


@dataclass(frozen=True)
class FeatureLayout:
    """Every decision about inputs made in fit, so predict builds the very same columns."""

    spec: DatasetSpec
    periods: tuple[float, ...]
    fourier_order: int
    time_columns: tuple[str, ...]
    known: tuple[ColumnCoder, ...]
    past: tuple[ColumnCoder, ...]
    known_scaler: Standardizer
    past_scaler: Standardizer
    static: StaticCoder
    log_scale: Standardizer

    @property
    def n_known(self) -> int:
        return len(self.time_columns) + sum(c.width for c in self.known)

    @property
    def n_past(self) -> int:
        return sum(c.width for c in self.past)

    @property
    def n_static_real(self) -> int:
        """Standardised numeric static columns, plus the window's log scale."""
        return len(self.static.numeric) + 1

    @classmethod
    def fit(cls, data: SeriesArrays, spec: DatasetSpec, fourier_order: int = 3) -> FeatureLayout:
        periods = tuple(float(p) for p in seasonal_periods(spec.freq) if p > 1)
        frame = _time_frame(data.timestamps, spec, periods, fourier_order)
        known = tuple(
            ColumnCoder.fit(c, data.covariates[c], True)
            for c in spec.known_covariates
            if c in data.covariates
        )
        past = tuple(
            ColumnCoder.fit(c, data.covariates[c], False)
            for c in spec.past_covariates
            if c in data.covariates
        )
        draft = cls(
            spec,
            periods,
            fourier_order,
            tuple(frame.columns),
            known,
            past,
            Standardizer(np.zeros(0), np.ones(0)),
            Standardizer(np.zeros(0), np.ones(0)),
            StaticCoder.fit(data.static, spec.static_columns),
            Standardizer(np.zeros(1), np.ones(1)),
        )
        known_raw, past_raw = draft.raw_features(data, frame)
        with np.errstate(all="ignore"):
            level = np.array(
                [np.nanmean(np.abs(data.series(i))) for i in range(data.n_series)], dtype=np.float32
            )
        log_level = np.log(np.maximum(np.nan_to_num(level, nan=1.0), MIN_SCALE))[:, None]
        return cls(
            spec,
            periods,
            fourier_order,
            draft.time_columns,
            known,
            past,
            Standardizer.fit(known_raw),
            Standardizer.fit(past_raw),
            draft.static,
            # Levels of a few similar series differ little; dividing by their tiny spread made a
            # trending series' later windows extreme inputs (forecasts twice the level).
            Standardizer.fit(log_level, min_spread=1.0),
        )

    def raw_features(
        self, data: SeriesArrays, frame: pd.DataFrame | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Unscaled (known, past) columns for every row of `data`."""
        if frame is None:
            frame = _time_frame(data.timestamps, self.spec, self.periods, self.fourier_order)
        known = [frame.reindex(columns=list(self.time_columns), fill_value=0.0).to_numpy(np.float32)]
        known += [c.encode(data.covariates[c.name], data.indptr) for c in self.known]
        past = [c.encode(data.covariates[c.name], data.indptr) for c in self.past]
        rows = len(data.values)
        return (
            np.concatenate(known, axis=1) if known else np.zeros((rows, 0), np.float32),
            np.concatenate(past, axis=1) if past else np.zeros((rows, 0), np.float32),
        )

    def panel(self, data: SeriesArrays, length: int) -> Panel:
        """The last `length` rows of every series, right-aligned and padded, with features."""
        data = data.tail(length)
        known_raw, past_raw = self.raw_features(data)
        n = data.n_series
        lengths = data.lengths
        rows = np.repeat(np.arange(n), lengths)
        cols = ranges(length - lengths, lengths)
        target = np.full((n, length), np.nan, dtype=np.float32)
        target[rows, cols] = data.values
        known = np.zeros((n, length, self.n_known), dtype=np.float32)
        known[rows, cols] = self.known_scaler(known_raw)
        past = np.zeros((n, length, self.n_past), dtype=np.float32)
        past[rows, cols] = self.past_scaler(past_raw)
        static = data.static.reindex(data.item_ids) if data.static is not None else None
        codes, numbers = self.static.encode(static, n)
        return Panel(target, known, past, codes, numbers, lengths.astype(np.int64))


def _time_frame(
    timestamps: np.ndarray, spec: DatasetSpec, periods: tuple[float, ...], order: int
) -> pd.DataFrame:
    calendar = spec_calendar(spec, timestamps.min(), timestamps.max()) if len(timestamps) else None
    return time_features(timestamps, spec, periods, order, calendar)


def with_horizon(data: SeriesArrays, future: pd.DataFrame | None, horizon: int) -> SeriesArrays:
    """`data` with `horizon` rows appended to every series: NaN targets, the horizon's
    timestamps, known covariates from `future` (item-major, `data`'s order), past ones missing."""
    n, lengths = data.n_series, data.lengths
    indptr = np.concatenate([[0], np.cumsum(lengths + horizon)]).astype(np.int64)
    old = ranges(indptr[:-1], lengths)
    new = ranges(indptr[:-1] + lengths, np.full(n, horizon))
    total = int(indptr[-1])
    values = np.full(total, np.nan)
    values[old] = data.values
    stamps = np.empty(total, dtype="datetime64[ns]")
    stamps[old] = data.timestamps
    stamps[new] = future_timestamps(data.last_timestamps(), data.freq, horizon).reshape(-1)
    covariates: dict[str, np.ndarray] = {}
    for name, past in data.covariates.items():
        ahead = (
            future[name].to_numpy().reshape(-1)
            if future is not None and name in future
            else np.full(n * horizon, np.nan)
        )
        kind = np.float64 if _is_numeric(past) and _is_numeric(ahead) else object
        column = np.full(total, np.nan, dtype=kind)
        column[old] = past
        column[new] = ahead
        covariates[name] = column
    return SeriesArrays(data.item_ids, values, indptr, stamps, data.freq, covariates, data.static)


# ---- windows ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Panel:
    """Right-aligned padded arrays: series i's last observation sits at column length - 1."""

    target: np.ndarray  # (n, T) float32, NaN where missing or padding
    known: np.ndarray  # (n, T, n_known) scaled, 0 on padding
    past: np.ndarray  # (n, T, n_past)
    static_codes: np.ndarray  # (n, n_categorical) int64
    static_real: np.ndarray  # (n, n_numeric) float32
    lengths: np.ndarray  # (n,) real rows, at most T

    @property
    def n_series(self) -> int:
        return self.target.shape[0]

    @property
    def length(self) -> int:
        return self.target.shape[1]


@dataclass(frozen=True)
class Batch:
    """Windows as tensors, target scaled by its context's mean absolute value."""

    y: torch.Tensor  # (B, W) scaled, 0 where missing
    observed: torch.Tensor  # (B, W) 1.0 where the target is observed
    known: torch.Tensor  # (B, W, n_known)
    past: torch.Tensor  # (B, W, n_past), zero over the last `horizon` steps
    static_codes: torch.Tensor  # (B, n_categorical)
    static_real: torch.Tensor  # (B, n_static_real), the normalised log scale last
    scale: torch.Tensor  # (B,)

    def to(self, where: torch.device) -> Batch:
        return Batch(*(t.to(where) for t in vars(self).values()))


def make_batch(
    panel: Panel,
    layout: FeatureLayout,
    series: np.ndarray,
    ends: np.ndarray,
    window: int,
    context: int,
    horizon: int,
) -> Batch:
    """Windows of `window` steps ending (exclusive) at column `ends` of `series`' rows.

    The scale is the mean |y| over the `context` steps before the last `horizon` ones; past
    covariates are blanked over the last `horizon` steps, as they will be when forecasting.
    """
    columns = ends[:, None] - window + np.arange(window)[None, :]
    rows = series[:, None]
    raw = panel.target[rows, columns]
    observed = np.isfinite(raw)
    head = slice(window - horizon - context, window - horizon)
    with np.errstate(all="ignore"):
        level = np.nanmean(np.abs(raw[:, head]), axis=1)
    scale = np.where(np.isfinite(level) & (level > MIN_SCALE), level, 1.0).astype(np.float32)
    y = np.where(observed, raw / scale[:, None], 0.0).astype(np.float32)
    past = panel.past[rows, columns]
    past[:, window - horizon :] = 0.0
    log_scale = layout.log_scale(np.log(np.maximum(scale, MIN_SCALE))[:, None])
    static_real = np.concatenate([panel.static_real[series], log_scale], axis=1)
    return Batch(
        torch.from_numpy(y),
        torch.from_numpy(observed.astype(np.float32)),
        torch.from_numpy(np.ascontiguousarray(panel.known[rows, columns])),
        torch.from_numpy(np.ascontiguousarray(past)),
        torch.from_numpy(panel.static_codes[series]),
        torch.from_numpy(static_real.astype(np.float32)),
        torch.from_numpy(scale),
    )


@dataclass(frozen=True)
class WindowSampler:
    """Random training windows whose targets end before the held-out last horizon.

    Ends are uniform over every (series, end) pair within the last `span` steps before the
    validation horizon that leaves at least one observed step before the window's target,
    so long series weigh more and series no longer than a horizon are left out.
    """

    panel: Panel
    layout: FeatureLayout
    window: int
    context: int
    horizon: int
    holdout: int

    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(first valid end, number of ends) per series, and their cumulative counts."""
        last = self.panel.length - self.holdout
        first = np.maximum(self.panel.length - self.panel.lengths + self.horizon + 1, self.window)
        counts = np.maximum(last - first + 1, 0)
        return first, counts, np.cumsum(counts)

    def sample(self, rng: np.random.Generator, size: int) -> Batch | None:
        first, counts, cumulative = self.pairs()
        if cumulative[-1] == 0:
            return None
        draws = rng.integers(0, int(cumulative[-1]), size)
        series = np.searchsorted(cumulative, draws, side="right")
        ends = first[series] + draws - (cumulative[series] - counts[series])
        return make_batch(self.panel, self.layout, series, ends, self.window, self.context, self.horizon)


def validation_batch(
    panel: Panel, layout: FeatureLayout, window: int, context: int, horizon: int, limit: int, seed: int
) -> Batch | None:
    """The last horizon of each series long enough to have one, at most `limit` series."""
    series = np.flatnonzero(panel.lengths > horizon)
    if len(series) == 0:
        return None
    if len(series) > limit:
        series = np.sort(np.random.default_rng(seed).choice(series, limit, replace=False))
    ends = np.full(len(series), panel.length)
    return make_batch(panel, layout, series, ends, window, context, horizon)


# ---- training -----------------------------------------------------------------------------------
class Adam:
    """Adam (Kingma and Ba, 2015) for a module's parameters, as `torch.optim.Adam` computes it.

    Written out because the first `torch.optim` optimizer built in a process imports
    `torch._dynamo`, which took 6.1 s on the 2-core machine, more than a whole fit of a
    small network; these few lines cost nothing to import.
    """

    def __init__(
        self, parameters: Sequence[nn.Parameter], lr: float, betas: tuple[float, float] = (0.9, 0.999)
    ) -> None:
        self.parameters = list(parameters)
        self.lr, self.betas, self.eps, self.steps = lr, betas, 1e-8, 0
        self.first = [torch.zeros_like(p) for p in self.parameters]
        self.second = [torch.zeros_like(p) for p in self.parameters]

    def zero_grad(self) -> None:
        for p in self.parameters:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.steps += 1
        beta1, beta2 = self.betas
        correction1 = 1.0 - beta1**self.steps
        root_correction2 = (1.0 - beta2**self.steps) ** 0.5
        for p, m, v in zip(self.parameters, self.first, self.second, strict=True):
            if p.grad is None:
                continue
            m.mul_(beta1).add_(p.grad, alpha=1.0 - beta1)
            v.mul_(beta2).addcmul_(p.grad, p.grad, value=1.0 - beta2)
            denominator = (v.sqrt() / root_correction2).add_(self.eps)
            p.addcdiv_(m, denominator, value=-self.lr / correction1)


@dataclass
class TrainConfig:
    max_epochs: int
    batches_per_epoch: int
    batch_size: int
    learning_rate: float
    patience: int
    clip_norm: float = 10.0
    # Epochs without improvement before the learning rate is halved (GluonTS's plateau rule).
    decay_patience: int = 2


@dataclass
class TrainResult:
    epochs: int
    best_epoch: int
    history: list[float] = field(default_factory=list)
    stopped_by_deadline: bool = False


def train(
    net: nn.Module,
    loss: Callable[[nn.Module, Batch], torch.Tensor],
    sample: Callable[[np.random.Generator, int], Batch | None],
    validation: Batch | None,
    config: TrainConfig,
    rng: np.random.Generator,
    deadline: float | None,
) -> TrainResult:
    """Adam with gradient clipping; early stopping on `validation`, best weights restored.

    The learning rate is halved after every `decay_patience` epochs without improvement:
    the validation loss of CNN-QR on the demo jumped between epochs at a fixed rate.

    Without a validation batch the mean training loss of each epoch takes its place. The
    deadline is checked after every batch: training stops there, keeping the best epoch so
    far (or the current weights when not one epoch finished).
    """
    where = next(net.parameters()).device
    optimizer = Adam(list(net.parameters()), lr=config.learning_rate)
    held = validation.to(where) if validation is not None else None
    best_state = copy.deepcopy(net.state_dict())
    result = TrainResult(epochs=0, best_epoch=-1)
    best = float("inf")
    for epoch in range(config.max_epochs):
        net.train()
        total, count = 0.0, 0
        for _ in range(config.batches_per_epoch):
            batch = sample(rng, config.batch_size)
            if batch is None:
                break
            optimizer.zero_grad()
            value = loss(net, batch.to(where))
            value.backward()
            nn.utils.clip_grad_norm_(net.parameters(), config.clip_norm)
            optimizer.step()
            total, count = total + float(value.detach()), count + 1
            if deadline is not None and time.monotonic() > deadline:
                result.stopped_by_deadline = True
                break
        if result.stopped_by_deadline or count == 0:
            break
        net.eval()
        with torch.no_grad():
            score = float(loss(net, held)) if held is not None else total / count
        result.history.append(score)
        result.epochs = epoch + 1
        if score < best - 1e-6 * abs(best) or result.best_epoch < 0:
            best, result.best_epoch = score, epoch
            best_state = copy.deepcopy(net.state_dict())
        elif epoch - result.best_epoch >= config.patience:
            break
        elif (epoch - result.best_epoch) % config.decay_patience == 0:
            optimizer.lr /= 2
    if result.best_epoch >= 0:
        net.load_state_dict(best_state)
    net.eval()
    return result


# ---- shared model shell -------------------------------------------------------------------------
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


def interpolate_quantiles(grid: Sequence[float], values: np.ndarray, wanted: Sequence[float]) -> np.ndarray:
    """Quantiles at `wanted` levels from values (..., len(grid)) at the sorted `grid` levels.

    Linear in the normal score z = Phi^-1(q), extrapolated beyond the grid with the slope of
    its outer segments: a Gaussian tail whose spread matches the outermost grid levels.
    """
    z = norm.ppf(np.asarray(grid, dtype=np.float64))
    target = norm.ppf(np.asarray(wanted, dtype=np.float64))
    flat = values.reshape(-1, len(grid)).astype(np.float64)
    out = np.empty((len(flat), len(target)))
    low_slope = np.maximum((flat[:, 1] - flat[:, 0]) / (z[1] - z[0]), 0.0)
    high_slope = np.maximum((flat[:, -1] - flat[:, -2]) / (z[-1] - z[-2]), 0.0)
    for j, t in enumerate(target):
        if t < z[0]:
            out[:, j] = flat[:, 0] + (t - z[0]) * low_slope
        elif t > z[-1]:
            out[:, j] = flat[:, -1] + (t - z[-1]) * high_slope
        else:
            k = int(np.clip(np.searchsorted(z, t, side="right") - 1, 0, len(z) - 2))
            w = (t - z[k]) / (z[k + 1] - z[k])
            out[:, j] = (1 - w) * flat[:, k] + w * flat[:, k + 1]
    return out.reshape(*values.shape[:-1], len(target))


class NeuralForecaster(Forecaster):
    """Fit / predict shared by the neural models; subclasses define the network and its use.

    A subclass sets `window_` (steps per window) and `context_`, and implements
    `_network()` (a fresh, untrained module), `_loss(net, batch)` and
    `_forecast(net, batch, quantiles)`, which returns (mean, quantiles) on the scaled axis.
    The fitted weights are kept as numpy arrays (`weights_`), so a model pickles without
    torch state and the network is rebuilt on first use after loading.
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
    fallback_items_: list[str]
    _net: nn.Module | None = None

    # ---- hooks --------------------------------------------------------------------------------
    def _lookback(self) -> int:
        """Steps of history a window needs before its context (lags)."""
        return 0

    def _network(self) -> nn.Module:
        raise NotImplementedError

    def _loss(self, net: nn.Module, batch: Batch) -> torch.Tensor:
        raise NotImplementedError

    def _forecast(
        self, net: nn.Module, batch: Batch, quantiles: tuple[float, ...]
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
        horizon = self.horizon_
        self.context_ = self.context_length or default_context(self.spec_.freq, horizon)
        self.window_ = self._lookback() + self.context_ + horizon
        self.fallback_items_ = []
        self._net = None
        with torch_threads(self._threads()), torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
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
        self.weights_ = {k: v.detach().cpu().numpy().copy() for k, v in net.state_dict().items()}
        self.epochs_ = result.epochs
        self.best_epoch_ = result.best_epoch
        self.val_history_ = result.history
        self.stopped_by_deadline_ = result.stopped_by_deadline

    def _loaded_network(self) -> nn.Module:
        if self._net is None:
            net = self._network()
            net.load_state_dict({k: torch.from_numpy(v) for k, v in self.weights_.items()})
            self._net = net.to(device()).eval()
        return self._net

    def _predict(
        self,
        data: SeriesArrays,
        future: pd.DataFrame | None,
        quantiles: tuple[float, ...],
        deadline: float | None,
    ) -> Prediction:
        horizon = self.horizon_
        history = self.window_ - horizon
        extended = with_horizon(data.tail(history), future, horizon)
        panel = self.layout_.panel(extended, self.window_)
        mean = np.zeros((data.n_series, horizon))
        qs = np.zeros((data.n_series, horizon, len(quantiles)))
        with torch_threads(self._threads()), torch.no_grad():
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
        self.fallback_items_ = [str(item) for item in data.item_ids[empty]]
        for i in np.flatnonzero(empty):
            mean[i], qs[i] = naive_fallback(data.series(int(i)), horizon, quantiles)
        return Prediction(mean=mean, quantiles=qs)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(vars(self))
        state.pop("_net", None)
        return state
