"""The contract every catalog model keeps, plus accuracy ceilings and hand-computed values.

One suite over every name in CATALOG (scikit-learn's `parametrize_with_checks` idea): shapes
and columns of the forecast frame, timestamps, monotone quantiles, non-negativity, pickling,
no look-ahead, newer panels, unseen items, fallbacks and determinism. Then, per model, the
accuracy it must keep on fixed data (Darts-style ceilings) and exact values on tiny series.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from tidecast.data.arrays import SeriesArrays
from tidecast.data.gapfill import MODEL_FILL, fill_missing
from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, DatasetSpec
from tidecast.errors import ConfigError
from tidecast.models.base import Forecaster, Tags
from tidecast.models.catalog import CATALOG, make_model
from tidecast.models.intermittent import croston, tsb
from tidecast.models.npts import npts_sample_paths, npts_weights

FREQ = "D"
SPEC = DatasetSpec(freq=FREQ)
HORIZON = 7
QUANTILES = (0.1, 0.5, 0.9)
NAMES = list(CATALOG)
# Small, fast settings; every model runs in this process.
FAST: dict[str, dict[str, object]] = {
    "NPTS": {"num_samples": 50},
    "DeepAR": {"max_epochs": 4, "batches_per_epoch": 10, "learning_rate": 1e-2},
    "CNNQR": {"max_epochs": 4, "batches_per_epoch": 10, "learning_rate": 1e-2},
}


def build(name: str, **overrides: object) -> Forecaster:
    return make_model(name, FREQ, n_jobs=1, **{**FAST.get(name, {}), **overrides})


def frame(series: dict[str, np.ndarray], starts: dict[str, str] | None = None) -> pd.DataFrame:
    """A canonical panel from arrays, sorted by (item_id, timestamp)."""
    parts = []
    for item, values in series.items():
        start = pd.Timestamp((starts or {}).get(item, "2024-01-01"))
        parts.append(
            pd.DataFrame(
                {
                    ITEM_ID: item,
                    TIMESTAMP: pd.date_range(start, periods=len(values), freq=FREQ),
                    TARGET: np.asarray(values, dtype=np.float64),
                }
            )
        )
    return pd.concat(parts).sort_values([ITEM_ID, TIMESTAMP], ignore_index=True)


def synthetic_panel(seed: int = 0, n: int = 120) -> pd.DataFrame:
    """Six weekly-seasonal series with trend and noise (staggered starts, so the ends differ),
    one intermittent series, one constant series and one series of three points."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    series: dict[str, np.ndarray] = {}
    starts: dict[str, str] = {}
    for i in range(6):
        series[f"seasonal_{i}"] = (
            40 + 5 * i + 0.1 * t + 6 * np.sin(2 * np.pi * t / 7 + i) + rng.normal(0, 1.5, n)
        )
        starts[f"seasonal_{i}"] = str(pd.Timestamp("2024-01-01") + pd.Timedelta(days=i))
    series["intermittent"] = (rng.random(n) < 0.25) * rng.integers(1, 8, n).astype(np.float64)
    series["constant"] = np.full(n, 5.0)
    series["short"] = np.array([3.0, 4.0, 5.0])
    starts["short"] = "2024-03-01"
    return frame(series, starts)


