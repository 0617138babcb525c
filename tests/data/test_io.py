from __future__ import annotations

import gzip
import re
from pathlib import Path

import fsspec
import pandas as pd
import pytest

from tidecast.data.ingest import to_canonical
from tidecast.data.io import read_table, write_table
from tidecast.data.locale_numbers import DotScan, as_decimal_commas, decimal_commas
from tidecast.errors import DataError, TidecastError

FRAME = pd.DataFrame(
    {
        "store": ["007", "007", "b"],
        "date": ["2021-01-01", "2021-01-02", "2021-01-01"],
        "sales": [1.5, 2.0, 3.0],
    }
)
CSV = "store,date,sales\n007,2021-01-01,1.5\n007,2021-01-02,2.0\nb,2021-01-01,3.0\n"


def test_when_reading_a_csv_then_values_and_columns_come_back(tmp_path: Path) -> None:
    (tmp_path / "sales.csv").write_text(CSV)
    frame = read_table(tmp_path / "sales.csv")
    assert list(frame.columns) == ["store", "date", "sales"]
    assert frame["sales"].tolist() == [1.5, 2.0, 3.0]


def test_when_text_columns_are_named_then_leading_zeros_survive(tmp_path: Path) -> None:
    (tmp_path / "sales.csv").write_text(CSV)
    frame = read_table(tmp_path / "sales.csv", text_columns=["store"])
    assert frame["store"].tolist() == ["007", "007", "b"]


def test_when_every_id_looks_like_a_number_then_text_columns_keep_them_apart(tmp_path: Path) -> None:
    # pyarrow infers an all-digit column as numbers; "01" and "1" must stay two stores
    (tmp_path / "sales.csv").write_text(
        "store,date,sales\n01,2021-01-01,1\n1,2021-01-01,2\n007,2021-01-01,\n,2021-01-02,4\n"
    )
    frame = read_table(tmp_path / "sales.csv", text_columns=["store"])
    assert frame["store"].tolist()[:3] == ["01", "1", "007"]
    assert frame["store"].isna().tolist() == [False, False, False, True]
    assert frame["sales"].isna().tolist() == [False, False, True, False]
    assert read_table(tmp_path / "sales.csv")["store"].tolist()[:3] == [1, 1, 7]  # not named: numbers


def test_when_columns_are_given_then_only_they_are_read(tmp_path: Path) -> None:
    (tmp_path / "sales.csv").write_text(CSV)
    assert list(read_table(tmp_path / "sales.csv", columns=["store", "sales"]).columns) == ["store", "sales"]


def test_when_a_column_is_missing_then_error_lists_the_available_ones(tmp_path: Path) -> None:
    (tmp_path / "sales.csv").write_text(CSV)
    with pytest.raises(DataError, match=r"no column\(s\) \['price'\].*available columns: \['store', 'date'"):
        read_table(tmp_path / "sales.csv", columns=["store", "price"])


def test_when_reading_a_gzipped_csv_then_it_is_decompressed(tmp_path: Path) -> None:
    (tmp_path / "sales.csv.gz").write_bytes(gzip.compress(CSV.encode()))
    assert read_table(tmp_path / "sales.csv.gz")["sales"].sum() == 6.5


def test_when_reading_parquet_then_types_are_kept(tmp_path: Path) -> None:
    frame = FRAME.assign(date=pd.to_datetime(FRAME["date"]))
    frame.to_parquet(tmp_path / "sales.parquet")
    result = read_table(tmp_path / "sales.parquet")
    pd.testing.assert_frame_equal(result, frame)


def test_when_reading_a_file_url_then_it_reads_like_a_path(tmp_path: Path) -> None:
    (tmp_path / "sales.csv").write_text(CSV)
    assert read_table(f"file://{tmp_path}/sales.csv")["sales"].tolist() == [1.5, 2.0, 3.0]


def test_when_reading_a_memory_url_then_fsspec_serves_it() -> None:
    with fsspec.open("memory://tidecast-io/sales.csv", "w") as handle:
        handle.write(CSV)
    frame = read_table("memory://tidecast-io/sales.csv")
    assert frame["sales"].tolist() == [1.5, 2.0, 3.0]
    assert frame["store"].tolist() == ["007", "007", "b"]


