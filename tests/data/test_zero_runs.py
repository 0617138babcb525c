from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

from tidecast.data.prepare import prepare
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.data.zero_runs import odd_zero_runs
from tidecast.errors import ConfigError

NAN = np.nan


def runs(*series: list[float]) -> tuple[list[list[bool]], list[list[bool]]]:
    """`odd_zero_runs` over the given series: its two masks, each split back per series."""
    values = np.concatenate([np.asarray(s, dtype=float) for s in series])
    indptr = np.cumsum([0, *(len(s) for s in series)])
    found = odd_zero_runs(values, indptr)
    split = [[mask[lo:hi].tolist() for lo, hi in pairwise(indptr)] for mask in (found.leading, found.inner)]
    return split[0], split[1]


def dropped(*series: list[float]) -> list[list[bool]]:
    """The rows left out before each series' launch."""
    return runs(*series)[0]


def emptied(*series: list[float]) -> list[list[bool]]:
    """The zero cells read as missing between sales."""
    return runs(*series)[1]


def test_when_a_series_opens_with_a_long_run_of_zeros_then_the_run_is_left_out() -> None:
    # Four zeros, then sales whose longest run of zeros is 1: 4 > 2 x 1, and at its rate of
    # 9 sales in 10 the series goes four days without one once in 10,000.
    assert dropped([0, 0, 0, 0, 5, 3, 0, 4, 6, 2, 5, 4, 3, 6]) == [[True] * 4 + [False] * 10]


def test_when_too_little_follows_the_opening_run_then_it_is_no_evidence_of_a_launch() -> None:
    # The same four zeros before 5, 3, 0, 4: at 3 sales in 4, four days without one is 1 in 256.
    assert dropped([0, 0, 0, 0, 5, 3, 0, 4]) == [[False] * 8]


def test_when_a_slow_mover_opens_like_its_other_runs_then_it_is_kept_whole() -> None:
    # Opens with 3 zeros; later runs of 4 and 2: 3 <= 2 x 4, so the opening run is demand.
    assert dropped([0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1]) == [[False] * 12]


def test_when_the_opening_run_is_under_the_minimum_or_the_series_never_sold_then_nothing_goes() -> None:
    assert runs([0, 0, 5, 6, 7], [0, 0, 0, 0]) == ([[False] * 5, [False] * 4], [[False] * 5, [False] * 4])


def test_when_sales_pause_for_a_long_run_then_its_zeros_are_missing_and_its_returns_stay() -> None:
    # Runs of no sale: 1, then 5 (a return inside it), then 1: 5 > 2 x 1, and a sale follows.
    series = [4, 0, 3, 5, 6, 0, 0, -2, 0, 0, 5, 0, 6, 7, 4, 5]
    assert emptied(series) == [[False] * 5 + [True, True, False, True, True] + [False] * 6]
    assert dropped(series) == [[False] * 16]


def test_when_a_series_ends_in_its_longest_run_then_it_is_left_to_the_dormant_rule() -> None:
    assert runs([4, 0, 3, 5, 0, 0, 0, 0, 0]) == ([[False] * 9], [[False] * 9])


def test_when_two_long_pauses_match_then_neither_is_odd() -> None:
    # A seasonal item: two off-seasons of 4 and 5 steps; 5 is not more than 2 x 4.
    assert emptied([2, 0, 0, 0, 0, 3, 4, 0, 0, 0, 0, 0, 2]) == [[False] * 13]


def test_when_gaps_lie_among_the_zeros_then_only_observed_values_count_and_the_gap_rows_go_too() -> None:
    # The opening run is four observed zeros (the empty row neither counts nor breaks it);
    # the later gap of empty rows is not a run of zeros, so the later longest run is 1.
    opening = [0, NAN, 0, 0, 0, 7]
    later = [NAN, NAN, NAN, NAN, NAN, 2, 0, 3, 4, 5, 6, 3, 2]
    assert dropped(opening + later) == [[True] * 5 + [False] * 14]


def test_when_series_differ_then_each_is_judged_on_its_own_runs() -> None:
    # "b" opens with 6 zeros but has a later run of 3: 6 is not more than 2 x 3.
    assert dropped([0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 2]) == [
        [True] * 4 + [False],
        [False] * 11,
    ]


