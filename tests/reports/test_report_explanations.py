"""The quality report's explanations section, from the files `tidecast explain` writes."""

from __future__ import annotations

import pandas as pd

from tidecast.explain.terms import importance
from tidecast.reports.build import ReportOptions, quality_report
from tidecast.reports.explanations import explanation_section
from tidecast.reports.inputs import ReportInputs

STAMPS = pd.date_range("2024-01-01", periods=2, freq="D")


def contributions() -> pd.DataFrame:
    rows = []
    for item, scale in (("a", 1.0), ("b", 3.0)):
        for step, stamp in enumerate(STAMPS, start=1):
            for feature, kind, value in (
                ("level", "level", 100),
                ("promotion", "covariate", 10),
                ("trend", "trend", -2),
            ):
                rows.append((item, stamp, step, feature, kind, value * scale))
    return pd.DataFrame(rows, columns=["item_id", "timestamp", "step", "feature", "kind", "contribution"])


def test_when_a_run_was_explained_then_the_section_ranks_features_and_charts_items() -> None:
    section = explanation_section(contributions(), None)
    assert section is not None
    ranking = section.tables["explanation_importance"]
    assert list(ranking["feature"]) == ["level", "promotion", "trend"]
    assert ranking["mean_abs"].tolist() == [200.0, 20.0, 4.0]  # over 4 item-steps
    kinds = section.tables["explanation_kinds"].set_index("kind")["sum_abs"]
    assert kinds.to_dict() == {"level": 800.0, "covariate": 80.0, "trend": 16.0}
    first, _, biggest, _ = (c.title for c in section.charts)
    assert first == "Mean |contribution| per feature (level aside)"
    assert section.charts[0].labels == ["promotion", "trend"]
    assert biggest.startswith("b:") and section.charts[2].series["contribution"] == [60.0, -12.0]


def test_when_a_run_was_not_explained_then_the_report_has_no_such_section() -> None:
    inputs = ReportInputs(name="run", quantiles=(0.5,))
    titles = [s.title for s in quality_report(inputs, ReportOptions()).sections]
    assert not any("explanations" in t for t in titles)
    inputs.explanations = contributions()
    inputs.explanation_importance = importance(contributions())
    titles = [s.title for s in quality_report(inputs, ReportOptions()).sections]
    assert "Why this forecast: explanations" in titles
