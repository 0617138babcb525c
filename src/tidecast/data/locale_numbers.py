"""Numbers written with a decimal comma, as European spreadsheets export them.

A `;`-separated CSV from a spreadsheet set to Italian, German or French writes 12,5 for 12.5
and 1.234,5 for 1234.5. Read as they are, a target or a price in that form is text, and the
check on the target refuses every value as "not a finite number". In a file whose fields are
not separated by commas a comma inside a number can only be its decimal point, so a text
column whose every value is such a number is read as one.

A comma-separated file is an English-locale export, whose spreadsheet quotes "10,038.50" for
10038.5: there a comma inside a number groups its thousands (`thousands_commas`), and a text
column whose every value is a number in groups of three (an optional dot and decimals after)
is read as one. "12,50" and "0,125" are no such numbers (decimal commas, quoted), so a column
holding one stays text and its check names it.

Either way a currency sign before or after an amount ("$1,234.50", "12,50 €") is dropped:
a price column exported with its currency format is still the price.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

# An optional sign, digits (in groups of three after dots, or plain), then a comma and decimals.
DECIMAL_COMMA = r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?"
# An optional sign, digits in groups of three after commas (or plain), then a dot and decimals.
# The first group never starts with 0: "0,125" is a decimal comma, not a thousands separator.
THOUSANDS_COMMA = r"[+-]?(?:[1-9]\d{0,2}(?:,\d{3})+|\d+)(?:\.\d+)?"


# A currency sign before or after an amount ("$1,234.50", "-$3.99", "12,50 €"), and the spaces
# beside it: dropped before the number is read.
CURRENCY = r"\s*[$€£¥]\s*"


def decimal_commas(frame: pd.DataFrame, skip: Iterable[str] = ()) -> pd.DataFrame:
    """`frame` with each text column (but `skip`) whose non-empty values are all numbers with a
    decimal comma, at least one of them with a comma or a currency sign, as floats; other
    columns unchanged."""
    return _numbers_with_commas(frame, skip, DECIMAL_COMMA, decimal=",")


def thousands_commas(frame: pd.DataFrame, skip: Iterable[str] = ()) -> pd.DataFrame:
    """`frame` with each text column (but `skip`) whose non-empty values are all numbers with
    commas between groups of three digits, at least one of them with a comma or a currency
    sign, as floats ("$3.99" too)."""
    return _numbers_with_commas(frame, skip, THOUSANDS_COMMA, decimal=".")


def _numbers_with_commas(
    frame: pd.DataFrame, skip: Iterable[str], pattern: str, decimal: str
) -> pd.DataFrame:
    skipped = set(skip)
    grouping = "." if decimal == "," else ","
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
        signed = text[present]
        given = signed.str.replace(CURRENCY, "", regex=True)
        marked = signed.str.contains(",", regex=False).any() or (given != signed).any()
        if not marked or not given.str.fullmatch(pattern).all():
            continue
        plain = given.str.replace(grouping, "", regex=False).str.replace(decimal, ".", regex=False)
        converted[column] = plain.astype("float64").reindex(frame.index)
    return frame.assign(**converted) if converted else frame
