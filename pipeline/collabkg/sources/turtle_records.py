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
    if fmt == ox.RdfFormat.JSON_LD and (why := _too_deep(path)):
        yield RecordError(str(path), path.name, "-", why)
        return
    try:
        data = path.read_bytes()
        if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark (editors write one): not part of the text
            data = data[3:]
        triples = [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(data, format=fmt)]
    except (SyntaxError, ValueError) as e:
        yield RecordError(str(path), path.name, "-", f"not valid {fmt.name}: {e}")
        return
    for rid, ts in split(triples, path.stem):
        yield SourceRecord(SOURCE, str(path), rid, tuple(ts))


MAX_JSON_DEPTH = 64


def _too_deep(path: Path) -> str | None:
    """Why a JSON-LD file is refused before parsing, or None. Oxigraph's JSON-LD parser recurses
    per nesting level and overflows the stack (a segfault that ends the whole import) on a few
    thousand levels; records written by hand nest a handful."""
    depth = 0
    in_string = escaped = False
    with path.open("rb") as f:
        while chunk := f.read(1 << 16):
            for b in chunk:
                if in_string:
                    if escaped:
                        escaped = False
                    elif b == 0x5C:  # backslash
                        escaped = True
                    elif b == 0x22:  # quote
                        in_string = False
                elif b == 0x22:
                    in_string = True
                elif b in (0x5B, 0x7B):  # [ {
                    depth += 1
                    if depth > MAX_JSON_DEPTH:
                        return f"JSON nested more than {MAX_JSON_DEPTH} levels deep (refused: records nest a few levels)"
                elif b in (0x5D, 0x7D):
                    depth -= 1
    return None


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
