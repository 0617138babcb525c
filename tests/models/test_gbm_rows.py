"""The global LightGBM's training rows: drawn as ranks, the same rows as listing every pair."""

from __future__ import annotations

from collections import Counter

import numpy as np

from tidecast.models.gbm_features import Extended
from tidecast.models.gbm_rows import sample_training_rows

HORIZON, STEPS, HOLDOUT, CONTEXT = 3, 3, 3, 2


def panel(lengths: list[int], missing: dict[int, list[int]]) -> Extended:
    """Series of these history lengths (plus HORIZON future cells each), NaN where `missing`."""
    parts, ends, start = [], [], 0
    for i, n in enumerate(lengths):
        values = np.arange(n + HORIZON, dtype=float) + 100 * i
        values[n:] = np.nan
        values[missing.get(i, [])] = np.nan
        parts.append(values)
        ends.append(start + n)
        start += n + HORIZON
    values = np.concatenate(parts)
    indptr = np.concatenate([[0], np.cumsum([n + HORIZON for n in lengths])])
    return Extended(values, indptr, np.array(ends), np.arange(len(values)), {}, {})


def listed(ext: Extended, n_origins: int) -> set[tuple[int, int, bool]]:
    """Every (origin, step, validation) row, by plain loops over the definition."""
    out = set()
    for start, end in zip(ext.starts, ext.ends, strict=True):
        length = end - start
        first = max(CONTEXT, length - n_origins - HORIZON + 1)
        spare = length - HOLDOUT >= CONTEXT + HORIZON
        for origin in range(start + first, end):
            for step in range(1, STEPS + 1):
                target = origin + step - 1
                if target < end and np.isfinite(ext.values[target]):
                    out.add((origin, step, bool(spare and target >= end - HOLDOUT)))
    return out


def rows(
    ext: Extended, n_origins: int, budgets: tuple[int, int], seed: int = 0
) -> list[tuple[int, int, bool]]:
    origins, steps, validation = sample_training_rows(
        ext, HORIZON, n_origins, CONTEXT, STEPS, HOLDOUT, budgets, seed
    )
    return list(zip(origins.tolist(), steps.tolist(), validation.tolist(), strict=True))


def test_when_the_budget_holds_every_row_then_every_row_is_kept_in_origin_order():
    ext = panel([12, 5, 9], {0: [4, 5], 2: [8]})
    got = rows(ext, n_origins=1000, budgets=(10_000, 10_000))
    assert set(got) == listed(ext, 1000)
    # rows per target t are min(3, t - 1): series 0 has 1 + 2 + 3 x 6 (targets 4, 5 missing),
    # series 1 1 + 2 + 3, series 2 1 + 2 + 3 x 4 (target 8 missing)
    assert len(got) == 21 + 6 + 15
    assert got == sorted(got)
    # validation: targets 9-11 of series 0, 6-7 of series 2; the 5-step series spares none
    assert sum(v for _, _, v in got) == 9 + 6


def test_when_n_origins_is_small_then_only_the_last_origins_give_rows():
    ext = panel([20], {})
    got = rows(ext, n_origins=4, budgets=(10_000, 10_000))
    assert set(got) == listed(ext, 4)
    assert min(o for o, _, _ in got) == 20 - 4 - HORIZON + 1


def test_when_sampled_then_distinct_rows_of_the_list_up_to_each_budget():
    ext = panel([40, 33, 25], {1: [10, 11, 12]})
    everything = listed(ext, 1000)
    got = rows(ext, n_origins=1000, budgets=(50, 7), seed=3)
    assert len(set(got)) == len(got) == 57
    assert set(got) <= everything
    assert sum(v for _, _, v in got) == 7


def test_when_sampled_many_times_then_every_row_is_about_equally_likely():
    ext = panel([30, 12], {0: [3, 17]})
    everything = listed(ext, 1000)
    training = [r for r in everything if not r[2]]
    draws = 4000
    counts = Counter(
        r for seed in range(draws) for r in rows(ext, 1000, budgets=(10, 1000), seed=seed) if not r[2]
    )
    expected = draws * 10 / len(training)  # each training row's chance is 10 / len(training)
    assert set(counts) == set(training)
    frequencies = np.array([counts[r] for r in training]) / expected
    assert frequencies.min() > 0.85 and frequencies.max() < 1.15
