"""Staging splits any input into chunks of whole series, the same way on every run."""

import json

import numpy as np
import pandas as pd
import pytest

from tidecast.batch.staging import MARKER, chunk_of, stage
from tidecast.data.demo import generate
from tidecast.data.io import read_table
from tidecast.errors import DataError


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    frame = generate(n_items=30, seed=5)
    return frame[frame["timestamp"] >= "2023-06-01"].reset_index(drop=True)


def read_all(staged) -> dict[int, pd.DataFrame]:
    return {k: f for k in range(staged.n_chunks) if (f := staged.read_chunk(k)) is not None}


def test_every_row_lands_once_and_each_item_in_one_chunk(panel, tmp_path):
    source = tmp_path / "in.parquet"
    # Shuffled rows: staging must not rely on the input being sorted by item.
    panel.sample(frac=1.0, random_state=0).to_parquet(source, index=False)
    staged = stage(source, tmp_path / "staged", "item_id", chunk_rows=1000)
    assert staged.rows == len(panel)
    assert staged.n_chunks == int(np.ceil(len(panel) / 1000))
    chunks = read_all(staged)
    owners: dict[str, int] = {}
    for k, frame in chunks.items():
        for item in frame["item_id"].unique():
            assert owners.setdefault(item, k) == k, f"{item} is in chunks {owners[item]} and {k}"
        assert set(chunk_of(frame["item_id"].unique(), staged.n_chunks)) == {k}
    together = pd.concat(chunks.values()).sort_values(["item_id", "timestamp"], ignore_index=True)
    expected = panel.sort_values(["item_id", "timestamp"], ignore_index=True)
    pd.testing.assert_frame_equal(together[expected.columns], expected, check_dtype=False)


def test_chunks_are_stable_across_formats_and_layouts(panel, tmp_path):
    parquet, folder = tmp_path / "one.parquet", tmp_path / "parts"
    panel.to_parquet(parquet, index=False)
    folder.mkdir()
    items = panel["item_id"].unique()
    for i, part in enumerate(np.array_split(items, 3)):
        rows = panel[panel["item_id"].isin(part)].copy()
        rows["timestamp"] = rows["timestamp"].dt.strftime("%Y-%m-%d")
        rows.to_csv(folder / f"part-{i}.csv", index=False)
    a = stage(parquet, tmp_path / "a", "item_id", chunk_rows=1500)
    b = stage(folder, tmp_path / "b", "item_id", chunk_rows=1500)
    assert a.n_chunks == b.n_chunks
    for k in range(a.n_chunks):
        fa, fb = a.read_chunk(k), b.read_chunk(k)
        assert (fa is None) == (fb is None)
        if fa is not None:
            assert sorted(fa["item_id"].unique()) == sorted(fb["item_id"].unique())
            assert len(fa) == len(fb)


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_a_csv_separated_by_another_character_is_staged_as_its_comma_twin(panel, tmp_path, sep):
    """The separator is found as `read_table` finds it, so `batch` reads what `train` reads."""
    rows = panel.assign(timestamp=panel["timestamp"].dt.strftime("%Y-%m-%d"))
    rows.to_csv(tmp_path / "comma.csv", index=False)
    rows.to_csv(tmp_path / "other.csv", index=False, sep=sep)
    a = stage(tmp_path / "comma.csv", tmp_path / "a", "item_id", chunk_rows=1500)
    b = stage(tmp_path / "other.csv", tmp_path / "b", "item_id", chunk_rows=1500)
    assert a.n_chunks == b.n_chunks and a.rows == b.rows == len(panel)
    for k in range(a.n_chunks):
        fa, fb = a.read_chunk(k), b.read_chunk(k)
        assert (fa is None) == (fb is None)
        if fa is not None:
            pd.testing.assert_frame_equal(fa, fb)


