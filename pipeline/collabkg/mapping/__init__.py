"""Mappers: one module per source, one function per class; records in, triples out.

Mappers use ontology terms only (``collabkg.namespaces``) and never read files; the helpers they
share (literals, :class:`~collabkg.mapping.terms.Triples`, ...) live in :mod:`collabkg.mapping.terms`.
``MAPPERS`` is the registry by source name.
"""
from __future__ import annotations

from typing import Callable

from collabkg.mapping import cordis, openalex, turtle_records
from collabkg.mapping.terms import Triples
from collabkg.namespaces import IRIs
from collabkg.records import SourceRecord

Mapper = Callable[[SourceRecord, IRIs], Triples]

MAPPERS: dict[str, Mapper] = {
    "cordis": cordis.map_record,
    "openalex": openalex.map_record,
    "turtle": turtle_records.map_record,
}


def map_record(rec: SourceRecord, iris: IRIs) -> Triples:
    """Turn one source record into its triples (its named graph's content)."""
    return MAPPERS[rec.source](rec, iris)
