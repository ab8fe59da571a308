"""The import graph of the product: no circles, no flow importing another flow, layers downward.

Read from the source (every ``import`` and ``from ... import``, also those inside functions and
``TYPE_CHECKING`` blocks), so a circle hidden behind a late import counts as one.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("sync", "connectors", "store", "tasks", "flows", "cli", "intake", "config")
FOLDERS_AND_TOOLS = (*FOLDERS, "sandboxes", "scripts")


def _modules(folders: tuple[str, ...]) -> dict[str, Path]:
    found = {}
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(path: Path) -> set[str]:
    """The dotted names a module imports: ``from a.b import c`` gives ``a.b`` and ``a.b.c``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def import_graph(folders: tuple[str, ...]) -> dict[str, set[str]]:
    """Module → the modules of ours it imports. A package a module lives in is left out: Python
    runs it first whatever the module imports, so it is no edge of the module's own making; and
    ``from pkg import module`` is an edge to the module, not to the package."""
    modules = _modules(folders)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        wanted = {t for t in _imports(path) if t in modules and t != name}
        submodules = {t.rpartition(".")[0] for t in wanted if t.rpartition(".")[0] in wanted}
        graph[name] = {
            t
            for t in wanted
            if not name.startswith(f"{t}.") and (t not in submodules or _names_objects(path, t))
        }
    return graph


def _names_objects(path: Path, package: str) -> bool:
    """True when ``from package import ...`` in ``path`` takes something that is not a module."""
    modules = _modules(FOLDERS_AND_TOOLS)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == package
            and any(f"{package}.{alias.name}" not in modules for alias in node.names)
        ):
            return True
    return False


def test_there_is_no_import_circle_in_the_product_or_its_sandboxes() -> None:
    graph = import_graph(FOLDERS_AND_TOOLS)
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as circle:
        raise AssertionError(f"import circle: {' → '.join(circle.args[1])}") from None


def test_no_flow_imports_another_flow() -> None:
    graph = import_graph(FOLDERS)
    flows = {name for name in graph if name.startswith("flows.") and name != "flows"}
    crossing = {name: sorted(graph[name] & flows) for name in flows if graph[name] & flows}
    assert crossing == {}, f"flows importing flows (reusable steps belong in tasks/): {crossing}"


def test_layers_import_downward() -> None:
    """``sync/`` is the core at the bottom; connectors and store are adapters beside each other
    that import it, never each other; tasks, flows and the entry points sit above."""
    above = {
        "sync": {"connectors", "store", "tasks", "flows", "cli", "intake"},
        "connectors": {"store", "tasks", "flows", "cli", "intake"},
        "store": {"connectors", "tasks", "flows", "cli", "intake"},
        "tasks": {"flows", "cli", "intake"},
        "flows": {"cli", "intake"},
    }
    graph = import_graph(FOLDERS)
    wrong = sorted(
        f"{name} → {target}"
        for name, targets in graph.items()
        for target in targets
        if target.partition(".")[0] in above.get(name.partition(".")[0], set())
    )
    assert wrong == []


def test_the_check_sees_a_circle() -> None:
    """The graph reader finds what it looks for: the circle a late import would make."""
    graph = import_graph(FOLDERS)
    graph["sync.records"] = {*graph["sync.records"], "sync.merge"}  # sync.merge imports records
    try:
        TopologicalSorter(graph).prepare()
    except CycleError:
        return
    raise AssertionError("a circle through sync.records and sync.merge was not seen")