def test_a_semicolon_csv_with_decimal_commas_is_read_in_chunks_as_read_table_reads_it(panel, tmp_path):
    rows = panel.assign(
        timestamp=panel["timestamp"].dt.strftime("%Y-%m-%d"), target_value=panel["target_value"] + 0.5
    )
    rows.to_csv(tmp_path / "comma.csv", index=False)
    rows.to_csv(tmp_path / "export.csv", index=False, sep=";", decimal=",")
    a = stage(tmp_path / "comma.csv", tmp_path / "a", "item_id", chunk_rows=1500)
    b = stage(tmp_path / "export.csv", tmp_path / "b", "item_id", chunk_rows=1500)
    assert (a.decimal_commas, b.decimal_commas) == (False, True)
    again = stage(
        tmp_path / "export.csv", tmp_path / "b", "item_id", chunk_rows=1500
    )  # reused: the marker keeps it
    assert again.decimal_commas and again.item_col == "item_id"
    for k in range(a.n_chunks):
        fa, fb = a.read_chunk(k), b.read_chunk(k)
        if fa is not None:
            assert fb is not None and fb["target_value"].dtype == np.float64
            pd.testing.assert_frame_equal(fa, fb, check_dtype=False)


def test_a_comma_csv_with_thousands_commas_is_read_in_chunks_as_read_table_reads_it(panel, tmp_path):
    rows = panel.head(400).assign(timestamp=panel["timestamp"].head(400).dt.strftime("%Y-%m-%d"))
    rows = rows.assign(target_value=rows["target_value"] * 1000 + 0.5)
    rows.assign(target_value=rows["target_value"].map("{:,.2f}".format)).to_csv(
        tmp_path / "us.csv", index=False
    )
    staged = stage(tmp_path / "us.csv", tmp_path / "s", "item_id", chunk_rows=100)
    assert (staged.decimal_commas, staged.thousands_commas) == (False, True)
    together = pd.concat(read_all(staged).values())
    expected = read_table(tmp_path / "us.csv", text_columns=["item_id"])
    assert together["target_value"].dtype == np.float64
    assert sorted(together["target_value"]) == sorted(expected["target_value"])
    assert max(together["target_value"]) > 1000


@pytest.mark.parametrize(
    ("last_rows", "column", "field", "last_values"),
    [
        # integers grouped by dots, a decimal-comma price elsewhere in the file
        (["i8;2023-01-01;1.234;2", "i9;2023-01-01;12.345;2"], "units", "thousands_dots", [1234.0, 12345.0]),
        # a decimal-comma price whose last rows hold 1.234 (German for 1234) and no comma
        (["i8;2023-01-01;3;1.234", "i9;2023-01-01;4;7"], "price", "decimal_comma_columns", [1234.0, 7.0]),
    ],
    ids=["thousands-dots", "decimal-commas"],
)
def test_a_semicolon_exports_numbers_are_decided_on_the_whole_file_as_read_table_decides(
    tmp_path, last_rows, column, field, last_values
):
    """The telling values sit in the last rows: staged in chunks of two rows, every chunk reads
    the column as read_table reads the whole file."""
    rows = ["item_id;timestamp;units;price"] + [f"i{k};2023-01-01;{k};{k},5" for k in range(8)]
    (tmp_path / "de.csv").write_text("\n".join([*rows, *last_rows]) + "\n")
    staged = stage(tmp_path / "de.csv", tmp_path / "s", "item_id", chunk_rows=2)
    assert getattr(staged, field) == (column,)
    together = pd.concat(read_all(staged).values()).sort_values("item_id", ignore_index=True)
    expected = read_table(tmp_path / "de.csv", text_columns=["item_id"])
    assert together[column].tolist() == expected.sort_values("item_id", ignore_index=True)[column].tolist()
    assert together[column].iloc[-2:].tolist() == last_values


def test_staging_is_reused_until_the_input_changes(panel, tmp_path):
    source = tmp_path / "in.parquet"
    panel.to_parquet(source, index=False)
    folder = tmp_path / "staged"
    stage(source, folder, "item_id", chunk_rows=2000)
    marker = json.loads((folder / MARKER).read_text())
    (folder / "sentinel").write_text("kept while the staging is reused")
    stage(source, folder, "item_id", chunk_rows=2000)
    assert (folder / "sentinel").exists()
    panel.iloc[:-10].to_parquet(source, index=False)
    again = stage(source, folder, "item_id", chunk_rows=2000)
    assert not (folder / "sentinel").exists()
    assert again.rows == len(panel) - 10 != marker["rows"]


