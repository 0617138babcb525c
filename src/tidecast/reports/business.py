"""The planner's view of a forecast: totals by attribute, high and low demand, volatile items,
spikes and drops against recent history, and accuracy warnings.

Pure functions over the forecast frame (`item_id`, `timestamp`, `mean`, quantile columns), the
training history and the per-item backtest errors (`quality.item_errors`). Thresholds are
arguments with the defaults a planner would start from; every table says which items crossed
them, so the numbers can be checked by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tidecast.data.attributes import whole_numbers
from tidecast.data.item_keys import item_parts, split
from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, quantile_column


def outer_columns(quantiles: Sequence[float]) -> tuple[str, str]:
    """The lowest and highest quantile columns: the band a planner reads as "likely range"."""
    qs = sorted(float(q) for q in quantiles)
    return quantile_column(qs[0]), quantile_column(qs[-1])


def item_attributes(history: pd.DataFrame | None, columns: Sequence[str]) -> pd.DataFrame:
    """One row per item with its static attributes (their last value in the history)."""
    present = [c for c in columns if history is not None and c in history.columns]
    if history is None or not present:
        return pd.DataFrame(columns=[ITEM_ID])
    table = history.groupby(ITEM_ID, sort=True)[present].last().reset_index()
    for column in present:  # a store cluster read as 14.0 (a float column with NaN) is cluster 14
        table[column] = whole_numbers(table[column])
    return table


def with_key_parts(attributes: pd.DataFrame, items: pd.Series, item_col: str) -> pd.DataFrame:
    """`attributes` for every item of `items`, led by one column per part of a composite item
    key (`Store`, `Dept`, read from the ids), so a planner gets the totals by store and by
    department as by any attribute; unchanged for a key of one column."""
    parts = item_parts(item_col)
    if len(parts) < 2:
        return attributes
    ids = pd.Series(pd.unique(items.astype(str)), name=item_col)
    keyed = split(ids.to_frame(), item_col)
    keyed.insert(0, ITEM_ID, ids.to_numpy())
    rest = attributes.drop(columns=[p for p in parts if p in attributes.columns])
    return keyed.merge(rest, on=ITEM_ID, how="left") if len(rest.columns) > 1 else keyed


def forecast_totals(forecasts: pd.DataFrame, quantiles: Sequence[float]) -> pd.DataFrame:
    """Per item over the horizon: steps, total mean, and the totals of the outer quantiles.

    The quantile totals add up per-step quantiles, which is not the quantile of the total;
    they are shown as the sum of each step's likely range, not as an interval of the total.
    """
    lo, hi = outer_columns(quantiles)
    grouped = forecasts.groupby(ITEM_ID, sort=True)
    out = grouped.agg(steps=(MEAN, "size"), forecast_total=(MEAN, "sum"))
    out[f"{lo}_total"] = grouped[lo].sum()
    out[f"{hi}_total"] = grouped[hi].sum()
    return out.reset_index()


def totals_by(totals: pd.DataFrame, attributes: pd.DataFrame, column: str) -> pd.DataFrame:
    """Forecast totals summed by one item attribute, with each group's share of the whole."""
    joined = totals.merge(attributes[[ITEM_ID, column]], on=ITEM_ID, how="left")
    # As text first: filling an object column would downcast it (a pandas FutureWarning).
    joined[column] = joined[column].astype("string").fillna("(none)").astype(str)
    sums = joined.groupby(column, sort=True).agg(
        items=(ITEM_ID, "size"),
        forecast_total=("forecast_total", "sum"),
    )
    whole = sums["forecast_total"].sum()
    sums["share"] = sums["forecast_total"] / whole if whole else np.nan
    return sums.sort_values("forecast_total", ascending=False, kind="stable").reset_index()


