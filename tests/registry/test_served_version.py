"""What an endpoint serves: the version it was deployed with, not the group's latest approved.

The registry's docstring said `latest_approved` "is what endpoints serve"; an endpoint's row
pins a version id, and approving a newer version, or rejecting the one it serves, leaves it
there (a rollback moves it)."""

from __future__ import annotations

from pathlib import Path

from tidecast.registry import registry as registry_module
from tidecast.registry.db import Database
from tidecast.registry.registry import Registry
from tidecast.registry.schema import Endpoint


def test_when_a_newer_version_is_approved_then_an_endpoint_keeps_the_version_it_was_deployed_with(
    database: Database, registry: Registry, model_folder: Path
) -> None:
    first = registry.register("sales", model_folder)
    registry.approve("sales", 1)
    with database.transaction() as session:
        session.add(Endpoint(name="shop", model_version_id=first.id))
    registry.register("sales", model_folder)
    registry.approve("sales", 2)
    assert registry.latest_approved("sales").version == 2
    assert registry.endpoint_version("shop").version == 1
    registry.reject("sales", 1)
    assert registry.endpoint_version("shop").version == 1
    doc = " ".join((registry_module.__doc__ or "").split())
    assert "which is what endpoints serve" not in doc
    assert "An endpoint serves the version it was deployed with" in doc
