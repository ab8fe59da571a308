"""Great Expectations, imported once per process, without the module our suites never run.

Importing ``great_expectations`` imports every core expectation, and one of them (the
KL-divergence expectation, which no suite of ours names) imports ``scipy.stats`` at module
level: about a third of GX's import time (see docs/DECISIONS.md, "Activation and Great
Expectations"). :func:`import_great_expectations` registers ``scipy.stats`` as a lazy module
(``importlib.util.LazyLoader``) before it imports GX: GX binds the name, and the module runs
only when something uses one of its attributes (then it is the whole, ordinary module).

Every GX import of ours goes through here (``expectations.organization_number`` calls it before
its own GX imports), so the order holds whoever imports GX first.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
import threading
from types import ModuleType

__all__ = ["DEFERRED_MODULES", "import_great_expectations"]

DEFERRED_MODULES = ("scipy.stats",)
"""Modules GX imports at its own import but runs only in expectations our suites do not use."""


_IMPORTING = threading.Lock()


def import_great_expectations() -> ModuleType:
    """The ``great_expectations`` package, imported (once) with ``DEFERRED_MODULES`` lazy.

    Thread-safe: GX may be imported on a background thread (``expectations.runner``) while
    another thread asks for it; that one waits for the import instead of deferring twice.
    """
    with _IMPORTING:
        return _import()


@functools.cache
def _import() -> ModuleType:
    for name in DEFERRED_MODULES:
        _defer(name)
    import great_expectations

    return great_expectations


def _defer(name: str) -> None:
    """Register ``name`` in ``sys.modules`` as a module that runs on its first attribute use."""
    if name in sys.modules:
        return  # already imported (or already deferred): nothing to save
    try:
        spec = importlib.util.find_spec(name)  # imports the parent package (scipy's is small)
    except ModuleNotFoundError:
        return  # no parent package: GX's own import will say so
    if spec is None or spec.loader is None:
        return  # not installed: GX's own import will say so
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:
        # ``from scipy import stats`` reads the attribute first: it must be this module.
        setattr(sys.modules[parent], child, module)