def truncate(panel: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    return panel[panel[TIMESTAMP] <= end].reset_index(drop=True)


PANEL = synthetic_panel()
CUTOFF = PANEL[TIMESTAMP].max() - pd.Timedelta(days=14)
TRAIN = truncate(PANEL, CUTOFF)
# TRAIN with a tenth of its inner target cells blanked (never a series' first or last cell).
_inner = (TRAIN.groupby(ITEM_ID).cumcount() > 0) & (TRAIN.groupby(ITEM_ID).cumcount(ascending=False) > 0)
GAPPY = TRAIN.assign(
    **{TARGET: TRAIN[TARGET].mask(_inner & (np.random.default_rng(1).random(len(TRAIN)) < 0.1))}
)
# Fewer series for the tests that fit twice.
SMALL = PANEL[PANEL[ITEM_ID].isin(["seasonal_0", "seasonal_3", "intermittent"])].reset_index(drop=True)


def check_forecast(forecast: pd.DataFrame, panel: pd.DataFrame, columns: list[str]) -> None:
    """Rows, columns, timestamps after each series' end, no NaN, monotone quantiles."""
    items = sorted(panel[ITEM_ID].unique())
    assert list(forecast.columns) == [ITEM_ID, TIMESTAMP, MEAN, *columns]
    assert len(forecast) == len(items) * HORIZON
    assert forecast[ITEM_ID].tolist() == np.repeat(items, HORIZON).tolist()
    ends = panel.groupby(ITEM_ID)[TIMESTAMP].max()
    for item, rows in forecast.groupby(ITEM_ID):
        expected = pd.date_range(ends[item], periods=HORIZON + 1, freq=FREQ)[1:]
        assert rows[TIMESTAMP].tolist() == expected.tolist(), item
    values = forecast[[MEAN, *columns]].to_numpy()
    assert np.isfinite(values).all()
    assert (np.diff(forecast[columns].to_numpy(), axis=1) >= 0).all()


@pytest.fixture(scope="module", params=NAMES)
def fitted(request: pytest.FixtureRequest) -> tuple[str, Forecaster, pd.DataFrame]:
    """Each model fitted once on TRAIN, with its forecast from TRAIN."""
    model = build(request.param).fit(TRAIN, SPEC, HORIZON)
    return request.param, model, model.predict(TRAIN, quantiles=QUANTILES)


# ---- the contract ----------------------------------------------------------------------------
def test_when_built_from_the_catalog_then_name_matches_the_key(fitted):
    name, model, _ = fitted
    assert model.name == name
    assert isinstance(model, CATALOG[name])


def test_when_fitted_then_forecast_has_horizon_rows_per_item_after_each_end(fitted):
    _, _, forecast = fitted
    check_forecast(forecast, TRAIN, ["p10", "p50", "p90"])


def test_when_tail_quantiles_are_requested_then_columns_are_p2_5_and_p97_5(fitted):
    _, model, _ = fitted
    forecast = model.predict(TRAIN, quantiles=(0.025, 0.5, 0.975))
    check_forecast(forecast, TRAIN, ["p2.5", "p50", "p97.5"])


def test_when_history_is_non_negative_then_forecast_is_non_negative(fitted):
    _, _, forecast = fitted
    assert (forecast[[MEAN, "p10", "p50", "p90"]].to_numpy() >= 0).all()


def test_when_pickled_and_loaded_then_predictions_are_identical(fitted):
    _, model, forecast = fitted
    loaded = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(loaded.predict(TRAIN, quantiles=QUANTILES), forecast, check_exact=True)


def test_when_panel_is_newer_than_training_then_forecast_starts_after_the_new_end(fitted):
    _, model, _ = fitted
    forecast = model.predict(PANEL, quantiles=QUANTILES)
    check_forecast(forecast, PANEL, ["p10", "p50", "p90"])
    old_ends = TRAIN.groupby(ITEM_ID)[TIMESTAMP].max()
    grown = old_ends.index[PANEL.groupby(ITEM_ID)[TIMESTAMP].max() > old_ends]
    assert len(grown) == 8
    first = forecast.groupby(ITEM_ID)[TIMESTAMP].min()
    assert (first[grown] > old_ends[grown] + pd.Timedelta(days=1)).all()
    if not model._stateful:
        # Nothing learnt in fit: the forecast is a function of the history it is given alone.
        fresh = build(model.name).fit(PANEL, SPEC, HORIZON).predict(PANEL, quantiles=QUANTILES)
        pd.testing.assert_frame_equal(forecast, fresh)


def test_when_item_is_unseen_in_training_then_it_is_forecast_like_a_trained_one(fitted):
    _, model, _ = fitted
    twin = TRAIN[TRAIN[ITEM_ID] == "seasonal_2"].assign(**{ITEM_ID: "unseen"})
    panel = pd.concat([TRAIN, twin]).sort_values([ITEM_ID, TIMESTAMP], ignore_index=True)
    forecast = model.predict(panel, quantiles=QUANTILES)
    check_forecast(forecast, panel, ["p10", "p50", "p90"])
    values = [MEAN, "p10", "p50", "p90"]
    new = forecast.loc[forecast[ITEM_ID] == "unseen", values].to_numpy()
    known = forecast.loc[forecast[ITEM_ID] == "seasonal_2", values].to_numpy()
    np.testing.assert_allclose(new, known, rtol=1e-6)


def test_when_series_is_shorter_than_min_length_then_it_gets_the_fallback(fitted):
    _, model, forecast = fitted
    lengths = TRAIN.groupby(ITEM_ID).size()
    short = set(lengths.index[lengths < model.tags.min_length])
    assert short <= set(forecast.attrs["fallback_items"]) <= set(lengths.index)
    assert np.isfinite(forecast.loc[forecast[ITEM_ID] == "short", MEAN]).all()


def test_when_other_items_are_dropped_then_an_items_forecast_is_unchanged(fitted):
    _, model, forecast = fitted
    alone = model.predict(TRAIN[TRAIN[ITEM_ID] == "seasonal_4"], quantiles=QUANTILES)
    expected = forecast[forecast[ITEM_ID] == "seasonal_4"].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, expected)


