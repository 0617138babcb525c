"""Realised accuracy: the forecast log joined with the actuals, scored by the metric kernels.

Each logged forecast is expanded into its (item, target timestamp, step) points and joined
with the actuals; the points are then grouped (per model version, per version and period of
the target timestamp, per version and horizon step, per version and item) and every group is
scored in one call of each kernel of `tidecast.metrics` over the groups' `indptr`:

* wQL over the logged quantile levels, WAPE, MAPE and MASE of the median (p50, else the
  mean), bias of the mean, and the coverage of the p10-p90 interval (the outermost levels
  when those are not logged), the definitions the backtests use;
* MASE scales each point by its item's in-sample seasonal naive error in the version's own
  training data (`TrainingProfile`).

Each version is reported beside the backtest score it was approved on (the registry keeps
it), and the ratio of the realised value of that metric to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, text

from tidecast.data.frequency import weeks_ending
from tidecast.data.schema import ITEM_ID, TIMESTAMP
from tidecast.metrics import (
    bias_per_series,
    coverage_per_series,
    mape_per_series,
    mase_per_series,
    wape_per_series,
    wql_per_series,
)
from tidecast.monitor.actuals import VALUE, load_actuals, naive_utc
from tidecast.monitor.forecast_log import parse_levels
from tidecast.monitor.profiles import TrainingProfile
from tidecast.registry.columns import UTCDateTime

VERSION = "model_version_id"
STEP = "step"
PERIOD = "period"
ITEM_CODE = "item_code"  # a scored point's item as its rank among the actuals' items
METRIC_NAMES = ("wql", "wape", "mape", "mase", "bias", "coverage")


@dataclass(frozen=True)
class Points:
    """Scored points: logged forecasts with an actual, as aligned arrays."""

    frame: pd.DataFrame  # model_version_id, item_id, timestamp, step, origin
    y: np.ndarray
    mean: np.ndarray
    quantiles: np.ndarray  # (n, levels)
    levels: tuple[float, ...]
    forecasts: int  # logged forecasts read

    @property
    def median(self) -> np.ndarray:
        k = next((j for j, q in enumerate(self.levels) if abs(q - 0.5) < 1e-9), None)
        return self.mean if k is None else self.quantiles[:, k]

    @property
    def interval(self) -> tuple[int, int] | None:
        """Columns of the p10 and p90 forecasts (else the outermost levels), if two or more."""
        if len(self.levels) < 2:
            return None
        levels = np.asarray(self.levels)
        lo = np.flatnonzero(np.isclose(levels, 0.1))
        hi = np.flatnonzero(np.isclose(levels, 0.9))
        return (
            int(lo[0]) if len(lo) else int(np.argmin(levels)),
            int(hi[0]) if len(hi) else int(np.argmax(levels)),
        )


# ---- reading ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Logged:
    """Logged forecasts expanded to one point per (forecast, step), before any actual is read."""

    keys: pd.DataFrame  # model_version_id, item_id, timestamp (the target), step, origin
    mean: np.ndarray
    quantiles: np.ndarray  # (points, levels)
    levels: tuple[float, ...]
    forecasts: int

    @property
    def targets(self) -> tuple[datetime, datetime] | None:
        """The first and last target timestamps, None when nothing was logged."""
        if self.keys.empty:
            return None
        stamps = self.keys[TIMESTAMP]
        return stamps.min().to_pydatetime(), stamps.max().to_pydatetime()


def logged_forecasts(
    connection: Connection,
    endpoint: str,
    version_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Logged:
    """The endpoint's logged forecasts with origin in [since, until], as points."""
    query = (
        "SELECT model_version_id, item_id, origin, frequency, steps, quantile_levels, mean, quantiles "
        "FROM forecast_log WHERE endpoint = :endpoint"
    )
    params: dict[str, Any] = {"endpoint": endpoint}
    if version_id is not None:
        query += " AND model_version_id = :version"
        params["version"] = version_id
    stamps = []
    for name, bound, op in (("since", since, ">="), ("until", until, "<=")):
        if bound is not None:
            query += f" AND origin {op} :{name}"
            params[name] = bound
            stamps.append(bindparam(name, type_=UTCDateTime()))
    result = connection.execute(text(query).bindparams(*stamps).columns(), params)
    rows = result.cursor.fetchall()
    return Logged(*_expand(rows), forecasts=len(rows))


