"""Records written by hand in the ontology's terms: Turtle, N-Triples, TriG or JSON-LD files.

One file is one record, unless it describes several top-level subjects (projects or works): then each
of them is a record, with the nodes that hang off it (its participations, organisations, addresses,
authorships, ...). A record's id is the last segment of its top-level subject's IRI (or the file name).
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Iterator

import pyoxigraph as ox

from collabkg.namespaces import CKG, RDF
from collabkg.records import RecordError, SourceRecord

SOURCE = "turtle"
TOP_LEVEL = (ox.NamedNode(CKG + "Project"), ox.NamedNode(CKG + "Work"))
FORMATS = {".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES, ".trig": ox.RdfFormat.TRIG, ".jsonld": ox.RdfFormat.JSON_LD}
_A = ox.NamedNode(RDF + "type")


def read(path: Path) -> Iterator[SourceRecord | RecordError]:
    path = Path(path)
    if path.is_dir():
        for p in sorted(path.iterdir()):
            if p.suffix.lower() in FORMATS:
                yield from read(p)
        return
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        yield RecordError(str(path), path.name, "-", f"unknown RDF file type {path.suffix!r}; allowed: {', '.join(FORMATS)}")
        return
    try:
        triples = [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(path=str(path), format=fmt)]
    except (SyntaxError, ValueError) as e:
        yield RecordError(str(path), path.name, "-", f"not valid {fmt.name}: {e}")
        return
    for rid, ts in split(triples, path.stem):
        yield SourceRecord(SOURCE, str(path), rid, tuple(ts))


def split(triples: list[ox.Triple], default_id: str) -> list[tuple[str, list[ox.Triple]]]:
    """Share the triples out to the top-level subjects (one record each) they hang off."""
    tops = sorted({t.subject for t in triples if t.predicate == _A and t.object in TOP_LEVEL}, key=str)
    if len(tops) <= 1:
        rid = _local(tops[0]) if tops else default_id
        return [(rid, triples)]
    by_subject = defaultdict(list)
    links = defaultdict(set)  # undirected links between subjects of the file, not crossing top-level nodes
    for t in triples:
        by_subject[t.subject].append(t)
        if t.predicate != _A and isinstance(t.object, (ox.NamedNode, ox.BlankNode)):
            links[t.subject].add(t.object)
            links[t.object].add(t.subject)
    owner: dict = {}
    for top in tops:
        owner[top] = top
    for top in tops:
        todo = [top]
        while todo:
            node = todo.pop()
            for nxt in links[node]:
                if nxt in owner or nxt not in by_subject:
                    continue
                owner[nxt] = top
                todo.append(nxt)
    records = {top: [] for top in tops}
    for s, ts in by_subject.items():
        records[owner.get(s, tops[0])].extend(ts)
    return [(_local(top), records[top]) for top in tops]


def _local(node) -> str:
    v = node.value if isinstance(node, ox.NamedNode) else str(node)
    return v.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1] or v
