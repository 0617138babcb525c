"""Reading and writing tables: CSV and Parquet, one file, a folder or a glob, any fsspec URL.

Everything goes through fsspec so a local path, ``file://``, ``memory://`` and ``s3://`` (with
s3fs installed) behave the same. Failures become DataError naming the file, because "could
not parse" without a file name is useless when a folder holds hundreds of parts.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.core import url_to_fs

from tidecast.data.column_hints import shown_columns, wide_hint
from tidecast.data.csv_files import read_csv_table, separator
from tidecast.data.part_columns import check_same_columns
from tidecast.errors import DataError

CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zst")
PARQUET_SUFFIXES = (".parquet", ".pq")
_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd"}
_GLOB_CHARS = frozenset("*?[")


# Key of a frame's `attrs` with every column of the file it came from: a file read with `only`
# has just the columns asked for, and an error about a missing column must list the file's.
SOURCE_COLUMNS = "source_columns"
# Key of a CSV frame's `attrs` with its `text_columns`: text because they were read so, not
# because the file typed them (a CSV has no types), so their values may still be numbers.
READ_AS_TEXT = "read_as_text"


def read_table(
    source: str | Path,
    columns: Sequence[str] | None = None,
    *,
    text_columns: Sequence[str] = (),
    only: Sequence[str] | None = None,
    names: Sequence[str] = (),
) -> pd.DataFrame:
    """Read one CSV/Parquet file, every such file in a folder (recursively), or a glob.

    The files of a folder or glob are read in sorted path order and concatenated; hidden files
    and markers such as ``_SUCCESS`` are skipped, and so are empty parts, since writers such as
    Spark leave them behind. They must have the same columns, in any order: files that differ
    are a DataError naming them (`part_columns`), not a table with gaps. `columns` restricts
    what is read (cheaper for wide files) and must exist in every file. `text_columns` of CSV
    files are read as strings so identifiers like ``"007"`` keep their leading zeros (CSV type
    inference would turn them into the number 7). `only` reads just those of its columns that a
    file has and skips the rest of the file's columns, leaving missing ones for validation to
    name: a wide file's unused text columns can cost more memory than everything the model
    needs. In CSV files "NA", "null" and "None" are names in the `text_columns` and the
    `names` columns (static attributes), missing values elsewhere (`missing_text`).
    """
    fs, paths, label = resolve_files(source)
    if len(paths) == 1 and fs.size(paths[0]) == 0:
        raise DataError(f"{display_path(fs, paths[0])} is empty")
    parts = [path for path in paths if fs.size(path) > 0]
    if not parts:
        raise DataError(f"{label} is empty: every file in it is empty")
    check_parts_columns(fs, parts, label)
    frames = [
        _read_one(fs, path, display_path(fs, path), columns, text_columns, only, names) for path in parts
    ]
    frame = frames[0] if len(frames) == 1 else _stacked(frames)
    if len(frame) == 0:
        raise DataError(f"{label} is empty: it has a header but no rows")
    return frame


def check_parts_columns(fs: Any, paths: Sequence[str], label: str) -> None:
    """A DataError when the files `paths` of `label` do not all have the first one's columns
    (`part_columns`), read from their headers and schemas before any data is."""
    if len(paths) > 1:
        check_same_columns([_named_columns(fs, path) for path in paths], label)


def _named_columns(fs: Any, path: str) -> tuple[str, list[str]]:
    """A file's display name and column names; a file that cannot be read so is a DataError
    naming it, as `_read_one` names one whose data cannot be read."""
    name = display_path(fs, path)
    with _naming(name):
        return name, file_columns(fs, path)


def _stacked(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The files' frames as one, lined up by column name; the first file's `attrs` (its columns,
    those read as text) kept, which `pd.concat` drops when files list their columns in
    different orders."""
    frame = pd.concat(frames, ignore_index=True)
    frame.attrs = dict(frames[0].attrs)
    return frame


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write `frame` as ``.csv`` (optionally ``.csv.gz``) or ``.parquet``, creating folders.

    Used for forecasts: CSV timestamps come out as ISO strings, which every BI tool reads.
    """
    target = str(path)
    kind = table_kind(target)
    if kind is None:
        raise DataError(f"cannot write {target!r}: use a .csv, .csv.gz or .parquet file name")
    fs, fs_path = url_to_fs(target)
    parent = posixpath.dirname(fs_path)  # fsspec paths use "/" on every platform
    if parent:
        fs.makedirs(parent, exist_ok=True)
    if kind == "parquet":
        with fs.open(fs_path, "wb") as handle:
            frame.to_parquet(handle, index=False)
        return
    with fs.open(fs_path, "wb", compression=compression_of(target)) as handle:
        frame.to_csv(handle, index=False)


def resolve_files(source: str | Path) -> tuple[Any, list[str], str]:
    """The filesystem, the sorted list of files to read, and how to name the source in errors."""
    label = str(source)
    fs, path = url_to_fs(label)
    if any(char in path for char in _GLOB_CHARS):
        paths = sorted(p for p in fs.glob(path) if fs.isfile(p))
        unsupported = [p for p in paths if table_kind(p) is None]
        if unsupported:
            raise DataError(f"{display_path(fs, unsupported[0])} is neither CSV nor Parquet (from {label})")
    elif fs.isdir(path):
        paths = sorted(p for p in fs.find(path) if table_kind(p) is not None and not _hidden(p, path))
    elif fs.exists(path):
        if table_kind(path) is None:
            raise DataError(
                f"{label} is neither CSV nor Parquet: use one of {', '.join(CSV_SUFFIXES + PARQUET_SUFFIXES)}"
            )
        paths = [path]
    else:
        raise DataError(f"{label} does not exist")
    if not paths:
        raise DataError(f"no CSV or Parquet files found in {label}")
    return fs, paths, label


def table_columns(source: str | Path, max_files: int = 50) -> list[str] | None:
    """The column names of `source`'s files, from their headers and schemas alone; None where
    that would mean opening more than `max_files` files, or a file cannot be read that way
    (reading the data will say why). For checking a job's column roles when it is submitted
    rather than when a worker reads it. Files whose columns differ are the DataError that
    reading them gives (`part_columns`), found here without reading their data."""
    try:
        fs, paths, label = resolve_files(source)
        if len(paths) > max_files:
            return None
        headers = [(display_path(fs, path), file_columns(fs, path)) for path in paths if fs.size(path) > 0]
    except (DataError, OSError, ValueError, pa.ArrowException, UnicodeDecodeError):
        return None
    check_same_columns(headers, label)
    return headers[0][1] if headers else None


def file_columns(fs: Any, path: str) -> list[str]:
    """One file's column names, from its Parquet schema or its CSV header line."""
    if table_kind(path) == "parquet":
        with fs.open(path, "rb") as handle:
            return list(pq.ParquetFile(handle).schema_arrow.names)
    compression = compression_of(path)
    return [str(c) for c in _csv_header(fs, path, compression, separator(fs, path, compression))]


