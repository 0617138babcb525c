"""DeepAR and CNN-QR: determinism, covariates, early stopping, deadlines, unseen items, pickling,
and a torch-free import of the catalog."""

from __future__ import annotations

import pickle
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, DatasetSpec
from tidecast.models.neural import CNNQR, DeepAR
from tidecast.models.neural.quantiles import interpolate_quantiles
from tidecast.models.neural.training import TrainConfig, train
from tidecast.models.neural.windows import Batch

HORIZON = 7
SPEC = DatasetSpec(freq="D", known_covariates=("promotion",), static_columns=("region",))
# Small and quick: a few short epochs are enough for the synthetic panel below.
FAST = {"max_epochs": 6, "batches_per_epoch": 12, "batch_size": 32, "learning_rate": 5e-3}
MODELS = [DeepAR, CNNQR]


def promotion_panel(n_series: int = 6, n: int = 150, seed: int = 0) -> pd.DataFrame:
    """Levels 10..35 with a weekly cycle; a promotion (on 25% of days) adds 60% of the level."""
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(n_series):
        level = 10.0 + 5 * i
        promotion = (rng.random(n) < 0.25).astype(np.float64)
        weekly = 1 + 0.2 * np.sin(2 * np.pi * np.arange(n) / 7)
        target = level * (weekly + 0.6 * promotion) + rng.normal(0, 0.3, n)
        parts.append(
            pd.DataFrame(
                {
                    ITEM_ID: f"s{i}",
                    TIMESTAMP: pd.date_range("2024-01-01", periods=n, freq="D"),
                    TARGET: target,
                    "promotion": promotion,
                    "region": "north" if i % 2 else "south",
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


PANEL = promotion_panel()


def future_of(panel: pd.DataFrame, promotion: np.ndarray | float) -> pd.DataFrame:
    ends = panel.groupby(ITEM_ID)[TIMESTAMP].max()
    rows = [
        pd.DataFrame({ITEM_ID: item, TIMESTAMP: pd.date_range(end, periods=HORIZON + 1, freq="D")[1:]})
        for item, end in ends.items()
    ]
    future = pd.concat(rows, ignore_index=True)
    future["promotion"] = np.broadcast_to(promotion, len(future)).astype(np.float64)
    return future


@pytest.fixture(scope="module", params=MODELS, ids=lambda m: m.name)
def fitted(request: pytest.FixtureRequest) -> DeepAR | CNNQR:
    return request.param(seed=1, **FAST).fit(PANEL, SPEC, HORIZON)


def test_when_fitted_twice_with_one_seed_then_forecasts_match_to_the_last_digit_and_differ_for_another(
    fitted,
):
    future = future_of(PANEL, 0.0)
    again = type(fitted)(seed=1, **FAST).fit(PANEL, SPEC, HORIZON)
    other = type(fitted)(seed=2, **FAST).fit(PANEL, SPEC, HORIZON)
    first = fitted.predict(PANEL, future)
    pd.testing.assert_frame_equal(again.predict(PANEL, future), first, check_exact=True)
    assert not np.allclose(other.predict(PANEL, future)[MEAN], first[MEAN])


def test_when_a_promotion_is_planned_then_the_forecast_rises_on_its_days(fitted):
    # Promotions add 60% of the level: 6 to 21 units on these series.
    plan = np.tile(np.arange(HORIZON) % 2, PANEL[ITEM_ID].nunique()).astype(np.float64)
    with_plan = fitted.predict(PANEL, future_of(PANEL, plan))[MEAN].to_numpy()
    without = fitted.predict(PANEL, future_of(PANEL, 0.0))[MEAN].to_numpy()
    lift = (with_plan - without)[plan == 1]
    assert np.abs(with_plan - without)[plan == 0].mean() < 0.5 * lift.mean()
    assert lift.mean() > 4.0


def test_when_pickled_then_the_loaded_model_forecasts_identically(fitted):
    future = future_of(PANEL, 1.0)
    loaded = pickle.loads(pickle.dumps(fitted))
    assert loaded._net is None
    pd.testing.assert_frame_equal(
        loaded.predict(PANEL, future), fitted.predict(PANEL, future), check_exact=True
    )


def test_when_items_and_categories_are_unseen_then_they_are_forecast(fitted):
    stranger = promotion_panel(n_series=1, seed=9).assign(**{ITEM_ID: "new", "region": "mars"})
    panel = pd.concat([PANEL, stranger], ignore_index=True)
    forecast = fitted.predict(panel, future_of(panel, 0.0))
    new = forecast[forecast[ITEM_ID] == "new"]
    assert len(new) == HORIZON and np.isfinite(new[[MEAN, "p10", "p90"]].to_numpy()).all()
    assert 5.0 < new[MEAN].mean() < 20.0  # the stranger's level is 10 with a weekly cycle


def test_when_fitted_and_predicted_then_the_callers_torch_threads_are_restored(fitted):
    before = torch.get_num_threads()
    type(fitted)(seed=1, **{**FAST, "max_epochs": 1}, n_threads=1).fit(PANEL, SPEC, HORIZON)
    fitted.predict(PANEL, future_of(PANEL, 0.0))
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_when_the_deadline_is_near_then_training_stops_by_it(model):
    start = time.monotonic()
    fitted = model(seed=0, max_epochs=10_000, patience=10_000, batches_per_epoch=5).fit(
        PANEL, SPEC, HORIZON, deadline=start + 1.0
    )
    assert time.monotonic() - start < 2.5
    assert fitted.stopped_by_deadline_
    assert fitted.epochs_ == len(fitted.val_history_) >= 1


def test_when_validation_loss_turns_up_then_the_best_epoch_weights_are_restored():
    # Training pulls w towards 1, validation prefers 0.3: the validation loss falls, then rises.
    net = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(net.weight)

    def batch(value: float) -> Batch:
        empty = torch.zeros(1, 0)
        return Batch(torch.full((1, 1), value), empty, empty, empty, empty.long(), empty, torch.ones(1))

    def loss(module: nn.Module, b: Batch) -> torch.Tensor:
        assert isinstance(module, nn.Linear)
        return ((module.weight[0, 0] - b.y[0, 0]) ** 2).reshape(())

    config = TrainConfig(max_epochs=50, batches_per_epoch=1, batch_size=1, learning_rate=0.05, patience=3)
    result = train(
        net, loss, lambda rng, size: batch(1.0), batch(0.3), config, np.random.default_rng(0), None
    )
    history = np.array(result.history)
    assert result.best_epoch == int(np.argmin(history)) < result.epochs - 1
    assert result.epochs == result.best_epoch + 1 + config.patience
    assert float(loss(net, batch(0.3)).detach()) == pytest.approx(history.min(), rel=1e-6)


def test_when_quantiles_are_interpolated_then_grid_levels_are_kept_and_tails_extend():
    grid = (0.1, 0.5, 0.9)
    values = np.array([[-1.0, 0.0, 2.0]])
    out = interpolate_quantiles(grid, values, (0.025, 0.1, 0.3, 0.5, 0.9, 0.975))[0]
    np.testing.assert_allclose(out[[1, 3, 4]], [-1.0, 0.0, 2.0])
    assert out[0] < -1.0 and out[5] > 2.0 and -1.0 < out[2] < 0.0
    assert np.all(np.diff(out) > 0)


def test_when_the_catalog_and_cli_are_imported_then_torch_is_not():
    # A fresh interpreter: this test process has imported torch already. Torch takes seconds
    # to import, and every CLI run imports the catalog, whichever models it then trains.
    modules = "tidecast.models.catalog, tidecast.models.neural, tidecast.automl.forecaster, tidecast.cli.main"
    code = f"import sys, {modules}; assert 'torch' not in sys.modules, 'torch was imported'"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
