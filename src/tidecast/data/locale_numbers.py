"""Numbers written with a decimal comma, as European spreadsheets export them.

A `;`-separated CSV from a spreadsheet set to Italian, German or French writes 12,5 for 12.5
and 1.234,5 for 1234.5. Read as they are, a target or a price in that form is text, and the
check on the target refuses every value as "not a finite number". In a file whose fields are
not separated by commas a comma inside a number can only be its decimal point, so a text
column whose every value is such a number is read as one. Comma-separated files are left as
they are: there a quoted "1,234" is as likely a thousands separator.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

# An optional sign, digits (in groups of three after dots, or plain), then a comma and decimals.
DECIMAL_COMMA = r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?"


def decimal_commas(frame: pd.DataFrame, skip: Iterable[str] = ()) -> pd.DataFrame:
    """`frame` with each text column (but `skip`) whose non-empty values are all numbers with a
    decimal comma, at least one of them with a comma, as floats; other columns unchanged."""
    skipped = set(skip)
    converted = {}
    for column in frame.columns:
        values = frame[column]
        if column in skipped or not (
            pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)
        ):
            continue
        text = values.astype("string").str.strip()
        present = text.notna() & (text != "")
        if not present.any():
            continue
        given = text[present]
        if not given.str.contains(",", regex=False).any() or not given.str.fullmatch(DECIMAL_COMMA).all():
            continue
        numbers = given.str.replace(".", "", regex=False).str.replace(",", ".", regex=False).astype("float64")
        converted[column] = numbers.reindex(frame.index)
    return frame.assign(**converted) if converted else frame
