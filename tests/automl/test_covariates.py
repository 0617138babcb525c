"""Covariates, static attributes and holidays through AutoForecaster: roles, joins, the future.

A test-only model that forecasts exactly 10 x the known covariate `promo` at each target
step shows where the values come from: in backtests from the data's own future rows, at
prediction from `future=`, aligned item by item and step by step.
"""

import numpy as np
import pandas as pd
import pytest

from tidecast import AutoForecaster
from tidecast.data.schema import DatasetSpec
from tidecast.errors import ConfigError, DataError
from tidecast.models import catalog
from tidecast.models.base import Forecaster, Prediction, Tags

DAYS, HORIZON = 60, 7


class PromoEcho(Forecaster):
    """Forecasts 10 x `promo` at every future step; records the static table it saw."""

    name = "PromoEcho"
    tags = Tags(scope="global", known_covariates=True, static_features=True, cost=0.0)

    def __init__(self, n_jobs: int | None = None) -> None:
        self.n_jobs = n_jobs

    def _fit(self, data, deadline):
        self.static_seen_ = data.static

    def _predict(self, data, future, quantiles, deadline):
        promo = future["promo"].to_numpy(dtype=np.float64).reshape(data.n_series, self.horizon_)
        mean = 10.0 * promo
        return Prediction(mean=mean, quantiles=np.repeat(mean[:, :, None], len(quantiles), axis=2))


@pytest.fixture(autouse=True)
def echo_model(monkeypatch):
    monkeypatch.setitem(catalog.CATALOG, "PromoEcho", PromoEcho)


def promo_panel(n_items: int = 3) -> pd.DataFrame:
    """Sales are exactly 10 x promo (a pseudo-random 0/1 pattern per item)."""
    frames = []
    for i in range(n_items):
        promo = ((np.arange(DAYS) * (i + 3)) % 5 == 0).astype(int)
        frames.append(
            pd.DataFrame(
                {
                    "sku": f"item{i}",
                    "date": pd.date_range("2024-01-01", periods=DAYS, freq="D"),
                    "sales": 10.0 * promo,
                    "promo": promo,
                    "price": 5.0 + i,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def future_promo(n_items: int = 3) -> pd.DataFrame:
    dates = pd.date_range("2024-01-01", periods=DAYS + HORIZON, freq="D")[DAYS:]
    return pd.DataFrame(
        {
            "sku": np.repeat([f"item{i}" for i in range(n_items)], HORIZON),
            "date": np.tile(dates, n_items),
            "promo": np.tile([1, 0, 0, 1, 0, 1, 1], n_items),
        }
    )


def make(**kwargs) -> AutoForecaster:
    options = dict(
        horizon=HORIZON,
        item_col="sku",
        timestamp_col="date",
        target_col="sales",
        models=["PromoEcho"],
        known_covariates=["promo"],
        backtest_windows=2,
        n_jobs=1,
    )
    options.update(kwargs)
    return AutoForecaster(**options)


def test_when_known_covariates_are_given_then_backtests_take_their_future_from_the_data():
    auto = make().fit(promo_panel())
    board = auto.leaderboard()
    echo = board[board["model"] == "PromoEcho"].iloc[0]
    # Sales are exactly 10 x promo, so a model fed the true future promo scores 0 on every window.
    assert echo["window_1_wql"] == 0.0 and echo["window_2_wql"] == 0.0
    assert auto.spec_.known_covariates == ("promo",)


def test_when_the_future_is_given_then_forecasts_follow_it_item_by_item():
    auto = make().fit(promo_panel())
    forecast = auto.predict(future=future_promo().sample(frac=1.0, random_state=0))  # any row order
    assert forecast["mean"].tolist() == [10.0, 0, 0, 10, 0, 10, 10] * 3
    assert forecast["date"].min() == pd.Timestamp("2024-03-01")


def test_when_the_future_is_missing_then_the_error_names_the_columns_and_items():
    auto = make().fit(promo_panel())
    with pytest.raises(DataError, match=r"known covariates \['promo'\].*--future.*3 items"):
        auto.predict()


def test_when_future_rows_are_missing_then_the_error_names_the_items():
    auto = make().fit(promo_panel())
    partial = future_promo().iloc[:-2]
    with pytest.raises(DataError, match=r"missing for 1 item \(e.g. \['item2'\]\)"):
        auto.predict(future=partial)


def test_when_the_future_lacks_a_known_column_then_the_error_names_it():
    auto = make().fit(promo_panel())
    with pytest.raises(DataError, match=r"lack column\(s\) \['promo'\]"):
        auto.predict(future=future_promo().drop(columns="promo"))


def test_when_futurefill_is_set_then_missing_future_values_are_filled():
    auto = make(filling={"promo": {"futurefill": "zero"}}).fit(promo_panel())
    forecast = auto.predict(future=future_promo().iloc[:-2])
    assert forecast["mean"].tolist()[-2:] == [0.0, 0.0]


def test_when_item_metadata_is_given_then_models_see_the_static_attributes():
    meta = pd.DataFrame({"sku": ["item0", "item1", "item2"], "region": ["N", "S", "N"], "size": [1, 2, 3]})
    auto = make(static_data=meta).fit(promo_panel())
    assert auto.spec_.static_columns == ("region", "size")
    seen = auto.members_["PromoEcho"].static_seen_
    assert seen.loc["item1", "region"] == "S" and seen.loc["item2", "size"] == 3


def test_when_item_metadata_misses_an_item_then_the_error_names_it():
    meta = pd.DataFrame({"sku": ["item0", "item1"], "region": ["N", "S"]})
    with pytest.raises(
        DataError,
        match=r"1 item has no row in the item metadata: \['item2'\]; give its \['region'\] in the item "
        r"metadata or as columns of the data",
    ):
        make(static_data=meta).fit(promo_panel())


def test_when_newer_history_brings_an_item_the_metadata_lacks_then_its_own_columns_serve():
    """A model trained with item metadata forecast no new item from fresher history, even when
    its rows carried the attributes: the table, read once, had no row for it."""
    meta = pd.DataFrame({"sku": ["item0", "item1", "item2"], "region": ["N", "S", "N"]})
    auto = make(static_data=meta).fit(promo_panel())
    newer = promo_panel(4).assign(region=lambda f: np.where(f["sku"] == "item3", "S", "ignored"))
    forecast = auto.predict(data=newer, future=future_promo(4))
    assert sorted(forecast["sku"].unique()) == ["item0", "item1", "item2", "item3"]
    with pytest.raises(DataError, match=r"1 item has no row in the item metadata: \['item3'\]"):
        auto.predict(data=promo_panel(4), future=future_promo(4))  # and no region of its own


def test_when_item_metadata_repeats_an_item_then_the_error_names_it():
    meta = pd.DataFrame({"sku": ["item0", "item0", "item1", "item2"], "region": ["N", "S", "S", "N"]})
    with pytest.raises(DataError, match=r"1 item on several rows: \['item0'\]"):
        make(static_data=meta).fit(promo_panel())


def test_when_a_static_column_varies_within_an_item_then_ingest_refuses_it():
    panel = promo_panel()
    with pytest.raises(DataError, match="static column 'promo'"):
        make(known_covariates=None, static_columns=["promo"]).fit(panel)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"known_covariates": ["promo"], "past_covariates": ["promo"]},
            "both a known covariate and a past covariate",
        ),
        ({"known_covariates": ["sales"]}, "it is the item, time or target column"),
        ({"known_covariates": [3]}, "must be names"),
    ],
)
def test_when_covariate_roles_clash_then_config_errors_say_so(options, message):
    with pytest.raises(ConfigError, match=message):
        make(**options).fit(promo_panel())


