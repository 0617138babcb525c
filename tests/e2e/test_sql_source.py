"""`--sql`: the demo data split into sales, promotions and items tables, joined back by DuckDB.

The forecasts from the query must equal those from the joined file: the query is only another
way to hand over the same frame.
"""

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tidecast.cli.main import app
from tidecast.data.demo import generate

duckdb = pytest.importorskip("duckdb")
runner = CliRunner()

QUERY = """
SELECT s.item_id, s.timestamp, s.target_value, p.promotion, i.category, i.region
FROM '{root}/sales/*.parquet' AS s
JOIN '{root}/promotions.csv' AS p USING (item_id, timestamp)
JOIN '{root}/items.csv' AS i USING (item_id)
"""
OPTIONS = [
    "--horizon", "7", "--target-col", "target_value", "--models", "seasonalnaive,lightgbm",
    "--backtest-windows", "1", "--past-covariates", "promotion", "--static-columns", "category,region",
    "--jobs", "1",
]  # fmt: skip


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> Path:
    """The joined demo file, and the same rows as three tables (sales in two Parquet parts)."""
    root = tmp_path_factory.mktemp("sql")
    frame = generate(n_items=3, seed=4)
    frame = frame[frame["timestamp"] >= "2023-01-01"]
    joined = frame[["item_id", "timestamp", "target_value", "promotion", "category", "region"]]
    joined.to_csv(root / "joined.csv", index=False)
    (root / "sales").mkdir()
    sales = frame[["item_id", "timestamp", "target_value"]]
    half = len(sales) // 2
    sales.iloc[:half].to_parquet(root / "sales" / "part-0.parquet", index=False)
    sales.iloc[half:].to_parquet(root / "sales" / "part-1.parquet", index=False)
    frame[["item_id", "timestamp", "promotion"]].to_csv(root / "promotions.csv", index=False)
    frame[["item_id", "category", "region"]].drop_duplicates().to_csv(root / "items.csv", index=False)
    return root


def ok(args: list[str]) -> None:
    """Run the command line; it must succeed (its output is the failure's message)."""
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output


def test_when_train_reads_a_join_then_forecasts_equal_the_joined_files(tables):
    from_file = runner.invoke(
        app, ["train", str(tables / "joined.csv"), *OPTIONS, "--out", str(tables / "a")]
    )
    assert from_file.exit_code == 0, from_file.output
    query = QUERY.format(root=tables)
    from_sql = runner.invoke(app, ["train", "--sql", query, *OPTIONS, "--out", str(tables / "b")])
    assert from_sql.exit_code == 0, from_sql.output
    a = pd.read_csv(tables / "a" / "forecasts.csv")
    b = pd.read_csv(tables / "b" / "forecasts.csv")
    assert len(a) == 3 * 7
    pd.testing.assert_frame_equal(a, b)

    newer = runner.invoke(
        app, ["forecast", str(tables / "a"), "--sql", query, "--out", str(tables / "c.csv")]
    )
    assert newer.exit_code == 0, newer.output
    pd.testing.assert_frame_equal(pd.read_csv(tables / "c.csv"), a)


def test_when_backtest_reads_a_join_then_the_leaderboard_equals_the_joined_files(tables):
    query = QUERY.format(root=tables)
    for name, source in (("a", [str(tables / "joined.csv")]), ("b", ["--sql", query])):
        result = runner.invoke(app, ["backtest", *source, *OPTIONS, "--out", str(tables / f"bt-{name}")])
        assert result.exit_code == 0, result.output
    columns = ["model", "score"]
    a = pd.read_csv(tables / "bt-a" / "leaderboard.csv")[columns]
    b = pd.read_csv(tables / "bt-b" / "leaderboard.csv")[columns]
    pd.testing.assert_frame_equal(a, b)


def test_when_both_or_neither_source_is_given_then_exit_2(tables):
    both = runner.invoke(app, ["train", str(tables / "joined.csv"), "--sql", "SELECT 1", "--horizon", "3"])
    neither = runner.invoke(app, ["train", "--horizon", "3"])
    assert both.exit_code == neither.exit_code == 2
    assert "exactly one" in both.output and "exactly one" in neither.output


def test_when_the_query_fails_then_one_line_names_it(tables):
    result = runner.invoke(app, ["train", "--sql", "SELECT * FROM 'nope/*.parquet'", "--horizon", "3"])
    assert result.exit_code == 2 and "the SQL query failed" in result.output
    assert "Traceback" not in result.output


