"""A payload swapped into a stored model folder the way someone who can write the store would."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

from tidecast.automl.artifact import MANIFEST, PAYLOAD


class Trap:
    """Unpickling this writes `marker`: proof that a payload was (or was not) run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))  # opening for writing creates the file


def swap_payload(folder: Path, marker: Path) -> None:
    """Replace the payload with one that writes `marker` when unpickled, and make the
    manifest agree, as an attacker with write access to the store would."""
    payload = pickle.dumps(Trap(marker))
    (folder / PAYLOAD).write_bytes(payload)
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["files"][PAYLOAD] = hashlib.sha256(payload).hexdigest()
    (folder / MANIFEST).write_text(json.dumps(manifest))