def test_when_holidays_and_events_are_given_then_the_spec_carries_them_and_survives_saving(tmp_path):
    events = pd.DataFrame({"date": ["2024-02-14", "2025-02-14"], "name": ["Valentine", "Valentine"]})
    auto = make(holidays="US,GB", events=events).fit(promo_panel())
    assert auto.spec_.holidays == ("US", "GB")
    assert auto.spec_.events == (("2024-02-14", "Valentine"), ("2025-02-14", "Valentine"))
    auto.save(tmp_path / "model")
    loaded = AutoForecaster.load(tmp_path / "model")
    assert loaded.spec_ == auto.spec_
    assert DatasetSpec.from_dict(auto.spec_.to_dict()) == auto.spec_
    pd.testing.assert_frame_equal(loaded.predict(future=future_promo()), auto.predict(future=future_promo()))


def test_when_a_univariate_model_is_chosen_then_no_future_is_needed():
    # Days without a promotion sell 1, not 0: no closed-day rule, which would need the plan.
    auto = make(models=["SeasonalNaive"]).fit(promo_panel().assign(sales=lambda d: d["sales"] + 1))
    assert len(auto.predict()) == 3 * HORIZON


def test_when_a_univariate_model_learnt_closed_days_then_it_needs_their_plan():
    auto = make(models=["SeasonalNaive"]).fit(promo_panel())  # promo = 0 always sold 0
    with pytest.raises(DataError, match=r"closed days \(every observed row with promo = 0 sold 0\)"):
        auto.predict()
    forecast = auto.predict(future=future_promo())
    assert (forecast["mean"].to_numpy() == 0.0).sum() == 3 * 3  # the 3 days a week without promo