@pytest.mark.parametrize("name", NAMES)
def test_when_the_panel_has_missing_targets_then_every_series_is_forecast_without_fallback(name):
    # Models tagged handles_missing_target read the NaN cells as unknown; the template fills
    # them for the others (gapfill.MODEL_FILL), so they forecast from exactly the filled panel.
    assert GAPPY[TARGET].isna().sum() == 84
    model = build(name).fit(GAPPY, SPEC, HORIZON)
    forecast = model.predict(GAPPY, quantiles=QUANTILES)
    check_forecast(forecast, GAPPY, ["p10", "p50", "p90"])
    lengths = GAPPY.groupby(ITEM_ID).size()
    assert set(forecast.attrs["fallback_items"]) <= set(lengths.index[lengths < model.min_history])
    if not model.tags.handles_missing_target:
        values = fill_missing(GAPPY[TARGET].to_numpy(), np.r_[0, np.cumsum(lengths)], MODEL_FILL, 7)
        filled = GAPPY.assign(**{TARGET: values})
        expected = build(name).fit(filled, SPEC, HORIZON).predict(filled, quantiles=QUANTILES)
        pd.testing.assert_frame_equal(forecast, expected)


def test_when_tagged_handles_missing_target_then_only_models_that_mask_nan_are():
    # Both LightGBMs train only on rows with an observed target and read NaN lags as missing;
    # DeepAR and CNNQR mask unobserved steps in the loss and feed an observed-flag. The others
    # would break or degrade: Naive's last value and SeasonalNaive's lag can be NaN, NPTS would
    # sample NaN, Croston's and ETS's recursions need every step (statsforecast refuses NaN),
    # and the per-series wrapper of Prophet falls back to Naive on a series with any NaN: they
    # get the filled panel. The dynamic regression fits its design on the observed rows only
    # and carries the last observed residual, so it takes the gaps as they are (a gap filled
    # with a copied week taught it a flat half-year).
    flagged = {name for name, cls in CATALOG.items() if cls.tags.handles_missing_target}
    assert flagged == {"LightGBM", "LightGBMHorizonLags", "DeepAR", "CNNQR", "DynamicRegression"}