def _read_one(
    fs: Any,
    path: str,
    name: str,
    columns: Sequence[str] | None,
    text_columns: Sequence[str],
    only: Sequence[str] | None = None,
    names: Sequence[str] = (),
) -> pd.DataFrame:
    with _naming(name):
        if table_kind(path) == "parquet":
            return _read_parquet(fs, path, name, columns, only)
        return _read_csv(fs, path, name, columns, text_columns, only, names)


@contextmanager
def _naming(name: str) -> Iterator[None]:
    """Read errors as a DataError naming the file `name`: in a folder of hundreds of parts,
    "could not parse" alone does not say which to open."""
    try:
        yield
    except DataError:
        raise
    except pd.errors.EmptyDataError as exc:  # a compressed file that holds nothing
        raise DataError(f"{name} is empty") from exc
    except (OSError, ValueError, pa.ArrowException, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {name}: {exc}") from exc


def _read_parquet(
    fs: Any, path: str, name: str, columns: Sequence[str] | None, only: Sequence[str] | None = None
) -> pd.DataFrame:
    with fs.open(path, "rb") as handle:
        parquet = pq.ParquetFile(handle)
        _check_columns(parquet.schema_arrow.names, columns, name)
        wanted = _wanted(parquet.schema_arrow.names, columns, only)
        frame = parquet.read(columns=wanted).to_pandas()
    frame.attrs[SOURCE_COLUMNS] = list(parquet.schema_arrow.names)
    return frame


def _read_csv(
    fs: Any,
    path: str,
    name: str,
    columns: Sequence[str] | None,
    text_columns: Sequence[str],
    only: Sequence[str] | None = None,
    names: Sequence[str] = (),
) -> pd.DataFrame:
    compression = compression_of(path)
    sep = separator(fs, path, compression)
    header = _csv_header(fs, path, compression, sep)
    _check_columns(header, columns, name)
    text = [c for c in text_columns if c in header]
    wanted = _wanted(header, columns, only)
    frame = read_csv_table(
        fs, path, compression, sep, header, wanted, text, [c for c in names if c in header]
    )
    frame.attrs[SOURCE_COLUMNS] = header
    frame.attrs[READ_AS_TEXT] = text
    return frame


def _csv_header(fs: Any, path: str, compression: str | None, sep: str) -> list[str]:
    """A CSV file's column names, its header line alone read."""
    with fs.open(path, "rb", compression=compression) as handle:
        return pd.read_csv(handle, nrows=0, sep=sep).columns.tolist()


def _wanted(
    available: list[str], columns: Sequence[str] | None, only: Sequence[str] | None
) -> list[str] | None:
    """The columns to read: `columns` if given, else those of `only` the file has, else all."""
    if columns is not None:
        return list(columns)
    if only is not None:
        return [c for c in available if c in set(only)]
    return None


def _check_columns(available: list[str], wanted: Sequence[str] | None, name: str) -> None:
    missing = [c for c in wanted or () if c not in available]
    if missing:
        raise DataError(
            f"{name} has no column(s) {missing}; available columns: {shown_columns(available)}{wide_hint(available)}"
        )


def table_kind(path: str) -> str | None:
    lower = path.lower()
    if lower.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if lower.endswith(CSV_SUFFIXES):
        return "csv"
    return None


def compression_of(path: str) -> str | None:
    """The fsspec compression of a file named like `sales.csv.gz`, or None."""
    return _COMPRESSION.get(Path(path).suffix.lower())


def _hidden(path: str, folder: str) -> bool:
    """Hidden files and markers (``.crc``, ``_SUCCESS``, ``_temporary/``) below `folder`."""
    relative = path[len(folder) :] if path.startswith(folder) else path
    return any(part.startswith((".", "_")) for part in relative.replace("\\", "/").split("/") if part)


def display_path(fs: Any, path: str) -> str:
    """Local files by their path, remote ones by their full URL."""
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return path if protocol in ("file", "local") else str(fs.unstrip_protocol(path))
