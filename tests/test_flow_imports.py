"""Flows read as runbooks over tasks: no flow module imports another (what two flows share
lives in tasks/). Checked on the source, every import statement, also those inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

FLOWS = Path(__file__).resolve().parent.parent / "flows"


def imported_modules(path: Path) -> set[str]:
    """Every module an ``import`` or ``from … import`` in ``path`` names, as absolute names
    (``from flows import x`` counts as ``flows.x``; relative imports resolve inside flows)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "flows" if node.level else (node.module or "")
            if node.level and node.module:
                base = f"flows.{node.module}"
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def flow_modules() -> dict[str, Path]:
    return {f"flows.{p.stem}": p for p in FLOWS.glob("*.py") if p.stem != "__init__"}


def test_no_flow_imports_another_flow() -> None:
    modules = flow_modules()
    assert "flows.initial_sync" in modules and "flows.activate" in modules
    crossings = {
        name: sorted(other for other in imported_modules(path) & set(modules) if other != name)
        for name, path in modules.items()
    }
    assert {name: found for name, found in crossings.items() if found} == {}


def test_the_check_sees_every_form_of_import(tmp_path: Path) -> None:
    source = tmp_path / "probe.py"
    source.write_text(
        "import flows.reconcile\n"
        "from flows import watch\n"
        "from . import activate\n"
        "from .retry_failed import retry_failed\n"
        "def later():\n"
        "    from flows.initial_sync import initial_sync\n",
        encoding="utf-8",
    )
    found = imported_modules(source) & set(flow_modules())
    assert found == {
        "flows.reconcile",
        "flows.watch",
        "flows.activate",
        "flows.retry_failed",
        "flows.initial_sync",
    }