def test_when_reading_a_folder_then_its_files_are_concatenated_in_order(tmp_path: Path) -> None:
    (tmp_path / "part-0.csv").write_text("item,y\na,1\n")
    (tmp_path / "part-1.csv").write_text("item,y\nb,2\n")
    pd.DataFrame({"item": ["c"], "y": [3]}).to_parquet(tmp_path / "part-2.parquet")
    (tmp_path / "_SUCCESS").write_text("")
    (tmp_path / "empty.csv").write_text("")
    frame = read_table(tmp_path)
    assert frame["item"].tolist() == ["a", "b", "c"]
    assert frame["y"].tolist() == [1, 2, 3]


def test_when_reading_a_glob_then_only_matching_files_are_read(tmp_path: Path) -> None:
    (tmp_path / "2021.csv").write_text("item,y\na,1\n")
    (tmp_path / "2022.csv").write_text("item,y\na,2\n")
    (tmp_path / "other.csv").write_text("item,y\nz,9\n")
    assert read_table(tmp_path / "20*.csv")["y"].tolist() == [1, 2]


def test_when_reading_a_memory_glob_then_it_works_like_a_local_one() -> None:
    for name, value in (("a", 1), ("b", 2)):
        with fsspec.open(f"memory://tidecast-glob/{name}.csv", "w") as handle:
            handle.write(f"item,y\n{name},{value}\n")
    assert read_table("memory://tidecast-glob/*.csv")["y"].tolist() == [1, 2]


def test_when_the_file_is_empty_then_error_says_so(tmp_path: Path) -> None:
    (tmp_path / "sales.csv").write_text("")
    with pytest.raises(DataError, match=r"sales\.csv is empty"):
        read_table(tmp_path / "sales.csv")


def test_when_a_compressed_file_holds_nothing_then_error_says_it_is_empty(tmp_path: Path) -> None:
    (tmp_path / "sales.csv.gz").write_bytes(gzip.compress(b""))
    with pytest.raises(DataError, match=r"sales\.csv\.gz is empty"):
        read_table(tmp_path / "sales.csv.gz")


def test_when_the_file_has_only_a_header_then_error_says_it_is_empty(tmp_path: Path) -> None:
    (tmp_path / "sales.csv").write_text("store,date,sales\n")
    with pytest.raises(DataError, match="is empty: it has a header but no rows"):
        read_table(tmp_path / "sales.csv")


def test_when_the_csv_is_malformed_then_error_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n3,4,5,6\n")
    with pytest.raises(DataError, match=r"cannot read .*bad\.csv"):
        read_table(tmp_path / "bad.csv")


def test_when_the_parquet_is_corrupt_then_error_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match=r"cannot read .*bad\.parquet"):
        read_table(tmp_path / "bad.parquet")


def test_when_a_numeric_column_holds_text_then_it_is_read_as_text_for_ingest_to_judge(tmp_path: Path) -> None:
    (tmp_path / "sales.csv").write_text("item,y\na,1\na,2\na,n/a?\n")
    assert read_table(tmp_path / "sales.csv")["y"].tolist() == ["1", "2", "n/a?"]


def test_when_the_path_does_not_exist_then_error_names_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        read_table(tmp_path / "nope.csv")


def test_when_the_suffix_is_unknown_then_error_lists_the_supported_ones(tmp_path: Path) -> None:
    (tmp_path / "sales.xlsx").write_text("x")
    with pytest.raises(DataError, match=r"neither CSV nor Parquet.*\.csv"):
        read_table(tmp_path / "sales.xlsx")


def test_when_writing_csv_and_parquet_then_they_read_back_the_same(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"item_id": ["a", "b"], "timestamp": pd.to_datetime(["2021-01-01", "2021-01-02"]), "p50": [1.0, 2.5]}
    )
    write_table(frame, tmp_path / "out" / "forecast.parquet")
    pd.testing.assert_frame_equal(read_table(tmp_path / "out" / "forecast.parquet"), frame)
    write_table(frame, tmp_path / "out" / "forecast.csv")
    assert (tmp_path / "out" / "forecast.csv").read_text().splitlines()[1] == "a,2021-01-01,1.0"


def test_when_writing_to_a_memory_url_then_it_can_be_read_back() -> None:
    frame = pd.DataFrame({"item_id": ["a"], "mean": [1.0]})
    write_table(frame, "memory://tidecast-out/forecast.csv.gz")
    pd.testing.assert_frame_equal(read_table("memory://tidecast-out/forecast.csv.gz"), frame)