def test_companion_table_follows_the_input_chunks(panel, tmp_path):
    source, future = tmp_path / "in.parquet", tmp_path / "future.parquet"
    panel.to_parquet(source, index=False)
    items = panel["item_id"].unique()
    pd.DataFrame({"item_id": np.repeat(items, 2), "promotion": 1.0}).to_parquet(future, index=False)
    a = stage(source, tmp_path / "a", "item_id", chunk_rows=700)
    b = stage(future, tmp_path / "b", "item_id", chunk_rows=700, n_chunks=a.n_chunks)
    for k in range(a.n_chunks):
        fa, fb = a.read_chunk(k), b.read_chunk(k)
        assert set(fa["item_id"]) == set(fb["item_id"]) if fa is not None else fb is None


def test_rows_without_an_item_are_counted_not_lost(panel, tmp_path):
    source = tmp_path / "in.csv"
    rows = panel.head(100).copy()
    rows.loc[[3, 7], "item_id"] = None
    rows.to_csv(source, index=False)
    staged = stage(source, tmp_path / "s", "item_id", chunk_rows=50)
    assert (staged.rows, staged.rows_without_item) == (98, 2)


def test_missing_item_column_names_the_file(panel, tmp_path):
    source = tmp_path / "in.parquet"
    panel.drop(columns="item_id").to_parquet(source, index=False)
    with pytest.raises(DataError, match=r"in\.parquet has no column 'item_id'"):
        stage(source, tmp_path / "s", "item_id", chunk_rows=50)


def test_fsspec_urls_are_staged_like_local_files(panel, tmp_path):
    import fsspec

    fs = fsspec.filesystem("memory")
    with fs.open("/batch-input/a.parquet", "wb") as handle:
        panel.to_parquet(handle, index=False)
    remote = stage("memory://batch-input/*.parquet", tmp_path / "r", "item_id", chunk_rows=1000)
    panel.to_parquet(tmp_path / "a.parquet", index=False)
    local = stage(tmp_path / "a.parquet", tmp_path / "l", "item_id", chunk_rows=1000)
    assert remote.rows == local.rows == len(panel)
    for k in range(local.n_chunks):
        a, b = remote.read_chunk(k), local.read_chunk(k)
        assert (a is None and b is None) or a.equals(b)


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_key_of_two_columns_is_joined_per_row_as_read_table_joins_it(tmp_path, kind):
    frame = pd.DataFrame(
        {
            "Store": ["01", "01", "1", "1", None],
            "Dept": ["7", "7", "7", "30", "7"],
            "Date": ["2024-01-01", "2024-01-08", "2024-01-01", "2024-01-01", "2024-01-01"],
            "Sales": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    source = tmp_path / f"in.{kind}"
    frame.to_csv(source, index=False) if kind == "csv" else frame.to_parquet(source, index=False)
    staged = stage(source, tmp_path / "staged", "Store,Dept", chunk_rows=2)
    together = pd.concat(read_all(staged).values()).sort_values(["Store,Dept", "Date"], ignore_index=True)
    assert together["Store,Dept"].tolist() == ["01|7", "01|7", "1|30", "1|7"]
    assert staged.rows_without_item == 1  # a row without a store has no item

    frame.assign(Dept=["7", "7", "a|b", "30", "7"]).to_csv(tmp_path / "bar.csv", index=False)
    with pytest.raises(DataError, match=r"column 'Dept' \(part of 'Store,Dept'\) has values holding '\|'"):
        stage(tmp_path / "bar.csv", tmp_path / "staged-bar", "Store,Dept", chunk_rows=2)
    with pytest.raises(DataError, match=r"no column 'Store,Aisle \(lacking Aisle\)'"):
        stage(source, tmp_path / "staged-aisle", "Store,Aisle", chunk_rows=2)


def test_a_float_store_column_is_staged_by_its_whole_numbers_and_rows_without_one_counted(tmp_path):
    """pandas writes a store column with a missing value as floats; staging keys barcode
    400000000001.0 as "400000000001", as training and a CSV of the same table key it."""
    frame = pd.DataFrame(
        {
            "Store": [400000000001.0, 400000000001.0, 2.0, np.nan],
            "Date": ["2024-01-01", "2024-01-02", "2024-01-01", "2024-01-01"],
            "Sales": [1.0, 2.0, 3.0, 4.0],
        }
    )
    frame.to_parquet(tmp_path / "in.parquet", index=False)
    staged = stage(tmp_path / "in.parquet", tmp_path / "staged", "Store", chunk_rows=2)
    together = pd.concat(read_all(staged).values())
    assert sorted(together["Store"].unique()) == ["2", "400000000001"]
    assert (staged.rows, staged.rows_without_item) == (3, 1)
