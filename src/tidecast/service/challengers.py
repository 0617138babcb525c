"""Champion and challenger on the endpoints of this process: attach, shadow, score, promote.

`Challengers` keeps each endpoint's active challenger loaded beside its champion. Every
request the endpoint answers is handed to the `ShadowWorker`, which forecasts it with the
challenger off the response path; the challenger's forecasts go to the forecast log under its
own version id. Each ingest of actuals queues an evaluation on the same worker (after the
shadow forecasts already handed over): both versions' paired forecasts are scored
(`tidecast.champion.evaluation`), and the evidence and decision are stored in `challengers`.
Better by the policy's margin over its window, the challenger is promoted at once (``auto``)
or waits for ``POST /v1/endpoints/{name}/promote`` (``approval``); promoting approves its
version in the registry when pending and swaps the already loaded, warmed model in as the
endpoint's champion.

An alert rule with ``action = "retrain"`` queues a training job (`retrain`); when the job
completes, its version becomes the endpoint's challenger (`poll_jobs`, run after each ingest,
each `evaluate` call and every ``alert_interval_seconds``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from tidecast.champion.evaluation import BETTER, Verdict, judge, paired_points
from tidecast.champion.policy import ChallengerPolicy
from tidecast.champion.store import (
    AWAITING,
    DETACHED,
    FAILED,
    PROMOTED,
    SHADOWING,
    TRAINING,
    ChallengerStore,
)
from tidecast.jobs.config import parse_job_body
from tidecast.jobs.store import JobStore
from tidecast.monitor.forecast_log import ForecastLog
from tidecast.monitor.monitoring import Monitor
from tidecast.registry.errors import Conflict, NotFound
from tidecast.registry.schema import ChallengerRecord, ModelVersion
from tidecast.registry.settings import ServiceSettings
from tidecast.registry.statuses import JobStatus, ModelStatus
from tidecast.service.deployments import Deployments
from tidecast.service.observations import extend
from tidecast.service.predictor import LoadedModel
from tidecast.service.problems import Problem, endpoint_unavailable
from tidecast.service.render import iso
from tidecast.service.requests import DEFAULT_LIMITS, Limits
from tidecast.service.runtime_contract import JSON
from tidecast.service.shadow import ShadowWorker

if TYPE_CHECKING:
    from tidecast.alerts.rules import Rule

log = logging.getLogger("tidecast.champion")


@dataclass
class Shadow:
    """An endpoint's active challenger as loaded in this process."""

    record_id: int
    version: ModelVersion
    model: LoadedModel
    policy: ChallengerPolicy


