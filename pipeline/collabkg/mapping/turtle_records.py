"""Hand-written records are already in the ontology's terms: their triples are the record's graph."""
from __future__ import annotations

from collabkg.mapping.terms import Triples
from collabkg.namespaces import IRIs
from collabkg.records import SourceRecord


def map_record(rec: SourceRecord, iris: IRIs) -> Triples:
    t = Triples()
    t.extend(rec.record)
    return t
