"""The filling key "*": settings for every covariate at once, each column's own on top."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from tidecast.data.filling import EVERY, Fill, resolve_filling
from tidecast.data.prepare import fill_future, prepare
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.errors import ConfigError, DataError

NUMERIC = {TARGET: True, "price": True, "promo": True, "state": False}


def day(n: int) -> pd.Timestamp:
    return pd.Timestamp("2021-01-01") + pd.Timedelta(days=n - 1)


def test_when_every_covariate_is_given_a_futurefill_then_each_gets_it_but_not_the_target() -> None:
    plans = resolve_filling({EVERY: {"futurefill": "median"}}, NUMERIC, flags=["promo"])
    assert plans["price"].futurefill == Fill("median")
    assert plans["promo"].futurefill == Fill("median")
    assert plans[TARGET].futurefill == Fill("none")
    # the other regions keep each column's default: a price its mean, a flag its median
    assert plans["price"].middlefill == Fill("mean") and plans["promo"].middlefill == Fill("median")


def test_when_a_column_has_its_own_setting_then_it_overrides_every_for_that_region_only() -> None:
    options = {EVERY: {"futurefill": "median", "middlefill": "zero"}, "price": {"futurefill": "max"}}
    plans = resolve_filling(options, NUMERIC)
    assert plans["price"].futurefill == Fill("max")
    assert plans["price"].middlefill == Fill("zero")
    assert plans["promo"].futurefill == Fill("median")
    assert plans[TARGET].middlefill == Fill("none")


def test_when_every_asks_a_statistic_then_text_columns_keep_their_default_and_take_a_value() -> None:
    plans = resolve_filling({EVERY: {"futurefill": "median"}}, NUMERIC)
    assert plans["state"].futurefill == Fill("none")
    plans = resolve_filling({EVERY: {"futurefill": "value", "futurefill_value": 0}}, NUMERIC)
    assert plans["state"].futurefill == Fill("value", "0")
    assert plans["price"].futurefill == Fill("value", 0.0)


def test_when_every_sets_the_targets_own_settings_then_it_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"zeroruns applies to the target, not to every covariate"):
        resolve_filling({EVERY: {"zeroruns": "keep"}}, NUMERIC)
    with pytest.raises(ConfigError, match=r"unknown futurefill method 'often'"):
        resolve_filling({EVERY: {"futurefill": "often"}}, NUMERIC)


def _history() -> pd.DataFrame:
    rows = [
        (item, day(d), 1.0, price, promo)
        for item, prices in (("a", (2.0, 4.0, 9.0)), ("b", (1.0, 1.0, 3.0)))
        for d, price, promo in zip((1, 2, 3), prices, (0.0, 1.0, 0.0), strict=True)
    ]
    return pd.DataFrame(rows, columns=[ITEM_ID, TIMESTAMP, TARGET, "price", "promo"])


def test_when_several_covariates_miss_future_values_then_the_error_suggests_every_and_it_works() -> None:
    history = _history()
    future = pd.DataFrame({ITEM_ID: ["a"], TIMESTAMP: [day(4)], "price": [5.0], "promo": [1.0]})
    with pytest.raises(DataError) as info:
        fill_future(future, history, "D", 2, ["price", "promo"])
    suggested = re.findall(r"\{\"\*\": \{.*?\}\}", str(info.value))
    assert suggested == ['{"*": {"futurefill": "median"}}']
    filled = fill_future(future, history, "D", 2, ["price", "promo"], json.loads(suggested[0]))
    by = filled.set_index([ITEM_ID, TIMESTAMP])
    assert by.loc[("a", day(4)), "price"] == 5.0  # given values stay
    assert by.loc[("a", day(5)), "price"] == 4.0  # item a's median price
    assert by.loc[("b", day(4)), "price"] == 1.0 and by.loc[("b", day(5)), "promo"] == 0.0


def test_when_every_sets_middlefill_then_prepare_fills_each_covariate_and_leaves_the_target() -> None:
    history = _history()
    gappy = history.drop(index=[1]).reset_index(drop=True)  # item a's day 2: target, price, promo
    prepared = prepare(gappy, freq="D", filling={EVERY: {"middlefill": "zero"}})
    a = prepared.panel[prepared.panel[ITEM_ID] == "a"].reset_index(drop=True)
    assert a["price"].tolist() == [2.0, 0.0, 9.0]
    assert a["promo"].tolist() == [0.0, 0.0, 0.0]
    assert np.isnan(a[TARGET].iloc[1])


def test_when_a_job_body_carries_every_and_missing_then_they_are_accepted_and_checked() -> None:
    from pydantic import ValidationError

    from tidecast.jobs.request import JobRequest

    body = {"data": "sales.csv", "horizon": 4}
    filling = {EVERY: {"futurefill": "median"}, "target": {"backfill": "missing"}}
    assert JobRequest.model_validate({**body, "filling": filling}).filling == filling
    with pytest.raises(ValidationError, match=r"unknown futurefill method 'often' for '\*'"):
        JobRequest.model_validate({**body, "filling": {EVERY: {"futurefill": "often"}}})
