"""Which text cells of a CSV are missing: every spelling pandas knows in a column of values,
only an empty cell in a column of names.

pandas reads "NA", "null", "None", "NaN" and an empty cell as missing (`STR_NA_VALUES`), which
is right for a target or a price column. It is wrong for names: "NA" is Namibia's country code
and a product code, and `train` and `forecast` refused a file with an item "NA" or "null" as
rows without an item id, while `batch` (pyarrow's reader, strings never null) kept them as
ids. Every CSV reader now applies one rule:

* in a column of names (the item column, the columns of a key made of several, and the static
  attributes read as text) "NA", "null", "None" are names; an empty cell is a missing name
  (a row without an id, named by the ingest check; an attribute cell that takes its item's
  value, see `ingest._check_static`);
* in every other column they are missing, as pandas reads them.

Static text attributes are names because they are categories like ids are (a region "NA",
North America; a size "None" of an unsized product), and a category read as missing is
merged with the items that truly lack one. Numbers are untouched: a static column whose
cells are numbers but for "NA" is read as numbers, "NA" missing, in every path alike, and so is
a column holding nothing but such spellings (no reader can tell it is one of names).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas._libs.parsers import STR_NA_VALUES

# What pandas reads as missing in a column of values ("", "NA", "null", "None", "NaN", ...).
MISSING_SPELLINGS = sorted(STR_NA_VALUES)

Arrow = TypeVar("Arrow", pa.Table, pa.RecordBatch)


def null_missing_text(data: Arrow, names: Sequence[str]) -> Arrow:
    """`data` (read by pyarrow with `strings_can_be_null=False`, so no text cell is null yet)
    with its missing text cells null: an empty cell of a column in `names`, any of
    `MISSING_SPELLINGS` in another text column. Non-text columns are as pyarrow read them
    (its `null_values` made their missing cells null)."""
    keep = set(names)
    spellings = pa.array(MISSING_SPELLINGS, pa.string())
    for index, field in enumerate(data.schema):
        if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
            continue
        values = data.column(index)
        empty = pc.equal(values, "") if field.name in keep else pc.is_in(values, value_set=spellings)
        if pc.any(empty).as_py():
            blanked = pc.if_else(empty, pa.scalar(None, field.type), values)
            data = data.set_column(index, field, blanked)
    return data


def read_csv_names(source: str | Path | bytes, text: Sequence[str], names: Sequence[str]) -> pd.DataFrame:
    """A comma-separated CSV (a path or a request's body) as pandas' own reader gives it, but
    `text` columns read as text and the missing cells of the module's rule: in `names` only
    an empty cell is missing."""
    header = pd.read_csv(_opened(source), nrows=0).columns
    missing = {c: [""] if c in set(names) else MISSING_SPELLINGS for c in header}
    present = [c for c in text if c in header]
    return pd.read_csv(
        _opened(source), dtype=dict.fromkeys(present, str), keep_default_na=False, na_values=missing
    )


def _opened(source: str | Path | bytes) -> str | Path | io.BytesIO:
    return io.BytesIO(source) if isinstance(source, bytes) else source