def _no_backtest(*args, **kwargs):
    raise AssertionError("the backtest started before the future was checked")


def test_when_the_future_given_to_fit_lacks_a_covariate_then_fit_fails_before_the_backtest(monkeypatch):
    monkeypatch.setattr(AutoForecaster, "_backtest", _no_backtest)
    with pytest.raises(DataError, match=r"lack column\(s\) \['promo'\]"):
        make().fit(promo_panel(), future=future_promo().drop(columns="promo"))


def test_when_the_future_given_to_fit_misses_an_item_then_fit_fails_naming_it_before_the_backtest(
    monkeypatch,
):
    monkeypatch.setattr(AutoForecaster, "_backtest", _no_backtest)
    future = future_promo()
    with pytest.raises(DataError, match=r"missing for 1 item \(e.g. \['item1'\]\)"):
        make().fit(promo_panel(), future=future[future["sku"] != "item1"])


def test_when_the_future_given_to_fit_is_complete_then_fit_runs_and_keeps_nothing_of_it():
    auto = make().fit(promo_panel(), future=future_promo())
    assert auto.predict(future=future_promo())["mean"].tolist() == [10.0, 0, 0, 10, 0, 10, 10] * 3


def test_when_the_future_has_no_row_for_the_items_then_the_error_names_them_not_an_empty_table():
    auto = make().fit(promo_panel())
    with pytest.raises(DataError, match=r"missing for 3 items") as caught:
        auto.predict(future=future_promo().iloc[:0])
    assert "empty" not in str(caught.value)


def test_when_the_future_has_no_row_and_futurefill_is_set_then_the_forecast_uses_the_fill():
    auto = make(filling={"promo": {"futurefill": "zero"}}).fit(promo_panel())
    assert auto.predict(future=future_promo().iloc[:0])["mean"].tolist() == [0.0] * 21


def test_when_a_batch_chunk_has_no_future_for_an_item_then_the_failure_names_the_item_and_what_is_missing():
    from tidecast.batch.chunk import forecast_isolating

    auto = make().fit(promo_panel())
    future = future_promo()
    forecast, failed, _ = forecast_isolating(auto, promo_panel(), future[future["sku"] != "item1"], "sku")
    assert forecast is not None and sorted(forecast["sku"].unique()) == ["item0", "item2"]
    assert list(failed) == ["item1"]
    assert "known covariates ['promo'] are missing for 1 item (e.g. ['item1'])" in failed["item1"]
    assert "empty" not in failed["item1"]


def test_when_candidates_are_backtested_and_refitted_then_the_panel_becomes_arrays_once(monkeypatch):
    from tidecast.data.arrays import SeriesArrays

    built = []
    from_panel = SeriesArrays.from_panel.__func__

    def counting(cls, panel, *args, **kwargs):
        built.append(len(panel))
        return from_panel(cls, panel, *args, **kwargs)

    monkeypatch.setattr(SeriesArrays, "from_panel", classmethod(counting))
    auto = make(models=["PromoEcho", "Naive", "SeasonalNaive"], static_columns=["price"]).fit(promo_panel())
    assert built == [3 * DAYS]  # three candidates, two windows, the refit: one build of the whole panel
    echo = next(c.model for c in auto.report_.candidates if c.name == "PromoEcho")
    assert list(echo.static_seen_.columns) == ["price"]  # the shared arrays keep the static columns


def test_a_covariate_fitted_as_text_stays_text_when_a_future_holds_only_yes_and_no():
    """Weather fitted as categories ("Y", "N", "partly"): a future of "Y" and "N" alone would
    read as 1/0 (`_covariate`), which the fitted categories do not know."""
    days = pd.date_range("2024-01-01", periods=120, freq="D")
    weather = np.array(["Y", "N", "partly"])[np.arange(120) % 3]
    sales = np.where(weather == "Y", 20.0, 10.0) + np.arange(120) % 7
    frame = pd.DataFrame({"item_id": "a", "timestamp": days, "target": sales, "weather": weather})
    auto = AutoForecaster(horizon=6, models=["LightGBM"], known_covariates=["weather"], backtest_windows=1)
    auto.fit(frame)
    ahead = pd.date_range("2024-04-30", periods=6, freq="D")
    future = pd.DataFrame({"item_id": "a", "timestamp": ahead, "weather": ["Y", "N"] * 3})
    assert auto.prepare_future(future, auto.history_)["weather"].tolist() == ["Y", "N"] * 3
    forecast = auto.predict(future=future)
    assert forecast["mean"].iloc[0::2].mean() > forecast["mean"].iloc[1::2].mean() + 5


