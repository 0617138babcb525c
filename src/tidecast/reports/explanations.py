"""The quality report's explanations section: what moves the forecast, from the files
`tidecast explain RUN` writes into the run folder (`EXPLANATIONS`, `IMPORTANCE`).

Global importance (mean |contribution| per item and step, per feature), the total of each
kind of feature over the horizon, and the largest items' contributions over the horizon;
each as a table and a bar chart. A run never explained has no such section.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tidecast.data.schema import ITEM_ID
from tidecast.reports.document import BarChart, Section

EXPLANATIONS = "explanations.csv"
IMPORTANCE = "explanation_importance.csv"
ITEM_TOTALS = "explanation_items.csv"
TOP_FEATURES = 12
TOP_ITEMS = 3


def explanation_section(contributions: pd.DataFrame | None, ranking: pd.DataFrame | None) -> Section | None:
    """The section from the long contributions table and the importance table (either may be
    missing; with neither, None)."""
    if ranking is None and contributions is None:
        return None
    if ranking is None:
        from tidecast.explain.terms import importance

        assert contributions is not None
        ranking = importance(contributions)
    # The level dwarfs everything else (it is most of every forecast): charted apart from it.
    top = ranking[ranking["feature"] != "level"].head(TOP_FEATURES)
    section = Section(
        "Why this forecast: explanations",
        "Contribution of each feature to the forecast, in the target's units, so that a row's "
        "contributions add up to its forecast (exact terms for the dynamic regression, TreeSHAP for "
        "LightGBM, ablation for other models, combined with the ensemble weights). Importance is the "
        "mean |contribution| over every item and step.",
        {"explanation_importance": ranking},
        [
            BarChart(
                "Mean |contribution| per feature (level aside)",
                [str(f) for f in top["feature"]],
                {"mean |contribution|": [float(v) for v in top["mean_abs"]]},
            )
        ],
    )
    if contributions is None or contributions.empty:
        return section
    kinds = contributions.groupby("kind", sort=False)["contribution"].agg(lambda v: float(np.abs(v).sum()))
    kinds = kinds.sort_values(ascending=False)
    section.tables["explanation_kinds"] = kinds.rename("sum_abs").reset_index()
    section.charts.append(
        BarChart(
            "Sum of |contribution| by kind",
            [str(k) for k in kinds.index],
            {"sum |contribution|": list(kinds)},
        )
    )
    by_item = contributions.groupby([ITEM_ID, "feature"], sort=False)["contribution"].sum().reset_index()
    section.tables["explanation_items"] = by_item
    sizes = contributions.groupby(ITEM_ID)["contribution"].sum().sort_values(ascending=False)
    for item in sizes.index[:TOP_ITEMS]:
        rows = by_item[(by_item[ITEM_ID] == item) & (by_item["feature"] != "level")]
        rows = rows.reindex(rows["contribution"].abs().sort_values(ascending=False).index).head(TOP_FEATURES)
        section.charts.append(
            BarChart(
                f"{item}: contributions over the horizon (level aside)",
                [str(f) for f in rows["feature"]],
                {"contribution": [float(v) for v in rows["contribution"]]},
            )
        )
    return section
