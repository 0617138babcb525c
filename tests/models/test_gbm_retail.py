"""The global LightGBM on a messy store panel (`retail_panel`): closures, gaps, promotions,
scales from 10 to 10^4, returns. It must beat SeasonalNaive clearly on the held-out 48 days
whether the missing months arrive as zeros or as missing cells, forecast closed days as 0,
and never learn from (or scale by) what is not demand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from retail_panel import HORIZON, KNOWN, SPEC, split, store_panel

from tidecast.data.prepare import prepare
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP, DatasetSpec
from tidecast.metrics import wql
from tidecast.models.baseline import SeasonalNaive
from tidecast.models.gbm import LightGBM
from tidecast.models.gbm_closed import closure_rules
from tidecast.models.gbm_features import FeatureLayout, extend, origin_norm
from tidecast.models.gbm_runtime import lightgbm_threads, run_params
from tidecast.models.gbm_windows import Windows

QUANTILES = (0.1, 0.5, 0.9)
PANEL = store_panel(n_stores=20)
HISTORY, TEST = split(PANEL)


def held_out_wql(model, history: pd.DataFrame) -> tuple[float, pd.DataFrame]:
    forecast = model.predict(history, future=TEST[[ITEM_ID, TIMESTAMP, *KNOWN]], quantiles=QUANTILES)
    both = TEST.merge(forecast, on=[ITEM_ID, TIMESTAMP], how="left")
    return wql(both[TARGET].to_numpy(), both[["p10", "p50", "p90"]].to_numpy(), QUANTILES), both


@pytest.fixture(scope="module", params=["zero", "none"])
def fitted(request):
    history = prepare(HISTORY, "D", filling={"target": {"middlefill": request.param}}).panel
    model = LightGBM(n_jobs=1, max_rows=30_000).fit(history, SPEC, HORIZON)
    return request.param, history, model


@pytest.mark.slow
def test_when_stores_close_gap_and_promote_then_lightgbm_beats_seasonal_naive_clearly(fitted):
    fill, history, model = fitted
    gbm, _ = held_out_wql(model, history)
    naive, _ = held_out_wql(SeasonalNaive(season_length=7).fit(history, SPEC, HORIZON), history)
    # Measured: 0.052 / 0.054 (middlefill zero / none) against SeasonalNaive's 0.251 / 0.277.
    # The model before the closure rule and series level scored 0.059 / 0.065 here: this panel
    # does not reproduce issue 10's 0.81, so this guards the traits, not that failure.
    assert np.isfinite(gbm) and gbm < 0.5 * naive, (fill, gbm, naive)


@pytest.mark.slow
def test_when_open_is_zero_then_the_forecast_and_its_bands_are_exactly_zero(fitted):
    _, history, model = fitted
    assert ("open", 0.0) in model.closed_rules_
    assert ("promo", 0.0) not in model.closed_rules_ and ("promo", 1.0) not in model.closed_rules_
    _, both = held_out_wql(model, history)
    shut = both["open"] == 0
    assert shut.any() and (both.loc[shut, ["mean", "p10", "p50", "p90"]] == 0).all().all()
    assert (both.loc[~shut, "mean"] > 0).all()


def test_when_a_covariate_value_always_sells_nothing_then_it_becomes_a_closure_rule():
    target = np.array([5.0, 0.0, 7.0, 0.0, 0.0, 6.0, 0.0, 0.0, 0.0, 8.0, np.nan, 0.0])
    shut = np.array([0, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 0], dtype=np.float64)
    promo = np.array([1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0], dtype=np.float64)
    rules = closure_rules(target, {"shut": shut, "promo": promo}, ["shut", "promo"])
    assert rules == (("shut", 1.0),)  # shut=0 sells; promo=0 has sales on other rows
    assert closure_rules(np.where(shut == 1, 1.0, target), {"shut": shut}, ["shut"]) == ()


def layout(scaling: str) -> FeatureLayout:
    return FeatureLayout(
        horizon=7, lags=(1, 7), windows=(7, 28), phase_periods=(7,), scale_window=28, trend_window=56,
        scaling=scaling, fourier_periods=(), fourier_order=0, known=(), indicators=(), past=(), static=(),
        categories={},
    )  # fmt: skip


@pytest.mark.parametrize("scaling", ["spread", "level"])
@pytest.mark.parametrize("gap", [np.nan, 0.0])
def test_when_sales_resume_after_a_gap_then_their_scaled_values_stay_moderate(scaling, gap):
    # 100 days at ~1,000, 60 days missing (or zero-filled), then sales again for 10 days.
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(1000, 100, 100), np.full(60, gap), rng.normal(1000, 100, 10)])
    from tidecast.data.arrays import SeriesArrays

    data = SeriesArrays(
        item_ids=np.array(["a"]),
        values=values,
        indptr=np.array([0, len(values)]),
        timestamps=pd.date_range("2020-01-01", periods=len(values), freq="D").to_numpy(),
        freq="D",
    )
    ext = extend(data, layout(scaling))
    origins = np.arange(150, 170)  # inside and just after the gap
    location, scale = origin_norm(ext, Windows(ext.values), origins, layout(scaling))
    scaled = (values[origins] - location) / scale
    # Before the fix the first sales after the gap scaled to ~50 (2% of the level as spread);
    # a zero-filled gap partly inside the level's window still gives ~8 (`series_level`).
    assert np.all(np.abs(scaled[np.isfinite(scaled)]) < (5 if np.isnan(gap) else 10)), scaled


def test_when_missing_cells_lie_in_the_history_then_they_are_never_labels_and_lags_over_them_are_nan():
    rng = np.random.default_rng(1)
    n = 120
    frame = pd.DataFrame(
        {
            ITEM_ID: "a",
            TIMESTAMP: pd.date_range("2020-01-01", periods=n, freq="D"),
            TARGET: 100 + 10 * np.sin(np.arange(n) * 2 * np.pi / 7) + rng.normal(0, 1, n),
        }
    )
    frame.loc[40:59, TARGET] = np.nan
    model = LightGBM(n_jobs=1, max_rounds=20, min_data_in_leaf=5)
    model.fit(frame, DatasetSpec(freq="D"), 7)
    ext = extend(model._arrays(frame), model.layout_)
    origins, steps, _ = model._sample(ext)
    assert np.isfinite(ext.values[origins + steps - 1]).all()
    forecast = model.predict(frame)
    assert forecast["mean"].notna().all()
    from tidecast.models.gbm_features import calendar_frame, feature_rows

    x, _, _ = feature_rows(
        ext, calendar_frame(ext, model.spec_, model.layout_), model.layout_, np.array([61]), np.array([1])
    )
    assert np.isnan(x.loc[0, "lag_2"]) and np.isfinite(x.loc[0, "lag_1"])  # day 59 missing, day 60 seen


def test_when_n_jobs_is_given_then_it_is_obeyed_and_otherwise_workers_get_one_and_others_the_free_cores(
    monkeypatch,
):
    import tidecast.models.gbm_runtime as runtime

    assert lightgbm_threads(3) == 3
    monkeypatch.setattr(runtime, "default_jobs", lambda: 8)
    for free, threads in [(7.9, 8), (8.0, 8), (6.85, 7), (6.7, 6), (0.3, 1), (0.0, 1)]:
        monkeypatch.setattr(runtime, "free_cores", lambda cores, free=free: free)
        assert lightgbm_threads(None) == threads, free
    monkeypatch.setattr(runtime.multiprocessing, "parent_process", lambda: object())
    assert lightgbm_threads(None) == 1


def test_when_the_machine_idles_then_free_cores_reads_the_idle_share_of_the_allowed_cores(monkeypatch):
    import tidecast.models.gbm_runtime as runtime

    # /proc/stat: user nice system idle iowait irq softirq steal guest guest_nice (jiffies)
    stat_samples = [
        [
            "cpu  200 0 100 1600 100 0 0 0 0 0",
            "cpu0 100 0 50 800 50 0 0 0 0 0",
            "cpu1 100 0 50 800 50 0 0 0 0 0",
        ],
        [
            "cpu  290 0 120 1700 110 0 0 0 0 0",
            "cpu0 130 0 60 900 60 0 0 0 0 0",
            "cpu1 160 0 60 800 50 0 0 0 0 0",
        ],
    ]
    samples = iter(stat_samples)

    class Stat:
        def __init__(self, lines):
            self.lines = [line + "\n" for line in lines] + ["intr 1 2 3\n"]

        def __enter__(self):
            return iter(self.lines)

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(runtime.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(runtime, "open", lambda *a, **k: Stat(next(samples)), raising=False)
    monkeypatch.setattr(runtime.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    # core 0 only: 150 jiffies passed, 110 idle (idle +100, iowait +10); core 1 was busy
    assert runtime.free_cores(1) == 110 / 150

    samples = iter(stat_samples)
    monkeypatch.setattr(runtime.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    # both cores: 220 jiffies passed (110 a core), 110 idle: 2 x 110 / 220
    assert runtime.free_cores(2) == 2 * 110 / 220

    def no_proc(*args, **kwargs):
        raise OSError("no /proc here")

    monkeypatch.setattr(runtime, "open", no_proc, raising=False)
    monkeypatch.setattr(runtime.os, "getloadavg", lambda: (1.5, 1.0, 1.0))
    assert runtime.free_cores(4) == 2.5


def test_when_histograms_are_built_row_wise_then_the_trees_are_the_col_wise_ones():
    # The run settings force row-wise histograms (faster at one or two threads); the sums, and
    # so every split and leaf, must be those of col-wise ones on dense and sparse features.
    import lightgbm as lgb

    rng = np.random.default_rng(0)
    x = np.column_stack([rng.normal(size=3000), rng.integers(0, 7, 3000), rng.random((3000, 6)) < 0.03])
    y = x[:, 0] * 2 + x[:, 1] + 5 * x[:, 2] + rng.normal(size=3000)
    params = {**run_params(1, 0), "objective": "quantile", "alpha": 0.9, "max_bin": 63}
    assert params["force_row_wise"] is True and "force_col_wise" not in params
    assert run_params(32, 0)["force_col_wise"] is True and "force_row_wise" not in run_params(32, 0)
    col = {k: v for k, v in params.items() if k != "force_row_wise"} | {"force_col_wise": True}
    fitted = [lgb.train(p, lgb.Dataset(x, y, params=p), num_boost_round=30).predict(x) for p in (params, col)]
    np.testing.assert_allclose(fitted[0], fitted[1], rtol=1e-9, atol=1e-9)


def test_when_a_new_item_is_too_short_then_its_fallback_is_the_mean_of_its_open_days():
    # "a" teaches the closure rule (closed Sundays sell 0); "new" has 6 days, the last closed.
    days = pd.date_range("2023-01-02", periods=126, freq="D")  # a Monday
    open_ = (days.dayofweek != 6).astype(np.int8)
    a = pd.DataFrame({ITEM_ID: "a", TIMESTAMP: days, TARGET: 100.0 * open_, "open": open_})
    new_days = days[-6:]  # Tuesday to Sunday
    new = pd.DataFrame(
        {ITEM_ID: "new", TIMESTAMP: new_days, TARGET: [100.0, 300.0, 90.0, 110.0, 50.0, 0.0], "open": 1}
    )
    new.loc[5, "open"] = 0
    history = pd.concat([a, new], ignore_index=True)
    model = LightGBM(n_jobs=1, max_rounds=20, min_data_in_leaf=5)
    model.fit(history, DatasetSpec(freq="D", known_covariates=("open",)), 7)
    ahead = pd.date_range(days[-1] + pd.Timedelta(days=1), periods=7, freq="D")
    future = pd.DataFrame(
        {
            ITEM_ID: np.repeat(["a", "new"], 7),
            TIMESTAMP: np.tile(ahead, 2),
            "open": np.tile(ahead.dayofweek != 6, 2),
        }
    ).astype({"open": np.int8})
    forecast = model.predict(history, future=future, quantiles=QUANTILES).set_index([ITEM_ID, TIMESTAMP])
    assert forecast.attrs["fallback_items"] == ["new"]
    got = forecast.loc["new"]
    sunday = got.index.dayofweek == 6
    # The last value (a closed Sunday's 0) used to be repeated; now (100+300+90+110+50)/5.
    np.testing.assert_allclose(got.loc[~sunday, "mean"], 130.0)
    assert (got.loc[sunday, ["mean", "p10", "p50", "p90"]] == 0).all().all()
