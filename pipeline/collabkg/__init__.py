"""collabkg: a knowledge graph of international research collaborations.

Public API (see README, "Python API"): :func:`build` and :func:`ingest` (both ``(store, paths, *, ...)``),
:class:`ImportSummary`, :class:`EmbeddedStore`, :func:`open_store`, :func:`query` (a stored query)
and ``__version__``.

Each name is imported from its home module on first use (PEP 562), so ``import collabkg.errors``
(the command line starts so) does not load the importer. No module of the package imports this
one: it sits above all of them.
"""
from __future__ import annotations

import importlib

# name -> the module it lives in
_API = {
    "build": "collabkg.importing",
    "ingest": "collabkg.importing",
    "ImportSummary": "collabkg.importing",
    "EmbeddedStore": "collabkg.store",
    "open_store": "collabkg.store",
    "query": "collabkg.catalogue",
    "__version__": "collabkg.version",
}

__all__ = ["build", "ingest", "ImportSummary", "EmbeddedStore", "open_store", "query", "__version__"]


def __getattr__(name: str):
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'collabkg' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
