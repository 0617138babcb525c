"""The AutoML engine through its Python API, on small hand-built panels."""

import numpy as np
import pandas as pd
import pytest

from tidecast import AutoForecaster
from tidecast.automl import pruning
from tidecast.automl.artifact import MANIFEST, read_manifest
from tidecast.errors import ConfigError, ModelError
from tidecast.reports.run import build_report

FAST = ["SeasonalNaive", "Naive", "Average"]


def weekly_panel(n_items: int = 4, days: int = 120, seed: int = 0) -> pd.DataFrame:
    """Daily series that repeat the same week exactly, plus a level per item."""
    rng = np.random.default_rng(seed)
    week = np.array([10.0, 12, 14, 16, 18, 30, 25])
    frames = []
    for i in range(n_items):
        values = week[np.arange(days) % 7] * (i + 1) + rng.normal(0, 0.01, days)
        frames.append(
            pd.DataFrame(
                {
                    "sku": f"item{i}",
                    "date": pd.date_range("2024-01-01", periods=days, freq="D"),
                    "sales": values,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def make(**kwargs) -> AutoForecaster:
    options = dict(horizon=7, item_col="sku", timestamp_col="date", target_col="sales", models=FAST, n_jobs=1)
    options.update(kwargs)
    return AutoForecaster(**options)


def test_when_a_series_repeats_its_week_then_seasonal_naive_wins_and_forecasts_it():
    auto = make().fit(weekly_panel())
    board = auto.leaderboard()
    assert board.iloc[0]["model"] in ("SeasonalNaive", "WeightedEnsemble")
    assert auto.weights_ == {"SeasonalNaive": 1.0}
    forecast = auto.predict()
    assert list(forecast.columns) == ["sku", "date", "mean", "p10", "p50", "p90"]
    first = forecast[forecast["sku"] == "item0"]
    # The series repeats its week, so the forecast is exactly the last observed week.
    expected = weekly_panel()["sales"].to_numpy()[113:120]
    np.testing.assert_allclose(first["p50"].to_numpy(), expected, rtol=0, atol=1e-9)


def test_when_fitting_then_every_candidate_is_scored_on_every_window(monkeypatch):
    # SeasonalNaive is exact here: without a margin this wide the rest stop after window 1.
    monkeypatch.setattr(pruning, "MARGIN", float("inf"))
    auto = make(backtest_windows=3).fit(weekly_panel())
    board = auto.leaderboard()
    assert {"window_1_wql", "window_2_wql", "window_3_wql"} <= set(board.columns)
    assert set(board["model"]) == {*FAST, "WeightedEnsemble"} or set(board["model"]) == set(FAST)
    assert board["score"].is_monotonic_increasing
    assert len(auto.report_.windows) == 3


def test_when_the_metric_changes_then_the_leaderboard_uses_it():
    auto = make(metric="mase", backtest_windows=2).fit(weekly_panel())
    assert "window_2_mase" in auto.leaderboard().columns


def test_when_a_candidate_fails_then_it_is_skipped_not_fatal(monkeypatch):
    from tidecast.models.baseline import Average

    def broken(self, data, deadline):
        raise RuntimeError("boom")

    monkeypatch.setattr(Average, "_fit", broken)
    auto = make().fit(weekly_panel())
    board = auto.leaderboard().set_index("model")
    assert "boom" in board.loc["Average", "error"]
    assert "Average" not in auto.weights_


def test_when_saved_and_loaded_then_forecasts_are_identical(tmp_path):
    auto = make().fit(weekly_panel())
    path = auto.save(tmp_path / "model")
    manifest = read_manifest(path)
    assert manifest["task"]["horizon"] == 7
    assert manifest["data_fingerprint"] == auto.fingerprint()
    loaded = AutoForecaster.load(path)
    pd.testing.assert_frame_equal(loaded.predict(), auto.predict())


def test_when_a_model_file_is_altered_then_loading_refuses(tmp_path):
    path = make().fit(weekly_panel()).save(tmp_path / "model")
    payload = next(p for p in path.iterdir() if p.suffix == ".pkl")
    payload.write_bytes(payload.read_bytes() + b"tampered")
    with pytest.raises(ModelError, match="digest"):
        AutoForecaster.load(path)


def test_when_the_folder_is_not_a_model_then_loading_says_so(tmp_path):
    (tmp_path / MANIFEST).write_text('{"type": "something.else", "format_version": 1}')
    with pytest.raises(ModelError, match=r"something\.else"):
        AutoForecaster.load(tmp_path)


def test_when_predicting_from_newer_history_then_no_refit_happens_and_dates_follow():
    panel = weekly_panel(days=120)
    auto = make().fit(panel[panel["date"] < "2024-04-01"])
    members_before = {k: id(v) for k, v in auto.members_.items()}
    forecast = auto.predict(panel)
    assert forecast["date"].min() == panel["date"].max() + pd.Timedelta(days=1)
    assert {k: id(v) for k, v in auto.members_.items()} == members_before


def test_when_some_series_are_too_short_for_backtests_then_they_still_get_a_forecast():
    panel = weekly_panel(n_items=3)
    short = pd.DataFrame({"sku": "new", "date": pd.date_range("2024-04-20", periods=10), "sales": 5.0})
    auto = make().fit(pd.concat([panel, short], ignore_index=True))
    assert "new" in auto.report_.short_series
    forecast = auto.predict()
    assert forecast[forecast["sku"] == "new"]["mean"].notna().all()
    assert forecast["sku"].nunique() == 4


def test_when_no_series_is_long_enough_then_the_fallback_model_forecasts_everything():
    tiny = pd.DataFrame(
        {"sku": "a", "date": pd.date_range("2024-01-01", periods=6), "sales": [1.0, 2, 3, 4, 5, 6]}
    )
    auto = make().fit(tiny)
    assert auto.report_.best == "SeasonalNaive"
    assert auto.report_.notes
    assert len(auto.predict()) == 7


def test_when_options_are_invalid_then_config_errors_name_them():
    with pytest.raises(ConfigError, match="accuracy"):
        make(metric="accuracy").fit(weekly_panel())
    with pytest.raises(ConfigError, match="Oracle"):
        make(models=["Oracle"]).fit(weekly_panel())
    with pytest.raises(ConfigError, match="horizon"):
        make(horizon=0).fit(weekly_panel())


def test_when_the_time_limit_is_tiny_then_candidates_are_skipped_but_a_forecast_comes_out():
    auto = make(time_limit=1e-6).fit(weekly_panel())
    assert len(auto.predict()) == 4 * 7


def test_when_fitted_twice_with_the_same_seed_then_forecasts_are_identical():
    panel = weekly_panel()
    a = make(models=["NPTS", "SeasonalNaive"], seed=3).fit(panel).predict()
    b = make(models=["NPTS", "SeasonalNaive"], seed=3).fit(panel).predict()
    pd.testing.assert_frame_equal(a, b)


def test_when_every_backtest_actual_is_zero_then_fit_falls_back_instead_of_crashing():
    zeros = pd.DataFrame({"sku": "z", "date": pd.date_range("2024-01-01", periods=60), "sales": 0.0})
    auto = make().fit(zeros)
    assert auto.report_.best == "SeasonalNaive"
    assert (auto.predict()["mean"] == 0).all()


def test_when_a_model_fails_on_one_series_then_that_series_gets_the_fallback(monkeypatch):
    from tidecast.models.baseline import SeasonalNaive

    original = SeasonalNaive._forecast_series

    def flaky(self, state, y, horizon, quantiles):
        if y[-1] > 25:  # item2 and item3 end on 30 and 40
            raise RuntimeError("numerical trouble")
        return original(self, state, y, horizon, quantiles)

    monkeypatch.setattr(SeasonalNaive, "_forecast_series", flaky)
    model = make(models=["SeasonalNaive"]).fit(weekly_panel())
    forecast = model.predict()
    assert forecast["mean"].notna().all()
    assert len(forecast.attrs["fallback_items"]["SeasonalNaive"]) >= 1


@pytest.mark.parametrize("preset", ["fast", "medium"])
def test_when_a_holiday_country_is_unknown_then_fit_fails_before_any_work(preset, monkeypatch):
    def no_backtest(*args, **kwargs):
        raise AssertionError("the backtest started")

    monkeypatch.setattr(AutoForecaster, "_backtest", no_backtest)
    with pytest.raises(ConfigError, match="unknown holiday country 'XX'"):
        make(models=None, preset=preset, holidays="XX").fit(weekly_panel())


def yearly_weekly_panel(n_items: int = 4, weeks: int = 104, seed: int = 0) -> pd.DataFrame:
    """Two years of weekly series with a yearly (52-week) season and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(weeks)
    frames = [
        pd.DataFrame(
            {
                "sku": f"item{i}",
                "date": pd.date_range("2022-01-02", periods=weeks, freq="W"),
                "sales": 100 + 10 * i + 20 * np.sin(2 * np.pi * t / 52) + rng.normal(0, 2, weeks),
            }
        )
        for i in range(n_items)
    ]
    return pd.concat(frames, ignore_index=True)


def test_when_two_years_of_weeks_face_a_39_week_horizon_then_models_are_backtested_not_skipped():
    # The windows' histories hold 65 weeks, under two seasons: seasonal models fall back, not fail.
    models = ["SeasonalNaive", "Naive", "AutoETS", "AutoTheta", "MSTL"]
    auto = make(horizon=39, frequency="W", models=models).fit(yearly_weekly_panel())
    report = auto.report_
    assert report.backtest_plan["windows"] == 1
    assert report.backtest_plan["min_train_length"] == 59
    assert report.backtest_plan["series_excluded"] == 0
    assert report.short_series == []
    assert [c.name for c in report.candidates if c.error is None] == [
        "SeasonalNaive",
        "Naive",
        "AutoTheta",
        "MSTL",
        "AutoETS",
    ]
    assert any("1 window(s) of 39 steps" in note and "221 steps" in note for note in report.notes)
    assert report.ensemble_holdout["scored_on"].startswith("steps 20-39 of the only window")
    assert len(auto.predict()) == 4 * 39
    written = build_report(auto)
    assert written["backtest_plan"]["step"] == 39 and written["backtest_plan"]["needed_length"] == 98
    assert written["ensemble"]["scored_on"] == report.ensemble_holdout["scored_on"]
    assert written["ensemble"]["weighted_by"] == "wql"  # what the ensemble weights were fitted on


def test_when_two_years_of_weeks_face_a_52_week_horizon_then_a_short_window_scores_the_models():
    # 59 + 52 weeks do not fit in 104: one window scores the first 45 weeks of the horizon,
    # its known covariate carried on past the data; it was SeasonalNaive for every series.
    data = yearly_weekly_panel()
    data["promo"] = (data["date"].dt.month == 6).astype(float)
    models = ["SeasonalNaive", "Naive", "DynamicRegression"]
    auto = make(horizon=52, frequency="W", models=models, known_covariates=["promo"]).fit(data)
    report = auto.report_
    assert report.backtest_plan["windows"] == 1 and report.backtest_plan["scored_steps"] == 45
    assert [c.name for c in report.candidates if c.error is None] == models
    assert all(np.isfinite(c.score) for c in report.candidates)
    assert any("scores the first 45 steps of the horizon" in note for note in report.notes)
    last = data["date"].max()
    future = pd.DataFrame(
        [(f"item{i}", last + pd.Timedelta(weeks=k)) for i in range(4) for k in range(1, 53)],
        columns=["sku", "date"],
    )
    future["promo"] = (future["date"].dt.month == 6).astype(float)
    assert len(auto.predict(future=future)) == 4 * 52


def test_when_the_ensemble_is_on_the_leaderboard_then_it_shows_its_held_out_score_only():
    auto = make(backtest_windows=3, models=["Naive", "Average"]).fit(weekly_panel())
    board = auto.leaderboard().set_index("model")
    report = auto.report_
    assert np.isnan(board.loc["WeightedEnsemble", "window_1_wql"])
    assert np.isnan(board.loc["WeightedEnsemble", "window_2_wql"])
    held_out = report.ensemble_holdout["scores"]["WeightedEnsemble"]
    assert board.loc["WeightedEnsemble", "window_3_wql"] == pytest.approx(held_out)
    assert board.loc["WeightedEnsemble", "score"] == pytest.approx(held_out)
    # Every model's held-out column is its score on that same last window.
    for name in ("Naive", "Average"):
        assert board.loc[name, "heldout_wql"] == pytest.approx(board.loc[name, "window_3_wql"])
