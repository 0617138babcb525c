"""Two versions of a model group side by side: metrics, the task settings that differ, same data?"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tidecast.registry.schema import ModelVersion


@dataclass(frozen=True)
class MetricChange:
    """One metric in a comparison; `difference` is v2 - v1 when both are numbers."""

    v1: Any
    v2: Any
    difference: float | None


@dataclass(frozen=True)
class Comparison:
    """Two versions of a group side by side: metrics, task settings that differ, same data?"""

    group: str
    v1: int
    v2: int
    metrics: dict[str, MetricChange]
    config_changes: dict[str, tuple[Any, Any]]
    same_data: bool
    data_fingerprints: tuple[str, str] = field(default=("", ""))

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "versions": [self.v1, self.v2],
            "metrics": {
                name: {"v1": m.v1, "v2": m.v2, "difference": m.difference} for name, m in self.metrics.items()
            },
            "config_changes": {key: {"v1": a, "v2": b} for key, (a, b) in self.config_changes.items()},
            "same_data": self.same_data,
            "data_fingerprints": list(self.data_fingerprints),
        }


def compare_versions(group: str, a: ModelVersion, b: ModelVersion) -> Comparison:
    """Metrics side by side (with b - a), the task settings that differ, and whether both
    versions were trained on the same data."""
    metrics = {
        name: MetricChange(a.metrics.get(name), b.metrics.get(name), _difference(a.metrics, b.metrics, name))
        for name in sorted(set(a.metrics) | set(b.metrics))
    }
    flat_a, flat_b = _flatten(a.config), _flatten(b.config)
    changes = {
        key: (flat_a.get(key), flat_b.get(key))
        for key in sorted(set(flat_a) | set(flat_b))
        if flat_a.get(key) != flat_b.get(key)
    }
    return Comparison(
        group=group,
        v1=a.version,
        v2=b.version,
        metrics=metrics,
        config_changes=changes,
        same_data=bool(a.data_fingerprint) and a.data_fingerprint == b.data_fingerprint,
        data_fingerprints=(a.data_fingerprint, b.data_fingerprint),
    )


def _difference(a: dict[str, Any], b: dict[str, Any], name: str) -> float | None:
    x, y = a.get(name), b.get(name)
    numbers = (int, float)
    if (
        isinstance(x, numbers)
        and isinstance(y, numbers)
        and not isinstance(x, bool)
        and not isinstance(y, bool)
    ):
        return float(y) - float(x)
    return None


def _flatten(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested settings as dotted keys: {"covariates": {"known": [...]}} -> {"covariates.known": [...]}."""
    flat: dict[str, Any] = {}
    for key, item in value.items():
        dotted = f"{prefix}{key}"
        if isinstance(item, dict) and item:
            flat.update(_flatten(item, f"{dotted}."))
        else:
            flat[dotted] = item
    return flat
