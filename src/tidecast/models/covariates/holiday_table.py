"""The holiday table of the regression family: holiday columns for every calendar day, by date.

The dynamic regression builds it once per fit or predict over the panel's span and each
series gathers its rows; Prophet takes the same calendar as its own holidays frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tidecast.data.calendar import as_datetime64
from tidecast.data.holidays import HolidayCalendar, holiday_features


@dataclass(frozen=True)
class HolidayTable:
    """Holiday indicator columns for every calendar day from `first_day`, gathered by date.

    Built once per fit or predict over the panel's span (plus the horizon), so each series
    only indexes rows. Pass a calendar that covers a year either side of the span
    (`spec_calendar` does), which makes a date's values independent of the span asked for
    (Dec 31 sees next New Year's Day).
    """

    first_day: int
    names: tuple[str, ...]
    values: np.ndarray

    @classmethod
    def build(
        cls, calendar: HolidayCalendar, radii: Sequence[int], start: object, end: object
    ) -> HolidayTable:
        first, last = (
            int(as_datetime64([s]).astype("datetime64[D]").view(np.int64)[0]) for s in (start, end)
        )
        days = np.arange(first, last + 1).astype("datetime64[D]")
        names: list[str] = []
        columns: list[np.ndarray] = []
        for radius in radii:
            frame = holiday_features(days, calendar, per_holiday=True, radius=int(radius))
            for column in sorted(c for c in frame.columns if c.startswith("hol_")):
                names.append(f"{column}_{int(radius)}d")
                columns.append(frame[column].to_numpy(dtype=np.float64))
        values = np.column_stack(columns) if columns else np.zeros((len(days), 0))
        return cls(first, tuple(names), values)

    def gather(self, stamps: np.ndarray, names: Sequence[str]) -> np.ndarray:
        """Rows for `stamps`, columns `names` (zeros for a name this table lacks)."""
        rows = as_datetime64(stamps).astype("datetime64[D]").view(np.int64) - self.first_day
        index = {name: j for j, name in enumerate(self.names)}
        out = np.zeros((len(rows), len(names)))
        for k, name in enumerate(names):
            if name in index:
                out[:, k] = self.values[rows, index[name]]
        return out
