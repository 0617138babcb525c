"""Split any input table into chunks of whole series, on local disk, in one streaming pass.

Batch input can be one huge file sorted any way, a folder of parts or a glob, local or behind
an fsspec URL. Forecasting needs every row of an item together, and memory must depend on the
chunk size, never on the catalogue. So the input is read in record batches and each row goes
to the chunk its item id hashes to (a stable hash, so a rerun puts every item in the same
chunk), written as small Parquet files under ``chunk-NNNNN/``. A chunk then holds whole series
and can be read alone by any worker.

The staging folder is written under a temporary name and renamed when complete, with a marker
that records the input files (path, size, modification time) and the chunking, so an
interrupted batch reuses a finished staging and redoes an unfinished one.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tidecast.data.column_hints import shown_columns, wide_hint
from tidecast.data.csv_files import scan_numbers, separator
from tidecast.data.io import check_parts_columns, compression_of, display_path, resolve_files, table_kind
from tidecast.data.item_keys import SEPARATOR, id_strings_arrow, item_parts, missing_name, text_columns
from tidecast.data.locale_numbers import as_decimal_commas, decimal_commas, thousands_commas, undot
from tidecast.data.missing_text import MISSING_SPELLINGS, null_missing_text
from tidecast.errors import DataError

MARKER = "_SUCCESS.json"
# Rows read at once: bounds the staging pass's memory whatever the file size.
READ_ROWS = 1_000_000
CSV_BLOCK_BYTES = 64 << 20


@dataclass(frozen=True)
class Staged:
    """A staged input: `n_chunks` folders of Parquet parts, each holding whole series."""

    folder: Path
    n_chunks: int
    rows: int
    rows_without_item: int
    # From a CSV separated by another character than a comma: numbers with a decimal comma are
    # read as numbers in each chunk, as `read_table` reads them (`data.locale_numbers`).
    decimal_commas: bool = False
    item_col: str = ""
    # From a comma-separated CSV: "10,038.50" is read as a number, as `read_table` reads it.
    thousands_commas: bool = False
    # Columns whose dots group thousands ("1.234" for 1234) and columns of decimal commas,
    # decided on the whole file (`csv_files.scan_numbers`) and staged as text, then read as
    # numbers in each chunk, whatever the chunk holds.
    thousands_dots: tuple[str, ...] = ()
    decimal_comma_columns: tuple[str, ...] = ()

    def chunk_files(self, k: int) -> list[Path]:
        return sorted((self.folder / chunk_name(k)).glob("*.parquet"))

    def require(self, columns: Sequence[str], what: str) -> None:
        """Refuse the whole input at once when it lacks `columns` (the model's timestamp and
        target), naming them, rather than failing each of its items alike."""
        names = self.column_names()
        missing = [c for c in columns if c not in names]
        if names and missing:
            raise DataError(
                f"{what} has no column(s) {missing}; available columns: {shown_columns(names)}{wide_hint(names)}"
            )

    def has_empty(self, column: str) -> bool:
        """Whether any staged row leaves `column` empty (null, or blank text): the target of
        the rows that carry the plan after the history (`data.ahead`)."""
        for k in range(self.n_chunks):
            for path in self.chunk_files(k):
                values = pq.read_table(path, columns=[column]).column(0)
                if values.null_count:
                    return True
                text = pa.types.is_string(values.type) or pa.types.is_large_string(values.type)
                if text and pc.any(pc.equal(pc.utf8_trim_whitespace(values), "")).as_py():
                    return True
        return False

    def column_names(self) -> list[str]:
        """The staged table's columns, from its first part (none when no chunk holds a row)."""
        for k in range(self.n_chunks):
            files = self.chunk_files(k)
            if files:
                return list(pq.read_schema(files[0]).names)
        return []

    def read_chunk(self, k: int) -> pd.DataFrame | None:
        """Chunk `k` as one frame (None when no item hashed to it)."""
        files = self.chunk_files(k)
        if not files:
            return None
        frames = [pq.read_table(f).to_pandas() for f in files]
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        skip = [*text_columns(self.item_col), *self.thousands_dots, *self.decimal_comma_columns]
        frame = as_decimal_commas(undot(frame, self.thousands_dots), self.decimal_comma_columns)
        if self.decimal_commas:
            frame = decimal_commas(frame, skip=skip)
        if self.thousands_commas:
            frame = thousands_commas(frame, skip=skip)
        return frame


