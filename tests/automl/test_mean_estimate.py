"""The mean column: the mean the quantiles imply, and the backtest choice between it and the models'."""

import pickle
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from tidecast.automl.backtest import CandidateResult
from tidecast.automl.calibration import QuantileCalibration
from tidecast.automl.ensemble import BacktestForecast
from tidecast.automl.fit_report import FitReport
from tidecast.automl.mean_estimate import choose_mean, implied_mean, implied_weights
from tidecast.automl.search import calibrate
from tidecast.data.schema import TARGET

QUANTILES = (0.1, 0.5, 0.9)


@pytest.mark.parametrize(
    ("levels", "weights"),
    [
        ((0.1, 0.5, 0.9), (0.3, 0.4, 0.3)),
        ((0.5,), (1.0,)),
        ((0.25, 0.75), (0.5, 0.5)),
        ((0.9, 0.1, 0.5), (0.3, 0.3, 0.4)),
        ((0.05, 0.5, 0.95), (0.275, 0.45, 0.275)),
        (tuple(np.round(np.arange(0.1, 0.91, 0.1), 1)), (0.15, *(0.1,) * 7, 0.15)),
    ],
)
def test_implied_weights_integrate_the_quantile_function_with_flat_tails(levels, weights):
    np.testing.assert_allclose(implied_weights(levels), weights, atol=1e-12)


def test_a_skewed_forecast_implies_a_mean_above_its_median():
    q = np.array([[2.0, 4.0, 10.0], [5.0, 5.0, 5.0]])
    np.testing.assert_allclose(implied_mean(q, QUANTILES), [5.2, 5.0])


def test_the_mean_with_the_lower_backtest_error_is_chosen():
    q = np.array([[2.0, 4.0, 10.0]] * 2)
    y = np.array([5.2, 5.2])
    choice = choose_mean(y, np.array([4.0, 4.0]), q, QUANTILES)
    assert choice.from_quantiles
    assert (choice.rmse_models, choice.rmse_quantiles) == pytest.approx((1.2, 0.0))
    assert "the mean its quantiles imply" in choice.reason
    kept = choose_mean(np.array([4.1, 3.9]), np.array([4.0, 4.0]), q, QUANTILES)
    assert not kept.from_quantiles and kept.rmse_models == pytest.approx(0.1)


def test_symmetric_quantiles_keep_the_models_mean():
    # The implied mean equals the mean: no evidence for a change, whatever the actuals.
    q = np.array([[8.0, 10.0, 12.0]] * 3)
    assert not choose_mean(np.array([9.0, 10.0, 14.0]), np.full(3, 10.0), q, QUANTILES).from_quantiles


def test_missing_actuals_are_ignored_and_none_at_all_keeps_the_models_mean():
    q = np.array([[2.0, 4.0, 10.0]] * 2)
    choice = choose_mean(np.array([5.2, np.nan]), np.array([4.0, 4.0]), q, QUANTILES)
    assert choice.from_quantiles and choice.rmse_models == pytest.approx(1.2)
    assert not choose_mean(np.full(2, np.nan), np.array([4.0, 4.0]), q, QUANTILES).from_quantiles


def test_a_calibration_that_takes_the_mean_from_the_quantiles_ships_it_after_the_bands():
    calibration = QuantileCalibration(QUANTILES, (2.0, 1.0, 1.5), level=1.1, mean_from_quantiles=True)
    mean, q = np.array([10.0]), np.array([[8.0, 10.0, 12.0]])
    shipped_mean, shipped_q = calibration.calibrated(mean, q)
    np.testing.assert_allclose(shipped_q, [[6.6, 11.0, 14.3]])
    np.testing.assert_allclose(shipped_mean, [0.3 * 6.6 + 0.4 * 11.0 + 0.3 * 14.3])
    assert not QuantileCalibration(QUANTILES, (1.0, 1.0, 1.0), mean_from_quantiles=True).identity


def test_a_calibration_saved_before_the_choice_existed_keeps_the_models_mean():
    old = QuantileCalibration(QUANTILES, (1.0, 1.0, 1.0), level=1.1)
    del old.__dict__["mean_from_quantiles"]  # what an older pickle holds
    loaded = pickle.loads(pickle.dumps(old))
    assert loaded.mean_from_quantiles is False
    np.testing.assert_allclose(loaded.calibrated(np.array([10.0]), np.array([[8.0, 10.0, 15.0]]))[0], [11.0])


def test_when_the_models_mean_is_their_median_of_skewed_demand_then_the_run_ships_the_implied_mean():
    # Actuals exponential(1) (an exact quantile grid, mean 1, median ln 2), forecast by their
    # true p10 / p50 / p90 with the median as the mean: the implied mean, 0.9997, is nearer 1.
    n = 3000
    y = -np.log(1.0 - (np.arange(n) + 0.5) / n)
    q = np.tile(-np.log(1.0 - np.asarray(QUANTILES)), (n, 1))
    windows = [SimpleNamespace(actual=pd.DataFrame({TARGET: part})) for part in np.split(y, 3)]
    report = FitReport(
        candidates=[CandidateResult(name="M", forecast=BacktestForecast(mean=q[:, 1].copy(), quantiles=q))]
    )
    auto = SimpleNamespace(calibrate_quantiles=True, refit_every_window=False, calibrate_level=False)
    calibration = calibrate(auto, windows, {"M": 1.0}, QUANTILES, report)
    assert calibration is not None and calibration.mean_from_quantiles
    assert report.calibration["mean_from_quantiles"] is True
    rmse = report.calibration["mean_backtest_rmse"]
    assert rmse["quantiles"] < rmse["models"]
    assert any(note.startswith("mean column: the mean its quantiles imply") for note in report.notes)
    mean, shipped = calibration.calibrated(q[:1, 1], q[:1])
    np.testing.assert_allclose(mean, shipped @ np.array([0.3, 0.4, 0.3]))
    auto.calibrate_mean = False  # the option off: the models' mean ships
    report = FitReport(candidates=report.candidates)
    off = calibrate(auto, windows, {"M": 1.0}, QUANTILES, report)
    assert (off is None or not off.mean_from_quantiles) and report.calibration["mean_from_quantiles"] is False