def test_when_writing_an_unknown_suffix_then_error_explains(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"use a \.csv"):
        write_table(FRAME, tmp_path / "forecast.json")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_only_reads_the_named_columns_a_file_has(tmp_path, suffix):
    frame = pd.DataFrame({"item": ["a", "b"], "sales": [1.0, 2.0], "notes": ["x", "y"], "region": ["n", "s"]})
    path = tmp_path / f"t{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path, index=False)
    got = read_table(path, only=["sales", "item", "price"])
    assert list(got.columns) == ["item", "sales"]
    assert got["sales"].tolist() == [1.0, 2.0]


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_when_a_csv_is_separated_by_another_character_then_it_is_detected(tmp_path, sep):
    frame = pd.DataFrame(
        {"item_id": ["a", "b"], "timestamp": ["2023-01-01", "2023-01-01"], "target": [1.5, 2.0]}
    )
    path = tmp_path / "semi.csv"
    frame.to_csv(path, index=False, sep=sep)
    read = read_table(path)
    assert read.columns.tolist() == ["item_id", "timestamp", "target"]
    assert read["target"].tolist() == [1.5, 2.0]


def test_when_a_semicolon_csv_writes_decimal_commas_then_its_numbers_are_read_as_numbers(tmp_path):
    """A spreadsheet export set to a European locale: `;` between fields, `,` before decimals,
    `.` between thousands. Codes and text that merely hold a comma stay text."""
    path = tmp_path / "export.csv"
    path.write_text(
        "item_id;timestamp;target;price;units;note;code\n"
        "1,5;2023-01-01;12,5;1.234,50;3;a,b;0012\n"
        "2,5;2023-01-02;-0,25;2,00;4;c;0013\n"
        "2,5;2023-01-03;;1.000;5;;0014\n"
    )
    read = read_table(path, text_columns=["item_id"])
    assert read["item_id"].tolist() == ["1,5", "2,5", "2,5"]  # the item column is the user's text
    assert read["target"].tolist()[:2] == [12.5, -0.25] and pd.isna(read["target"].iloc[2])
    assert read["price"].tolist() == [1234.5, 2.0, 1000.0]
    assert read["units"].tolist() == [3, 4, 5]
    assert read["note"].tolist()[:2] == ["a,b", "c"]  # not every value a number: text
    canonical, _ = to_canonical(read, "item_id", "timestamp", "target")
    assert canonical["target"].tolist()[:2] == [12.5, -0.25]


def test_when_a_semicolon_export_groups_integers_by_dots_then_they_are_thousands(tmp_path):
    """A German export of units with thousands separators: `1.234` is 1234 units, not 1.234,
    where another column shows decimal commas; alone, the dot stays a decimal point."""
    path = tmp_path / "export.csv"
    path.write_text(
        "item_id;timestamp;units;price;ratio\n"
        "a;2023-01-01;999;1,50;0.5\n"
        "a;2023-01-02;1.234;2,25;1.234\n"
        "b;2023-01-01;12.345;3;2\n"
    )
    read = read_table(path, text_columns=["item_id"])
    assert read["units"].tolist() == [999.0, 1234.0, 12345.0]
    assert read["price"].tolist() == [1.5, 2.25, 3.0]
    assert read["ratio"].tolist() == [0.5, 1.234, 2.0]  # "0.5" is no thousands grouping
    only = read_table(path, text_columns=["item_id"], only=["item_id", "timestamp", "units"])
    assert only["units"].tolist() == [999.0, 1234.0, 12345.0]  # the unread price still tells the locale
    (tmp_path / "plain.csv").write_text("item_id;timestamp;units\na;2023-01-01;999\na;2023-01-02;1.234\n")
    assert read_table(tmp_path / "plain.csv")["units"].tolist() == [999.0, 1.234]  # no sign of the locale
    (tmp_path / "big.csv").write_text("item_id;timestamp;units\na;2023-01-01;999\na;2023-01-02;1.234.567\n")
    assert read_table(tmp_path / "big.csv")["units"].tolist() == [999.0, 1234567.0]  # two dots: thousands


def test_a_part_of_a_decimal_comma_column_without_commas_reads_as_the_whole_column():
    """What a batch chunk of a German price column may hold: `1.234` (1234) and `7`, no comma.
    Alone it looks like decimals; the file's scan says the column is one of decimal commas."""
    part = pd.DataFrame({"price": ["1.234", "7", None]})
    assert decimal_commas(part)["price"].tolist() == ["1.234", "7", None]  # no comma: left as text
    assert as_decimal_commas(part, ["price"])["price"].tolist()[:2] == [1234.0, 7.0]
    scan = DotScan()
    scan.add(pd.DataFrame({"price": ["1,50", "2", "1.234"], "note": ["a,b", "c", "d"]}))
    assert scan.decimal_comma_columns() == ["price"]


