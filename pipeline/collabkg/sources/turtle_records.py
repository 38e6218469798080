"""Records written by hand in the ontology's terms: Turtle, N-Triples, TriG or JSON-LD files.

One file is one record, unless it describes several top-level subjects (projects or works): then each
of them is a record, with the nodes that hang off it (its participations, organisations, addresses,
authorships, ...). A record's id is the last segment of its top-level subject's IRI (or the file name).

While an import runs inside :func:`guard` (``collabkg build``/``ingest`` do this), each record is also
checked against the store it goes into, and refused (a record error, exit 1) when

- one of its subjects lies outside the instance base (``--base``), unless ``--allow-foreign-iris``;
- one of its subjects is described by another record (a CORDIS or OpenAlex record, or another
  hand-written one): a hand-written record would otherwise sit in a parallel graph beside the
  owner's, and the entity would have two versions of its facts (two coordinators, say). With
  ``--replace-owned`` the record is accepted and, once it is in the store, the owners' graphs are
  removed, so the hand-written record replaces them explicitly.
"""
from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pyoxigraph as ox

from collabkg.namespaces import CKG, CROSS_SOURCE_KINDS, RDF, IRIs
from collabkg.records import RecordError, SourceRecord
import collabkg.sources.cordis_xml as cordis_xml
import collabkg.sources.openalex_json as openalex_json

SOURCE = "turtle"
TOP_LEVEL = (ox.NamedNode(CKG + "Project"), ox.NamedNode(CKG + "Work"))
FORMATS = {".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES, ".trig": ox.RdfFormat.TRIG, ".jsonld": ox.RdfFormat.JSON_LD}
_A = ox.NamedNode(RDF + "type")
# The sources whose records own the entities they describe (their graphs: <base>graph/<source>/...).
OWNING_SOURCES = (cordis_xml.SOURCE, openalex_json.SOURCE, SOURCE)


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
        problem = _GUARD.check(str(path), rid, ts) if _GUARD is not None else None
        yield problem or SourceRecord(SOURCE, str(path), rid, tuple(ts))


@dataclass
class _Guard:
    """The store-side checks of an import (see the module docstring)."""

    store: object
    iris: IRIs
    allow_foreign_iris: bool = False
    replace_owned: bool = False
    # graph of an accepted hand-written record -> {owner's graph: the subjects it restates}
    replacements: dict[str, dict[str, set[str]]] = field(default_factory=dict)

    def check(self, file: str, rid: str, triples: list[ox.Triple]) -> RecordError | None:
        subjects = sorted({t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)})
        if not self.allow_foreign_iris:
            foreign = [s for s in subjects if not s.startswith(self.iris.base)]
            if foreign:
                more = f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else ""
                return RecordError(file, rid, "subject", f"<{foreign[0]}>{more} is outside the instance base "
                                   f"<{self.iris.base}>; use IRIs under --base, or --allow-foreign-iris to accept them")
        own_graph = self.iris.graph(SOURCE, rid)
        owners = self._owners(subjects, own_graph)
        if not owners:
            return None
        if self.replace_owned:
            mine = self.replacements.setdefault(own_graph, {})
            for subject, graph in owners:
                mine.setdefault(graph, set()).add(subject)
            return None
        # Name a source record first (the CORDIS project, say), shared vocabulary and entities after.
        tops = {t.subject.value for t in triples if t.predicate == _A and t.object in TOP_LEVEL and isinstance(t.subject, ox.NamedNode)}
        subject, graph = min(owners, key=lambda o: (not self._is_record_graph(o[1]), o[0] not in tops, o))
        more = f" (and {len(owners) - 1} more)" if len(owners) > 1 else ""
        return RecordError(file, rid, "subject", f"<{subject}> is already described by {self._describe(graph)}{more}; "
                           "a hand-written record cannot restate it beside that record (use --replace-owned to replace it)")

    def _owners(self, subjects: list[str], own_graph: str) -> list[tuple[str, str]]:
        if not subjects:
            return []
        values = " ".join(f"<{s}>" for s in subjects)
        q = (f"SELECT DISTINCT ?s ?g WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} "
             f"FILTER(?g != <{own_graph}> && STRSTARTS(STR(?g), \"{self.iris.base}\")) }} ORDER BY ?s ?g")
        # Graphs the import derives from records (links, themes) own nothing: only source records do.
        # A work's graph is one for all sources (graph/work/<key>): it owns the work too.
        sources = tuple(f"{self.iris.base}graph/{src}/" for src in (*OWNING_SOURCES, *CROSS_SOURCE_KINDS))
        return [(r["s"].value, r["g"].value) for r in self.store.query(q) if r["g"].value.startswith(sources)]

    def _describe(self, graph: str) -> str:
        """``cordis record 101106614 (graph <...>)`` from a graph IRI ``<base>graph/<source>/<id...>``."""
        prefix = self.iris.base + "graph/"
        parts = graph[len(prefix):].split("/") if graph.startswith(prefix) else []
        if parts[1:] == ["vocabulary"]:
            return f"the {parts[0]} vocabulary (graph <{graph}>)"
        if len(parts) >= 2:
            return f"{parts[0]} record {'/'.join(parts[1:])} (graph <{graph}>)"
        return f"graph <{graph}>"

    def _is_record_graph(self, graph: str) -> bool:
        """``<base>graph/<source>/<record>``: one source record's own graph (not vocabulary, not an entity)."""
        prefix = self.iris.base + "graph/"
        parts = graph[len(prefix):].split("/") if graph.startswith(prefix) else []
        return len(parts) == 2 and parts[1] != "vocabulary"

    def apply_replacements(self) -> list[str]:
        """For the hand-written records that went in: remove the records they replace (whole graphs)
        and, from shared vocabulary and entity graphs, the restated subjects' triples. Returns the
        graphs changed."""
        if not self.replacements:  # the usual case: no hand-written record replaced anything
            return []
        names = self.store.graph_names()
        owners: dict[str, set[str]] = {}
        for own, by_graph in self.replacements.items():
            if own in names:  # the hand-written record was accepted
                for g, subjects in by_graph.items():
                    owners.setdefault(g, set()).update(subjects)
        graphs = []
        for g, subjects in sorted(owners.items()):
            if self._is_record_graph(g):
                graphs.append((g, []))
            else:
                keep = [ox.Triple(q.subject, q.predicate, q.object) for q in self.store.quads(g)
                        if not (isinstance(q.subject, ox.NamedNode) and q.subject.value in subjects)]
                graphs.append((g, keep))
        if graphs:
            self.store.replace_graphs(graphs)
        return [g for g, _ in graphs]


_GUARD: _Guard | None = None


@contextmanager
def guard(store, base: str | None = None, allow_foreign_iris: bool = False, replace_owned: bool = False):
    """Check the hand-written records read inside the block against ``store`` (see the module
    docstring); on a normal exit, apply the replacements ``replace_owned`` allowed."""
    global _GUARD
    previous, _GUARD = _GUARD, _Guard(store, IRIs(base), allow_foreign_iris, replace_owned)
    try:
        yield _GUARD
        _GUARD.apply_replacements()
    finally:
        _GUARD = previous


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
