"""What a run measured of each candidate, as the AutoMLCandidate shape's ``CandidateProperties``.

Scripts written for SageMaker read ``BestCandidate["CandidateProperties"]["CandidateMetrics"]``;
tidecast's candidates had no ``CandidateProperties`` and such a script stopped on a KeyError.
Only what the run really measured goes in:

* ``CandidateMetrics``: for each metric SageMaker names (WAPE, MAPE, RMSE, MASE,
  AverageWeightedQuantileLoss), the mean of the candidate's per-window backtest values in the
  run's ``report.json`` (`tidecast.reports.run`): every backtest window for a model, the
  held-out window for the ensemble (its weights were fitted on the others). ``Set`` is
  ``Validation``: the windows are held out from what each candidate was fitted on. For the
  objective metric this is the leaderboard's score; ``FinalAutoMLJobObjectiveMetric`` may show
  the held-out score instead, the one the final choice was made on. A metric the run could
  not compute (MASE without a seasonal scale, wQL without quantiles) is left out. When the
  run's report is gone, the leaderboard's score of the objective metric alone.
* ``CandidateArtifactLocations.BacktestResults``: the run's ``backtest_forecasts.csv`` (every
  candidate's backtest forecasts beside the actuals), which the worker copies with the run to
  ``S3OutputPath/<AutoMLJobName>/`` before the job completes (a failed copy fails the job), so
  it is given for a completed job whose run wrote the file and whose request named the output.
  No ``Explainability`` or ``ModelInsights``: the run writes neither as SageMaker defines them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from tidecast.automl.selection import ENSEMBLE
from tidecast.jobs.runs import job_run_folder
from tidecast.jobs.sagemaker import SAGEMAKER_METRICS
from tidecast.registry.schema import Job
from tidecast.registry.settings import ServiceSettings
from tidecast.registry.statuses import JobStatus
from tidecast.reports.run import BACKTEST_FORECASTS, REPORT

OURS_TO_AWS_METRIC = {ours: aws for aws, ours in SAGEMAKER_METRICS.items()}
METRIC_SET = "Validation"


@dataclass(frozen=True)
class RunMeasures:
    """Per model, the backtest windows' metrics the run's report holds (empty without a
    report), and where the run's backtest results were copied (None when not)."""

    windows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    backtest_results: str | None = None

    @classmethod
    def of(cls, settings: ServiceSettings, job: Job, request: dict[str, Any]) -> RunMeasures:
        if not job.leaderboard:
            return cls()
        folder = job_run_folder(settings, job.id)
        if folder is None:
            return cls()
        windows: dict[str, list[dict[str, Any]]] = {}
        report_file = folder / REPORT
        if report_file.is_file():
            report = json.loads(report_file.read_text())
            for candidate in report.get("candidates") or []:
                windows[str(candidate["model"])] = list(candidate.get("window_metrics") or [])
            windows[ENSEMBLE] = list((report.get("ensemble") or {}).get("window_metrics") or [])
        output = (request.get("OutputDataConfig") or {}).get("S3OutputPath")
        copied = job.status is JobStatus.COMPLETED and output and job.config.get("output")
        location = None
        if copied and (folder / BACKTEST_FORECASTS).is_file():
            location = f"{str(output).rstrip('/')}/{job.name}/{BACKTEST_FORECASTS}"
        return cls(windows, location)

    def properties(self, row: dict[str, Any], objective: str) -> dict[str, Any]:
        """``CandidateProperties`` of the leaderboard `row`; `objective` is the job's metric
        in tidecast's spelling (``wql``)."""
        out: dict[str, Any] = {"CandidateMetrics": self.metrics(row, objective)}
        if self.backtest_results is not None and not row.get("error"):
            out["CandidateArtifactLocations"] = {"BacktestResults": self.backtest_results}
        return out

    def metrics(self, row: dict[str, Any], objective: str) -> list[dict[str, Any]]:
        windows = self.windows.get(str(row["model"]))
        if windows is None:
            values = {objective: row.get("score")}
        else:
            values = {ours: _mean([w.get(ours) for w in windows]) for ours in OURS_TO_AWS_METRIC}
        return [
            {
                "MetricName": OURS_TO_AWS_METRIC[ours],
                "StandardMetricName": OURS_TO_AWS_METRIC[ours],
                "Value": float(value),
                "Set": METRIC_SET,
            }
            for ours, value in values.items()
            if ours in OURS_TO_AWS_METRIC and isinstance(value, int | float) and _finite(value)
        ]


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _mean(values: list[Any]) -> float | None:
    """The mean of the finite values (a window the metric was not computed on is left out)."""
    finite = [float(v) for v in values if _finite(v)]
    return sum(finite) / len(finite) if finite else None