def test_when_a_comma_csv_quotes_numbers_with_thousands_commas_then_they_are_numbers(tmp_path):
    """An English-locale export: `,` between fields and between thousands, `.` before decimals."""
    path = tmp_path / "us.csv"
    path.write_text(
        "item_id,timestamp,sales,price,euro,small,code\n"
        'a,2023-01-01,"10,038.50","1,234",1.5,"0,125","1,000"\n'
        'b,2023-01-02,-25,"2,500","12,50",3,"2,000"\n'
    )
    read = read_table(path, text_columns=["item_id", "code"])
    assert read["sales"].tolist() == [10038.5, -25.0]
    assert read["price"].tolist() == [1234.0, 2500.0]
    assert read["euro"].tolist() == ["1.5", "12,50"]  # a decimal comma among them: text
    assert read["small"].tolist() == ["0,125", "3"]  # "0,125" groups no thousands: text
    assert read["code"].tolist() == ["1,000", "2,000"]  # a text column stays the user's text


def test_when_amounts_carry_a_currency_sign_then_they_are_read_as_numbers(tmp_path):
    (tmp_path / "us.csv").write_text(
        'item_id,timestamp,price,note\na,2023-01-01,"$1,234.50",a$b\nb,2023-01-02,-$3.99,c\n'
    )
    read = read_table(tmp_path / "us.csv")
    assert read["price"].tolist() == [1234.5, -3.99]
    assert read["note"].tolist() == ["a$b", "c"]
    (tmp_path / "eu.csv").write_text("item_id;timestamp;price\na;2023-01-01;1.234,50 €\nb;2023-01-02;€ 3\n")
    assert read_table(tmp_path / "eu.csv")["price"].tolist() == [1234.5, 3.0]


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_when_a_needed_column_is_missing_then_the_error_lists_every_column_of_the_file(tmp_path, suffix):
    frame = pd.DataFrame(
        {"item_id": ["a"] * 3, "timestamp": pd.date_range("2023-01-01", periods=3), "sales": 1.0}
    )
    frame = frame.assign(**{f"extra{i}": 0 for i in range(4)})
    path = tmp_path / f"wide.{suffix}"
    write_table(frame, path)
    read = read_table(path, only=["item_id", "timestamp", "target"])
    with pytest.raises(DataError) as caught:
        to_canonical(read, "item_id", "timestamp", "target")
    assert str(caught.value).startswith(
        "missing column(s) ['target']; available columns: "
        "['item_id', 'timestamp', 'sales', 'extra0', 'extra1', 'extra2', 'extra3']"
    )


def test_when_a_confined_query_reads_outside_the_root_then_it_is_refused_naming_the_file(tmp_path):
    pytest.importorskip("duckdb")
    from tidecast.data.sql_io import read_sql, sql_columns

    root = tmp_path / "root"
    root.mkdir()
    (root / "sales.csv").write_text("item_id,timestamp,target\na,2024-01-01,1\n")
    (tmp_path / "secret.csv").write_text("item_id,timestamp,target\nz,2024-01-01,9\n")
    inside = f"SELECT * FROM '{root}/sales.csv'"
    assert sql_columns(inside, root=root) == ["item_id", "timestamp", "target"]
    assert read_sql(inside, root=root)["item_id"].tolist() == ["a"]
    refused = {
        "SELECT * FROM read_csv('/etc/passwd', sep=':')": "'/etc/passwd', outside the data root",
        f"SELECT * FROM '{root}/../secret.csv'": "secret.csv', outside the data root",
        "SELECT * FROM 'sales.csv'": "absolute path inside the data root",
        "SELECT * FROM 's3://bucket/sales.csv'": "outside the data root",
        "SET lock_configuration = false": "one SELECT statement",
        f"COPY (SELECT 1) TO '{root}/written.csv'": "one SELECT statement",
        f"SELECT 1; SELECT * FROM '{root}/sales.csv'": "one SELECT statement",
    }
    for query, message in refused.items():
        with pytest.raises(TidecastError, match=re.escape(message)):
            sql_columns(query, root=root)
    assert not (root / "written.csv").exists()