def wide_export() -> pd.DataFrame:
    """Two daily items written on every day, as a wide sheet exports them: "new" was listed on
    day 9 (zeros before), "old" sells from day 1; a promotion column rides along."""
    days = pd.date_range("2021-01-01", periods=14, freq="D")
    new = [0.0] * 8 + [4, 5, 0, 6, 5, 7]
    old = [3, 4, 0, 5, 4, 6, 5, 3, 4, 0, 5, 4, 6, 5]
    return pd.DataFrame(
        {
            ITEM_ID: ["new"] * 14 + ["old"] * 14,
            TIMESTAMP: list(days) * 2,
            TARGET: np.array(new + old, dtype=float),
            "promotion": np.tile([0.0, 1.0], 14),
        }
    )


def test_when_prepared_then_a_launch_after_zeros_starts_the_series_and_the_note_counts_them() -> None:
    prepared = prepare(wide_export(), "D")
    panel = prepared.panel
    new = panel[panel[ITEM_ID] == "new"]
    assert new[TIMESTAMP].min() == pd.Timestamp("2021-01-09")
    assert new[TARGET].tolist() == [4, 5, 0, 6, 5, 7]
    assert new["promotion"].tolist() == [0.0, 1.0] * 3  # the rows went with every column
    assert len(panel[panel[ITEM_ID] == "old"]) == 14
    (note,) = [p for p in prepared.problems if p.kind == "leading_zeros"]
    assert note.count == 8 and note.items == ("new",)
    assert note.message.startswith("1 series opens with 8 rows of zeros before its first sale")
    assert '{"zeroruns": "keep"}' in note.handled


def test_when_prepared_then_months_of_zeros_are_a_gap_and_weeks_of_them_stay_sales() -> None:
    # Daily sales of 3-6 with one 0 each; "refit" then sold nothing for 60 days (a refit or an
    # export's gap: missing), "stockout" for 20 (a stock-out, shorter than eight weeks: sales).
    days = pd.date_range("2021-01-01", periods=120, freq="D")
    sales = np.tile([3.0, 4, 5, 6], 30)
    sales[10] = 0.0
    refit, stockout = sales.copy(), sales.copy()
    refit[30:90], stockout[30:50] = 0.0, 0.0
    frame = pd.DataFrame(
        {
            ITEM_ID: ["refit"] * 120 + ["stockout"] * 120,
            TIMESTAMP: list(days) * 2,
            TARGET: np.concatenate([refit, stockout]),
        }
    )
    prepared = prepare(frame, "D")
    missing = prepared.panel[TARGET].isna().to_numpy().reshape(2, 120)
    assert np.flatnonzero(missing[0]).tolist() == list(range(30, 90))
    assert not missing[1].any()
    (note,) = [p for p in prepared.problems if p.kind == "zero_runs"]
    assert note.count == 60 and note.items == ("refit",)
    assert note.message.startswith("1 series pauses with 60 zeros between sales")
    assert note.handled.startswith("read as missing, not as demand")


@pytest.mark.parametrize(
    "filling",
    [{TARGET: {"zeroruns": "keep"}}, {TARGET: {"zeroruns": "KEEP", "middlefill": "zero"}}],
)
def test_when_the_target_keeps_its_zero_runs_then_they_stay_as_sales(filling: dict[str, object]) -> None:
    prepared = prepare(wide_export(), "D", filling=filling)
    assert prepared.panel[TARGET].tolist()[:8] == [0.0] * 8
    assert not [p for p in prepared.problems if p.kind in ("leading_zeros", "zero_runs")]


def test_when_the_target_has_a_frontfill_then_series_are_padded_as_before_not_trimmed() -> None:
    prepared = prepare(wide_export(), "D", filling={TARGET: {"frontfill": "zero"}})
    new = prepared.panel[prepared.panel[ITEM_ID] == "new"]
    assert new[TARGET].tolist()[:8] == [0.0] * 8 and len(new) == 14


@pytest.mark.parametrize(
    ("filling", "message"),
    [
        ({"promotion": {"zeroruns": "keep"}}, "zeroruns applies to the target, not to 'promotion'"),
        ({TARGET: {"zeroruns": "drop"}}, "unknown zeroruns 'drop' for 'target': use missing or keep"),
    ],
)
def test_when_zeroruns_is_misused_then_config_error_names_it(
    filling: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        prepare(wide_export(), "D", filling=filling)
