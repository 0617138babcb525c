"""A hierarchical run's files: coherent forecasts, base forecasts, the method's report and
each level's leaderboard."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

FORECASTS = "forecasts.csv"
BASE_FORECASTS = "base_forecasts.csv"
REPORT = "reconciliation.json"


def write_hierarchy_run(
    forecaster: Any, forecasts: pd.DataFrame, base: pd.DataFrame, out: str | Path
) -> dict[str, Path]:
    """Write `forecasts` (reconciled), `base` (the levels' own), the reconciliation report and
    `leaderboards/<level>.csv` into `out`; returns the paths by label."""
    folder = Path(out)
    (folder / "leaderboards").mkdir(parents=True, exist_ok=True)
    paths = {"forecasts": folder / FORECASTS, "base": folder / BASE_FORECASTS, "report": folder / REPORT}
    forecasts.to_csv(paths["forecasts"], index=False)
    base.to_csv(paths["base"], index=False)
    report = {
        **forecaster.report_,
        "selected_models": {name: auto.report_.best for name, auto in forecaster.levels_.items()},
    }
    paths["report"].write_text(json.dumps(report, indent=2, default=str))
    for name, auto in forecaster.levels_.items():
        auto.leaderboard().to_csv(folder / "leaderboards" / f"{name.replace('/', '_')}.csv", index=False)
    paths["leaderboards"] = folder / "leaderboards"
    return paths


def fit_hierarchy_job(
    request: Any, data: Any, future: Any, progress: Callable[[dict[str, object]], None]
) -> tuple[Callable[[Path], dict[str, Path]], Any]:
    """A training job's hierarchy (`JobRequest.hierarchy`): every level fitted with the job's
    options on `data` and `future` (as the worker read them); returns the writer of its files
    (into a folder) and the items' AutoForecaster."""
    from tidecast.hierarchy.forecaster import HierarchicalForecaster
    from tidecast.hierarchy.structure import BOTTOM

    spec = request.hierarchy
    model = HierarchicalForecaster(spec.levels, method=spec.method, **request.forecaster_options())
    model.fit(data, future=future, progress=progress)

    def write(folder: Path) -> dict[str, Path]:
        frames = model.predict_methods(future)
        return write_hierarchy_run(model, frames[model.method_], frames["base"], folder)

    return write, model.levels_[BOTTOM]
