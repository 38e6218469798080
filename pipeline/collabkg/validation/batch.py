"""The data graph of a batch of mapped records (and the store context it is validated against), and
which record each node belongs to."""
from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache
from typing import NamedTuple

import pyoxigraph as ox

from collabkg.namespaces import CKG, RDF
from collabkg.validation.engines import Data
from collabkg.validation.results import RecordReport, Result
from collabkg.validation.shapes import reference_triples

_A = ox.NamedNode(RDF + "type")
_ORGANISATION = ox.NamedNode(CKG + "Organisation")
_LEGAL_NAME = ox.NamedNode(CKG + "legalName")
NT = ox.RdfFormat.N_TRIPLES
# In N-Triples, a line's subject is its first token (IRIs and blank node labels hold no space),
# and a line states a typed literal exactly when it ends in ^^<datatype> (no IRI holds a quote).
# (Patterns that start at a newline: the regex engine then skips to the next one quickly.)
_SUBJECT = re.compile(rb"\n([^ ]+) ")
_TYPED = re.compile(rb'\n([^\n]*"\^\^<[^>]*> \.)(?=\n)')


class NTriplesRecord(NamedTuple):
    """A mapped record as N-Triples bytes (what the importer's workers hand back): its own graph,
    each entity graph it describes (entity graph IRI, bytes), and its shared vocabulary."""

    own: bytes
    entities: tuple[tuple[str, bytes], ...]
    vocab: bytes


def _parts(triples) -> tuple[list[tuple[object, bytes]], bytes]:
    """A record's data as ([(entity key or None, N-Triples bytes)], vocabulary bytes), from an
    :class:`NTriplesRecord` or from triples (a ``Triples`` list marks its entities' triples)."""
    if isinstance(triples, NTriplesRecord):
        return [(None, triples.own), *((("graph", g), nt) for g, nt in triples.entities)], triples.vocab
    entities = getattr(triples, "entities", None) or {}
    groups: dict[object, list] = {}
    for j, t in enumerate(triples):
        groups.setdefault(entities.get(j), []).append(t)
    parts = [(key, ox.serialize(ts, format=NT)) for key, ts in groups.items()]
    return parts, ox.serialize(list(getattr(triples, "vocab", ())), format=NT)


@lru_cache(maxsize=1)
def reference_nt() -> bytes:
    """The reference data the shapes read, as N-Triples."""
    return ox.serialize(reference_triples(), format=NT)


