"""What happened to missing values, in sentences for the console and report.json.

Preparation notes, per column, how many cells were missing in each region and how they were
filled or left (`fill_cells.fill_gaps`); for the target left missing, what happens next depends on
the candidates (`Tags.handles_missing_target`), which only the run knows: this module adds it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tidecast.data.gapfill import MODEL_FILL
from tidecast.data.schema import TARGET
from tidecast.models.catalog import CATALOG

# The target's runs of zeros read as before launch or as gaps (`data.zero_runs`) are missing too.
ZERO_RUN_KINDS = ("leading_zeros", "zero_runs", "zero_tail")
# The data's end: series whose last steps were not recorded (`fill_cells.ended_early`), where
# they are forecast from; a last period the data does not complete (`aggregation.cut_tail`).
TAIL_KINDS = ("series_end_early", "partial_period")
KINDS = ("missing_values", "missing_values_left", *ZERO_RUN_KINDS, *TAIL_KINDS)


def takes_missing_target(names: Sequence[str]) -> list[str]:
    """The catalog models among `names` that read a missing target as unknown."""
    return [n for n in names if n in CATALOG and CATALOG[n].tags.handles_missing_target]


def missing_lines(data_summary: Mapping[str, Any], candidates: Sequence[str]) -> list[str]:
    """One sentence per column with missing cells: counts per region and what was done.

    >>> summary = {"problems": [{"kind": "missing_values_left", "message": "target: 3 missing "
    ...     "cells (3 middle) left missing for the models that take them, filled ..."}]}
    >>> missing_lines(summary, ["SeasonalNaive", "LightGBM"])[0].endswith("(take them: LightGBM)")
    True
    """
    lines = []
    for problem in data_summary.get("problems", []):
        if problem.get("kind") not in KINDS:
            continue
        line = str(problem["message"])
        if problem["kind"] == "missing_values_left" and line.startswith(f"{TARGET}:"):
            takers = takes_missing_target(candidates)
            line += f" (take them: {', '.join(takers) if takers else 'none of the candidates'})"
        if problem["kind"] in ZERO_RUN_KINDS:
            line += f"; {problem['handled']}"
        lines.append(line)
    return lines


def missing_report(data_summary: Mapping[str, Any], candidates: Sequence[str]) -> dict[str, Any]:
    """The report.json section: the sentences, the models given NaN, the others' fill."""
    return {
        "lines": missing_lines(data_summary, candidates),
        "models_taking_missing_target": takes_missing_target(candidates),
        "target_fill_for_other_models": MODEL_FILL,
    }
