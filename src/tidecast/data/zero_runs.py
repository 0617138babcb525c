"""Runs of zeros that cannot be demand: before an item's launch, and inside its history.

Retail data often writes every item on every day: a wide planning sheet or an M5-style export
(one column per day) holds 0 for the days before a product was listed, and a catalogue
cross-joined with a calendar (`COALESCE(sales, 0)`) does the same, also for the weeks a store
was shut for a refit or an item was out of stock. Read as demand, those runs tell every model
the wrong story: a product launched three weeks ago looks like a long series that sold nothing
for years, so it gets no new-item treatment (`automl.short_items`), its recent-level features
average its launch with years of zeros, and a local model fitted to the whole series draws a
trend from nothing to its current level; a refit's months of zeros are a dip the yearly lags
carry into next year. On the messy demo (`benchmarks/messy.py`), writing 0 before the start of
its 44 late-starting items took tidecast's wQL from 0.0135 to 0.125 (the new items from 0.029
to 0.41), and writing 0 into its 13 items' multi-month gaps as well, to 0.025 from the first
alone: the dynamic regression, the demo's best member, fitted its trend through them.

So a run of no sales (observed values at or below 0; an absent row neither extends nor breaks
a run) is read as missing, not as demand, when it is at least `MIN_RUN` observations long,
longer than `RATIO` times every other run of no sales in the same series and less likely than
`CHANCE` at the rate the series sells outside it (each observation selling with that share,
independently), and a sale (a value above 0) follows it:

- a run that opens the series: its rows are left out, so the series starts at its first sale;
- a run between two sales, when it also spans `INNER_SPAN` (eight weeks) or more: its zero
  cells become missing (its returns stay), a gap like any other (`filling`: left missing for
  the models that take it, filled for the others).

Why the span: shorter pauses are mostly stock-outs, and a stock-out is what the item's sales
will do again, so forecasting sales (not demand) is better served by keeping them. On
pasta_promo, reading its 12 pauses of 16-30 days (products that sold every day) as missing
moved the test wQL from 0.3755 / 0.3657 / 0.4238 to 0.3767 / 0.3727 / 0.4270 at its three
origins; a refit, a delisting or an export's gap lasts months (the messy demo's 60-180 days).

The second and third conditions keep slow movers whole: an item that sells every few weeks opens
and pauses with runs like its others, a seasonal item (sold in summer only) meets the same
off-season every year, and a short stretch of history (a service request's last two months of
a slow mover that sold twice in them) is no evidence that it had not launched. A run that ends
the series is never touched here: the item stopped selling, and `automl.dormant` forecasts it 0
(unless no series at all sold over the panel's last week, a plan written as 0:
`data.ahead.zero_written_tail`). A series that never sold is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tidecast.data.problems import Problem, sample_items
from tidecast.wording import counted, plural

MIN_RUN = 3
RATIO = 2.0
CHANCE = 1e-3
INNER_SPAN = np.timedelta64(56, "D")
KEEP_HINT = 'the target\'s filling {"zeroruns": "keep"} keeps them as sales'


@dataclass(frozen=True)
class ZeroRuns:
    """Row masks of a panel's rows sorted by series then time: `leading` (before a launch, to
    leave out) and `inner` (zero cells of a run between sales, to read as missing)."""

    leading: np.ndarray
    inner: np.ndarray


def inner_steps(step: np.timedelta64) -> int:
    """How many steps of length `step` an inner run must span (`INNER_SPAN`, at least `MIN_RUN`)."""
    return max(MIN_RUN, int(np.ceil(INNER_SPAN / step)))


def odd_zero_runs(target: np.ndarray, indptr: np.ndarray, inner_min: int = MIN_RUN) -> ZeroRuns:
    """The runs of no sales that the rule above reads as missing (`indptr`: series bounds;
    `inner_min`: the observations a run between sales needs, `inner_steps` of the frequency)."""
    n_rows, n_series = len(target), len(indptr) - 1
    row_series = np.repeat(np.arange(n_series), np.diff(indptr))
    observed = np.flatnonzero(~np.isnan(target))
    series = row_series[observed]
    at = np.flatnonzero(target[observed] <= 0)  # positions of no sale among the observed values
    if len(at) == 0:
        return ZeroRuns(np.zeros(n_rows, dtype=bool), np.zeros(n_rows, dtype=bool))
    owner = series[at]
    opens = np.r_[True, (np.diff(at) != 1) | (np.diff(owner) != 0)]
    run_of = np.cumsum(opens) - 1  # each entry of `at` -> its run
    starts = np.flatnonzero(opens)
    lengths = np.diff(np.append(starts, len(at)))
    run_series, first = owner[starts], at[starts]
    last = first + lengths - 1
    bounds = np.arange(n_series)
    series_first = np.searchsorted(series, bounds)
    series_last = np.searchsorted(series, bounds, side="right") - 1
    others = _longest_other(run_series, lengths, n_series)
    # How often the series sells outside the run: a run that its rate makes likely is no news.
    sold = np.r_[0, np.cumsum(target[observed] > 0)]
    outside = (series_last - series_first + 1)[run_series] - lengths
    rate = (sold[series_last[run_series] + 1] - sold[series_first[run_series]]) / np.maximum(outside, 1)
    unlikely = lengths * np.log1p(-np.minimum(rate, 1 - 1e-12)) < np.log(CHANCE)
    odd = (lengths >= MIN_RUN) & (lengths > RATIO * others) & unlikely & (last < series_last[run_series])
    opening = first == series_first[run_series]
    # Before a launch every row goes, absent ones included: up to the first sale's row.
    cut = indptr[:-1].copy()
    launched = odd & opening
    cut[run_series[launched]] = observed[last[launched] + 1]
    leading = np.arange(n_rows) < cut[row_series]
    # Inside, only the zeros become missing: a return in the run stays what it was.
    inner = np.zeros(n_rows, dtype=bool)
    inner[observed[at[(odd & ~opening & (lengths >= inner_min))[run_of]]]] = True
    return ZeroRuns(leading, inner & (target == 0))


def _longest_other(run_series: np.ndarray, lengths: np.ndarray, n_series: int) -> np.ndarray:
    """For each run, the longest other run of its series (0 where it is the only one)."""
    order = np.lexsort((-lengths, run_series))
    ranked_series, ranked = run_series[order], lengths[order]
    head = np.r_[True, ranked_series[1:] != ranked_series[:-1]]
    second = np.r_[False, head[:-1]] & ~head
    top, runner_up = np.zeros(n_series, dtype=np.int64), np.zeros(n_series, dtype=np.int64)
    top[ranked_series[head]] = ranked[head]
    runner_up[ranked_series[second]] = ranked[second]
    return np.where(lengths == top[run_series], runner_up[run_series], top[run_series])


def zero_run_notes(names: np.ndarray, row_series: np.ndarray, runs: ZeroRuns) -> list[Problem]:
    """What the console and the report say of the runs `odd_zero_runs` found."""
    notes = []
    for kind, rows, said, handled in (
        (
            "leading_zeros",
            runs.leading,
            "{open} with {rows} of zeros before {their} first sale, a run longer than {ratio}x any "
            "later run of zeros in the series",
            "read as before launch, so each starts at its first sale",
        ),
        (
            "zero_runs",
            runs.inner,
            "{pause} with {zeros} between sales, a run of eight weeks or more and longer than "
            "{ratio}x any other run of zeros in the series (a refit, a delisting, an export's empty cells)",
            "read as missing, not as demand",
        ),
    ):
        if rows.any():
            cells = row_series[rows]
            series = np.unique(cells)
            notes.append(
                Problem(
                    kind,
                    f"{counted(len(series), 'series')} " + _worded(said, len(series), len(cells)),
                    count=len(cells),
                    items=sample_items(names[series]),
                    handled=f"{handled} ({KEEP_HINT})",
                )
            )
    return notes


def _worded(said: str, n_series: int, n_cells: int) -> str:
    """A note's sentence after "N series", its verbs and counts agreeing with them."""
    return said.format(
        open=plural(n_series, "opens", "open"),
        pause=plural(n_series, "pauses", "pause"),
        their=plural(n_series, "its", "their"),
        rows=counted(n_cells, "row"),
        zeros=counted(n_cells, "zero"),
        ratio=f"{RATIO:g}",
    )
