"""Item keys made of several columns: a store and a department, an item and a market.

Retail files often key their series by two or more columns (Walmart's Store and Dept; a
product sold in several markets), and SageMaker's AutoML names them as an item identifier
plus `GroupingAttributeNames`. The user names them together as one item column, the names
joined by commas (``--item-col Store,Dept``). Wherever a user's table is read, `compose`
adds that column, each row's parts joined by "|" (``"1|3"``), so every later step keys its
series by one text id exactly as it does for a file with an item column of its own; on the
way out, `split` turns the joined column back into the part columns, so forecasts come back
in the user's own columns. The joined id stays readable where one id is shown (reports, the
dashboard, the forecast API's item field), and since no part may contain "|", the split is
exact.

A column whose name itself contains a comma is taken as it is when the table has it.

Ids are text however a table typed them (`id_strings`, and `id_strings_arrow` for batch
staging's Arrow columns): a store column that a Parquet or a frame holds as floats (pandas
turns an integer column with one missing value into floats) keys store 1 as "1", and a
barcode 400000000001.0 as "400000000001", as a CSV of the same table does.

Outputs give the key back as the user's table held it (`key_types` notes the number types of
its columns on training, `typed_keys` restores them): store 1 of an int64 column is the
integer 1 in a forecast, so it merges onto that table and store 2 comes before store 10. An id
that would not come back as itself ("007" as a number) leaves its column text.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tidecast.errors import ConfigError, DataError
from tidecast.wording import counted

SEPARATOR = "|"
NAME_JOIN = ","
# What `infer_dtype` calls an object column that holds no floats for sure.
NO_FLOATS = frozenset({"string", "integer", "empty"})
INT64_BOUND = 2.0**63  # whole floats below this in size are written as int64 text
# An integer as a CSV writes it and reads it back losslessly: no sign but "-", no leading zero.
INTEGER_TEXT = r"-?(?:0|[1-9][0-9]{0,17})"


def id_strings(values: np.ndarray | pd.Series) -> np.ndarray:
    """Item ids (no missing ones) as text: a whole float as its integer (1.0 -> "1",
    400000000001.0 -> "400000000001"), another float as Arrow writes it (2.5 -> "2.5"),
    everything else as `str` writes it; floats among other values (an object column) alike.

    Before, a float store column was keyed "1.0" in training while batch staging (Arrow's cast)
    keyed it "1", and a future or item-metadata CSV holding `1` matched neither: its rows were
    taken for other items and the run stopped on missing future values of "1.0". Arrow's cast
    alone still wrote a whole float of 12 digits or more in exponent form (a barcode as
    "4.00000000001e+11"), which no request or CSV for "400000000001" matched.
    """
    array = np.asarray(values)
    if array.dtype.kind == "f":
        return _float_strings(array)
    if array.dtype == object and pd.api.types.infer_dtype(array, skipna=False) not in NO_FLOATS:
        floats = np.fromiter((isinstance(v, float) for v in array), dtype=bool, count=len(array))
        if floats.any():
            out = array.astype(str).astype(object)
            out[floats] = _float_strings(array[floats].astype(np.float64))
            return out.astype(str)
    return array.astype(str)


def id_texts(values: pd.Series) -> pd.Series:
    """`id_strings` of a column that may miss some ids (they stay missing); a text one as it is."""
    if values.dtype == object:
        return values
    present = values.notna().to_numpy()
    texts = np.full(len(values), None, dtype=object)
    texts[present] = id_strings(values[present])
    return pd.Series(texts, index=values.index, name=values.name)


def id_strings_arrow(values: pa.Array) -> pa.Array:
    """`id_strings` of an Arrow column, nulls kept: what batch staging keys rows by."""
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if pa.types.is_floating(values.type):
        wide = values.cast(pa.float64())
        whole = pc.and_(pc.equal(pc.floor(wide), wide), pc.less(pc.abs(wide), INT64_BOUND))
        integers = pc.if_else(whole, wide, 0.0).cast(pa.int64())
        return pc.if_else(whole, integers.cast(pa.string()), values.cast(pa.string()))
    return values if pa.types.is_string(values.type) else values.cast(pa.string())


def _float_strings(values: np.ndarray) -> np.ndarray:
    array = id_strings_arrow(pa.array(values))
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=str)


def item_parts(item_col: str) -> tuple[str, ...]:
    """The columns that make up the item key `item_col` ("Store,Dept" -> ("Store", "Dept"))."""
    parts = tuple(part.strip() for part in item_col.split(NAME_JOIN))
    if len(parts) < 2 or not all(parts):
        return (item_col,)
    return parts


def is_composite(item_col: str) -> bool:
    return len(item_parts(item_col)) > 1


def item_column(value: str | Sequence[str]) -> str:
    """One item column name from a name, a comma list or a list of names (checked): parts
    stripped and joined by a bare comma, each named once. A name whose parts are not all
    names ("a,") is one odd name, kept as given."""
    names = [value] if isinstance(value, str) else [str(v) for v in value]
    if not isinstance(value, str) and (not names or any(not n.strip() for n in names)):
        raise ConfigError(f"the item column needs a name for every part, got {value!r}")
    parts = [p for name in names for p in item_parts(name)]
    if len(parts) == 1:
        return parts[0]
    if len(set(parts)) < len(parts):
        raise ConfigError(f"the item key names a column twice: {value!r}")
    return NAME_JOIN.join(parts)


def missing_name(column: str, available: Sequence[str]) -> str:
    """A missing column's name as an error shows it: an item key made of several columns
    with the parts the table lacks ("Store,Dept (lacking Dept)")."""
    if not is_composite(column):
        return column
    lacking = [p for p in item_parts(column) if p not in set(available)]
    return f"{column} (lacking {', '.join(lacking)})"


def lacking(needed: Sequence[str], available: Sequence[str]) -> list[str]:
    """Those of the columns `needed` that `available` lacks, as errors name them
    (`missing_name`); an item key made of several columns is there when all its parts are."""
    return [
        missing_name(c, available)
        for c in needed
        if c not in available and not all(p in available for p in item_parts(c))
    ]


def text_columns(item_col: str) -> list[str]:
    """The columns to read as text for this key: the key's name and its parts."""
    return list(dict.fromkeys([item_col, *item_parts(item_col)]))


def key_of(frame: pd.DataFrame, columns: Sequence[str], label: str) -> pd.Series:
    """Each row's values of `columns` as text, joined by "|": a DataError names an empty part or,
    where there are several, a value holding "|" (the join could not be split back exactly)."""
    texts = []
    for column in columns:
        what = f"column {column!r}" if [column] == list(columns) else f"column {column!r} (part of {label!r})"
        values = frame[column]
        missing = values.isna().to_numpy()
        if missing.any():
            rows = np.flatnonzero(missing)[:5].tolist()
            raise DataError(f"{what} has {counted(int(missing.sum()), 'missing value')} (rows {rows})")
        text = pd.Series(id_strings(values), index=values.index, dtype=object)
        texts.append(text)
        if len(columns) == 1:
            continue
        holding = text.str.contains(SEPARATOR, regex=False).to_numpy()
        if holding.any():
            shown = sorted(set(text[holding].head(3)))
            raise DataError(
                f"{what} has values holding {SEPARATOR!r}, which joins the key's parts: {shown}; "
                "replace it in those values"
            )
    key = texts[0]
    for text in texts[1:]:
        key = key + SEPARATOR + text
    return key.rename(label)


def compose(frame: pd.DataFrame, item_col: str) -> pd.DataFrame:
    """`frame` with the joined key column `item_col` added beside its first part.

    Unchanged where `item_col` is one column or the table already has it. A table that lacks
    some of the parts is returned as it is: its validation names the missing item column, and
    an item-metadata table may be keyed by some of the parts (a store table for store x
    department series, see `partial_key`).
    """
    parts = item_parts(item_col)
    for part in (p for p in dict.fromkeys([item_col, *parts]) if p in frame.columns):
        _single_values(frame[part], part)
    if len(parts) == 1 or item_col in frame.columns or any(p not in frame.columns for p in parts):
        return frame
    key = key_of(frame, parts, item_col)
    out = frame.copy(deep=False)
    out.insert(int(frame.columns.get_loc(parts[0])), item_col, key.to_numpy())
    out.attrs = dict(frame.attrs)
    return out


def _single_values(values: pd.Series, column: str) -> None:
    """A DataError where an item column holds lists or structs (a SQL query's LIST or STRUCT,
    such as string_split(sku, '-') without [1], or a nested Parquet column) rather than one id
    per row: ingesting them failed deep inside numpy or pandas, with a traceback."""
    nested = (list, tuple, dict, np.ndarray)
    if values.dtype != object or values.empty:
        return
    array = values.to_numpy()
    first = array[0]
    if pd.api.types.is_scalar(first) and pd.isna(first):  # a column has one type: its first id's
        present = pd.notna(array)
        first = array[int(np.argmax(present))] if present.any() else None
    if not isinstance(first, nested):
        return
    shown = first.tolist() if isinstance(first, np.ndarray) else first
    rows = sum(isinstance(v, nested) for v in array)
    raise DataError(
        f"column {column!r} holds lists or structs, not one item id per row "
        f"({counted(rows, 'row')}, such as {shown!r}): select one value of each, "
        "e.g. a list's first element, string_split(sku, '-')[1] in SQL"
    )


def item_ids(frame: pd.DataFrame, item_col: str) -> pd.Series:
    """Each row's item id, from the item column or, in an output whose key was split into its
    parts, from the parts joined again."""
    if item_col in frame.columns or not is_composite(item_col):
        return frame[item_col]
    return key_of(frame, item_parts(item_col), item_col)


def partial_key(table: pd.DataFrame, item_col: str) -> tuple[str, ...]:
    """The key columns an item-metadata table is keyed by: the whole key, or the parts of a
    composite key it has (a store table of `Store` for "Store,Dept" items); () if none."""
    if item_col in table.columns:
        return (item_col,)
    parts = item_parts(item_col)
    if len(parts) == 1:
        return ()
    return tuple(p for p in parts if p in table.columns)


def split(frame: pd.DataFrame, item_col: str) -> pd.DataFrame:
    """The joined key column of an output replaced by its part columns, in the same place."""
    parts = item_parts(item_col)
    if len(parts) == 1 or item_col not in frame.columns:
        return frame
    ids = frame[item_col].astype(str)
    pieces = (
        ids.str.split(SEPARATOR, n=len(parts) - 1, expand=True, regex=False)
        if len(ids)
        else pd.DataFrame({k: ids for k in range(len(parts))})
    )
    if pieces.shape[1] != len(parts) or pieces.isna().to_numpy().any():
        raise DataError(f"item ids of {item_col!r} do not have {len(parts)} parts joined by {SEPARATOR!r}")
    before = frame.columns[: int(frame.columns.get_loc(item_col))]
    position = sum(1 for column in before if column not in parts)
    out = frame.drop(columns=[item_col, *(p for p in parts if p in frame.columns)])
    for offset, part in enumerate(parts):
        out.insert(min(position + offset, len(out.columns)), part, pieces[offset].to_numpy())
    return out


def key_types(frame: pd.DataFrame, item_col: str, untyped: Sequence[str] = ()) -> tuple[tuple[str, str], ...]:
    """The number types of the key's columns (the item column, or each part) in the user's
    table, as (column, dtype) pairs; a text column has none. Floats that are all whole are
    "int64", as their ids are integers (`id_strings`): pandas made a store column float for
    one missing store, and its forecast's store 2 is 2 (in a CSV too), which merges onto the
    floats all the same. A column named in `untyped` holds text only because it was read so (a
    CSV's id column, whose file has no types): it is "int64" where every value is an integer
    as a CSV writes it ("7", not "007" or "7.0")."""
    columns = [item_col] if item_col in frame.columns else item_parts(item_col)
    types = []
    for column in (c for c in columns if c in frame.columns):
        dtype = frame[column].dtype
        if pd.api.types.is_float_dtype(dtype):
            values = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
            values = values[~np.isnan(values)]
            whole = bool(np.all((np.floor(values) == values) & (np.abs(values) < INT64_BOUND)))
            types.append((column, "int64" if whole else str(dtype)))
        elif pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            types.append((column, str(dtype)))
        elif column in untyped:
            values = pd.Series(frame[column].dropna().unique(), dtype=object).astype(str)
            if len(values) and values.str.fullmatch(INTEGER_TEXT).all():
                types.append((column, "int64"))
    return tuple(types)


def typed_keys(frame: pd.DataFrame, types: Sequence[tuple[str, str]]) -> tuple[pd.DataFrame, list[str]]:
    """`frame` (an output, its key columns text) with each column of `types` in its type where
    every id comes back as itself (`id_strings`), else left text; and the columns converted."""
    out, converted = frame, []
    for column, dtype in types:
        typed = _typed(frame[column], dtype) if column in frame.columns else None
        if typed is None:
            continue
        if out is frame:
            out = frame.copy(deep=False)
        out[column] = typed
        converted.append(column)
    return out, converted


def _typed(ids: pd.Series, dtype: str) -> pd.Series | None:
    codes, uniques = pd.factorize(ids)
    if (codes < 0).any():
        return None
    texts = id_strings(np.asarray(uniques, dtype=object))
    try:
        numbers = pd.to_numeric(pd.Series(texts, dtype=object)).astype(dtype)
    except (TypeError, ValueError, OverflowError):
        return None
    if not np.array_equal(id_strings(numbers), texts):
        return None
    return pd.Series(numbers.array.take(codes), index=ids.index, name=ids.name)