def test_a_category_fitted_as_text_stays_text_when_a_future_holds_only_digits():
    """Rossmann's StateHoliday: "0", "a", "b" in the history, only "0" over the horizon. The
    future's "0" was read as the number 0, a category the model never saw: 20 stores selling
    about 195 a day on ordinary days were forecast at 59."""
    rng = np.random.default_rng(0)
    days = pd.date_range("2023-01-01", periods=400, freq="D")
    frames = []
    for i in range(20):
        state = np.where(rng.random(400) < 0.08, rng.choice(["a", "b"], 400), "0")
        sales = np.where(state == "0", 100.0, 30.0) * (1 + 0.1 * i) + rng.normal(0, 2, 400)
        frames.append(pd.DataFrame({"item_id": f"s{i}", "timestamp": days, "target": sales, "state": state}))
    auto = AutoForecaster(horizon=7, models=["LightGBM"], known_covariates=["state"], backtest_windows=1)
    auto.fit(pd.concat(frames))
    ahead = pd.date_range("2024-02-05", periods=7)
    future = pd.DataFrame(
        {"item_id": np.repeat([f"s{i}" for i in range(20)], 7), "timestamp": np.tile(ahead, 20), "state": "0"}
    )
    assert auto.prepare_future(future, auto.history_)["state"].unique().tolist() == ["0"]
    assert auto.predict(future=future)["mean"].mean() == pytest.approx(195.0, rel=0.05)
    as_numbers = future.assign(state=0)  # a JSON row's {"state": 0}
    assert auto.prepare_future(as_numbers, auto.history_)["state"].unique().tolist() == ["0"]


def with_plan(frame: pd.DataFrame, plan: pd.DataFrame) -> pd.DataFrame:
    """The history and its future plan in one table, as an ERP exports it: the plan's sales empty."""
    return pd.concat([frame, plan.assign(sales=np.nan, price=5.0)], ignore_index=True)


def test_when_the_data_holds_the_plan_after_each_series_end_then_predict_uses_it():
    auto = make().fit(with_plan(promo_panel(), future_promo()), will_forecast=True)  # read at fit
    assert auto.predict()["mean"].tolist() == [10.0, 0, 0, 10, 0, 10, 10] * 3
    (note,) = [p for p in auto.report_.data_summary["problems"] if p["kind"] == "rows_ahead"]
    assert note["count"] == 3 * HORIZON
    assert (
        "known covariates over the horizon: the data's own 21 rows after its last target date"
        in auto.report_.notes
    )
    # A future given explicitly wins over the data's own.
    given = future_promo().assign(promo=1)
    assert auto.predict(future=given)["mean"].tolist() == [10.0] * 3 * HORIZON


def test_when_newer_history_holds_its_plan_then_predict_from_it_uses_that_plan():
    auto = make().fit(promo_panel())
    newer = with_plan(promo_panel(), future_promo().assign(promo=np.tile([0, 1, 0, 1, 0, 1, 0], 3)))
    assert auto.predict(newer)["mean"].tolist() == [0.0, 10, 0, 10, 0, 10, 0] * 3


def test_when_a_forecast_will_follow_and_no_future_exists_then_fit_fails_before_the_backtest(monkeypatch):
    monkeypatch.setattr(AutoForecaster, "_backtest", _no_backtest)
    with pytest.raises(DataError, match=r"known covariates \['promo'\] need their values over the 7"):
        make().fit(promo_panel(), will_forecast=True)


def test_when_the_plan_rows_hold_zero_sales_then_they_are_unobserved_and_still_the_plan():
    """`COALESCE(sales, 0)` over a calendar past the history: the plan's sales are 0, not empty."""
    selling = promo_panel().assign(sales=lambda f: f["sales"] + 5.0)  # every item sells every day
    written = with_plan(selling, future_promo()).fillna({"sales": 0.0})
    auto = make(known_covariates=["promo"]).fit(written)
    assert auto.predict()["mean"].tolist() == [10.0, 0, 0, 10, 0, 10, 10] * 3
    (note,) = [p for p in auto.report_.data_summary["problems"] if p["kind"] == "zero_tail"]
    assert note["message"].startswith("no series sold anything from 2024-03-01 to 2024-03-07")
    kept = make(filling={"sales": {"zeroruns": "keep"}}).fit(written)
    assert kept.history_["timestamp"].max() == pd.Timestamp("2024-03-07")  # the zeros stayed sales


def test_when_the_data_holds_a_partial_plan_then_a_backtest_ignores_it_and_predict_names_the_gap():
    plan = future_promo()
    partial = with_plan(promo_panel(), plan[plan["sku"] != "item2"])
    auto = make().evaluate(partial)  # no forecast: the plan is not read
    assert len(auto.leaderboard())
    fitted = make().fit(partial)
    with pytest.raises(DataError, match=r"missing for 1 item \(e.g. \['item2'\]\)"):
        fitted.predict()
