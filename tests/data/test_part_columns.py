"""The files of a folder or glob are one table only when they have the same columns: one that
adds or renames a column is a DataError naming it, never a stacked frame with gaps."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tidecast.batch.staging import stage
from tidecast.data.io import SOURCE_COLUMNS, read_table, table_columns
from tidecast.data.part_columns import SHOWN_FILES, check_same_columns
from tidecast.errors import DataError

HEADER = "item_id,timestamp,target"


def write(folder: Path, name: str, header: str, row: str = "a,2024-01-01,1") -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(f"{header}\n{row}\n")
    return path


def test_when_one_file_of_a_glob_adds_a_column_then_the_error_names_the_file_and_the_column(tmp_path):
    first = write(tmp_path / "data", "a.csv", HEADER)
    extra = write(tmp_path / "data", "b.csv", f"{HEADER},promo", "a,2024-01-02,2,0")
    with pytest.raises(DataError) as caught:
        read_table(tmp_path / "data" / "*.csv")
    message = str(caught.value)
    assert f"{extra} has column 'promo' that {first} lacks" in message
    assert "do not have the same columns" in message and "rows" not in message


def test_when_one_file_names_the_target_otherwise_then_the_error_says_what_it_has_and_lacks(tmp_path):
    first = write(tmp_path / "data", "a.csv", HEADER)
    write(tmp_path / "data", "b.csv", HEADER)
    renamed = write(tmp_path / "data", "c.csv", "item_id,timestamp,sales")
    with pytest.raises(DataError) as caught:
        read_table(tmp_path / "data", only=["item_id", "timestamp", "target"])  # as training reads
    message = str(caught.value)
    assert (
        f"{renamed} has column 'sales' that {first} lacks, and lacks column 'target' that {first} has"
        in message
    )
    assert "b.csv" not in message  # a file like the first is not named


def test_when_parquet_parts_differ_then_the_folder_is_refused_as_csv_files_are(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    pd.DataFrame({"item_id": ["a"], "target": [1.0]}).to_parquet(folder / "part-0.parquet")
    pd.DataFrame({"item_id": ["b"], "target": [2.0], "price": [3.0], "promo": [0]}).to_parquet(
        folder / "part-1.parquet"
    )
    with pytest.raises(
        DataError, match=r"part-1.parquet has columns 'price', 'promo' that .*part-0.parquet lacks"
    ):
        read_table(folder)


def test_when_files_list_the_same_columns_in_another_order_then_they_are_read_as_one(tmp_path):
    write(tmp_path / "data", "a.csv", HEADER, "a,2024-01-01,1")
    write(tmp_path / "data", "b.csv", "target,item_id,timestamp", "2,a,2024-01-02")
    frame = read_table(tmp_path / "data" / "*.csv")
    assert frame["target"].tolist() == [1, 2] and frame["item_id"].tolist() == ["a", "a"]
    assert frame.attrs[SOURCE_COLUMNS] == HEADER.split(",")  # the first file's, kept for later errors


def test_when_many_files_differ_then_the_first_few_are_described_and_the_rest_counted():
    headers = [("a.csv", ["x", "y"])] + [(f"p{k}.csv", ["x"]) for k in range(SHOWN_FILES + 2)]
    with pytest.raises(DataError) as caught:
        check_same_columns(headers, "data/*.csv")
    message = str(caught.value)
    assert "p0.csv lacks column 'y' that a.csv has" in message
    assert f"p{SHOWN_FILES}.csv" not in message and "and 2 more files differ" in message
    with pytest.raises(DataError, match="and 1 more file differs"):
        check_same_columns(headers[:-1], "data/*.csv")


def test_when_the_columns_are_read_from_headers_alone_then_differing_files_are_refused_too(tmp_path):
    write(tmp_path / "data", "a.csv", HEADER)
    assert table_columns(tmp_path / "data") == HEADER.split(",")
    write(tmp_path / "data", "b.csv", f"{HEADER},promo")
    with pytest.raises(DataError, match=r"b\.csv has column 'promo'"):
        table_columns(tmp_path / "data")


def test_when_a_batch_input_folder_differs_then_staging_refuses_it_before_writing_a_chunk(tmp_path):
    write(tmp_path / "data", "a.csv", HEADER)
    write(tmp_path / "data", "b.csv", "item_id,timestamp,sales")
    with pytest.raises(DataError, match=r"b\.csv has column 'sales'"):
        stage(tmp_path / "data", tmp_path / "staged", "item_id", chunk_rows=10)
    assert not (tmp_path / "staged").exists()
