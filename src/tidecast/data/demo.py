"""The demo retail dataset: daily e-commerce demand with the effects of the reference recipe.

Five categories x five products x five regions, daily from 2021-01-01 to 2023-12-31, with
annual, quarterly and weekly cycles, a category trend, holiday windows, random promotions,
Gaussian noise and a weather effect on clothing and sports. The generator is vectorised over
items x days, so 100,000 items take seconds, and it writes in chunks of items so memory stays
bounded whatever the catalogue size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tidecast.data.demo_messy import history_plan, is_open, make_messy, planned_demand
from tidecast.errors import ConfigError

CATEGORIES: dict[str, tuple[str, ...]] = {
    "electronics": ("laptop", "smartphone", "tablet", "headphones", "camera"),
    "clothing": ("shirt", "pants", "dress", "jacket", "shoes"),
    "home": ("furniture", "appliance", "bedding", "kitchen", "decor"),
    "sports": ("equipment", "apparel", "footwear", "accessories", "outdoor"),
    "books": ("fiction", "nonfiction", "textbook", "childrens", "technical"),
}
REGIONS: tuple[str, ...] = ("North", "South", "East", "West", "Central")


@dataclass(frozen=True)
class CategoryProfile:
    """Demand level range and the strength of each effect for one category."""

    base_low: float
    base_high: float
    seasonality: float
    trend: float
    weather: bool


PROFILES: dict[str, CategoryProfile] = {
    "electronics": CategoryProfile(80, 150, 0.4, 0.03, False),
    "clothing": CategoryProfile(60, 120, 0.6, 0.01, True),
    "home": CategoryProfile(40, 100, 0.3, 0.02, False),
    "sports": CategoryProfile(30, 80, 0.5, 0.01, True),
    "books": CategoryProfile(20, 60, 0.2, -0.01, False),
}

HOLIDAYS = pd.to_datetime(
    [
        f"{year}-{md}"
        for year in (2021, 2022, 2023)
        for md in (
            "01-01",
            "07-04",
            "11-25" if year == 2021 else "11-24" if year == 2022 else "11-23",
            "12-25",
        )
    ]
)
START, END = "2021-01-01", "2023-12-31"
PROMOTION_RATE = 0.05
# A promotion day adds this share of the item's base level to its demand (before the weather
# factor of clothing and sports): the truth that explanations and scenarios are checked against.
PROMOTION_LIFT = 0.7
NOISE_SD = 5.0


def item_catalogue(n_items: int) -> pd.DataFrame:
    """The first `n_items` (item_id, category, product, region) rows.

    The first 125 are the recipe's 5 x 5 x 5 grid; beyond that each category gains numbered
    product lines (``laptop2``, ``laptop3``...), so any catalogue size keeps the same mix.
    """
    if n_items < 1:
        raise ValueError(f"--items must be at least 1, got {n_items}")
    rows: list[tuple[str, str, str, str]] = []
    line = 1
    while len(rows) < n_items:
        suffix = "" if line == 1 else str(line)
        for category, products in CATEGORIES.items():
            for product in products:
                for region in REGIONS:
                    name = f"{product}{suffix}"
                    rows.append((f"{category}_{name}_{region}", category, name, region))
        line += 1
    return pd.DataFrame(rows[:n_items], columns=["item_id", "category", "product", "region"])


def holiday_boost(dates: pd.DatetimeIndex) -> np.ndarray:
    """0.8 within two days of a holiday, 0.4 within a week; a later holiday wins ties."""
    boost = np.zeros(len(dates))
    day = dates.values.astype("datetime64[D]").astype(np.int64)
    for holiday in HOLIDAYS.values.astype("datetime64[D]").astype(np.int64):
        distance = np.abs(day - holiday)
        boost = np.where(distance <= 2, 0.8, np.where(distance <= 7, 0.4, boost))
    return boost


def _base_levels(items: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Each item's base demand, drawn within its category's range: the first draw of a chunk."""
    profiles = [PROFILES[c] for c in items["category"]]
    low = np.array([p.base_low for p in profiles])
    high = np.array([p.base_high for p in profiles])
    return rng.uniform(low, high)


def _weather(items: pd.DataFrame, day: np.ndarray) -> np.ndarray:
    """The weather factor (items x days) at day numbers `day` counted from START."""
    weather = np.array([PROFILES[c].weather for c in items["category"]])[:, None]
    return 1 + np.where(weather, 0.2 * np.sin(2 * np.pi * np.asarray(day)[None, :] / 365 + np.pi / 2), 0.0)


