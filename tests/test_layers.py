"""Dependencies point one way: core <- registry <- monitor <- champion <- jobs <- alerts <- service,
cli; no cycles.

Read from the source (every import statement, those inside functions too), so an arrow that
runs back up fails here even when it is hidden in a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "tidecast"
CORE = ("data", "models", "automl", "batch", "reports", "metrics", "distributed", "errors")
# What each layer may import of the layers around the core (everything may import the core).
MAY_IMPORT = {
    "core": set(),
    "registry": {"registry"},
    "monitor": {"registry", "monitor"},
    "champion": {"registry", "monitor", "champion"},
    "jobs": {"registry", "monitor", "champion", "jobs"},
    "alerts": {"registry", "monitor", "champion", "jobs", "alerts"},
    "service": {"registry", "monitor", "champion", "jobs", "alerts", "service"},
    "cli": {"registry", "monitor", "champion", "jobs", "alerts", "service", "cli"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """The tidecast modules `path` imports, anywhere in the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("tidecast.")}


def layer(module: str) -> str:
    top = module.split(".")[1] if "." in module else ""
    return top if top in MAY_IMPORT else "core"


GRAPH = {
    module_name(path): imports(path)
    for path in sorted(PACKAGE.rglob("*.py"))
    if "migrations" not in path.parts
}
MODULES = set(GRAPH)


def test_when_a_module_imports_tidecast_then_only_its_own_layer_or_a_lower_one() -> None:
    wrong = [
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if layer(target) != "core" and layer(target) not in MAY_IMPORT[layer(module)]
    ]
    assert not wrong, "imports that run back up:\n" + "\n".join(wrong)


def test_when_batch_and_service_meet_then_only_through_jobs() -> None:
    crossing = [
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if (module.startswith("tidecast.service") and target.startswith("tidecast.batch"))
        or (module.startswith("tidecast.batch") and target.startswith("tidecast.service"))
    ]
    assert not crossing, "\n".join(crossing)


@pytest.mark.parametrize("package", ["registry", "monitor", "jobs", "alerts", "service", "cli"])
def test_when_the_layers_import_each_other_then_there_is_no_cycle(package: str) -> None:
    """No cycle through a module of `package` (imports inside functions count)."""
    edges = {m: {t for t in GRAPH[m] if t in MODULES and t != m} for m in MODULES}
    start = [m for m in sorted(MODULES) if m.startswith(f"tidecast.{package}")]
    for root in start:
        stack, seen = [(root, [root])], set()
        while stack:
            node, path = stack.pop()
            for target in edges[node]:
                if target == root:
                    pytest.fail("import cycle: " + " -> ".join([*path, root]))
                if target not in seen and layer(target) != "core":
                    seen.add(target)
                    stack.append((target, [*path, target]))