class Challengers:
    def __init__(
        self,
        deployments: Deployments,
        monitor: Monitor,
        jobs: JobStore,
        settings: ServiceSettings,
        forecast_log: ForecastLog | None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.deployments = deployments
        self.registry = deployments.registry
        self.monitor = monitor
        self.jobs = jobs
        self.settings = settings
        self.forecast_log = forecast_log
        self.store = ChallengerStore(self.registry.sessions)
        self.worker = ShadowWorker(limits)
        self.serving: dict[str, Shadow] = {}
        self._lock = threading.RLock()
        monitor.listeners.append(lambda _result: self.worker.call(self.refresh))

    # ---- the request path -------------------------------------------------------------------
    def shadow(self, endpoint: str, kind: str, body: bytes, content_type: str = JSON) -> None:
        """Hand a request `endpoint` answered to its challenger, if it has one: O(1)."""
        found = self.serving.get(endpoint)
        if found is not None:
            self.worker.forecast(found.model, kind, body, content_type)

    def observe(self, endpoint: str, rows: pd.DataFrame) -> None:
        """Append the observations the champion got to the challenger's history too, so both
        forecast from the same origins (see `observations.extend`)."""
        with self._lock:
            found = self.serving.get(endpoint)
            if found is None:
                return
            try:
                found.model = extend(found.model, rows)
            except Problem as exc:
                log.warning("challenger of %s could not take the observations: %s", endpoint, exc.detail)

    # ---- attaching ----------------------------------------------------------------------------
    def attach(
        self, endpoint: str, group: str | None, version: int, policy: ChallengerPolicy
    ) -> dict[str, Any]:
        """Make `group`'s `version` (default group: the champion's) the endpoint's challenger,
        replacing an active one."""
        champion = self._champion(endpoint)
        found = self.registry.get(group or champion.group.name, version)
        self._check_candidate(endpoint, champion, found)
        with self._lock:
            for record in self.store.active(endpoint):
                self.store.close(record.id, DETACHED, f"replaced by model version id {found.id}")
            self.serving.pop(endpoint, None)
            record = self.store.open(
                endpoint,
                SHADOWING,
                policy.model_dump(),
                champion_version_id=champion.id,
                challenger_version_id=found.id,
            )
            self._load(record.id, endpoint, found, policy)
        log.info("endpoint %s: %s version %d shadows the champion", endpoint, found.group.name, found.version)
        return self.describe(endpoint)

    def _check_candidate(self, endpoint: str, champion: ModelVersion, found: ModelVersion) -> None:
        if self.forecast_log is None:
            raise Conflict(
                "the forecast log is off (TIDECAST_FORECAST_LOG=false): a challenger cannot be scored"
            )
        if found.id == champion.id:
            raise Conflict(f"{found.group.name} version {found.version} is what {endpoint} serves already")
        if found.status is ModelStatus.REJECTED:
            raise Conflict(f"{found.group.name} version {found.version} is Rejected: it cannot be promoted")

    def _load(self, record_id: int, endpoint: str, version: ModelVersion, policy: ChallengerPolicy) -> None:
        """Load and warm the challenger (its forecasts logged under its own version id)."""
        try:
            model = self.deployments.load_model(endpoint, version)
        except Exception as exc:
            reason = exc.detail if isinstance(exc, Problem) else f"{type(exc).__name__}: {exc}"
            self.store.close(record_id, FAILED, f"the challenger could not be loaded: {reason}")
            raise
        self.worker.stats.pop(endpoint, None)  # the counts shown are this challenger's
        self.serving[endpoint] = Shadow(record_id, version, model, policy)

    def detach(self, endpoint: str) -> dict[str, Any]:
        with self._lock:
            records = self.store.active(endpoint)
            if not records:
                raise NotFound("active challenger", endpoint)
            self.store.close(records[0].id, DETACHED, "detached on request")
            self.serving.pop(endpoint, None)
        return self.describe(endpoint)

    def load_all(self) -> None:
        """At start: load the active challengers that were shadowing."""
        for record in self.store.active():
            if record.state == TRAINING or record.challenger_version_id is None:
                continue
            try:
                version = self.registry.get_by_id(record.challenger_version_id)
                with self._lock:
                    self._load(record.id, record.endpoint, version, ChallengerPolicy(**record.policy))
            except Exception:
                log.exception("challenger of %s could not be loaded", record.endpoint)

    # ---- retraining -----------------------------------------------------------------------------
    def retrain(self, rule: Rule, endpoint: str) -> dict[str, Any]:
        """The alert action ``retrain``: queue the rule's training job (its `retrain` body, the
        model group defaulting to the champion's); its version will challenge the champion."""
        if self.store.active(endpoint):
            return {"retrain": "skipped", "reason": f"{endpoint} already has an active challenger"}
        champion = self.registry.endpoint_version(endpoint)
        body = {"model_group": champion.group.name, **(rule.retrain or {})}
        body.pop("name", None)  # a name would make the second retraining a conflict
        request = parse_job_body(body, self.settings, check_exists=True)
        policy = rule.challenger or ChallengerPolicy()
        record = self.store.open(
            endpoint, TRAINING, policy.model_dump(), champion_version_id=champion.id, rule=rule.name
        )
        try:
            job = self.jobs.create(request)
        except Exception as exc:
            self.store.close(record.id, FAILED, f"the retraining job could not be queued: {exc}")
            raise
        self.store.update(record.id, job_id=job.id)
        log.info("rule %s: retraining job %s queued for %s", rule.name, job.id, endpoint)
        return {"retrain": job.id, "challenger_id": record.id}

    def poll_jobs(self) -> None:
        """Retraining jobs that ended: a completed one's version starts shadowing, a failed
        one's challenger is closed with the job's reason."""
        for record in self.store.active():
            if record.state != TRAINING or record.job_id is None:
                continue
            job = self.jobs.get(record.job_id)
            if job.status is JobStatus.COMPLETED and job.model_version_id is not None:
                self.store.update(record.id, state=SHADOWING, challenger_version_id=job.model_version_id)
                version = self.registry.get_by_id(job.model_version_id)
                with self._lock:
                    try:
                        self._load(record.id, record.endpoint, version, ChallengerPolicy(**record.policy))
                    except Exception:
                        log.exception("challenger of %s could not be loaded", record.endpoint)
            elif job.status in (JobStatus.FAILED, JobStatus.STOPPED):
                reason = job.error or job.status.value
                self.store.close(
                    record.id, FAILED, f"the retraining job {job.id} ended {job.status.value}: {reason}"
                )

    # ---- evaluating and promoting -----------------------------------------------------------------
    def refresh(self) -> None:
        """Poll the retraining jobs, then evaluate every challenger (on the worker thread)."""
        self.poll_jobs()
        for endpoint in list(self.serving):
            try:
                self.evaluate(endpoint)
            except Exception:
                log.exception("challenger of %s could not be evaluated", endpoint)

    def evaluate_now(self, endpoint: str) -> dict[str, Any]:
        """Wait for the shadow forecasts handed over so far, then poll and evaluate."""
        self.worker.drain()
        self.poll_jobs()
        self.evaluate(endpoint)
        return self.describe(endpoint)

    def evaluate(self, endpoint: str) -> Verdict | None:
        """Score the challenger against the champion and act on the verdict."""
        if self.forecast_log is not None:
            self.forecast_log.flush()  # the forecasts both made so far, in the log
        with self._lock:
            found = self.serving.get(endpoint)
            if found is None:
                return None
            champion = self.deployments.versions.get(endpoint)
            if champion is None or champion.id == found.version.id:  # deleted, or deployed by hand
                self.serving.pop(endpoint, None)
                reason = (
                    "the endpoint was deleted" if champion is None else "deployed as the champion directly"
                )
                self.store.close(found.record_id, DETACHED if champion is None else PROMOTED, reason)
                return None
            with self.registry.sessions() as session:
                points = paired_points(session.connection(), endpoint, champion.id, found.version.id)
            profiles = self.monitor.profiles.get if found.policy.metric == "mase" else None
            verdict = judge(*points, found.policy, (champion.id, found.version.id), profiles)
            if verdict.outcome == BETTER and found.policy.mode == "auto":
                self._promote(endpoint, found, verdict.evidence, f"promoted automatically: {verdict.summary}")
            else:
                self.store.update(
                    found.record_id,
                    state=AWAITING if verdict.outcome == BETTER else SHADOWING,
                    evidence=verdict.evidence,
                    decision=verdict.summary,
                    champion_version_id=champion.id,
                )
            return verdict

    def promote(self, endpoint: str) -> dict[str, Any]:
        """The approval of a challenger that is awaiting it."""
        with self._lock:
            found = self.serving.get(endpoint)
            records = self.store.active(endpoint)
            if found is None or not records or records[0].state != AWAITING:
                state = records[0].state if records else "none"
                raise Conflict(
                    f"{endpoint} has no challenger awaiting approval (state: {state}); it awaits approval "
                    "once it is better by its policy's margin over its window"
                )
            record = records[0]
            self._promote(endpoint, found, record.evidence or {}, f"promoted on approval: {record.decision}")
        return self.describe(endpoint)

    def _promote(self, endpoint: str, found: Shadow, evidence: dict[str, Any], decision: str) -> None:
        version = self.registry.get_by_id(found.version.id)
        if version.status is ModelStatus.REJECTED:
            self.serving.pop(endpoint, None)
            self.store.close(found.record_id, FAILED, "the challenger's version was rejected meanwhile")
            return
        if version.status is ModelStatus.PENDING:
            version = self.registry.approve(version.group.name, version.version)
            version = self.registry.get_by_id(version.id)
        self.deployments.promote(endpoint, found.model, version)
        self.serving.pop(endpoint, None)
        self.store.close(found.record_id, PROMOTED, decision, evidence=evidence)
        log.info("endpoint %s: %s", endpoint, decision)

    def _champion(self, endpoint: str) -> ModelVersion:
        version = self.deployments.versions.get(endpoint)
        if version is None or self.deployments.table.get(endpoint) is None:
            reason = self.deployments.failures.get(endpoint)
            if reason is not None:  # listed, but its model failed to load: 503, as its forecasts
                raise endpoint_unavailable(endpoint, reason)
            raise NotFound("endpoint", endpoint, "no endpoint of that name is in service here")
        return version

    # ---- reading ---------------------------------------------------------------------------------
    def describe(self, endpoint: str) -> dict[str, Any]:
        """The endpoint's active challenger, else its latest one, with its evidence."""
        record = self.store.latest(endpoint)
        if record is None:
            raise NotFound("challenger", endpoint, "this endpoint has never had a challenger")
        return self._record(record)

    def _record(self, record: ChallengerRecord) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": record.id,
            "endpoint": record.endpoint,
            "state": record.state,
            "active": record.open_key is not None,
            "champion": self._version_ref(record.champion_version_id),
            "challenger": self._version_ref(record.challenger_version_id),
            "policy": record.policy,
            "decision": record.decision,
            "evidence": record.evidence,
            "job_id": record.job_id,
            "rule": record.rule,
            "created_at": iso(record.created_at),
            "updated_at": iso(record.updated_at),
            "decided_at": iso(record.decided_at) if record.decided_at else None,
        }
        if record.endpoint in self.serving:
            out["shadow"] = dict(
                self.worker.stats.get(record.endpoint, {"forecasts": 0, "failures": 0, "dropped": 0})
            )
        return out

    def _version_ref(self, version_id: int | None) -> dict[str, Any] | None:
        if version_id is None:
            return None
        try:
            version = self.registry.get_by_id(version_id)
        except NotFound:
            return {"model_version_id": version_id}
        return {
            "model_version_id": version.id,
            "group": version.group.name,
            "version": version.version,
            "status": version.status.value,
        }

    # ---- life cycle ------------------------------------------------------------------------------
    def start(self) -> None:
        interval = self.settings.alert_interval_seconds
        self.worker.start(interval, self.refresh if interval > 0 else None)

    def close(self, timeout: float = 30.0) -> None:
        self.worker.close(timeout)