def demand_extremes(totals: pd.DataFrame, n: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The `n` items with the highest and the `n` with the lowest forecast total."""
    ranked = totals.sort_values(["forecast_total", ITEM_ID], ascending=[False, True], kind="stable")
    high = ranked.head(n).reset_index(drop=True)
    low = ranked.iloc[::-1].head(n).reset_index(drop=True) if len(ranked) else ranked
    return high, low


def volatile_items(
    forecasts: pd.DataFrame, quantiles: Sequence[float], threshold: float = 0.5
) -> pd.DataFrame:
    """Items whose outer band is wide against their median: sum(p_hi − p_lo) / sum(p50).

    A relative width of 0.5 means the likely range over the horizon spans half the expected
    demand. Items at or above `threshold` are returned, widest first; items whose median sums
    to zero have no relative width and are left out.
    """
    lo, hi = outer_columns(quantiles)
    median = quantile_column(0.5) if quantile_column(0.5) in forecasts.columns else MEAN
    grouped = forecasts.assign(_width=forecasts[hi] - forecasts[lo]).groupby(ITEM_ID, sort=True)
    table = pd.DataFrame({"band_total": grouped["_width"].sum(), "median_total": grouped[median].sum()})
    table["relative_width"] = table["band_total"] / table["median_total"].where(table["median_total"] != 0)
    flagged = table[table["relative_width"] >= threshold]
    return flagged.sort_values("relative_width", ascending=False, kind="stable").reset_index()


def spikes_and_drops(
    forecasts: pd.DataFrame, history: pd.DataFrame, recent_steps: int, threshold: float = 0.25
) -> pd.DataFrame:
    """Items whose average forecast differs from their average over the last `recent_steps`
    of history by at least `threshold` (0.25 = 25%): "spike" above, "drop" below.

    Also the forecast's peak step, so a one-day promotion spike shows where the average hides
    it. Items with no recent demand (average 0) are compared by their forecast alone: any
    positive forecast is a spike.
    """
    recent = (
        history.sort_values([ITEM_ID, TIMESTAMP], kind="stable")
        .groupby(ITEM_ID, sort=True)
        .tail(recent_steps)
        .groupby(ITEM_ID, sort=True)[TARGET]
        .mean()
        .rename("recent_mean")
    )
    grouped = forecasts.groupby(ITEM_ID, sort=True)
    peak_rows = forecasts.loc[grouped[MEAN].idxmax(), [ITEM_ID, TIMESTAMP, MEAN]].set_index(ITEM_ID)
    table = pd.DataFrame({"forecast_mean": grouped[MEAN].mean()}).join(recent, how="inner")
    table["peak"] = peak_rows[MEAN]
    table["peak_at"] = peak_rows[TIMESTAMP]
    base = table["recent_mean"].where(table["recent_mean"] != 0)
    table["change"] = table["forecast_mean"] / base - 1
    table.loc[base.isna() & (table["forecast_mean"] > 0), "change"] = np.inf
    table["direction"] = np.where(table["change"] > 0, "spike", "drop")
    flagged = table[table["change"].abs() >= threshold]
    order = flagged["change"].abs().sort_values(ascending=False, kind="stable").index
    columns = ["recent_mean", "forecast_mean", "change", "direction", "peak", "peak_at"]
    return flagged.loc[order, columns].reset_index()


def accuracy_warnings(
    errors: pd.DataFrame | None,
    overall_coverage: float | None,
    nominal_coverage: float | None,
    wape_limit: float = 0.5,
    coverage_tolerance: float = 0.1,
) -> pd.DataFrame:
    """What a planner should not trust blindly, one row per warning (scope, item, message).

    Items whose backtest WAPE is at or above `wape_limit`, items whose band held none of their
    actuals, and the whole forecast when its band's coverage is off its nominal level by more
    than `coverage_tolerance` (too narrow: more stockouts than planned; too wide: more stock).
    """
    rows: list[dict[str, object]] = []
    if (
        overall_coverage is not None
        and nominal_coverage is not None
        and np.isfinite(overall_coverage)
        and abs(overall_coverage - nominal_coverage) > coverage_tolerance
    ):
        side = "narrow" if overall_coverage < nominal_coverage else "wide"
        rows.append(
            {
                "scope": "forecast",
                ITEM_ID: "",
                "message": f"the likely range held {overall_coverage:.0%} of backtest actuals against "
                f"{nominal_coverage:.0%} planned: it is too {side}",
            }
        )
    if errors is not None and len(errors):
        for row in errors.sort_values("wape", ascending=False, kind="stable").itertuples(index=False):
            if np.isfinite(row.wape) and row.wape >= wape_limit:
                rows.append(
                    {"scope": "item", ITEM_ID: row.item_id, "message": f"backtest WAPE {row.wape:.0%}"}
                )
        for row in errors.itertuples(index=False):
            if np.isfinite(row.coverage) and row.coverage == 0:
                rows.append(
                    {
                        "scope": "item",
                        ITEM_ID: row.item_id,
                        "message": "no backtest actual fell inside the range",
                    }
                )
    return pd.DataFrame(rows, columns=["scope", ITEM_ID, "message"])
