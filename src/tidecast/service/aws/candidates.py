"""An AutoML job's candidates, as DescribeAutoMLJobV2's ``BestCandidate`` and
ListCandidatesForAutoMLJob show them: one per leaderboard row (each model and the ensemble),
with the objective metric, the run's other metrics and where its backtest results are
(`candidate_properties`), sorted as the API sorts them.
"""

from __future__ import annotations

import math
from typing import Any

from tidecast.jobs.sagemaker import SAGEMAKER_METRICS
from tidecast.registry.schema import Job
from tidecast.service.aws.candidate_properties import OURS_TO_AWS_METRIC, RunMeasures
from tidecast.service.aws.deploys import container
from tidecast.service.aws.errors import validation
from tidecast.service.aws.resources import Context, epoch


def job_candidates(ctx: Context, job: Job, request: dict[str, Any]) -> list[dict[str, Any]]:
    """The leaderboard's rows as candidates, best first; the selected one carries ``_selected``
    and, once the job registered a version, its inference container. ``CandidateProperties``
    holds what the run measured of each (see `candidate_properties`)."""
    rows = job.leaderboard or []
    metric_name = (request.get("AutoMLJobObjective") or {}).get("MetricName")
    ours = SAGEMAKER_METRICS.get(metric_name or "", job.config.get("metric", "wql"))
    aws_metric = metric_name or OURS_TO_AWS_METRIC.get(ours, ours)
    version = ctx.state.registry.get_by_id(job.model_version_id) if job.model_version_id else None
    measured = RunMeasures.of(ctx.state.settings, job, request)
    out = []
    for row in rows:
        score = row.get(f"heldout_{ours}")
        if score is None or (isinstance(score, float) and math.isnan(score)):
            score = row.get("score")
        candidate: dict[str, Any] = {
            "CandidateName": f"{job.name}-{row['model']}"[:64],
            "ObjectiveStatus": "Succeeded" if not row.get("error") else "Failed",
            "CandidateStatus": "Completed" if not row.get("error") else "Failed",
            "CandidateSteps": [],
            "CandidateProperties": measured.properties(row, ours),
            "CreationTime": epoch(job.started_at or job.created_at),
            "EndTime": epoch(job.ended_at),
            "LastModifiedTime": epoch(job.ended_at or job.created_at),
        }
        if isinstance(score, int | float) and math.isfinite(score):
            candidate["FinalAutoMLJobObjectiveMetric"] = {
                "Type": "Minimize",
                "MetricName": aws_metric,
                "StandardMetricName": aws_metric,
                "Value": float(score),
            }
        if row.get("error"):
            candidate["FailureReason"] = row["error"]
        if row.get("selected"):
            candidate["_selected"] = True
            if version is not None:
                candidate["InferenceContainers"] = [container(version)]
        out.append(candidate)
    return out


SORT_KEYS = ("CreationTime", "Status", "FinalObjectiveMetricValue")


def sort_candidates(candidates: list[dict[str, Any]], by: Any, order: Any) -> list[dict[str, Any]]:
    """Candidates by `SortBy` in `SortOrder` (Ascending unless Descending), as AWS sorts them.

    Without `SortBy`: `BestCandidate` (the model shipped) first, which code reading
    ``Candidates[0]`` expects, then by the objective value shown, best first, those without a
    value last. Before, the leaderboard's order (every window's score) put the ensemble first
    while the values shown were held-out ones and BestCandidate was another, and ``SortOrder``
    was ignored.
    """
    if by is not None and by not in SORT_KEYS:
        raise validation(f"SortBy must be one of {', '.join(SORT_KEYS)}, got {by!r}")
    if order is not None and order not in ("Ascending", "Descending"):
        raise validation(f"SortOrder must be Ascending or Descending, got {order!r}")

    def value(c: dict[str, Any]) -> float:
        metric = c.get("FinalAutoMLJobObjectiveMetric")
        return float(metric["Value"]) if metric else math.inf

    if by == "Status":
        ranked = sorted(candidates, key=lambda c: str(c["CandidateStatus"]))
    elif by == "CreationTime":
        ranked = sorted(candidates, key=lambda c: c["CreationTime"] or 0)
    elif by == "FinalObjectiveMetricValue":
        ranked = sorted(candidates, key=value)
    else:
        ranked = sorted(candidates, key=lambda c: (not c.get("_selected", False), value(c)))
    return ranked[::-1] if order == "Descending" else ranked
