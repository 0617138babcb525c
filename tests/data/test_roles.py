"""Undeclared columns get the role their values show (`data.roles`), as a SageMaker job uses them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tidecast.data.roles import Roles, infer_roles


def panel() -> pd.DataFrame:
    """Two stores x two products, four days of sales; store s1's rows run two days ahead with
    the sales empty and the promotion planned."""
    rows = []
    for store in ("s1", "s2"):
        for product, category in (("p1", "pasta"), ("p2", "sauce")):
            days = 6 if store == "s1" else 4
            for d in range(days):
                rows.append(
                    {
                        "Store": store,
                        "Product": product,
                        "Date": f"2024-01-0{d + 1}",
                        "Sales": float(10 + d) if d < 4 else np.nan,
                        "Promo": float(d % 2),
                        "Price": 2.0 + 0.1 * d if d < 4 else np.nan,
                        "Category": category,
                        "Size": 100 if store == "s1" else 250,
                        "Notes": np.nan,
                        "Declared": 1.0,
                    }
                )
    return pd.DataFrame(rows)


def test_each_undeclared_column_gets_the_role_its_values_show() -> None:
    roles = infer_roles(panel(), ["Store", "Product"], "Date", "Sales", declared=["Declared"])
    assert roles == Roles(known=["Promo"], static=["Category", "Size"], unused=["Price"], empty=["Notes"])
    assert roles.note() == (
        "the data's other columns, by the role their values show: known covariates (values ahead in "
        "the data) ['Promo']; static attributes (one value per item) ['Category', 'Size']; left out, "
        "as they vary over time with no values ahead (add rows after each item's last date with the "
        "target empty to use them as known covariates) ['Price']; left out (no values) ['Notes']"
    )


def test_without_rows_ahead_a_time_varying_column_is_left_out_not_read_as_known() -> None:
    history = panel().dropna(subset=["Sales"])
    roles = infer_roles(history, ["Store", "Product"], "Date", "Sales")
    assert (roles.known, roles.unused) == ([], ["Promo", "Price"])
    assert roles.static == ["Category", "Size", "Declared"]


def test_an_item_key_of_one_column_and_nothing_undeclared() -> None:
    frame = pd.DataFrame({"item_id": ["a", "a"], "timestamp": ["2024-01-01", "2024-01-02"], "target": [1, 2]})
    roles = infer_roles(frame, ["item_id"], "timestamp", "target")
    assert roles == Roles() and roles.note() is None