def test_when_a_model_handles_missing_targets_then_the_template_passes_them_through():
    seen = {}

    class Spy(Forecaster):
        tags = Tags(handles_missing_target=True)

        def _fit(self, data, deadline):
            seen["fit"] = data.values.copy()

    class Filled(Spy):
        tags = Tags()

    panel = frame({"a": np.array([1.0, np.nan, 3.0])})
    Spy().fit(panel, SPEC, 1)
    np.testing.assert_array_equal(seen["fit"], [1, np.nan, 3])
    Filled().fit(panel, SPEC, 1)
    np.testing.assert_array_equal(seen["fit"], [1, 2, 3])  # too short for a season: the line


@pytest.mark.parametrize("name", NAMES)
def test_when_values_after_the_cutoff_change_then_forecast_from_the_cutoff_is_unchanged(name):
    # A model that kept state from an earlier fit or predict on the full history, or read
    # rows past the end of the panel it is given, would see the changed values.
    end = SMALL[TIMESTAMP].max() - pd.Timedelta(days=20)
    changed = SMALL.copy()
    after = changed[TIMESTAMP] > end
    changed.loc[after, TARGET] = 1000 + 50 * changed.loc[after, TARGET]
    history = truncate(SMALL, end)
    pd.testing.assert_frame_equal(truncate(changed, end), history)

    reference = build(name).fit(history, SPEC, HORIZON).predict(history)
    model = build(name).fit(changed, SPEC, HORIZON)
    model.predict(changed)
    model.fit(history, SPEC, HORIZON)
    pd.testing.assert_frame_equal(model.predict(history), reference)
    model.predict(changed)
    pd.testing.assert_frame_equal(model.predict(history), reference)


@pytest.mark.parametrize("name", NAMES)
def test_when_fitted_twice_with_the_same_seed_then_forecasts_are_identical(name):
    first = build(name).fit(SMALL, SPEC, HORIZON).predict(SMALL)
    second = build(name).fit(SMALL, SPEC, HORIZON).predict(SMALL)
    pd.testing.assert_frame_equal(first, second, check_exact=True)


# ---- the catalog -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_when_given_the_panels_arrays_then_fit_and_forecast_are_the_frames(name):
    # The AutoML builds a panel's arrays once and hands them to every candidate; a model must
    # not tell them from the frame they were built from (gaps included: the template fills them).
    arrays = SeriesArrays.from_spec(GAPPY, SPEC)
    from_frame = build(name).fit(GAPPY, SPEC, HORIZON).predict(GAPPY, quantiles=QUANTILES)
    from_arrays = build(name).fit(arrays, SPEC, HORIZON).predict(arrays, quantiles=QUANTILES)
    pd.testing.assert_frame_equal(from_arrays, from_frame, check_exact=True)
    assert from_arrays.attrs == from_frame.attrs


def test_when_name_is_unknown_then_config_error_lists_valid_names():
    with pytest.raises(ConfigError, match="SeasonalNaive"):
        make_model("Prophetic", FREQ)


def test_when_option_is_unknown_then_config_error_names_the_model():
    with pytest.raises(ConfigError, match="Naive"):
        make_model("Naive", FREQ, season_length=7)


@pytest.mark.parametrize(("freq", "expected"), [("D", 7), ("h", 24), ("MS", 12), ("W", 52)])
def test_when_built_for_a_frequency_then_season_length_follows_it(freq, expected):
    assert make_model("SeasonalNaive", freq).get_params()["season_length"] == expected


def test_when_seed_and_n_jobs_are_passed_to_every_model_then_all_build():
    for name in NAMES:
        model = make_model(name, FREQ, n_jobs=2, seed=3)
        assert model.get_params()["n_jobs"] == 2
    assert make_model("NPTS", FREQ, seed=3).get_params()["seed"] == 3


# ---- exact values on tiny series ---------------------------------------------------------------
def forecast_one(model: Forecaster, values: list[float], horizon: int) -> pd.DataFrame:
    panel = frame({"a": np.asarray(values, dtype=np.float64)})
    return model.fit(panel, SPEC, horizon).predict(panel, quantiles=(0.1, 0.5, 0.9))


Z90 = norm.ppf(0.9)