def _chunk(
    items: pd.DataFrame, dates: pd.DatetimeIndex, rng: np.random.Generator
) -> tuple[pd.DataFrame, np.ndarray]:
    """The clean rows of `items` and their base levels (what the messy variant needs to take
    the additive promotion units out again)."""
    n_items, n_days = len(items), len(dates)
    profiles = [PROFILES[c] for c in items["category"]]
    seasonality = np.array([p.seasonality for p in profiles])[:, None]
    trend = np.array([p.trend for p in profiles])[:, None]

    levels = _base_levels(items, rng)
    base = levels[:, None]
    i = np.arange(n_days)[None, :]
    annual = seasonality * np.sin(2 * np.pi * i / 365)
    quarterly = 0.2 * np.sin(2 * np.pi * i / 90)
    weekly = 0.3 * np.sin(2 * np.pi * i / 7)
    holiday = holiday_boost(dates)[None, :]
    promotion = rng.random((n_items, n_days)) < PROMOTION_RATE
    demand = base * (1 + annual + quarterly + weekly + trend * i + holiday + PROMOTION_LIFT * promotion)
    demand = np.maximum(demand + rng.normal(0.0, NOISE_SD, (n_items, n_days)), 0.0)
    demand *= _weather(items, np.arange(n_days))

    is_holiday = np.isin(dates.values, HOLIDAYS.values).astype(np.int8)
    rows = np.repeat(np.arange(n_items), n_days)

    def labels(column: str) -> pd.Categorical:
        # Categorical codes, not millions of Python strings: this is what keeps 100k items fast.
        categories, codes = np.unique(items[column].to_numpy(), return_inverse=True)
        return pd.Categorical.from_codes(codes[rows], categories=categories)

    frame = pd.DataFrame(
        {
            "timestamp": np.tile(dates.values, n_items),
            "target_value": np.round(demand, 2).ravel(),
            "item_id": labels("item_id"),
            "category": labels("category"),
            "product": labels("product"),
            "region": labels("region"),
            "promotion": promotion.astype(np.int8).ravel(),
            "is_holiday": np.tile(is_holiday, n_items),
            "day_of_week": np.tile(dates.dayofweek.values, n_items).astype(np.int8),
            "month": np.tile(dates.month.values, n_items).astype(np.int8),
            "quarter": np.tile(dates.quarter.values, n_items).astype(np.int8),
        }
    )
    return frame, levels


def _clean_chunks(
    n_items: int, seed: int, chunk_items: int
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.random.Generator]]:
    """Per chunk: its items, its clean rows, the units its promotions add (items x days) and
    the separate random stream its messy variant draws from."""
    items = item_catalogue(n_items)
    dates = pd.date_range(START, END, freq="D")
    rng = np.random.default_rng(seed)
    for start in range(0, n_items, chunk_items):
        chunk = items.iloc[start : start + chunk_items]
        frame, levels = _chunk(chunk, dates, rng)
        units = PROMOTION_LIFT * levels[:, None] * _weather(chunk, np.arange(len(dates)))
        yield chunk, frame, units, np.random.default_rng([seed, 2, start])


def _check_variant(messy: bool, wide_scales: bool) -> None:
    if wide_scales and not messy:
        raise ConfigError("wide scales are a variant of the messy demo: pass messy=True (--messy) too")


def generate_chunks(
    n_items: int = 125,
    seed: int = 42,
    chunk_items: int = 5_000,
    messy: bool = False,
    wide_scales: bool = False,
) -> Iterator[pd.DataFrame]:
    """Yield the dataset in chunks of whole items, each series contiguous and in time order.

    `messy` cuts in closures, gaps, ragged histories, multiplicative promotions and returns
    (`demo_messy`) from a separate random stream, so the clean data is the same with or
    without it; `wide_scales` also spreads the items' levels from 1 to 10^5, slow movers
    drawn as counts.
    """
    _check_variant(messy, wide_scales)
    dates = pd.date_range(START, END, freq="D")
    for chunk, frame, units, messy_rng in _clean_chunks(n_items, seed, chunk_items):
        if messy:
            frame = make_messy(frame, len(chunk), dates, messy_rng, units, wide_scales)
        yield frame


def messy_truth(
    n_items: int = 125, seed: int = 42, wide_scales: bool = False
) -> tuple[pd.DataFrame, np.ndarray]:
    """The messy demo's plan (`demo_messy.history_plan` per item, with item_id) and its
    expected sales (items x every day of the data, 0 where the store is closed): what the
    messy sales are drawn around, so a benchmark can score an oracle that no forecaster can
    be and tell the data's own noise floor from an engine's error."""
    dates = pd.date_range(START, END, freq="D")
    plans, expected = [], []
    for chunk, frame, units, messy_rng in _clean_chunks(n_items, seed, 5_000):  # generate_chunks' default
        plan = history_plan(len(chunk), len(dates), messy_rng)  # make_messy's first draw
        opened = is_open(chunk["region"].to_numpy(), dates)
        expected.append(planned_demand(frame, len(chunk), plan, units, wide_scales) * opened)
        plans.append(plan.assign(item_id=chunk["item_id"].to_numpy()))
    return pd.concat(plans, ignore_index=True), np.concatenate(expected)


