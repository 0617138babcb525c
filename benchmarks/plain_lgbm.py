"""A plain global LightGBM baseline, written here so that it owes nothing to tidecast's engine.

This is the model a competent practitioner writes in an afternoon, and the bar tidecast must
clear on the retail panels (issue 10). One LightGBM per quantile (objective `quantile`), fitted
on every series at once, **direct**: every lag is at least the horizon, so each of the `horizon`
target days reads its features from the history alone and nothing is fed back (no recursion,
no error accumulation, one model for all steps). Features:

- lags of the scaled target: `horizon`, `horizon + 1`, `horizon + 2`, every multiple of the
  season from the horizon up to four seasons, and one year back when the history holds it;
- rolling means of the scaled target over three windows, ending at lag `horizon`;
- date features (day of week, day of month, day of year, week of year, month; fewer for weekly);
- the known covariates at the target date, and static attributes (text as categories);
- log of the series' scale, so the model can tell a slow mover from a fast one.

Per-series scaling: the target is divided by each series' mean over the last `scale_window`
observed steps of its history (before the forecast origin), and the forecasts are multiplied
back. Absent or NaN targets stay NaN (LightGBM reads missing lags as missing; rows without a
target are not trained on). The quantiles are sorted per row so they never cross.

`forecast(history, future, ...)` returns tidecast's forecast layout (item_id, timestamp, mean,
p10, p50, p90); the mean is the p50.
"""

from __future__ import annotations

from collections.abc import Sequence

import lightgbm as lgb
import numpy as np
import pandas as pd

ITEM, TIME, TARGET = "item_id", "timestamp", "target"
PARAMS = {"learning_rate": 0.05, "num_leaves": 63, "min_data_in_leaf": 20, "verbose": -1}
ROUNDS = 400


