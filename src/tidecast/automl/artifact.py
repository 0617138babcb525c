"""The fitted AutoForecaster on disk: a folder that describes itself.

    model/
      manifest.json     type, format and library versions, task, metrics, data fingerprint,
                        and the SHA-256 of every payload file
      forecaster.pkl    the fitted object (members, weights, report)
      history.parquet   the prepared training panel, to forecast stored items
      future.parquet    the known covariates over the horizon that the forecast from that
                        history used (`forecast_plan`); absent without them, and in folders
                        written before it was kept

The folder is written under a temporary name beside the target and renamed into place, so a
crash never leaves a half-written model that looks complete. `load` checks the manifest's
type and format version and each payload's digest before it unpickles anything: tidecast only
unpickles files it wrote itself.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import io
import json
import os
import pickle
import platform
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.errors import ModelError

if TYPE_CHECKING:
    from tidecast.automl.forecaster import AutoForecaster

MANIFEST = "manifest.json"
PAYLOAD = "forecaster.pkl"
HISTORY = "history.parquet"
FUTURE = "future.parquet"
ARTIFACT_TYPE = "tidecast.AutoForecaster"
FORMAT_VERSION = 1


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def panel_fingerprint(panel: pd.DataFrame) -> str:
    """SHA-256 over item ids, timestamps and target values, independent of file formatting."""
    digest = hashlib.sha256()
    digest.update(np.asarray(panel[ITEM_ID].to_numpy(), dtype=str).astype("U").tobytes())
    digest.update(panel[TIMESTAMP].to_numpy(dtype="datetime64[ns]").tobytes())
    digest.update(np.nan_to_num(panel[TARGET].to_numpy(dtype=np.float64), nan=-1.2345e308).tobytes())
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("tidecast", "numpy", "pandas", "statsforecast", "scipy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def build_manifest(forecaster: AutoForecaster, files: dict[str, str]) -> dict[str, Any]:
    report = forecaster.report_
    board = forecaster.leaderboard()
    # The row of the model that forecasts, not the top row: the two differ when the ensemble's
    # held-out score tops the board but lost to the best single model on the same points.
    selected = board[board["selected"]] if not board.empty else board
    best_row = selected.iloc[0].to_dict() if not selected.empty else {}
    return {
        "type": ARTIFACT_TYPE,
        "format_version": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": library_versions(),
        "task": {
            "horizon": forecaster.horizon,
            "frequency": forecaster.spec_.freq,
            "quantiles": list(forecaster.quantiles_),
            "metric": forecaster.metric,
            "preset": forecaster.preset,
            "columns": {
                "item": forecaster.spec_.item_col,
                "timestamp": forecaster.spec_.timestamp_col,
                "target": forecaster.spec_.target_col,
            },
            # What a caller must supply (known covariates over the horizon) and what the
            # models were told about the data; a service reads this without unpickling.
            "covariates": {
                "known": list(forecaster.spec_.known_covariates),
                "past": list(forecaster.spec_.past_covariates),
                "static": list(forecaster.spec_.static_columns),
            },
            "holidays": list(forecaster.spec_.holidays),
            "events": len(forecaster.spec_.events),
        },
        "model": {"best": report.best, "weights": forecaster.weights_, "refit": report.refit},
        "metrics": {
            "objective": forecaster.metric,
            "score": None if not best_row else _json_float(best_row.get("score")),
        },
        "data_fingerprint": panel_fingerprint(forecaster.history_),
        "data": {k: report.data_summary.get(k) for k in ("items", "rows", "frequency", "date_range")},
        "files": files,
    }


def _json_float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def save_forecaster(forecaster: AutoForecaster, path: str | Path) -> Path:
    """Write the model folder atomically; an existing model folder at `path` is replaced
    (`check_replaceable`: anything else there is refused, not deleted)."""
    target = Path(path)
    check_replaceable(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        payload = pickle.dumps((ARTIFACT_TYPE, _slim_state(forecaster)), protocol=pickle.HIGHEST_PROTOCOL)
        blobs = {PAYLOAD: payload, HISTORY: _parquet(forecaster.history_)}
        plan = getattr(forecaster, "forecast_future_", None)
        if plan is not None:
            blobs[FUTURE] = _parquet(plan)
        for name, data in blobs.items():
            (staging / name).write_bytes(data)
        files = {name: _sha256(data) for name, data in blobs.items()}
        manifest = build_manifest(forecaster, files)
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str))
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def check_replaceable(target: Path) -> None:
    """Refuse a `target` that saving would destroy: a file, or a folder holding anything but a
    model (no manifest). Replacing moves the old folder aside and deletes it, so `save(".")`
    or `save("data/")` would otherwise take the user's own files with it; an empty folder (a
    fresh temporary directory) and an earlier model are fine."""
    if not target.exists():
        return
    if not target.is_dir():
        raise ModelError(f"{target} is a file, not a model folder: save the model to a folder path")
    if (target / MANIFEST).is_file():
        return
    names = sorted(p.name for p in target.iterdir())
    if names:
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        raise ModelError(
            f"{target} holds files that are not a tidecast model ({shown}): saving replaces the "
            "whole folder, so give a new or empty folder, such as a subfolder of it"
        )


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def manifest_digest(path: str | Path) -> str:
    """The SHA-256 of a model folder's manifest: the manifest lists every payload's digest, so
    this one value, kept apart from the folder (the registry records it), vouches for it all."""
    manifest_path = Path(path) / MANIFEST
    if not manifest_path.is_file():
        raise ModelError(f"{path} is not a tidecast model folder: {MANIFEST} is missing")
    return _sha256(manifest_path.read_bytes())


def read_manifest(path: str | Path, expected_digest: str | None = None) -> dict[str, Any]:
    """The manifest of a model folder, checked for type and format; with `expected_digest`
    (what the registry recorded) its bytes must hash to it, read once so no swap can slip in
    between the check and the use."""
    folder = Path(path)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise ModelError(f"{folder} is not a tidecast model folder: {MANIFEST} is missing")
    raw = manifest_path.read_bytes()
    if expected_digest is not None and _sha256(raw) != expected_digest:
        raise ModelError(
            f"{manifest_path} is not the manifest registered for this model: the folder was altered"
        )
    try:
        manifest: dict[str, Any] = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ModelError(f"{manifest_path} is not valid JSON: {exc}") from exc
    if manifest.get("type") != ARTIFACT_TYPE:
        raise ModelError(f"{folder} holds a {manifest.get('type')!r}, not a {ARTIFACT_TYPE}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{folder} has model format {manifest.get('format_version')}, this tidecast reads {FORMAT_VERSION}"
        )
    return manifest


def load_state(
    path: str | Path, *, history: bool = True, manifest_digest: str | None = None
) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """The fitted state and training panel of a model folder written by `save_forecaster`,
    every digest verified first; `AutoForecaster.load` builds the forecaster from them.

    `history=False` skips the stored training panel: batch forecasting brings its own history,
    and for a big catalogue the stored panel would be most of a worker's memory. Such a model
    forecasts only from data passed to `predict`, so the plan of the stored history's forecast
    (`FUTURE`) is skipped too; otherwise it comes back as the state's `forecast_future_`.
    `manifest_digest`: the digest the registry recorded, checked on the very bytes whose
    payload digests are then trusted.
    """
    folder = Path(path)
    manifest = read_manifest(folder, manifest_digest)
    blobs = {}
    for name, digest in manifest.get("files", {}).items():
        if name in (HISTORY, FUTURE) and not history:
            continue
        blobs[name] = _verified(folder, name, digest)
    if PAYLOAD not in blobs:
        raise ModelError(f"{folder} manifest lists no {PAYLOAD}")
    kind, state = pickle.loads(blobs[PAYLOAD])
    if kind != ARTIFACT_TYPE or (history and HISTORY not in blobs):
        raise ModelError(f"{folder} does not contain an AutoForecaster")
    panel = pd.read_parquet(io.BytesIO(blobs[HISTORY])) if history else None
    if FUTURE in blobs:
        state["forecast_future_"] = pd.read_parquet(io.BytesIO(blobs[FUTURE]))
    return state, panel


def stored_plan(path: str | Path) -> pd.DataFrame | None:
    """The known covariates' plan a model folder keeps (`FUTURE`), its digest verified; None
    where it keeps none (no known covariates, or a folder written before plans were kept).
    What a run folder's reader takes without unpickling the model."""
    folder = Path(path)
    digest = read_manifest(folder).get("files", {}).get(FUTURE)
    return None if digest is None else pd.read_parquet(io.BytesIO(_verified(folder, FUTURE, digest)))


def _verified(folder: Path, name: str, digest: str) -> bytes:
    """The bytes of payload file `name`, refused when missing or not matching its digest."""
    file = folder / name
    if not file.is_file():
        raise ModelError(f"{folder} is incomplete: {name} is missing")
    data = file.read_bytes()
    if _sha256(data) != digest:
        raise ModelError(f"{file} does not match its manifest digest: the model folder was altered")
    return data


def _slim_state(forecaster: AutoForecaster) -> dict[str, Any]:
    """The object's state without what the folder stores elsewhere or never needs again:
    the history and the forecast's plan (in their own Parquet files) and the backtest-only
    fits and forecasts."""
    state = dict(forecaster.__dict__)
    state.pop("history_", None)
    state.pop("forecast_future_", None)
    state.pop("_static_cache", None)
    state.pop("_fit_forecast", None)  # the fit's forecast of the history, for its next predict only
    report = copy.copy(forecaster.report_)
    report.candidates = [dataclasses.replace(c, model=None, forecast=None) for c in report.candidates]
    report.backtest_points = None
    state["report_"] = report
    return state