def chunk_name(k: int) -> str:
    return f"chunk-{k:05d}"


def input_fingerprint(source: str | Path) -> list[dict[str, Any]]:
    """Path, size and modification time of every input file: what tells one input from another."""
    fs, paths, _ = resolve_files(source)
    return _fingerprint(fs, paths)


def _fingerprint(fs: Any, paths: list[str]) -> list[dict[str, Any]]:
    rows = []
    for path in paths:
        info = fs.info(path)
        modified = info.get("mtime") or info.get("LastModified") or info.get("created")
        rows.append(
            {"path": display_path(fs, path), "size": int(info.get("size") or 0), "mtime": str(modified)}
        )
    return rows


def stage(
    source: str | Path,
    folder: Path,
    item_col: str,
    *,
    chunk_rows: int,
    n_chunks: int | None = None,
    names: Sequence[str] = (),
) -> Staged:
    """Stage `source` into `folder` (reused when it already holds this input, chunked this way).

    `n_chunks` defaults to the input's rows over `chunk_rows`; pass the input's own chunk count
    to stage a companion table (future covariates) so its items land in the same chunks.
    `names` are the model's static attributes: in a CSV their "NA" is a name, as the item
    id's is (`data.missing_text`), and "NA" in the other columns is missing, as `read_table`
    reads them.
    """
    if chunk_rows < 1:
        raise DataError(f"chunk_rows must be at least 1, got {chunk_rows}")
    fs, paths, label = resolve_files(source)
    fingerprint = _fingerprint(fs, paths)
    previous = _read_marker(folder)
    if (
        previous is not None
        and previous["inputs"] == fingerprint
        and previous["item_col"] == item_col
        and previous.get("names", []) == list(names)
        and (
            previous["n_chunks"] == n_chunks if n_chunks is not None else previous["chunk_rows"] == chunk_rows
        )
    ):
        return _staged(folder, previous)
    check_parts_columns(fs, [path for path in paths if fs.size(path) > 0], label)
    if n_chunks is None:
        rows = sum(_count_rows(fs, path, label, item_col) for path in paths)
        n_chunks = max(1, math.ceil(rows / chunk_rows))
    staging = folder.with_name(folder.name + ".partial")
    for stale in (staging, folder):
        shutil.rmtree(stale, ignore_errors=True)
    staging.mkdir(parents=True)
    total = without_item = 0
    separators = {path: _separator(fs, path) for path in paths if table_kind(path) != "parquet"}
    scans = [
        scan_numbers(fs, path, compression_of(path), sep, skip=text_columns(item_col))
        for path, sep in separators.items()
        if sep != ","
    ]
    dots = sorted({c for scan in scans for c in scan.thousands_dot_columns()})
    decimals = sorted({c for scan in scans for c in scan.decimal_comma_columns()} - set(dots))
    for file_index, path in enumerate(paths):
        for batch_index, batch in enumerate(
            _batches(fs, path, label, item_col, text=[*dots, *decimals], names=names)
        ):
            written, dropped = _write_buckets(
                batch, item_col, n_chunks, staging, f"{file_index:05d}-{batch_index:06d}"
            )
            total += written
            without_item += dropped
    if total == 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise DataError(f"{label} has no rows with an {item_col!r}")
    marker = {
        "inputs": fingerprint,
        "item_col": item_col,
        "names": list(names),
        "decimal_commas": any(sep != "," for sep in separators.values()),
        "thousands_commas": any(sep == "," for sep in separators.values()),
        "thousands_dots": dots,
        "decimal_comma_columns": decimals,
        "chunk_rows": chunk_rows,
        "n_chunks": n_chunks,
        "rows": total,
        "rows_without_item": without_item,
    }
    (staging / MARKER).write_text(json.dumps(marker, indent=2))
    os.replace(staging, folder)
    return _staged(folder, marker)


