"""Endpoints: which approved model version each name serves, loaded in this process.

`Deployments` keeps the rows of `endpoints` (what should be served) and the `EndpointTable`
(what is) in step. Deploying loads the model first and then swaps it into the table in one
reference assignment, so requests in flight finish on the model they started with; a version
that cannot load leaves the endpoint as it was. Endpoints are persisted and reloaded when the
service starts (`load_all`); one that fails to load is reported by /health, not fatal.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import select

from tidecast.automl.forecaster import AutoForecaster
from tidecast.errors import ModelError
from tidecast.monitor.forecast_log import ForecastLog, Origin
from tidecast.registry.columns import utcnow
from tidecast.registry.db import Database
from tidecast.registry.errors import Conflict, InvalidInput, NotFound
from tidecast.registry.registry import GROUP_NAME, Registry
from tidecast.registry.rollbacks import Rollback
from tidecast.registry.schema import Endpoint, ModelVersion
from tidecast.registry.statuses import ForecastSource, ModelStatus
from tidecast.service.endpoint_table import EndpointTable
from tidecast.service.metrics import ServiceMetrics
from tidecast.service.observations import extend
from tidecast.service.predictor import LoadedModel
from tidecast.service.problems import TYPE_BASE, Problem, endpoint_unavailable, unknown_endpoint
from tidecast.service.render import iso

log = logging.getLogger("tidecast.service")


@dataclass
class Deployed:
    """What an endpoint serves, as loaded in this process."""

    model: LoadedModel
    version: ModelVersion


class Deployments:
    """Endpoints: rows of `endpoints` (what should be served) and the `EndpointTable` (what is).

    Deploys are serialised by a lock so the table and the rows agree; the model is loaded
    before anything changes, so a version that cannot load leaves the endpoint as it was.
    """

    def __init__(
        self,
        database: Database,
        registry: Registry,
        metrics: ServiceMetrics,
        forecast_log: ForecastLog | None = None,
    ) -> None:
        self.database = database
        self.registry = registry
        self.metrics = metrics
        self.forecast_log = forecast_log
        self.table = EndpointTable()
        self.versions: dict[str, ModelVersion] = {}
        self.failures: dict[str, str] = {}  # persisted endpoints that could not be loaded
        self._lock = threading.Lock()

    def deploy(self, name: str, group: str, version: int | None) -> tuple[dict[str, Any], bool]:
        """Serve `group`'s `version` (default: its latest approved) at `name`; (endpoint, created)."""
        if not GROUP_NAME.match(name):
            raise InvalidInput(
                "name", f"{name!r} is not a valid endpoint name: use 1-128 letters, digits, '.', '_' or '-'"
            )
        found = self.registry.latest_approved(group) if version is None else self.registry.get(group, version)
        if found.status is not ModelStatus.APPROVED:
            raise Conflict(
                f"{group} version {found.version} is {found.status.value}: only Approved versions can be "
                f"deployed (POST /v1/models/{group}/versions/{found.version}/approve)"
            )
        return self.deploy_version(name, found)

    def deploy_version(self, name: str, found: ModelVersion) -> tuple[dict[str, Any], bool]:
        """Serve `found` at `name` whatever its approval status; (endpoint, created). The
        SageMaker-compatible API deploys through this: on SageMaker approval governs model
        packages, not CreateModel/CreateEndpoint."""
        group = found.group.name
        with self._lock:
            loaded = self._load(name, found)
            with self.database.transaction() as session:
                row = session.get(Endpoint, name)
                created = row is None
                if row is None:
                    session.add(Endpoint(name=name, model_version_id=found.id))
                else:
                    row.model_version_id = found.id
                    row.updated_at = utcnow()
            self._install(name, loaded, found)
        log.info("endpoint %s now serves %s version %d", name, group, found.version)
        return self.describe(name), created

    def _load(
        self, name: str, version: ModelVersion, forecaster: AutoForecaster | None = None
    ) -> LoadedModel:
        """`version` ready to serve at `name`: read from its folder, or served from `forecaster`,
        that version's model already read (a rollback's, read once for all its endpoints)."""
        try:
            folder = self.registry.model_path(version)  # refuses a folder altered since registration
            if forecaster is not None:
                loaded = LoadedModel(forecaster, folder, name)
            else:
                loaded = LoadedModel.load(folder, name, manifest_digest=version.manifest_digest)
        except (ModelError, OSError, ValueError, NotFound) as exc:  # NotFound: its folder is gone
            raise Problem(
                422,
                "Model cannot be loaded",
                f"{version.group.name} version {version.version} could not be loaded: {exc}",
                type_=TYPE_BASE + "model-load-failed",
                field="version",
            ) from None
        if forecaster is None:  # a load time is a read of the folder
            self.metrics.observe_load(name, loaded.load_seconds)
        if self.forecast_log is not None:  # before warming: the warmed forecasts are logged too
            loaded.observer = self.forecast_log.observer(
                Origin(ForecastSource.ENDPOINT, name, version.id, loaded.frequency, loaded.quantiles)
            )
        started = time.perf_counter()
        cached = loaded.warm()  # before the swap: the endpoint serves a warm cache from its first request
        log.info(
            "endpoint %s: %d of %d stored items forecast in %.2fs",
            name,
            cached,
            len(loaded.item_ids),
            time.perf_counter() - started,
        )
        return loaded

    def load_model(self, name: str, version: ModelVersion) -> LoadedModel:
        """`version` loaded and warmed for endpoint `name`, its forecasts logged under its own
        version id, without serving it (a challenger shadowing the endpoint)."""
        return self._load(name, version)

    def promote(self, name: str, loaded: LoadedModel, version: ModelVersion) -> dict[str, Any]:
        """Serve `loaded`, a model of approved `version` already loaded for `name` (by
        `load_model`), at the existing endpoint `name`: the swap, without loading it again."""
        if version.status is not ModelStatus.APPROVED:
            raise Conflict(
                f"{version.group.name} version {version.version} is {version.status.value}, not Approved"
            )
        with self._lock:
            with self.database.transaction() as session:
                row = session.get(Endpoint, name)
                if row is None:
                    raise NotFound("endpoint", name)
                row.model_version_id = version.id
                row.updated_at = utcnow()
            self._install(name, loaded, version)
        log.info("endpoint %s now serves %s version %d", name, version.group.name, version.version)
        return self.describe(name)

    def rollback(self, group: str, redeploy: bool = True, from_version: int | None = None) -> Rollback:
        """`Registry.rollback` with the moved endpoints' models loaded before anything changes
        and swapped in once the registry has committed; a model that cannot load changes nothing.
        The registry reads the model once (its check that it opens) and every moved endpoint
        serves that forecaster: each has its own cache and forecast log."""
        loaded: dict[str, LoadedModel] = {}

        def load(plan: Rollback, forecaster: AutoForecaster) -> None:
            for name in plan.endpoints:
                loaded[name] = self._load(name, plan.current, forecaster)

        with self._lock:
            done = self.registry.rollback(group, redeploy, prepare=load, from_version=from_version)
            for name in done.endpoints:
                self._install(name, loaded[name], done.current)
        for name in done.endpoints:
            log.info("endpoint %s now serves %s version %d", name, group, done.current.version)
        return done

    def _install(self, name: str, loaded: LoadedModel, version: ModelVersion) -> None:
        self.versions[name] = version
        self.failures.pop(name, None)
        self.table.set(name, loaded)  # the swap: requests holding the old model finish on it
        self.metrics.endpoints.set(len(self.table.names()))

    def observe(self, name: str, rows: pd.DataFrame) -> LoadedModel:
        """Append observations to what endpoint `name` serves (`observations.extend`) and swap
        the extended model in; serialised with deploys, so no append is lost to another."""
        with self._lock:
            model = self.serving_model(name)
            extended = extend(model, rows)
            self.table.set(name, extended)
        return extended

    def undeploy(self, name: str) -> None:
        with self._lock:
            with self.database.transaction() as session:
                row = session.get(Endpoint, name)
                if row is None:
                    raise NotFound("endpoint", name)
                session.delete(row)
            self.table.remove(name)
            self.versions.pop(name, None)
            self.failures.pop(name, None)
            self.metrics.forget_endpoint(name)
            self.metrics.endpoints.set(len(self.table.names()))

    def load_all(self) -> None:
        """Load every persisted endpoint (at startup); failures are kept for /health."""
        with self.database.sessions() as session:
            rows = [
                (e.name, e.model_version_id)
                for e in session.scalars(select(Endpoint).order_by(Endpoint.name))
            ]
        for name, version_id in rows:
            try:
                version = self.registry.get_by_id(version_id)
                with self._lock:
                    self._install(name, self._load(name, version), version)
                log.info("endpoint %s loaded: %s version %d", name, version.group.name, version.version)
            except Exception as exc:  # one broken model must not keep the others down
                reason = exc.detail if isinstance(exc, Problem) else f"{type(exc).__name__}: {exc}"
                self.failures[name] = reason
                log.error("endpoint %s could not be loaded: %s", name, reason)

    def serving_model(self, name: str) -> LoadedModel:
        """The model endpoint `name` serves now: 404 for no such endpoint, 503 for one whose
        model failed to load (it is listed, as Failed, and /health names it)."""
        model = self.table.get(name)
        if model is not None:
            return model
        reason = self.failures.get(name)
        if reason is not None:
            raise endpoint_unavailable(name, reason)
        raise unknown_endpoint(name)

    def forecaster_of(self, version_id: int) -> AutoForecaster | None:
        """The forecaster of `version_id` when an endpoint of this process serves it."""
        for name in self.serving(version_id):
            model = self.table.get(name)
            if model is not None:
                return model.forecaster
        return None

    def serving(self, version_id: int) -> list[str]:
        return sorted(n for n, v in self.versions.items() if v.id == version_id)

    def names(self) -> list[str]:
        with self.database.sessions() as session:
            return list(session.scalars(select(Endpoint.name).order_by(Endpoint.name)))

    def describe(self, name: str) -> dict[str, Any]:
        with self.database.sessions() as session:
            row = session.get(Endpoint, name)
            if row is None:
                raise NotFound("endpoint", name)
            version = row.model_version
            out: dict[str, Any] = {
                "name": row.name,
                "group": version.group.name,
                "version": version.version,
                "model_version_id": version.id,
                "created_at": iso(row.created_at),
                "updated_at": iso(row.updated_at),
            }
        deployed = self.versions.get(name)
        model = self.table.get(name)
        if model is not None and deployed is not None and deployed.id == out["model_version_id"]:
            out.update(
                status="InService",
                horizon=model.horizon,
                frequency=model.frequency,
                quantiles=list(model.quantiles),
                items=len(model.item_ids),
                known_covariates=list(model.known_covariates),
                loaded_at=iso(model.loaded_at),
                load_seconds=round(model.load_seconds, 4),
            )
        else:
            out.update(status="Failed", failure_reason=self.failures.get(name, "not loaded in this process"))
        return out
