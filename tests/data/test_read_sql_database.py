"""`read_sql(query, url)` and `--sql-url`: the demo split into tables of a SQL database.

SQLite stands in for PostgreSQL here (the same SQLAlchemy path); the forecasts from the joined
query must equal those from the joined file.
"""

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tidecast.cli.main import app
from tidecast.data.demo import generate
from tidecast.data.sql_io import read_sql
from tidecast.errors import DataError

runner = CliRunner()
QUERY = """
SELECT s.item_id, s.timestamp, s.target_value, p.promotion, i.category
FROM sales AS s
JOIN promotions AS p ON p.item_id = s.item_id AND p.timestamp = s.timestamp
JOIN items AS i ON i.item_id = s.item_id
ORDER BY s.item_id, s.timestamp
"""


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> tuple[str, Path]:
    root = tmp_path_factory.mktemp("db")
    frame = generate(n_items=3, seed=7)
    frame = frame[frame["timestamp"] >= "2023-03-01"]
    frame[["item_id", "timestamp", "target_value", "promotion", "category"]].to_csv(
        root / "joined.csv", index=False
    )
    url = f"sqlite:///{root / 'shop.db'}"
    engine = sa.create_engine(url)
    frame[["item_id", "timestamp", "target_value"]].to_sql("sales", engine, index=False)
    frame[["item_id", "timestamp", "promotion"]].to_sql("promotions", engine, index=False)
    frame[["item_id", "category"]].drop_duplicates().to_sql("items", engine, index=False)
    engine.dispose()
    return url, root


def test_when_the_query_joins_tables_then_the_rows_are_the_joined_file(database):
    url, root = database
    got = read_sql(QUERY, url)
    expected = pd.read_csv(root / "joined.csv").sort_values(["item_id", "timestamp"], ignore_index=True)
    got["timestamp"] = pd.to_datetime(got["timestamp"]).dt.strftime("%Y-%m-%d")
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_when_train_reads_the_database_then_forecasts_equal_the_joined_file(database):
    url, root = database
    options = ["--horizon", "5", "--target-col", "target_value", "--models", "SeasonalNaive,AutoTheta"]
    options += ["--backtest-windows", "1", "--past-covariates", "promotion", "--static-columns", "category"]
    from_file = runner.invoke(app, ["train", str(root / "joined.csv"), *options, "--out", str(root / "a")])
    assert from_file.exit_code == 0, from_file.output
    from_db = runner.invoke(
        app, ["train", "--sql", QUERY, "--sql-url", url, *options, "--out", str(root / "b")]
    )
    assert from_db.exit_code == 0, from_db.output
    pd.testing.assert_frame_equal(
        pd.read_csv(root / "a" / "forecasts.csv"), pd.read_csv(root / "b" / "forecasts.csv")
    )


def test_when_the_query_fails_then_a_data_error_names_it(database):
    url, _ = database
    with pytest.raises(DataError, match=r"the SQL query failed: .*no such table"):
        read_sql("SELECT * FROM nope", url)
    result = runner.invoke(app, ["train", "--sql-url", url, "--horizon", "3", "x.csv"])
    assert result.exit_code == 2 and "--sql-url needs --sql" in result.output