def test_when_naive_then_last_value_with_random_walk_spread():
    out = forecast_one(make_model("Naive", FREQ), [1, 2, 4, 7], 3)
    sigma = np.sqrt((1 + 4 + 9) / 3)  # root mean square of the changes 1, 2, 3
    np.testing.assert_allclose(out[MEAN], [7, 7, 7])
    np.testing.assert_allclose(out["p90"], 7 + Z90 * sigma * np.sqrt([1, 2, 3]))
    np.testing.assert_allclose(out["p10"] + out["p90"], 14)


def test_when_seasonal_naive_then_last_season_repeats_with_growing_spread():
    out = forecast_one(make_model("SeasonalNaive", FREQ, season_length=3), [1, 2, 3, 4, 5, 6], 4)
    np.testing.assert_allclose(out[MEAN], [4, 5, 6, 4])
    np.testing.assert_allclose(out["p90"] - out[MEAN], Z90 * 3 * np.sqrt([1, 1, 1, 2]))


def test_when_average_then_mean_with_new_observation_spread():
    out = forecast_one(make_model("Average", FREQ), [2, 4, 6, 8], 2)
    np.testing.assert_allclose(out[MEAN], [5, 5])
    np.testing.assert_allclose(out["p90"] - 5, Z90 * np.sqrt(20 / 3) * np.sqrt(1.25))
    windowed = forecast_one(make_model("Average", FREQ, window=2), [2, 4, 6, 8], 1)
    np.testing.assert_allclose(windowed[MEAN], [7])
    np.testing.assert_allclose(windowed["p90"] - 7, Z90 * np.sqrt(2) * np.sqrt(1.5))


def test_when_croston_sba_then_rate_is_debiased_sizes_over_intervals():
    # Sizes 3, 2, 4 smooth to 3 -> 2.9 -> 3.01; intervals 3, 4, 2 smooth to 3 -> 3.1 -> 2.99.
    y = [0, 0, 3, 0, 0, 0, 2, 0, 4, 0, 0]
    out = forecast_one(make_model("CrostonSBA", FREQ), y, 2)
    np.testing.assert_allclose(out[MEAN], 0.95 * 3.01 / 2.99)
    _, fitted = croston(np.asarray(y, dtype=float), 0.1, 0.95)
    np.testing.assert_allclose(fitted[:3], np.nan)
    np.testing.assert_allclose(fitted[3:7], 0.95 * 3 / 3)


def test_when_demand_comes_every_period_then_croston_sba_is_not_discounted():
    """Every interval is 1, the smoothed interval cannot vary, and SBA's factor only biased the
    forecast: a series selling 5 a day forecast a mean of 4.75 beside quantiles of 5."""
    constant = forecast_one(make_model("CrostonSBA", FREQ), [5, 5, 5, 5, 5, 5], 2)
    np.testing.assert_allclose(constant[MEAN], 5.0)
    np.testing.assert_allclose(constant[["p10", "p50", "p90"]].to_numpy(), 5.0)
    varying = forecast_one(make_model("CrostonSBA", FREQ), [2, 4], 1)  # sizes 2 -> 2.2, intervals 1
    np.testing.assert_allclose(varying[MEAN], 2.2)
    one_gap = forecast_one(make_model("CrostonSBA", FREQ), [2, 0, 4], 1)  # intervals 1, 2 -> 1.1
    np.testing.assert_allclose(one_gap[MEAN], 0.95 * 2.2 / 1.1)


def test_when_tsb_then_rate_is_smoothed_probability_times_size():
    # Probability smoothed every step from 1; size smoothed at each demand from 2.
    y = np.array([2.0, 0.0, 5.0])
    p = [1.0, 0.9, 0.9 + 0.1 * (1 - 0.9)]
    z = [2.0, 2.0 + 0.1 * (5 - 2)]
    rate, fitted = tsb(y, 0.1, 0.1)
    assert rate == pytest.approx(p[2] * z[1])
    np.testing.assert_allclose(fitted, [np.nan, p[0] * z[0], p[1] * z[0]])
    out = forecast_one(make_model("TSB", FREQ), y.tolist(), 2)
    np.testing.assert_allclose(out[MEAN], p[2] * z[1])