class Batch:
    """The data graph for validating a batch of mapped records, and which record each node is in."""

    def __init__(self, items, store=None, pending=None):
        # items: [(SourceRecord, graph IRI, triples or NTriplesRecord)] as the importer builds them;
        # pending: a write not done yet (graphs: {graph: N-Triples} it replaces, add: {graph:
        # N-Triples} it adds): the store is read as it will be after it.
        self.items = list(items)
        self._parts = [_parts(triples) for _, _, triples in self.items]
        # The records' data as N-Triples bytes, loaded as such (Python term objects are what cost here).
        chunks: list[bytes] = []
        self.owner: dict[str, set[int]] = defaultdict(set)  # subject (N-Triples) -> indexes of the records describing it
        # Shared entities (organisations, persons, ...) are stored as the latest record describing
        # them states them: the batch's data graph holds that description only, like the store will.
        latest = {key: i for i, (parts, _) in enumerate(self._parts) for key, _ in parts if key is not None}
        for i, (parts, vocab) in enumerate(self._parts):
            for key, nt in [*parts, (None, vocab)]:
                if nt and (key is None or latest[key] == i):
                    chunks.append(nt)
                    for s in set(_SUBJECT.findall(b"\n" + nt)):
                        self.owner[s.decode()].add(i)
        self.data_nt = b"".join(chunks)
        # The data graph in memory: reference data + the records, then the context from the store.
        self.mem = ox.Store()
        # Lenient: the bytes were serialized by Oxigraph from valid terms (the mappers' and the
        # reference data's); checking every IRI again costs half the load.
        self.mem.load(reference_nt() + self.data_nt, format=NT, lenient=True)
        self.context: list[ox.Triple] = self._context(store, pending) if store is not None else []
        if self.context:
            self.mem.extend(ox.Quad(t.subject, t.predicate, t.object) for t in self.context)
        written: dict = {}
        # The typed literals as written (Oxigraph stores some normalised): each distinct one parsed once.
        # (A line's first quote opens its object literal: no IRI holds a quote.)
        lits = {line[line.index(b'"') : -2] for line in _TYPED.findall(b"\n" + self.data_nt)}
        typed = b"".join(b"<urn:s> <urn:p> " + lit + b" .\n" for lit in lits)
        Data.remember([q.triple for q in ox.parse(typed, format=NT)] if typed else [], written)
        self.data = Data.of_store(self.mem, written)

    def _context(self, store, pending=None) -> list[ox.Triple]:
        """What the store holds about the nodes this batch points to or describes (after the
        ``pending`` write: the graphs it replaces are read from it rather than from the store)."""
        own = {g for _, g, _ in self.items}
        replaced = pending.graphs if pending is not None else {}  # graph -> its new content
        out: list[ox.Triple] = []
        seen = set()

        def keep(t) -> None:
            if t not in seen:
                seen.add(t)
                out.append(ox.Triple(*t))

        # What other records say about the batch's organisations' legal names (one PIC, one name).
        orgs = [r["s"] for r in self.mem.query("SELECT DISTINCT ?s WHERE { ?s a <%s> }" % _ORGANISATION.value)]
        for chunk in _chunks(orgs, 2000):
            rows = store.query("SELECT ?s ?o ?g WHERE { VALUES ?s { %s } GRAPH ?g { ?s <%s> ?o } }" % (" ".join(map(str, chunk)), _LEGAL_NAME.value))
            for r in rows:
                if r["g"].value not in own and r["g"].value not in replaced:  # this batch replaces own graphs
                    keep((r["s"], _LEGAL_NAME, r["o"]))
        if pending is not None:
            for t in _pending_triples(pending, _LEGAL_NAME, orgs, skip=own):
                keep(t)
        # The types of the nodes the batch points to but does not describe (e.g. an organisation in the store).
        pointed = [r["o"] for r in self.mem.query(
            # DISTINCT first: the NOT EXISTS then runs once per node, not once per triple.
            "SELECT ?o WHERE { { SELECT DISTINCT ?o WHERE { ?s ?p ?o FILTER(isIRI(?o) && ?p != <%s>) } } "
            "FILTER NOT EXISTS { ?o a ?t } }" % _A.value
        )]
        for chunk in _chunks(pointed, 2000):
            values = " ".join(map(str, chunk))
            if pending is None:
                for r in store.query("SELECT DISTINCT ?s ?c WHERE { VALUES ?s { %s } ?s a ?c }" % values):
                    keep((r["s"], _A, r["c"]))
                continue
            for r in store.query("SELECT DISTINCT ?s ?c ?g WHERE { VALUES ?s { %s } GRAPH ?g { ?s a ?c } }" % values):
                if r["g"].value not in replaced:
                    keep((r["s"], _A, r["c"]))
        if pending is not None:
            for t in _pending_triples(pending, _A, pointed):
                keep(t)
        return out

    def classes(self) -> set[str]:
        return {r["c"].value for r in self.mem.query("SELECT DISTINCT ?c WHERE { ?s a ?c }")}

    def ntriples(self) -> bytes:
        return reference_nt() + self.data_nt + ox.serialize(self.context, format=NT)

    def rdflib(self):
        import rdflib

        data = self.ntriples()
        g = rdflib.Graph()
        g.parse(data=data.decode("utf-8"), format="nt")
        return g

    def reports(self, results: list[Result]) -> list[RecordReport]:
        """Share the results out to the records whose nodes they are about; drop results about nodes
        the batch does not describe (store context, reference data)."""
        reports = [RecordReport(rec.file, rec.record_id, g) for rec, g, _ in self.items]
        own_values: dict[tuple, set[int]] | None = None
        for r in results:
            idx = self.owner.get(r.focus)
            if not idx:
                continue
            if len(idx) > 1 and r.value is not None and r.path and not r.path.startswith("^"):
                # A node described by several records: blame those whose own triples hold the value.
                if own_values is None:
                    own_values = self._own_values()
                idx = own_values.get((r.focus, r.path, r.value)) or idx
            for i in idx:
                reports[i].results.append(r)
        return reports

    def _own_values(self) -> dict[tuple, set[int]]:
        out: dict[tuple, set[int]] = defaultdict(set)
        shared = {s for s, idx in self.owner.items() if len(idx) > 1}
        for i, (parts, vocab) in enumerate(self._parts):
            nt = b"".join(b for _, b in parts) + vocab
            for q in ox.parse(nt, format=NT) if nt else ():
                if (s := str(q.subject)) in shared:
                    out[(s, str(q.predicate), str(q.object))].add(i)
        return out


def _pending_triples(pending, predicate: ox.NamedNode, subjects, skip=()) -> list[tuple]:
    """The (subject, predicate, object) triples about ``subjects`` that a pending write puts in
    the store, outside the graphs ``skip``: found in its bytes, only those lines parsed."""
    wanted = {str(s).encode() for s in subjects}
    mark = b" " + str(predicate).encode() + b" "
    found = []
    for part in (pending.graphs, pending.add):
        for g, nt in part.items():
            at = nt.find(mark) if wanted and g not in skip else -1
            while at >= 0:  # (a fixed string search: much faster than a regex over every line)
                start, end = nt.rfind(b"\n", 0, at) + 1, (nt.find(b"\n", at) + 1 or len(nt) + 1) - 1
                if nt[start:at] in wanted:
                    found.append(nt[start:end])
                at = nt.find(mark, end)
    if not found:
        return []
    return [(t.subject, t.predicate, t.object) for t in ox.parse(b"\n".join(found) + b"\n", format=NT)]


def _chunks(seq, n):
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


