"""A training job's last step: its model registered and the job Completed, in one transaction.

They were two commits: the version row (PendingManualApproval, with the job as its source),
then the job's Completed with the version's id. A worker killed between them (SIGKILL, the
OOM killer, a lost host), or a failure there (the database gone for a moment, the job failed
by `recover_orphans` while the worker was unreachable), left a registered version whose job
says Failed and names no version: a model nobody can trace to a successful run, numbered,
listed, one click from approval and deployment.

Now the version's INSERT and the job's UPDATE share the transaction `Registry.register` opens
(`on_record`), so the database holds both or neither:

* killed before the commit, the worker's connection goes with it and the database rolls the
  transaction back (PostgreSQL on the closed connection, SQLite from its journal at the next
  open); the job stays InProgress until `recover_orphans` fails it, and no version exists;
* an exception before the commit (including the job no longer being InProgress or Stopping,
  a Conflict) rolls the insert back, and `register` deletes the model folder it copied; the
  job ends Failed (or keeps the end it had) with the reason;
* a job stopped during the copy still completes: the stop arrived after the last point it
  could be honoured, and the work is done (a stop during the search is honoured before this).

The alternatives were weaker. Rolling the version back after a failure (delete or reject it)
needs the worker alive to do it, which a killed one is not. Reconciling at the next start
(reject versions whose job failed) runs after other processes may already have approved,
deployed or pinned a batch to the version, and then it must either break them or leave the
inconsistency. One commit leaves nothing to reconcile. What a kill can still leave is the
copied folder in the artifact store with no row pointing at it: never a model anyone can list,
load or deploy, and removed by the next worker to start once it is an hour old
(`registry.orphans`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tidecast.jobs.store import JobStore
from tidecast.registry.registry import Registry
from tidecast.registry.schema import ModelVersion


def register_and_complete(
    registry: Registry,
    store: JobStore,
    job_id: str,
    group: str,
    model_folder: Path,
    leaderboard: Sequence[dict[str, Any]],
) -> ModelVersion:
    """Register `model_folder` as the next version of `group` with job `job_id` as its source,
    and complete the job with `leaderboard` and that version, in one transaction."""

    def complete(session: Session, version: ModelVersion) -> None:
        store.complete(job_id, leaderboard, version.id, session=session)

    return registry.register(group, model_folder, source_job_id=job_id, on_record=complete)
