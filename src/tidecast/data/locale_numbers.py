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


# Digits in groups of three after dots, no decimals: 1.234 or 12.345.678 (a thousands dot).
THOUSANDS_DOT = r"[+-]?\d{1,3}(?:\.\d{3})+"
_INTEGER = r"[+-]?\d+"


class DotScan:
    """Which columns of a file not separated by commas hold integers grouped by dots, and
    which hold numbers with decimal commas.

    A spreadsheet set to German writes 1234 units as `1.234` when its cells show thousands
    separators; pyarrow reads that as 1.234, a thousandth of the sale, and nothing fails.
    The dot is a thousands separator where every value of a column is an integer, grouped
    by dots in threes, at least one with a dot, and the file shows it is such an export: a
    column of numbers with decimal commas (`12,50`), or a value with two dots (`1.234.567`).
    Otherwise (`1.234` beside `0.5`, or a file with no decimal comma anywhere) the dot stays a
    decimal point. The scan reads the file's columns as text, batch by batch (`add`), so the
    whole file decides, as one `read_table` and a staged batch of it must agree: a batch
    chunk whose prices all lack a comma still reads `1.234` in them as 1234 where the file's
    column is one of decimal commas (`decimal_comma_columns`).
    """

    def __init__(self) -> None:
        self.dotted: set[str] = set()
        self.not_grouped: set[str] = set()
        self.many_dots: set[str] = set()
        self.with_comma: set[str] = set()
        self.not_decimal_comma: set[str] = set()

    def add(self, frame: pd.DataFrame) -> None:
        """One batch of the file's columns, read as text."""
        for column in frame.columns:
            text = frame[column].astype("string").str.strip().str.replace(CURRENCY, "", regex=True)
            given = text[text.notna() & (text != "")]
            if given.empty:
                continue
            dots = given.str.count(r"\.")
            if (dots > 0).any():
                self.dotted.add(column)
            if (dots > 1).any():
                self.many_dots.add(column)
            if not given.str.fullmatch(f"{THOUSANDS_DOT}|{_INTEGER}").all():
                self.not_grouped.add(column)
            if given.str.contains(",", regex=False).any():
                self.with_comma.add(column)
            if not given.str.fullmatch(DECIMAL_COMMA).all():
                self.not_decimal_comma.add(column)

    def decimal_comma_columns(self) -> list[str]:
        """The columns of numbers written with decimal commas, at least one with a comma."""
        return sorted(self.with_comma - self.not_decimal_comma)

    def thousands_dot_columns(self) -> list[str]:
        """The columns whose dots group thousands (see the class docstring)."""
        european = bool(self.with_comma - self.not_decimal_comma)
        grouped = self.dotted - self.not_grouped - self.with_comma
        return sorted(c for c in grouped if european or c in self.many_dots)


def undot(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """`frame` with each of `columns` (text of integers grouped by dots) as floats."""
    return _as_numbers(frame, columns, decimal=None)


def as_decimal_commas(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """`frame` with each of `columns` (text of numbers with decimal commas, a file's scan said)
    as floats, whatever this part of the file holds."""
    return _as_numbers(frame, columns, decimal=",")


def _as_numbers(frame: pd.DataFrame, columns: Iterable[str], decimal: str | None) -> pd.DataFrame:
    converted = {}
    for column in columns:
        if column in frame.columns and not pd.api.types.is_numeric_dtype(frame[column]):
            text = frame[column].astype("string").str.strip().str.replace(CURRENCY, "", regex=True)
            text = text.str.replace(".", "", regex=False)
            if decimal is not None:
                text = text.str.replace(decimal, ".", regex=False)
            converted[column] = pd.to_numeric(text.mask(text == ""), errors="coerce").astype("float64")
    return frame.assign(**converted) if converted else frame