def generate(
    n_items: int = 125, seed: int = 42, messy: bool = False, wide_scales: bool = False
) -> pd.DataFrame:
    """The whole dataset in memory, sorted by item then timestamp (use `write` for big ones)."""
    frame = pd.concat(
        list(generate_chunks(n_items, seed, messy=messy, wide_scales=wide_scales)), ignore_index=True
    )
    for column in ("item_id", "category", "product", "region"):
        frame[column] = frame[column].astype(str)
    return frame.sort_values(["item_id", "timestamp"], kind="stable", ignore_index=True)


def promotion_lift(n_items: int = 125, seed: int = 42, days: object = None) -> pd.DataFrame:
    """The units a promotion adds to each item's demand on each of `days` (default the 14
    days after the data): PROMOTION_LIFT x the item's base level x its weather factor, the
    generator's own truth, from the same random stream as `generate` (each chunk's base draw,
    then its promotion and noise draws skipped, as `_chunk` makes them).

    Long: item_id, timestamp, lift. What an explanation's promotion contribution and a
    "promotion on" scenario should recover (noise and the floor at zero aside).
    """
    items = item_catalogue(n_items)
    history = pd.date_range(START, END, freq="D")
    stamps = (
        pd.date_range(pd.Timestamp(END) + pd.Timedelta(days=1), periods=14, freq="D")
        if days is None
        else pd.DatetimeIndex(pd.to_datetime(days))
    )
    rng = np.random.default_rng(seed)
    chunk_items = 5_000  # generate_chunks' default
    levels = []
    for start in range(0, n_items, chunk_items):
        chunk = items.iloc[start : start + chunk_items]
        levels.append(_base_levels(chunk, rng))
        rng.random((len(chunk), len(history)))  # the promotions
        rng.normal(0.0, NOISE_SD, (len(chunk), len(history)))  # the noise
    base = np.concatenate(levels)
    day = (stamps - pd.Timestamp(START)).days.to_numpy()
    lift = PROMOTION_LIFT * base[:, None] * _weather(items, day)
    return pd.DataFrame(
        {
            "item_id": np.repeat(items["item_id"].to_numpy(), len(stamps)),
            "timestamp": np.tile(stamps.values, n_items),
            "lift": lift.ravel(),
        }
    )


def future_covariates(
    n_items: int = 125, seed: int = 42, horizon: int = 14, messy: bool = False
) -> pd.DataFrame:
    """The known covariates of the `horizon` days after the data: planned promotions, holidays.

    What a retailer knows in advance and passes as `--future`: promotions drawn at the data's
    rate (from their own random stream, so the history does not change with the horizon) and
    the holiday flag of the same four holidays, continued into the next year.
    """
    if horizon < 1:
        raise ValueError(f"the horizon must be at least 1, got {horizon}")
    items = item_catalogue(n_items)
    dates = pd.date_range(pd.Timestamp(END) + pd.Timedelta(days=1), periods=horizon, freq="D")
    rng = np.random.default_rng([seed, 1])
    promotion = rng.random((n_items, horizon)) < PROMOTION_RATE
    fixed = {"01-01", "07-04", "12-25"}
    thanksgiving = {
        pd.Timestamp(y, 11, 1) + pd.offsets.WeekOfMonth(week=3, weekday=3) for y in set(dates.year)
    }
    is_holiday = np.array([d.strftime("%m-%d") in fixed or d in thanksgiving for d in dates], dtype=np.int8)
    frame = pd.DataFrame(
        {
            "item_id": np.repeat(items["item_id"].to_numpy(), horizon),
            "timestamp": np.tile(dates.values, n_items),
            "promotion": promotion.astype(np.int8).ravel(),
            "is_holiday": np.tile(is_holiday, n_items),
        }
    )
    if messy:  # the store calendar is known in advance, so the future holds `open` too
        frame["open"] = is_open(items["region"].to_numpy(), dates).astype(np.int8).ravel()
    return frame


def write(
    path: str | Path, n_items: int = 125, seed: int = 42, messy: bool = False, wide_scales: bool = False
) -> int:
    """Write the dataset to `.csv` or `.parquet`, chunk by chunk; returns the number of rows."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    _check_variant(messy, wide_scales)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".parquet"}:
        raise ValueError(f"demo data is written as .csv or .parquet, not {path.name!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    writer: pq.ParquetWriter | pacsv.CSVWriter | None = None
    try:
        for chunk in generate_chunks(n_items, seed, messy=messy, wide_scales=wide_scales):
            chunk["timestamp"] = (
                chunk["timestamp"].dt.strftime("%Y-%m-%d") if suffix == ".csv" else chunk["timestamp"]
            )
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            if writer is None:
                writer = (
                    pq.ParquetWriter(path, table.schema)
                    if suffix == ".parquet"
                    else pacsv.CSVWriter(path, table.schema)
                )
            writer.write_table(table)
            rows += len(chunk)
    finally:
        if writer is not None:
            writer.close()
    return rows
