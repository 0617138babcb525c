"""A table without the named columns: its columns in brief, and a wide table named as such."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from tidecast.data.column_hints import shown_columns, wide_columns, wide_hint
from tidecast.data.ingest import to_canonical
from tidecast.errors import DataError


def test_a_long_list_of_columns_is_cut_to_its_ends():
    assert shown_columns(["a", "b"]) == "['a', 'b']"
    names = [f"d_{i}" for i in range(1, 401)]
    assert shown_columns(names) == (
        "['d_1', 'd_2', 'd_3', 'd_4', 'd_5', 'd_6', 'd_7', 'd_8', 'd_9', 'd_10', ..., 'd_399', 'd_400'] (400 columns)"
    )


def test_columns_one_per_date_or_numbered_period_make_a_table_wide():
    dates = pd.date_range("2024-01-01", periods=10).strftime("%Y-%m-%d").tolist()
    assert wide_columns(["sku", *dates]) == (dates, "date")
    assert wide_columns(["id", "store", *(f"d_{i}" for i in range(1, 30))])[1] == "period"
    assert wide_columns(["week 1", *(f"week {i}" for i in range(2, 9))])[1] == "period"
    # A long table with numbered covariates, or too few dated columns, is not wide.
    assert wide_columns(["item", "date", "sales", *(f"promo_{i}" for i in range(1, 11))]) == ([], "")
    assert wide_columns(["sku", *dates[:5]]) == ([], "")
    assert wide_hint(["item_id", "timestamp", "target"]) == ""
    assert 'EXCLUDE (sku, "Store Name")' in wide_hint(["sku", "Store Name", *dates])


def test_a_wide_file_is_named_and_the_suggested_query_reads_it_long(tmp_path):
    dates = pd.date_range("2024-01-01", periods=30).strftime("%Y-%m-%d").tolist()
    wide = pd.DataFrame({"sku": ["a", "b"], **{d: [1.0, 2.0] for d in dates}})
    with pytest.raises(DataError) as info:
        to_canonical(wide, "sku", "timestamp", "target")
    message = str(info.value)
    assert "available columns: ['sku', '2024-01-01'," in message and "(31 columns)" in message
    assert "one column per date ('2024-01-01' to '2024-01-30', 30 columns)" in message
    assert "item_col=" not in message  # the naming hint does not fit a wide table
    query = message.split('--sql "')[1].split('"')[0]
    wide.to_csv(tmp_path / "wide.csv", index=False)
    long = duckdb.sql(query.replace("FILE", str(tmp_path / "wide.csv"))).df()
    panel, _ = to_canonical(long, "sku", "timestamp", "target")
    assert len(panel) == 60 and panel["target"].sum() == 90.0
