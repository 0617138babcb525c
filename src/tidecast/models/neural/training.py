"""The training loop of the neural forecasters, and the torch settings around fit and predict.

- **Training** (`train`): Adam, gradient-norm clipping, an epoch of `batches_per_epoch`
  random windows whose origins lie in the recent history before the last horizon, early
  stopping on the last horizon of each series (never trained on), restoring the best
  weights, and a `deadline` checked after every batch.
- **Reproducibility** (`seeded`): weights are initialised under `torch.manual_seed(seed)`
  inside a forked RNG state (the caller's torch RNG is left alone) and windows are drawn by
  a numpy Generator, so the same seed gives the same forecasts to the last digit on CPU.
- **Threads** (`torch_threads`): small nets on short sequences spend their time in per-op
  overhead, not arithmetic; the count is set for a fit or predict and the caller's restored.

Imports torch: the forecasters import this module only inside fit and predict.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import torch
from torch import nn

from tidecast.models.neural.windows import Batch

Net = TypeVar("Net", bound=nn.Module)


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


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the block under `torch.manual_seed(seed)`, leaving the caller's torch RNG as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


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
    net: Net,
    loss: Callable[[Net, Batch], torch.Tensor],
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


@contextmanager
def inference(threads: int) -> Iterator[None]:
    """Run a forecast with `threads` intra-op threads and autograd off."""
    with torch_threads(threads), torch.no_grad():
        yield


def load_weights(net: Net, weights: dict[str, np.ndarray]) -> Net:
    """`net` with the numpy `weights` loaded, on `device()`, in evaluation mode."""
    net.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    return net.to(device()).eval()


def numpy_weights(net: nn.Module) -> dict[str, np.ndarray]:
    """The state dict as numpy arrays, copied off the device: picklable without torch state."""
    return {k: v.detach().cpu().numpy().copy() for k, v in net.state_dict().items()}
