"""Reports as files or bytes: HTML (one page), JSON (one document), CSV (one file per table,
in a folder or a zip). The API sends the bytes; the command line writes the files.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tidecast.errors import ConfigError
from tidecast.jsonable import json_safe
from tidecast.reports.document import Report
from tidecast.reports.render_html import render_html

FORMATS = ("html", "json", "csv")
MEDIA_TYPES = {"html": "text/html; charset=utf-8", "json": "application/json", "csv": "application/zip"}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].map(lambda v: None if pd.isna(v) else v.isoformat())
    records: list[dict[str, Any]] = json_safe(out.astype(object).where(out.notna(), None).to_dict("records"))
    return records


def report_dict(report: Report) -> dict[str, Any]:
    """The report as JSON-safe data: summary, notes, every table as records, every chart."""
    return {
        "kind": report.kind,
        "source": report.source,
        "summary": json_safe(report.summary),
        "notes": report.notes,
        "sections": [
            {
                "title": s.title,
                "text": s.text,
                "tables": {name: _records(t) for name, t in s.tables.items()},
                "charts": [json_safe(c.to_dict()) for c in s.charts],
            }
            for s in report.sections
        ],
    }


def csv_tables(reports: Sequence[Report]) -> dict[str, str]:
    """File name -> CSV text for every table: `<kind>_<table>.csv`."""
    return {f"{r.kind}_{name}.csv": t.to_csv(index=False) for r in reports for name, t in r.tables().items()}


def render_bytes(reports: Sequence[Report], fmt: str) -> bytes:
    """The reports in `fmt`: an HTML page, a JSON document, or a zip of CSV files."""
    if fmt == "html":
        return render_html(reports).encode()
    if fmt == "json":
        return json.dumps({"reports": [report_dict(r) for r in reports]}, indent=2, allow_nan=False).encode()
    if fmt == "csv":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in csv_tables(reports).items():
                archive.writestr(name, text)
        return buffer.getvalue()
    raise ConfigError(f"unknown report format {fmt!r}: choose one of {', '.join(FORMATS)}")


def write_reports(reports: Sequence[Report], fmt: str, out: str | Path) -> Path:
    """Write the reports to `out`: a file for html and json; for csv a folder of CSV files, or
    a zip when `out` ends in .zip. Returns what was written."""
    path = Path(out)
    if fmt == "csv" and path.suffix != ".zip":
        path.mkdir(parents=True, exist_ok=True)
        for name, text in csv_tables(reports).items():
            (path / name).write_text(text)
        return path
    data = render_bytes(reports, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
