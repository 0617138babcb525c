"""An item column of lists or structs, as a SQL query gives with string_split(sku, '-') left
without [1], is an error naming the column, not a traceback from deep inside numpy."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tidecast.cli.main import app
from tidecast.data.ingest import to_canonical
from tidecast.data.sql_io import read_sql
from tidecast.errors import DataError

SALES = "SELECT * FROM (VALUES ('s1-a', DATE '2024-01-01', 3.0), ('s1-a', DATE '2024-01-02', 4.0), " \
        "('s2-b', DATE '2024-01-01', 5.0)) AS t(sku, day, units)"  # fmt: skip


@pytest.mark.parametrize(
    ("key", "shown"),
    [("string_split(sku, '-')", "['s1', 'a']"), ("{'sku': sku}", "{'sku': 's1-a'}")],
)
def test_when_the_item_column_holds_lists_or_structs_then_the_error_names_it(key: str, shown: str):
    frame = read_sql(f"SELECT {key} AS item, day, units FROM ({SALES})")
    with pytest.raises(DataError) as info:
        to_canonical(frame, item_col="item", timestamp_col="day", target_col="units")
    assert str(info.value).startswith(
        f"column 'item' holds lists or structs, not one item id per row (3 rows, such as {shown})"
    )
    # a list's first element is one id per row
    first, _ = to_canonical(
        read_sql(f"SELECT string_split(sku, '-')[1] AS item, day, units FROM ({SALES})"),
        item_col="item", timestamp_col="day", target_col="units",
    )  # fmt: skip
    assert sorted(first["item_id"].unique()) == ["s1", "s2"]


def test_when_train_is_given_such_a_query_then_one_line_and_exit_2(tmp_path: Path):
    query = f"SELECT string_split(sku, '-') AS item_id, day AS timestamp, units AS target FROM ({SALES})"
    result = CliRunner().invoke(
        app, ["train", "--sql", query, "--horizon", "1", "--out", str(tmp_path / "run")]
    )
    assert result.exit_code == 2, result.output
    assert "column 'item_id' holds lists or structs" in " ".join(result.output.split())
    assert not (tmp_path / "run").exists()
    assert isinstance(result.exception, SystemExit)
