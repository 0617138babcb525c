"""results.md from result CSVs: every row names its dataset and system; other tables apart."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
report = pytest.importorskip("report")

STAMP = {"run_at": "2026-12-03 10:00", "machine": "x86_64 2 cores", "engine": "tidecast 0.1.0 (abc)"}


def _folder(tmp_path: Path) -> Path:
    pd.DataFrame([{"dataset": "pasta", "system": "tidecast", "wql": 0.25, **STAMP}]).to_csv(
        tmp_path / "pasta.csv", index=False
    )
    pd.DataFrame(
        [
            {
                "run": "fast, 5 demo items",
                "dataset": "demo blank 10%",
                "choice": "zero",
                "wql": 0.05551,
                **STAMP,
            }
        ]
    ).to_csv(tmp_path / "missing.csv", index=False)
    pd.DataFrame([{"method": "exact", "items": 30, "fit_s": 1.4}]).to_csv(
        tmp_path / "explain_cost.csv", index=False
    )
    return tmp_path


def test_when_other_tables_sit_beside_the_rows_then_each_is_rendered_as_what_it_is(tmp_path):
    text = report.results_markdown(_folder(tmp_path))
    assert "| pasta | tidecast | 0.250 |" in text
    assert "| fast, 5 demo items | demo blank 10% | zero | 0.0555 |" in text
    assert "Runs: pasta 2026-12-03 10:00." in text
    assert not [line for line in text.splitlines() if line.startswith("| — |")]
    assert "nan" not in text
    assert "exact" not in text  # explain_cost.csv is explain_results.md's


def test_when_a_rows_csv_has_no_system_then_the_report_refuses_it(tmp_path):
    pd.DataFrame([{"dataset": "odd", "wql": 0.1, **STAMP}]).to_csv(tmp_path / "odd.csv", index=False)
    with pytest.raises(ValueError, match=r"odd\.csv: a row without 'system'"):
        report.results_markdown(tmp_path)


def test_the_committed_results_render_as_a_table():
    """Every CSV committed in benchmarks/results either is a (dataset, system) table or is listed
    as reported elsewhere: mean_column.csv, committed without being listed, made every script's
    final regeneration of results.md raise."""
    folder = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
    text = report.results_markdown(folder)
    assert "| m4_hourly | tidecast AutoForecaster (medium) |" in text and "| dominicks_oj |" in text