def _staged(folder: Path, marker: dict[str, Any]) -> Staged:
    return Staged(
        folder,
        int(marker["n_chunks"]),
        int(marker["rows"]),
        int(marker["rows_without_item"]),
        bool(marker.get("decimal_commas", False)),
        str(marker["item_col"]),
        bool(marker.get("thousands_commas", False)),
        tuple(str(c) for c in marker.get("thousands_dots", ())),
        tuple(str(c) for c in marker.get("decimal_comma_columns", ())),
    )


def _separator(fs: Any, path: str) -> str:
    """A CSV's field separator, from its first line (`csv_files.sniff_delimiter`)."""
    return separator(fs, path, compression_of(path))


def _read_marker(folder: Path) -> dict[str, Any] | None:
    try:
        marker: dict[str, Any] = json.loads((folder / MARKER).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return marker


def _count_rows(fs: Any, path: str, label: str, item_col: str) -> int:
    if table_kind(path) == "parquet":
        with fs.open(path, "rb") as handle:
            return int(pq.ParquetFile(handle).metadata.num_rows)
    return sum(batch.num_rows for batch in _batches(fs, path, label, item_col, key_only=True))


def _batches(
    fs: Any,
    path: str,
    label: str,
    item_col: str,
    key_only: bool = False,
    text: Sequence[str] = (),
    names: Sequence[str] = (),
) -> Iterator[pa.RecordBatch]:
    """The file's record batches, item ids as strings (an item key of several columns joined,
    `data.item_keys`); `key_only` reads just the key's columns. Read errors name the file."""
    name = display_path(fs, path)
    if fs.size(path) == 0:
        return
    try:
        if table_kind(path) == "parquet":
            batches = _parquet_batches(fs, path, name, item_col, key_only)
        else:
            batches = _csv_batches(fs, path, name, item_col, key_only, text, names)
        for batch in batches:
            yield _with_key(batch, item_col)
    except DataError:
        raise
    except (OSError, ValueError, pa.ArrowException, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {name} (from {label}): {exc}") from exc


def _parquet_batches(
    fs: Any, path: str, name: str, item_col: str, key_only: bool
) -> Iterator[pa.RecordBatch]:
    with fs.open(path, "rb") as handle:
        parquet = pq.ParquetFile(handle)
        key = _key_columns(parquet.schema_arrow.names, item_col, name)
        yield from parquet.iter_batches(batch_size=READ_ROWS, columns=key if key_only else None)


def _csv_batches(
    fs: Any,
    path: str,
    name: str,
    item_col: str,
    key_only: bool,
    text: Sequence[str] = (),
    names: Sequence[str] = (),
) -> Iterator[pa.RecordBatch]:
    """Stream a CSV, its separator found as `read_table` finds it (`sniff_delimiter`); integer
    columns are read as floats, so a later block with a decimal or an empty cell does not
    contradict the types inferred from the first block. Missing text cells are those
    `read_table` sees (`missing_text`): "NA" is an id in the key's columns and `names`."""
    compression = compression_of(path)
    parse = pacsv.ParseOptions(delimiter=_separator(fs, path))
    with fs.open(path, "rb", compression=compression) as handle:
        header = pacsv.open_csv(
            handle, read_options=pacsv.ReadOptions(block_size=1 << 16), parse_options=parse
        ).schema
    key = _key_columns(header.names, item_col, name)
    types = {f.name: pa.float64() for f in header if pa.types.is_integer(f.type)}
    types.update(dict.fromkeys([*key, *(c for c in text if c in header.names)], pa.string()))
    convert = pacsv.ConvertOptions(
        column_types=types, include_columns=key if key_only else None, null_values=MISSING_SPELLINGS
    )
    with fs.open(path, "rb", compression=compression) as handle:
        reader = pacsv.open_csv(
            handle,
            read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
            parse_options=parse,
            convert_options=convert,
        )
        for batch in reader:
            yield null_missing_text(batch, [*key, *names])


def _key_columns(names: list[str], item_col: str, name: str) -> list[str]:
    """The columns a file's item ids come from: the item column, or the parts of a key made
    of several columns."""
    if item_col in names:
        return [item_col]
    parts = item_parts(item_col)
    if len(parts) > 1 and all(p in names for p in parts):
        return list(parts)
    raise DataError(
        f"{name} has no column {missing_name(item_col, names)!r}; available columns: "
        f"{shown_columns(names)}{wide_hint(names)}"
    )


def _with_key(batch: pa.RecordBatch, item_col: str) -> pa.RecordBatch:
    """The batch with its item ids as text: the item column cast, or the key's parts joined."""
    index = batch.schema.get_field_index(item_col)
    if index >= 0:
        return batch.set_column(index, item_col, id_strings_arrow(batch.column(index)))
    parts = [id_strings_arrow(batch.column(batch.schema.get_field_index(p))) for p in item_parts(item_col)]
    for part, values in zip(item_parts(item_col), parts, strict=True):
        if pc.any(pc.match_substring(values, SEPARATOR)).as_py():
            raise DataError(
                f"column {part!r} (part of {item_col!r}) has values holding "
                f"{SEPARATOR!r}, which joins the key's parts; replace it in those values"
            )
    # an empty part (a blank CSV cell) leaves the row without an item, as a blank id does
    blanked = [pc.if_else(pc.equal(part, ""), pa.scalar(None, pa.string()), part) for part in parts]
    return batch.append_column(item_col, pc.binary_join_element_wise(*blanked, SEPARATOR))


def chunk_of(items: np.ndarray, n_chunks: int) -> np.ndarray:
    """The chunk of each item id: a hash that is the same in every process and every run."""
    hashed = pd.util.hash_array(np.asarray(items, dtype=object), categorize=False)
    return (hashed % np.uint64(n_chunks)).astype(np.int64)


def _write_buckets(
    batch: pa.RecordBatch, item_col: str, n_chunks: int, folder: Path, tag: str
) -> tuple[int, int]:
    """Append the batch's rows to their chunks; returns (rows written, rows without an item id)."""
    items = batch.column(batch.schema.get_field_index(item_col))
    # An empty id (what a CSV gives for a blank cell) is as missing as a null one.
    present = pc.fill_null(pc.and_(pc.is_valid(items), pc.not_equal(items, "")), False)
    table = pa.Table.from_batches([batch])
    dropped = len(items) - int(pc.sum(present).as_py() or 0)
    if dropped:
        table = table.filter(present)
        items = table.column(item_col).combine_chunks()
    if table.num_rows == 0:
        return 0, dropped
    encoded = pc.dictionary_encode(items)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    rows_chunk = chunk_of(encoded.dictionary.to_numpy(zero_copy_only=False), n_chunks)[codes]
    order = np.argsort(rows_chunk, kind="stable")
    bounds = np.searchsorted(rows_chunk[order], np.arange(n_chunks + 1))
    table = table.take(pa.array(order))
    for k in np.flatnonzero(np.diff(bounds)):
        part = table.slice(int(bounds[k]), int(bounds[k + 1] - bounds[k]))
        target = folder / chunk_name(int(k))
        target.mkdir(exist_ok=True)
        pq.write_table(part, target / f"{tag}.parquet")
    return table.num_rows, dropped