def test_when_compared_with_statsforecast_then_croston_sba_and_tsb_agree():
    from statsforecast.models import TSB as SfTSB
    from statsforecast.models import CrostonSBA as SfCrostonSBA

    rng = np.random.default_rng(3)
    y = (rng.random(200) < 0.2) * rng.integers(1, 10, 200).astype(np.float64)
    assert croston(y, 0.1, 0.95)[0] == pytest.approx(SfCrostonSBA().forecast(y, 1)["mean"][0])
    assert tsb(y, 0.2, 0.3)[0] == pytest.approx(SfTSB(alpha_d=0.2, alpha_p=0.3).forecast(y, 1)["mean"][0])


def test_when_npts_weights_then_they_follow_the_gluonts_exponential_kernel():
    # Step T = L + h draws t with weight exp(-alpha |T - t| / (L + H - 1)).
    n, horizon, alpha = 5, 3, 2.0
    weights = npts_weights(n, n, alpha / (n + horizon - 1), 1, True)
    expected = np.exp(-alpha * (n - np.arange(n)) / (n + horizon - 1))
    np.testing.assert_allclose(weights / weights.sum(), expected / expected.sum())
    seasonal = npts_weights(n + 2, n + 2, 0.1, 3, True)
    assert np.flatnonzero(seasonal).tolist() == [1, 4]
    assert npts_weights(4, 4, 0.1, 1, False).tolist() == [1, 1, 1, 1]


def test_when_npts_samples_then_values_come_from_history_in_kernel_proportion():
    y = np.array([0.0, 1.0])
    samples = npts_sample_paths(y, 1, 40_000, np.random.default_rng(0), alpha=1.0)
    # Lags 2 and 1 over L + H - 1 = 2: P(last value) = e^-0.5 / (e^-0.5 + e^-1).
    assert samples.mean() == pytest.approx(np.exp(-0.5) / (np.exp(-0.5) + np.exp(-1.0)), abs=0.01)
    paths = npts_sample_paths(np.arange(10.0), 5, 100, np.random.default_rng(1), alpha=1.0)
    assert set(np.unique(paths)) <= set(np.arange(10.0))


# ---- accuracy ceilings on fixed data -----------------------------------------------------------
def holdout_mae(name: str, series: dict[str, np.ndarray], horizon: int = 14, **overrides: object) -> float:
    """Mean absolute error of the forecast of the last `horizon` points of every series."""
    history = frame({k: v[:-horizon] for k, v in series.items()})
    actual = frame(series).groupby(ITEM_ID).tail(horizon)
    forecast = build(name, **overrides).fit(history, SPEC, horizon).predict(history)
    both = forecast.merge(actual, on=[ITEM_ID, TIMESTAMP], validate="one_to_one")
    assert len(both) == horizon * len(series)
    return float(np.mean(np.abs(both[MEAN] - both[TARGET])))


def test_when_series_is_noise_free_seasonal_then_seasonal_naive_and_npts_are_exact():
    pattern = np.array([3.0, 5.0, 9.0, 4.0, 6.0, 12.0, 1.0])
    series = {"a": np.tile(pattern, 10), "b": 2 * np.tile(pattern, 9)}
    assert holdout_mae("SeasonalNaive", series) == pytest.approx(0.0, abs=1e-9)
    assert holdout_mae("NPTS", series) == pytest.approx(0.0, abs=1e-9)


TREND = {"trend": 10.0 + 2.0 * np.arange(80) + np.random.default_rng(5).normal(0, 0.5, 80)}


@pytest.mark.parametrize(
    ("name", "ceiling"), [("AutoETS", 1.1), ("AutoARIMA", 0.6), ("AutoTheta", 0.6), ("MSTL", 1.1)]
)
def test_when_series_is_a_linear_trend_then_trend_models_stay_below_ceiling(name, ceiling):
    # Noise 0.5; Naive is 15 off on average here (2 per step over 14 steps). Ceilings are
    # about 1.25 times the error measured when they were set.
    assert holdout_mae(name, TREND) < ceiling


