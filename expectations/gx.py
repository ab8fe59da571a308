"""Great Expectations, imported once per process, without the modules our suites never run.

Importing ``great_expectations`` imports every core expectation, and one of them (the
KL-divergence expectation, which no suite of ours names) imports ``scipy.stats`` and ``altair``
at module level: about half of GX's import time (see docs/DECISIONS.md, "Activation and Great
Expectations"). :func:`import_great_expectations` registers both as deferred modules before it
imports GX: GX binds the names, and a module runs only when something asks it for an attribute
it does not have yet (then it is the whole, ordinary module, run into the same module object).

A deferred module is not ``importlib.util.LazyLoader``'s lazy module, which runs on *any*
attribute read: on Python 3.11 ``import altair`` reads the module's ``__spec__``, which would
run it at once. Here ``__spec__``, ``__name__``, ``__path__`` and the rest of what an import
sets are there from the start, and only a missing attribute runs the module. Running it is
guarded by a lock: a second thread that asks meanwhile waits for the module to have run.

Every GX import of ours goes through here (``expectations.organization_number`` calls it before
its own GX imports), so the order holds whoever imports GX first.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
import threading
from types import ModuleType
from typing import Any

__all__ = ["DEFERRED_MODULES", "import_great_expectations"]

DEFERRED_MODULES = ("scipy.stats", "altair")
"""Modules GX imports at its own import but runs only in expectations our suites do not use."""


_IMPORTING = threading.Lock()
_RUNNING = threading.RLock()  # the thread running a deferred module may come back through it
_RUN: set[str] = set()  # the deferred modules that have started running


def import_great_expectations() -> ModuleType:
    """The ``great_expectations`` package, imported (once) with ``DEFERRED_MODULES`` deferred.

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


class _Deferred(ModuleType):
    """A module in ``sys.modules`` that has not run yet: it runs on the first attribute it
    lacks, and is an ordinary module from then on."""

    def __getattr__(self, attribute: str) -> Any:
        # Called only for an attribute the module does not hold (``__spec__`` and the other
        # attributes an import sets are held from the start).
        with _RUNNING:
            if self.__name__ not in _RUN:
                _RUN.add(self.__name__)
                spec = self.__spec__
                assert spec is not None and spec.loader is not None
                spec.loader.exec_module(self)
                module: ModuleType = self
                module.__class__ = ModuleType  # an ordinary module from now on
        return ModuleType.__getattribute__(self, attribute)


def _defer(name: str) -> None:
    """Register ``name`` in ``sys.modules`` as a module that runs on its first missing
    attribute."""
    if name in sys.modules:
        return  # already imported (or already deferred): nothing to save
    try:
        spec = importlib.util.find_spec(name)  # imports the parent package (scipy's is small)
    except ModuleNotFoundError:
        return  # no parent package: GX's own import will say so
    if spec is None or spec.loader is None:
        return  # not installed: GX's own import will say so
    module = importlib.util.module_from_spec(spec)
    module.__class__ = _Deferred
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        # ``from scipy import stats`` reads the attribute first: it must be this module.
        setattr(sys.modules[parent], child, module)
