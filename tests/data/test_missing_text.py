"""Item "NA" is Namibia: in CSV files "NA", "null" and "None" are names in the id and static
attribute columns and missing values elsewhere, in every reader (`data.missing_text`)."""

from pathlib import Path

import pandas as pd

from tidecast.data.io import read_table
from tidecast.data.missing_text import read_csv_names

TEXT = "item_id,timestamp,target,region,weather\nNA,2024-01-01,NA,NA,NA\nnull,2024-01-01,1,EU,sunny\n,2024-01-02,2,,\n"


def test_when_a_csv_names_an_item_na_then_read_table_keeps_it_and_misses_the_empty_one(
    tmp_path: Path,
) -> None:
    (tmp_path / "t.csv").write_text(TEXT)
    frame = read_table(tmp_path / "t.csv", text_columns=["item_id"], names=["region"])
    assert frame["item_id"].tolist()[:2] == ["NA", "null"] and pd.isna(frame["item_id"][2])
    assert frame["region"].tolist()[:2] == ["NA", "EU"] and pd.isna(frame["region"][2])
    assert frame["target"].isna().tolist() == [True, False, False]
    assert frame["weather"].isna().tolist() == [True, False, True]


def test_when_a_csv_body_names_an_item_na_then_pandas_reads_it_alike() -> None:
    frame = read_csv_names(TEXT.encode(), ["item_id"], ["item_id", "region"])
    assert frame["item_id"].tolist()[:2] == ["NA", "null"] and pd.isna(frame["item_id"][2])
    assert frame["region"].tolist()[:2] == ["NA", "EU"]
    assert frame["target"].isna().tolist() == [True, False, False]
    assert frame["weather"].isna().tolist() == [True, False, True]
