"""What an operator is told when a version is withdrawn: a rollback sent twice says the first
one did the work."""

from __future__ import annotations

from pathlib import Path

import pytest

from tidecast.registry.errors import Conflict
from tidecast.registry.registry import Registry
from tidecast.registry.statuses import ModelStatus


def _approved(registry: Registry, folder: Path, count: int) -> None:
    for _ in range(count):
        registry.approve("sales", registry.register("sales", folder).version)


def test_when_a_rollback_naming_its_version_is_sent_twice_then_the_second_says_it_was_rolled_back(
    registry: Registry, model_folder: Path
) -> None:
    """With two approved versions the second click was told "version 1 is the only approved
    version: there is no earlier approved version to roll back to", as if it had found nothing
    to do, rather than that its version was rolled back already."""
    _approved(registry, model_folder, 2)
    assert registry.rollback("sales", from_version=2).current.version == 1
    with pytest.raises(
        Conflict, match=r"sales version 2 is not the latest approved version \(version 1 is\)"
    ):
        registry.rollback("sales", from_version=2)
    registry.reject("sales", 1)
    with pytest.raises(Conflict, match=r"version 1 is not the latest approved version \(none is\)"):
        registry.rollback("sales", from_version=1)
    with pytest.raises(Conflict, match="sales has no approved version to roll back"):
        registry.rollback("sales")
    assert [v.status for v in registry.list_versions("sales")] == [ModelStatus.REJECTED] * 2