def lags_for(horizon: int, season: int, history_length: int, year: int) -> list[int]:
    """Lags at or beyond the horizon: three consecutive, season multiples, and a year back."""
    lags = {horizon, horizon + 1, horizon + 2}
    k = max(1, -(-horizon // season))
    while k * season <= max(4 * season, horizon):
        lags.add(k * season)
        k += 1
    if year > horizon and year + horizon < history_length:
        lags.add(year)
    return sorted(lag for lag in lags if lag < history_length)


def _shift(values: np.ndarray, position: np.ndarray, lag: int) -> np.ndarray:
    """`values` lagged by `lag` within each series (NaN before a series has `lag` steps)."""
    out = np.full(len(values), np.nan)
    ok = position >= lag
    out[ok] = values[np.flatnonzero(ok) - lag]
    return out


def _rolling_mean(values: np.ndarray, position: np.ndarray, window: int) -> np.ndarray:
    """Mean of the non-missing `values` over the last `window` steps of each series (NaN if none)."""
    present = ~np.isnan(values)
    sums = np.concatenate([[0.0], np.cumsum(np.where(present, values, 0.0))])
    counts = np.concatenate([[0], np.cumsum(present)])
    index = np.arange(len(values))
    low = np.maximum(index - window + 1, index - position)
    n = counts[index + 1] - counts[low]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (sums[index + 1] - sums[low]) / n, np.nan)


def regular_grid(history: pd.DataFrame, future: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Each series on its regular grid from its first history step to its last future step."""
    rows = pd.concat([history, future], ignore_index=True)
    span = rows.groupby(ITEM, sort=True)[TIME].agg(["min", "max"])
    parts = [pd.DataFrame({ITEM: i, TIME: pd.date_range(a, b, freq=freq)}) for i, a, b in span.itertuples()]
    grid = pd.concat(parts, ignore_index=True).astype({TIME: "datetime64[ns]"})
    grid = grid.merge(history, on=[ITEM, TIME], how="left")
    known = [c for c in future.columns if c not in (ITEM, TIME)]
    if known:
        grid = grid.set_index([ITEM, TIME])
        grid.update(future.set_index([ITEM, TIME])[known])
        grid = grid.reset_index()
    return grid


def _date_features(stamps: pd.Series, weekly: bool) -> dict[str, np.ndarray]:
    days = pd.DatetimeIndex(stamps)
    out = {"month": days.month.to_numpy(), "weekofyear": days.isocalendar().week.to_numpy(np.int64)}
    if not weekly:
        out |= {
            "dayofweek": days.dayofweek.to_numpy(),
            "dayofmonth": days.day.to_numpy(),
            "dayofyear": days.dayofyear.to_numpy(),
        }
    return out


def features(
    grid: pd.DataFrame,
    horizon: int,
    season: int,
    weekly: bool,
    known: Sequence[str],
    scale_window: int,
    is_future: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The feature table of every grid row and each row's series scale.

    The scale comes from history rows only (`~is_future`); the lags never reach past the
    horizon, so future rows see history only.
    """
    y = grid[TARGET].to_numpy(np.float64).copy()
    y[is_future] = np.nan
    codes, _ = pd.factorize(grid[ITEM], sort=False)
    position = grid.groupby(ITEM, sort=False).cumcount().to_numpy()
    observed = pd.Series(np.where(is_future, np.nan, y))
    recent = observed.groupby(codes).transform(lambda s: s.dropna().tail(scale_window).mean())
    overall = observed.groupby(codes).transform("mean")
    scale = recent.where(recent > 0, overall).where(lambda s: s > 0, 1.0).fillna(1.0).to_numpy()
    scaled = y / scale
    year = 52 if weekly else 364
    table: dict[str, np.ndarray] = {}
    for lag in lags_for(horizon, season, int(position.max()) + 1, year):
        table[f"lag_{lag}"] = _shift(scaled, position, lag)
    base = _shift(scaled, position, horizon)
    for window in (4, 13, 52) if weekly else (7, 28, 91):
        table[f"mean_{window}"] = _rolling_mean(base, position, window)
    table |= _date_features(grid[TIME], weekly)
    table["log_scale"] = np.log1p(np.abs(scale))
    frame = pd.DataFrame(table)
    for column in known:
        frame[column] = grid[column].to_numpy(np.float64)
    return frame, scale


def forecast(
    history: pd.DataFrame,
    future: pd.DataFrame,
    horizon: int,
    freq: str,
    season: int,
    known: Sequence[str] = (),
    statics: pd.DataFrame | None = None,
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
    num_threads: int = 1,
    scale_window: int = 28,
    seed: int = 0,
) -> pd.DataFrame:
    """Fit one quantile LightGBM per level on `history` and forecast the rows of `future`.

    `history`: item_id, timestamp, target (NaN where unknown), the `known` covariates.
    `future`: item_id, timestamp and the `known` covariates of the `horizon` steps to forecast.
    `statics`: item_id plus attributes (object columns become categories).
    """
    weekly = freq.upper().startswith("W")
    grid = regular_grid(history[[ITEM, TIME, TARGET, *known]], future[[ITEM, TIME, *known]], freq)
    keys = pd.MultiIndex.from_frame(grid[[ITEM, TIME]])
    is_future = keys.isin(pd.MultiIndex.from_frame(future[[ITEM, TIME]]))
    table, scale = features(grid, horizon, season, weekly, known, scale_window, is_future)
    if statics is not None:
        attributes = grid[[ITEM]].merge(statics, on=ITEM, how="left").drop(columns=ITEM)
        for column in attributes:
            values = attributes[column]
            table[f"static_{column}"] = (
                values.astype("category") if values.dtype == object else values.to_numpy(np.float64)
            )
    target = grid[TARGET].to_numpy(np.float64) / scale
    train = ~is_future & ~np.isnan(target) & ~np.isnan(table[f"lag_{horizon}"].to_numpy())
    predictions = {}
    for q in quantiles:
        params = {**PARAMS, "objective": "quantile", "alpha": q, "num_threads": num_threads, "seed": seed}
        model = lgb.train(params, lgb.Dataset(table[train], target[train]), num_boost_round=ROUNDS)
        predictions[q] = np.asarray(model.predict(table[is_future])) * scale[is_future]
    stacked = np.sort(np.column_stack([predictions[q] for q in quantiles]), axis=1)
    out = grid.loc[is_future, [ITEM, TIME]].reset_index(drop=True)
    for j, q in enumerate(quantiles):
        out[_name(q)] = stacked[:, j]
    out["mean"] = out[_name(0.5)] if 0.5 in quantiles else stacked.mean(axis=1)
    return out[[ITEM, TIME, "mean", *[_name(q) for q in quantiles]]]


def _name(q: float) -> str:
    return f"p{100 * q:g}"
