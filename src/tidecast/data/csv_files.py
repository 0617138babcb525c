"""CSV files as tables: their separator, id columns read as text, numbers as a locale writes them.

`io.read_table` reads a CSV through `read_csv_table`, and batch staging streams one with the
same decisions, so a file gives the same values to `train` and to `batch`:

* the separator is the header's (`sniff_delimiter`): a `;`-, tab- or `|`-separated export is
  read as the table it is, not as one column;
* named text columns (item ids) are parsed as text from the start (`csv_frame`): stores `01`
  and `1` stay two series;
* "NA", "null" and "None" are names in the id columns and static attributes, missing in the
  other columns (`missing_text`): item "NA" is Namibia, not a row without an item;
* numbers are read as the spreadsheet that wrote them meant (`locale_numbers`): decimal commas
  and thousands dots where fields are not split by commas, thousands commas where they are,
  currency signs dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from tidecast.data.locale_numbers import DotScan, decimal_commas, thousands_commas, undot
from tidecast.data.missing_text import MISSING_SPELLINGS, null_missing_text

SCAN_BLOCK_BYTES = 16 << 20


def sniff_delimiter(header_line: str) -> str:
    """The header's field separator: a comma unless the line has none and another separator.

    European spreadsheets write `;`-separated CSV, and tab- or pipe-separated exports are
    common; read as commas they become one column named `item_id;timestamp;...`.
    """
    if "," in header_line:
        return ","
    counts = {sep: header_line.count(sep) for sep in (";", "\t", "|")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ","


def separator(fs: Any, path: str, compression: str | None) -> str:
    """A CSV's field separator, from its first line (`sniff_delimiter`)."""
    with fs.open(path, "rb", compression=compression) as handle:
        return sniff_delimiter(handle.readline().decode("utf-8", errors="replace"))


def read_csv_table(
    fs: Any,
    path: str,
    compression: str | None,
    sep: str,
    header: list[str],
    wanted: list[str] | None,
    text: list[str],
    names: Sequence[str] = (),
) -> pd.DataFrame:
    """The CSV's `wanted` columns (all of `header`: None), `text` ones as text, numbers per
    its locale; "NA" is a name in `text` and `names` columns (`missing_text`)."""
    with fs.open(path, "rb", compression=compression) as handle:
        frame = csv_frame(handle, wanted, text, sep, names=[*text, *names])
    if sep == ",":  # an English-locale export: "10,038.50" is ten thousand and more
        return thousands_commas(frame, skip=text)
    others = [c for c in header if c not in frame.columns and c not in text]
    dots = _thousands_dots(fs, path, compression, sep, frame, text, others)
    # 12,5 is twelve and a half where fields are split by ";" (`locale_numbers`)
    return decimal_commas(undot(frame, dots), skip=[*text, *dots])


def _thousands_dots(
    fs: Any,
    path: str,
    compression: str | None,
    sep: str,
    frame: pd.DataFrame,
    text: list[str],
    others: list[str],
) -> list[str]:
    """The columns of a frame read from a CSV not separated by commas whose dots group
    thousands (`DotScan`), their text put in the frame where pyarrow read numbers (`undot`
    reads it).

    The decision `scan_numbers` takes on a streamed file, taken on the frame in hand: commas
    and runs of dots leave a column as text, so pyarrow's strings show them; only the columns
    it read as decimals (`1.234`) need their text again, beside the columns not asked for
    (`others`, whose decimal commas count as the whole file's do in a staged batch), and only
    where those or the frame could show decimal commas: a file without them is read once.
    """
    scan = DotScan()
    scan.add(frame[[c for c in frame.columns if c not in text and frame[c].dtype == object]])
    floats = [c for c in frame.columns if c not in text and frame[c].dtype.kind == "f"]
    raw = None
    if floats and (scan.decimal_comma_columns() or others):
        with fs.open(path, "rb", compression=compression) as handle:
            raw = csv_frame(handle, [*floats, *others], [*floats, *others], sep)
        scan.add(raw)
    dots = [c for c in scan.thousands_dot_columns() if c in frame.columns]
    reread = [c for c in dots if c in floats]
    if raw is not None and reread:
        frame[reread] = raw[reread]  # their text, for `undot`
    return dots


def csv_frame(
    handle: Any, wanted: list[str] | None, text: list[str], sep: str, names: Sequence[str] = ()
) -> pd.DataFrame:
    """A CSV as pandas' pyarrow reader gives it, but `text` columns parsed as text and the
    text cells of `names` columns missing only where empty (`missing_text`).

    pandas' pyarrow engine infers each column's type and only then applies `dtype`, so store
    ids "01" and "1" both became "1" in an all-numeric column. Here pyarrow reads them as
    text from the start; the rest is what that engine does (its missing-value spellings,
    an all-missing column as float64).
    """
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(text, pa.string()),
        include_columns=wanted,
        null_values=MISSING_SPELLINGS,
        strings_can_be_null=False,
    )
    table = pacsv.read_csv(handle, parse_options=pacsv.ParseOptions(delimiter=sep), convert_options=convert)
    table = null_missing_text(table, names)
    schema = table.schema
    for i, kind in enumerate(schema.types):
        if pa.types.is_null(kind):
            schema = schema.set(i, schema.field(i).with_type(pa.float64()))
    frame = table.cast(schema).to_pandas()
    return frame.astype(dict.fromkeys(text, "string")) if text else frame


def scan_numbers(fs: Any, path: str, compression: str | None, sep: str, skip: Sequence[str] = ()) -> DotScan:
    """What a CSV not separated by commas writes in its columns (`DotScan`: thousands dots,
    decimal commas), from the whole file read as text in blocks (memory bounded by the
    block, not the file)."""
    with fs.open(path, "rb", compression=compression) as handle:
        header = pacsv.open_csv(
            handle,
            read_options=pacsv.ReadOptions(block_size=1 << 16),
            parse_options=pacsv.ParseOptions(delimiter=sep),
        ).schema.names
    columns = [c for c in header if c not in set(skip)]
    scan = DotScan()
    if not columns:
        return scan
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(columns, pa.string()),
        include_columns=columns,
        null_values=MISSING_SPELLINGS,
        strings_can_be_null=True,
    )
    with fs.open(path, "rb", compression=compression) as handle:
        reader = pacsv.open_csv(
            handle,
            read_options=pacsv.ReadOptions(block_size=SCAN_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=sep),
            convert_options=convert,
        )
        for batch in reader:
            scan.add(batch.to_pandas())
    return scan
