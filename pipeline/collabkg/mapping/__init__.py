"""Mappers: one module per source, one function per class; records in, triples out.

Mappers use ontology terms only (``collabkg.namespaces``) and never read files; the helpers they
share (literals, :class:`~collabkg.mapping.terms.Triples`, ...) live in :mod:`collabkg.mapping.terms`.
``MAPPERS`` is the registry by source name; ``NT_MAPPERS`` holds the mappers that also write
N-Triples text directly (the importer's fast path: no term object per triple).
"""
from __future__ import annotations

from typing import Callable

from collabkg.mapping import cordis, openalex, turtle_records
from collabkg.mapping.terms import NTriples, Triples
from collabkg.namespaces import IRIs
from collabkg.records import SourceRecord

Mapper = Callable[[SourceRecord, IRIs], Triples]
NTMapper = Callable[[SourceRecord, IRIs], NTriples]

MAPPERS: dict[str, Mapper] = {
    "cordis": cordis.map_record,
    "openalex": openalex.map_record,
    "turtle": turtle_records.map_record,
}


def map_record(rec: SourceRecord, iris: IRIs) -> Triples:
    """Turn one source record into its triples (its named graph's content)."""
    return MAPPERS[rec.source](rec, iris)

NT_MAPPERS: dict[str, NTMapper] = {
    "cordis": cordis.map_ntriples,
}


def map_ntriples(rec: SourceRecord, iris: IRIs) -> NTriples:
    """The record's triples as N-Triples lines sorted into graphs (what the importer stores)."""
    direct = NT_MAPPERS.get(rec.source)
    return direct(rec, iris) if direct else map_record(rec, iris).to_ntriples()
