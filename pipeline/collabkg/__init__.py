"""collabkg: a knowledge graph of international research collaborations.

Public API (see README): :func:`build`, :func:`ingest` and :class:`Store`.
"""
from collabkg.importing import ImportSummary, build, ingest
from collabkg.store import EmbeddedStore, open_store

__all__ = ["build", "ingest", "ImportSummary", "EmbeddedStore", "open_store"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazy: `collabkg.query(name, store=..., **params)` runs a stored query (collabkg.catalogue).
    if name == "query":
        from collabkg.catalogue import query

        return query
    raise AttributeError(f"module 'collabkg' has no attribute {name!r}")