def logged_points(
    connection: Connection,
    endpoint: str,
    version_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Points:
    """`logged_forecasts` joined with the actuals of their target range."""
    logged = logged_forecasts(connection, endpoint, version_id, since, until)
    span = logged.targets
    actuals = load_actuals(connection, *span) if span else None
    return join_actuals(logged, actuals)


def _expand(rows: Sequence[Any]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, tuple[float, ...]]:
    """Logged rows as one point per (forecast, step): keys, mean and quantiles."""
    if not rows:
        return (
            pd.DataFrame(columns=[VERSION, ITEM_ID, TIMESTAMP, STEP, "origin"]),
            np.zeros(0),
            np.zeros((0, 0)),
            (),
        )
    versions, items, origins, freqs, steps, level_text, means, quantiles = (
        list(c) for c in zip(*rows, strict=True)
    )
    steps_arr = np.asarray(steps, dtype=np.int64)
    n = int(steps_arr.sum())
    starts = np.repeat(np.cumsum(steps_arr) - steps_arr, steps_arr)
    step = np.arange(n) - starts + 1
    origin = naive_utc(origins).to_numpy()
    point_origin = np.repeat(origin, steps_arr)
    point_freq = np.repeat(np.asarray(freqs, dtype=object), steps_arr)
    target = np.empty(n, dtype="datetime64[ns]")
    for freq in pd.unique(point_freq):
        offset = pd.tseries.frequencies.to_offset(freq)
        if isinstance(offset, pd.offsets.Tick):  # a fixed length: one vectorised addition
            at = point_freq == freq
            target[at] = point_origin[at] + step[at] * np.timedelta64(offset.nanos, "ns")
            continue
        for k in np.unique(step[point_freq == freq]):
            at = (point_freq == freq) & (step == k)
            target[at] = (pd.DatetimeIndex(point_origin[at]) + k * offset).to_numpy()
    mean = np.frombuffer(b"".join(means), dtype="<f8").astype(np.float64)
    kinds = pd.unique(np.asarray(level_text, dtype=object))
    common = [q for q in parse_levels(kinds[0]) if all(q in parse_levels(k) for k in kinds)]
    qs = np.empty((n, len(common)))
    point_levels = np.repeat(np.asarray(level_text, dtype=object), steps_arr)
    row_levels = np.asarray(level_text, dtype=object)
    for kind in kinds:
        own = parse_levels(kind)
        blob = b"".join(q for q, k in zip(quantiles, row_levels, strict=True) if k == kind)
        values = np.frombuffer(blob, dtype="<f8").reshape(-1, len(own))
        qs[point_levels == kind] = values[:, [own.index(q) for q in common]]
    # Items as a categorical: each name stored (and hashed, by the joins) once per forecast
    # instead of once per point; its categories sorted, so it orders as the names do.
    item_codes, item_names = pd.factorize(np.asarray(items, dtype=object), sort=True)
    keys = pd.DataFrame(
        {
            VERSION: np.repeat(np.asarray(versions, dtype=np.int64), steps_arr),
            ITEM_ID: pd.Categorical.from_codes(
                np.repeat(item_codes, steps_arr), categories=pd.Index(item_names, dtype=object)
            ),
            TIMESTAMP: target,
            STEP: step,
            "origin": point_origin,
        }
    )
    return keys, mean, qs, tuple(common)


def join_actuals(logged: Logged, actuals: pd.DataFrame | None) -> Points:
    """The logged points that have an actual (item_id, timestamp, value rows), aligned, in
    the log's order; the frame gains `ITEM_CODE`, each item's rank among the actuals' items."""
    keys = logged.keys
    if keys.empty or actuals is None or actuals.empty:
        empty = keys.iloc[:0].assign(**{ITEM_CODE: np.zeros(0, dtype=np.int64)})
        return Points(
            empty, np.zeros(0), logged.mean[:0], logged.quantiles[:0], logged.levels, logged.forecasts
        )
    codes, rows = _actual_rows(keys, actuals)
    at = np.flatnonzero(rows >= 0)
    frame = keys.take(at).reset_index(drop=True)
    frame[ITEM_CODE] = codes[at]
    return Points(
        frame,
        actuals[VALUE].to_numpy(np.float64)[rows[at]],
        logged.mean[at],
        logged.quantiles[at],
        logged.levels,
        logged.forecasts,
    )


def _actual_rows(keys: pd.DataFrame, actuals: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """For each point of `keys`: its item's code (rank among the actuals' items, -1 when the
    item has none) and the row of its actual (-1 when none). Items and timestamps become
    integer codes and (item, timestamp) one int64 key, looked up in a hash index: the same
    inner join as a merge on the two columns, without hashing strings per point."""
    actual_items, items = pd.factorize(actuals[ITEM_ID], sort=True)  # a categorical's codes, or hashed
    actual_times, times = pd.factorize(actuals[TIMESTAMP].to_numpy(dtype="datetime64[ns]"))
    point_items, logged_items = pd.factorize(keys[ITEM_ID])
    names = pd.Index(np.asarray(items, dtype=object))
    item_codes = names.get_indexer(np.asarray(logged_items, dtype=object))[point_items]
    time_codes = pd.Index(times).get_indexer(keys[TIMESTAMP].to_numpy(dtype="datetime64[ns]"))
    width = max(len(times), 1)
    actual_keys = actual_items.astype(np.int64) * width + actual_times
    point_keys = np.where(
        (item_codes >= 0) & (time_codes >= 0), item_codes.astype(np.int64) * width + time_codes, -1
    )
    return item_codes, pd.Index(actual_keys).get_indexer(point_keys)


# ---- scoring -----------------------------------------------------------------------------------
def score(points: Points, by: Sequence[str], scale: np.ndarray) -> pd.DataFrame:
    """Every metric per group of `by` (columns of `points.frame`), with the group's point count."""
    if not len(points.y):
        return pd.DataFrame(columns=[*by, "points", *METRIC_NAMES])
    codes = group_ids(points.frame, by)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes)
    indptr = np.r_[0, np.cumsum(counts)]
    y, mean, median = points.y[order], points.mean[order], points.median[order]
    qs = points.quantiles[order]
    out = points.frame.iloc[order[indptr[:-1]]][list(by)].reset_index(drop=True)
    out["points"] = counts
    out["wql"] = wql_per_series(y, qs, points.levels, indptr) if points.levels else np.nan
    out["wape"] = wape_per_series(y, median, indptr)
    out["mape"] = mape_per_series(y, median, indptr)
    out["mase"] = mase_per_series(y, median, scale[order], indptr)
    out["bias"] = bias_per_series(y, mean, indptr)
    interval = points.interval
    out["coverage"] = (
        np.nan if interval is None else coverage_per_series(y, qs[:, interval[0]], qs[:, interval[1]], indptr)
    )
    return out


def point_scales(points: Points, profiles: Callable[[int], TrainingProfile]) -> np.ndarray:
    """Each point's MASE scale, from its version's training profile."""
    scale = np.full(len(points.y), np.nan)
    versions = points.frame[VERSION].to_numpy()
    codes, items = _item_codes(points.frame)
    for version in np.unique(versions):
        at = versions == version
        scale[at] = profiles(int(version)).scale_of(items)[codes[at]]
    return scale


def group_ids(frame: pd.DataFrame, by: Sequence[str]) -> np.ndarray:
    """`frame.groupby(by, sort=True).ngroup()` as an array, from each column's sorted integer
    codes (an item's `ITEM_CODE` when the frame has it: ranks, so the same order as the
    names) combined into one: hashing item names per point was most of the scoring time."""
    ids = np.zeros(len(frame), dtype=np.int64)
    for column in by:
        values = frame[ITEM_CODE] if column == ITEM_ID and ITEM_CODE in frame else frame[column]
        codes, uniques = pd.factorize(values, sort=True)
        ids = ids * len(uniques) + codes
    if not by or not len(ids):
        return ids
    present = np.bincount(ids) > 0  # the combined codes are dense enough to count: no sort
    return (np.cumsum(present) - 1)[ids]


def _item_codes(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each point's item as a code into an array of item names."""
    if ITEM_CODE not in frame:
        codes, names = pd.factorize(frame[ITEM_ID].to_numpy(dtype=object))
        return codes, np.asarray(names, dtype=object)
    codes = frame[ITEM_CODE].to_numpy()
    present, first = np.unique(codes, return_index=True)
    names = np.empty(int(present[-1]) + 1 if len(present) else 0, dtype=object)
    names[present] = frame[ITEM_ID].to_numpy(dtype=object)[first]
    return codes, names


def period_starts(stamps: pd.Series, period: str) -> pd.Series:
    """Each timestamp's `period` bucket, by its first day. Weeks follow the data: points all on
    one weekday (a W-THU model's Thursdays) open their own week, so the buckets carry the data's
    dates, not the Mondays of calendar weeks that no forecast was made for."""
    if period == "W":
        days = stamps.dt.dayofweek.unique()
        if len(days) == 1:
            period = weeks_ending(int(days[0]) - 1)  # the week ending the day before
    return stamps.dt.to_period(period).dt.start_time


def accuracy_report(
    points: Points,
    profiles: Callable[[int], TrainingProfile],
    backtests: Mapping[int, dict[str, Any]],
    period: str = "W",
    worst_items: int = 20,
) -> dict[str, Any]:
    """The realised accuracy of `points`: per version (beside its backtest), per version and
    period, horizon step and item (the `worst_items` worst by WAPE, all when 0 or less)."""
    scale = point_scales(points, profiles)
    frame = points.frame
    frame[PERIOD] = period_starts(frame[TIMESTAMP], period) if len(frame) else frame[TIMESTAMP]
    versions = []
    for row in records(score(points, [VERSION], scale)):
        backtest = backtests.get(row[VERSION], {})
        metric, value = backtest.get("metric"), backtest.get("score")
        realised = row.get(metric) if isinstance(metric, str) else None
        ratio = realised / value if realised is not None and value else None
        versions.append({**row, "backtest": backtest, "realised_over_backtest": ratio})
    items = worst_first(score(points, [VERSION, ITEM_ID], scale))
    return {
        "forecasts": points.forecasts,
        "points": len(points.y),
        "quantiles": list(points.levels),
        "coverage_interval": None if points.interval is None else [points.levels[i] for i in points.interval],
        "overall": records(score(points, [], scale))[0] if len(points.y) else None,
        "versions": versions,
        "over_time": records(score(points, [VERSION, PERIOD], scale)),
        "by_step": records(score(points, [VERSION, STEP], scale)),
        "items_scored": len(items),
        "worst_items": records(items if worst_items <= 0 else items.head(worst_items)),
    }


def worst_first(items: pd.DataFrame) -> pd.DataFrame:
    """Items by WAPE, worst first. An item that sold nothing has no WAPE (its error over zero
    actuals); one forecast above zero there (a MASE above 0) missed all it forecast and goes
    first, where it was listed last, as if best; one forecast at zero stays last."""
    key = items["wape"].to_numpy(dtype=np.float64).copy()
    missed = np.isnan(key) & (items["mase"].to_numpy(dtype=np.float64) > 0)
    key[missed] = np.inf
    order = pd.Series(key, index=items.index).sort_values(ascending=False, kind="stable", na_position="last")
    return items.loc[order.index]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: numbers as Python numbers, nan as None, timestamps as ISO text."""
    out = []
    for record in frame.to_dict("records"):
        row = {}
        for key, value in record.items():
            if isinstance(value, pd.Timestamp):
                value = value.isoformat()
            elif isinstance(value, np.integer):
                value = int(value)
            elif isinstance(value, float | np.floating):
                value = None if not np.isfinite(value) else float(value)
            row[key] = value
        out.append(row)
    return out
