"""A shared flag's lift per series (`gbm_features.flag_lift`): exact ratios, which flags get
it, and that both global models read it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP, DatasetSpec
from tidecast.models.gbm import LightGBM
from tidecast.models.gbm_features import flag_lift, shared_flags
from tidecast.models.gbm_lagged import HorizonLagLightGBM


def test_when_a_series_sells_double_on_its_flag_days_then_its_lift_is_2_once_3_days_of_each_are_seen():
    values = np.array([10.0, 20.0, 10.0, 20.0, 10.0, 20.0, 10.0, np.nan, 30.0])
    flags = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0])
    start = np.zeros(4, dtype=np.int64)
    end = np.array([5, 6, 8, 9])
    # [0, 5): two flag days; [0, 6): 3 and 3; [0, 8): the missing day counts for nothing;
    # [0, 9): 20, 20, 20, 30 against 10 x 4.
    np.testing.assert_allclose(flag_lift(values, flags, start, end), [np.nan, 2.0, 2.0, 2.25])
    # A window from the second position: [1, 6) holds 3 flag days but 2 others; [1, 7) 3 and 3.
    np.testing.assert_allclose(flag_lift(values, flags, np.array([1, 1]), np.array([6, 7])), [np.nan, 2.0])


def test_when_every_series_has_the_same_flag_on_each_date_then_it_is_shared():
    arrays = SeriesArrays(
        item_ids=np.array(["a", "b"]),
        values=np.ones(5),
        indptr=np.array([0, 3, 5]),
        timestamps=pd.to_datetime(
            ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-02", "2024-01-03"]
        ).values,
        freq="D",
        covariates={
            "holiday": np.array([0.0, 1.0, 0.0, 1.0, 0.0]),
            "promo": np.array([0.0, 1.0, 0.0, 0.0, 0.0]),  # a has it on the 2nd, b not
            "gappy": np.array([1.0, np.nan, 0.0, 0.0, 0.0]),  # unknown cells are no disagreement
        },
    )
    assert shared_flags(arrays, ["holiday", "promo", "gappy"]) == ("holiday", "gappy")


def panel() -> pd.DataFrame:
    """Eight stores over 300 days: a public holiday (every tenth day, every store) lifts each
    store by its own factor; promotions are each store's own."""
    rng = np.random.default_rng(0)
    days = pd.date_range("2023-01-01", periods=300, freq="D")
    holiday = (np.arange(300) % 10 == 0).astype(float)
    frames = []
    for i in range(8):
        promo = (rng.random(300) < 0.1).astype(float)
        sales = 100 * (1 + 0.2 * promo) * np.where(holiday == 1, 0.5 + 0.25 * i, 1.0)
        frames.append(
            pd.DataFrame(
                {ITEM_ID: f"s{i}", TIMESTAMP: days, TARGET: sales, "holiday": holiday, "promo": promo}
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_when_a_holiday_is_shared_and_a_promotion_is_not_then_only_the_holiday_gets_a_lift_column():
    spec = DatasetSpec(freq="D", known_covariates=("holiday", "promo"))
    fast = {"n_jobs": 1, "max_rows": 4000}
    for model in (LightGBM(max_rounds=50, **fast), HorizonLagLightGBM(n_jobs=1)):
        model.fit(panel(), spec, 7)
        assert "kc_holiday_lift" in model.features_
        assert "kc_promo_lift" not in model.features_


def test_when_lightgbm_is_explained_then_a_flags_lift_counts_for_the_flag():
    from tidecast.explain.gbm import feature_groups

    model = LightGBM(max_rounds=50, n_jobs=1, max_rows=4000)
    model.fit(panel(), DatasetSpec(freq="D", known_covariates=("holiday", "promo")), 7)
    groups = dict(zip(model.features_, feature_groups(model.features_, model.layout_), strict=True))
    assert groups["kc_holiday_lift"] == ("holiday", "covariate")