SEASONAL_TREND = {
    f"s{i}": 30 + 0.2 * np.arange(126) + 5 * np.sin(2 * np.pi * np.arange(126) / 7 + i) + noise
    for i, noise in enumerate(np.random.default_rng(11).normal(0, 1.0, (3, 126)))
}
# Noise 1.0, a weekly cycle of amplitude 5 and a trend of 0.2 per day; ceilings are about 1.25
# times the error measured when they were set (NPTS is near-climatological on a trend, like
# GluonTS's), so a regression shows up and noise does not.
CEILINGS = {
    "Naive": 5.5,
    "SeasonalNaive": 2.8,
    "Average": 16.0,
    "NPTS": 14.0,
    "CrostonSBA": 8.0,
    "TSB": 5.5,
    "AutoETS": 0.95,
    "AutoARIMA": 1.0,
    "AutoTheta": 1.7,
    "MSTL": 1.0,
    "MSTLETS": 0.95,
    "DynamicRegression": 1.15,
    "DeepAR": 6.1,  # after the 40 short batches of FAST; 4.9 measured
    "CNNQR": 8.1,  # same; 6.5 measured
    "Prophet": 1.5,
    "LightGBM": 1.55,  # 1.23 measured (direct, detrend "auto"; recursive 1.15)
    # 1.86 measured: trees on lags a horizon back and one scale per series do not continue a
    # trend past its history (the per-origin LightGBM's trend line does); the ensemble weighs them.
    "LightGBMHorizonLags": 2.3,
}


@pytest.mark.parametrize("name", NAMES)
def test_when_series_is_seasonal_with_trend_then_error_stays_below_the_ceiling(name):
    assert holdout_mae(name, SEASONAL_TREND) < CEILINGS[name]


def test_when_demand_is_intermittent_then_croston_sba_and_tsb_forecast_the_demand_rate():
    # 100 series with demand on 20% of days, sizes uniform on 1..9: the true rate is 1.0.
    # One series' forecast is noisy (an EWMA), but SBA and TSB are nearly unbiased on average,
    # while plain Croston (no correction) over-forecasts.
    rng = np.random.default_rng(7)
    n_series, n = 100, 600
    values = (rng.random((n_series, n)) < 0.2) * rng.integers(1, 10, (n_series, n)).astype(np.float64)
    panel = frame({f"i{k}": v for k, v in enumerate(values)})
    means = {}
    for name in ("CrostonSBA", "TSB"):
        forecast = make_model(name, FREQ).fit(panel, SPEC, 3).predict(panel)
        means[name] = forecast[MEAN].mean()
        assert (forecast["p90"] > forecast[MEAN]).all() and (forecast["p10"] >= 0).all()
    assert means["CrostonSBA"] == pytest.approx(1.0, rel=0.05)
    assert means["TSB"] == pytest.approx(1.0, rel=0.06)
    assert np.mean([croston(v, 0.1)[0] for v in values]) > means["CrostonSBA"]


def test_when_demand_is_regular_then_croston_and_tsb_reach_their_steady_state():
    # Demand 4 every fourth day. Croston: size 4 over interval 4, times 0.95. TSB just after a
    # demand: p = alpha / (1 - (1 - alpha)^4), the fixed point of one cycle of smoothing.
    regular = np.tile([0.0, 0.0, 0.0, 4.0], 50).tolist()
    croston_out = forecast_one(make_model("CrostonSBA", FREQ), regular, 2)
    np.testing.assert_allclose(croston_out[MEAN], 0.95)
    tsb_out = forecast_one(make_model("TSB", FREQ), regular, 2)
    np.testing.assert_allclose(tsb_out[MEAN], 4 * 0.1 / (1 - 0.9**4), rtol=1e-6)
