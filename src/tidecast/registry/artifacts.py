"""Where registered model folders live: a local folder or any fsspec store (s3://, gs://...).

A model folder becomes visible all at once or not at all, so a crash mid-copy can never leave
a version whose files are half there:

* on a local file system the folder is copied under a hidden staging name beside its target
  and renamed into place (rename is atomic);
* object stores have no rename, so the files are written under the final key and a marker
  file last; a folder without the marker is treated as absent, and readers check for it.

Both kinds get the marker, so `exists` means the same everywhere. Keys are made by `new_key`
from validated parts plus a random suffix: nothing a request sends becomes a path unchecked,
and `get_model`/`delete` only accept keys, or URIs under this store's root. The registry keeps
keys (`key_of`), relative to the root, so a store copied or moved elsewhere still serves.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

from fsspec import AbstractFileSystem
from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem

from tidecast.registry.errors import Conflict, InvalidInput, NotFound

MARKER = "_TIDECAST_COMPLETE"
STAGING_PREFIX = ".staging-"
_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def _copy_file(fs: AbstractFileSystem, source: Path, destination: str) -> None:
    """Copy one local file into the store (the unit a crash can interrupt)."""
    fs.put_file(str(source), destination)


def validate_key(key: str) -> str:
    """A key is '/'-separated parts of letters, digits, '.', '_' and '-', each starting with a
    letter or digit: no '..', no absolute paths, no hidden names, no backslashes."""
    parts = key.split("/")
    if not key or not all(_PART.match(part) for part in parts):
        raise InvalidInput("key", f"{key!r} is not a valid artifact key")
    return key


def _folder_files(folder: Path) -> list[tuple[Path, str]]:
    """The regular files under `folder` with their '/'-joined relative names; symlinks are
    refused so a model folder cannot smuggle in files from elsewhere on the machine."""
    if not folder.is_dir():
        raise NotFound("model folder", str(folder))
    files = []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            raise InvalidInput("model_folder", f"{path} is a symbolic link; model folders hold plain files")
        if path.is_file():
            relative = path.relative_to(folder).as_posix()
            if relative == MARKER:
                continue
            files.append((path, relative))
    if not files:
        raise InvalidInput("model_folder", f"{folder} is empty")
    return files


class ArtifactStore:
    """Model folders under one fsspec root URL, written atomically and read through a cache."""

    def __init__(self, url: str, cache_dir: str | Path | None = None) -> None:
        fs, root = url_to_fs(url)
        self.fs: AbstractFileSystem = fs
        self.root: str = root.rstrip("/") or "/"
        self.local = isinstance(fs, LocalFileSystem)
        self.cache_dir = Path(cache_dir) if cache_dir else Path(tempfile.gettempdir()) / "tidecast-artifacts"
        if self.local:
            os.makedirs(self.root, exist_ok=True)

    def __repr__(self) -> str:
        return f"ArtifactStore({self.url!r})"

    @property
    def url(self) -> str:
        return str(self.fs.unstrip_protocol(self.root))

    # ---- keys and URIs -------------------------------------------------------------------
    @staticmethod
    def new_key(*parts: str) -> str:
        """A fresh key: the validated `parts` and a random suffix, e.g. models/sales/3f2a...;
        the suffix keeps keys unique even when two writers race for the same name."""
        return validate_key("/".join([*parts, uuid.uuid4().hex]))

    def uri_for(self, key: str) -> str:
        return str(self.fs.unstrip_protocol(self._join(validate_key(key))))

    def _join(self, key: str) -> str:
        return f"{self.root.rstrip('/')}/{key}"

    def key_of(self, location: str) -> str:
        """The key of `location` (a key, or a URI under this store); anything else is refused."""
        if "://" not in location and not location.startswith("/"):
            return validate_key(location)
        prefix = self.url.rstrip("/") + "/"
        if not location.startswith(prefix):
            raise InvalidInput("artifact_uri", f"{location!r} is not in the artifact store {self.url}")
        return validate_key(location[len(prefix) :])

    def _path_of(self, location: str) -> str:
        return self._join(self.key_of(location))

    def _cached(self, location: str) -> Path:
        return self.cache_dir / hashlib.sha256(self.uri_for(self.key_of(location)).encode()).hexdigest()[:32]

    # ---- operations ----------------------------------------------------------------------
    def put_model(self, model_folder: str | Path, key: str, job_id: str | None = None) -> str:
        """Copy `model_folder` to `key` so it appears complete or not at all; returns its URI.
        `job_id`, the job registering it, is written in its completion marker: the one proof
        the orphan sweep accepts that the folder is its registry's (`registry.orphans`)."""
        files = _folder_files(Path(model_folder))
        target = self._join(validate_key(key))
        if self.fs.exists(target):
            raise Conflict(f"artifact key {key!r} is already used")
        content: dict[str, object] = {
            "files": [name for _, name in files],
            "written": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if job_id is not None:
            content["job"] = job_id
        marker = json.dumps(content)
        if self.local:
            self._put_local(files, target, marker)
        else:
            self._put_remote(files, target, marker)
        return str(self.fs.unstrip_protocol(target))

    def _put_local(self, files: list[tuple[Path, str]], target: str, marker: str) -> None:
        parent = os.path.dirname(target)
        os.makedirs(parent, exist_ok=True)
        staging = os.path.join(parent, f"{STAGING_PREFIX}{uuid.uuid4().hex}")
        try:
            for source, name in files:
                destination = f"{staging}/{name}"
                os.makedirs(os.path.dirname(destination), exist_ok=True)
                _copy_file(self.fs, source, destination)
            Path(staging, MARKER).write_text(marker)
            os.rename(staging, target)  # atomic; fails rather than merge into an existing folder
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def _put_remote(self, files: list[tuple[Path, str]], target: str, marker: str) -> None:
        try:
            for source, name in files:
                _copy_file(self.fs, source, f"{target}/{name}")
            self.fs.pipe_file(f"{target}/{MARKER}", marker.encode())  # last: the folder is now complete
        except BaseException:
            self._remove_quietly(target)
            raise

    def _remove_quietly(self, path: str) -> None:
        try:
            if self.fs.exists(path):
                self.fs.rm(path, recursive=True)
        except OSError:
            pass  # a folder without its marker is invisible anyway

    def exists(self, uri: str) -> bool:
        """Whether a complete model folder is stored at `uri` (a key or a URI)."""
        return bool(self.fs.isfile(f"{self._path_of(uri)}/{MARKER}"))

    def get_model(self, uri: str) -> Path:
        """A local folder holding the model at `uri`: the folder itself on a local store, a
        cached copy otherwise (fetched once; stored versions never change)."""
        path = self._path_of(uri)
        if not self.exists(uri):
            raise NotFound("model artifact", uri)
        if self.local:
            return Path(path)
        cached = self._cached(uri)
        if (cached / MARKER).is_file():
            return cached
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.cache_dir))
        try:
            names = sorted(self.fs.find(path), key=lambda name: name.endswith(f"/{MARKER}"))
            for name in names:  # the marker last, as on the store
                local = staging / name[len(path) + 1 :]
                local.parent.mkdir(parents=True, exist_ok=True)
                self.fs.get_file(name, str(local))
            try:
                os.rename(staging, cached)
            except OSError:
                if not (cached / MARKER).is_file():  # lost a race to a complete copy: use it
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return cached

    def delete(self, uri: str) -> bool:
        """Remove the model at `uri` (and its cached copy); False when there was none.

        The folder disappears at once: renamed away first locally, its marker removed first
        on object stores."""
        path = self._path_of(uri)
        shutil.rmtree(self._cached(uri), ignore_errors=True)
        if not self.fs.exists(path):
            return False
        if self.local:
            doomed = os.path.join(os.path.dirname(path), f"{STAGING_PREFIX}{uuid.uuid4().hex}")
            os.rename(path, doomed)
            shutil.rmtree(doomed, ignore_errors=True)
        else:
            marker = f"{path}/{MARKER}"
            if self.fs.exists(marker):
                self.fs.rm_file(marker)
            self._remove_quietly(path)
        return True