def test_when_batch_reads_a_join_then_forecasts_equal_the_joined_files(tables):
    model = tables / "batch-model"
    trained = runner.invoke(app, ["train", str(tables / "joined.csv"), *OPTIONS, "--out", str(model)])
    assert trained.exit_code == 0, trained.output
    query = QUERY.format(root=tables)
    sources = (("file", ["--input", str(tables / "joined.csv")]), ("sql", ["--sql", query]))
    for name, source in sources:
        result = runner.invoke(
            app,
            [
                "batch",
                "--model",
                str(model),
                *source,
                "--output",
                str(tables / f"batch-{name}"),
                "--jobs",
                "1",
            ],
        )
        assert result.exit_code == 0, result.output
    keys = ["item_id", "timestamp"]
    a = pd.read_parquet(tables / "batch-file" / "forecasts").sort_values(keys, ignore_index=True)
    b = pd.read_parquet(tables / "batch-sql" / "forecasts").sort_values(keys, ignore_index=True)
    assert len(a) == 3 * 7
    pd.testing.assert_frame_equal(a, b)

    again = runner.invoke(
        app,
        [
            "batch",
            "--model",
            str(model),
            "--sql",
            query,
            "--output",
            str(tables / "batch-sql"),
            "--jobs",
            "1",
        ],
    )
    assert again.exit_code == 0 and "1 of 1 chunk already done" in again.output, again.output


def test_when_batch_gets_both_or_neither_input_then_exit_2(tables):
    both = runner.invoke(
        app, ["batch", "--model", str(tables), "--input", "x.csv", "--sql", "SELECT 1", "--output", "o"]
    )
    neither = runner.invoke(app, ["batch", "--model", str(tables), "--output", "o"])
    assert both.exit_code == neither.exit_code == 2
    assert "exactly one" in both.output and "exactly one" in neither.output


KEYED = "SELECT store || '_' || dept AS item_id, timestamp, {columns} FROM '{path}'"
KNOWN = [
    "--horizon", "7", "--target-col", "target_value", "--models", "seasonalnaive,lightgbm",
    "--backtest-windows", "1", "--known-covariates", "promotion", "--jobs", "1",
]  # fmt: skip


@pytest.fixture(scope="module")
def keyed(tmp_path_factory) -> Path:
    """The demo's history and next week with the item id in two columns (store, dept), as a
    weekly store-department file is written, and the same rows with one joined id column."""
    root = tmp_path_factory.mktemp("keyed")
    frame = generate(n_items=3, seed=4)
    frame = frame[frame["timestamp"] >= "2023-01-01"][["item_id", "timestamp", "target_value", "promotion"]]
    last = frame["timestamp"].max()
    history, future = (
        frame[frame["timestamp"] <= last - pd.Timedelta(days=7)],
        frame[frame["timestamp"] > last - pd.Timedelta(days=7)],
    )
    future = future.drop(columns="target_value")
    for name, part in (("history", history), ("future", future)):
        part.assign(item_id=part["item_id"] + "_d1").to_csv(root / f"{name}-joined.csv", index=False)
        split = part.assign(store=part["item_id"], dept="d1").drop(columns="item_id")
        split.to_csv(root / f"{name}.csv", index=False)
    return root


def test_when_the_future_is_a_query_then_forecasts_equal_those_from_a_joined_future_file(keyed):
    """Ids in two columns reach the AutoML through --sql; --future takes the same query."""
    joined = [str(keyed / "history-joined.csv"), "--future", str(keyed / "future-joined.csv")]
    ok(["train", *joined, *KNOWN, "--out", str(keyed / "a")])
    history = KEYED.format(columns="target_value, promotion", path=keyed / "history.csv")
    future = KEYED.format(columns="promotion", path=keyed / "future.csv")
    ok(["train", "--sql", history, *KNOWN, "--future", future, "--out", str(keyed / "b")])
    a = pd.read_csv(keyed / "a" / "forecasts.csv")
    b = pd.read_csv(keyed / "b" / "forecasts.csv")
    assert len(a) == 3 * 7 and a["item_id"].str.endswith("_d1").all()
    pd.testing.assert_frame_equal(a, b)

    ok(["forecast", str(keyed / "b"), "--future", future, "--out", str(keyed / "c.csv")])
    pd.testing.assert_frame_equal(pd.read_csv(keyed / "c.csv"), b)


def test_when_the_future_query_fails_then_one_line_names_it(keyed):
    history = KEYED.format(columns="target_value, promotion", path=keyed / "history.csv")
    result = runner.invoke(
        app,
        [
            "train",
            "--sql",
            history,
            *KNOWN,
            "--future",
            "SELECT * FROM 'nope.csv'",
            "--out",
            str(keyed / "x"),
        ],
    )
    assert result.exit_code == 2 and "the SQL query failed" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("SELECT 1", True),
        ("  with t AS (SELECT 1) SELECT * FROM t", True),
        ("FROM 'future.csv'", True),
        ("UNPIVOT 'plan.csv' ON COLUMNS(* EXCLUDE (sku)) INTO NAME timestamp VALUE promo", True),
        ("select.csv", False),
        ("unpivoted/future.csv", False),
        ("from_2024/future.parquet", False),
        ("s3://bucket/future.parquet", False),
    ],
)
def test_a_future_value_is_a_query_only_when_its_first_word_is_one(text, query):
    from tidecast.cli.options import is_query

    assert is_query(text) is query
