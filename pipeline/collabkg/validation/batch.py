"""The data graph of a batch of mapped records (and the store context it is validated against), and
which record each node belongs to."""
from __future__ import annotations

from collections import defaultdict

import pyoxigraph as ox

from collabkg.namespaces import CKG, RDF
from collabkg.validation.engines import Data
from collabkg.validation.results import RecordReport, Result
from collabkg.validation.shapes import reference_triples

_A = ox.NamedNode(RDF + "type")
_ORGANISATION = ox.NamedNode(CKG + "Organisation")
_LEGAL_NAME = ox.NamedNode(CKG + "legalName")


class Batch:
    """The data graph for validating a batch of mapped records, and which record each node is in."""

    def __init__(self, items, store=None):
        # items: [(SourceRecord, graph IRI, triples)] as the importer builds them
        self.items = list(items)
        # The records' own triple objects (no copies: building Python objects is what costs here).
        self.triples: list[ox.Triple] = []
        self.owner: dict[ox.Term, set[int]] = defaultdict(set)  # subject -> indexes of the records describing it
        # Shared entities (organisations, persons, ...) are stored as the latest record describing
        # them states them: the batch's data graph holds that description only, like the store will.
        latest = {}
        for i, (_, _, triples) in enumerate(self.items):
            for key in set(getattr(triples, "entities", {}).values()):
                latest[key] = i
        for i, (rec, g, triples) in enumerate(self.items):
            entities = getattr(triples, "entities", None)
            if entities:
                own = [t for j, t in enumerate(triples) if (k := entities.get(j)) is None or latest[k] == i]
            else:
                own = triples
            for part in (own, getattr(triples, "vocab", ())):
                self.triples.extend(part)
                for t in part:
                    self.owner[t.subject].add(i)
        # The data graph in memory: reference data + the records, then the context from the store.
        self.mem = ox.Store()
        self.mem.load(ox.serialize([*reference_triples(), *self.triples], format=ox.RdfFormat.N_TRIPLES), format=ox.RdfFormat.N_TRIPLES)
        self.context: list[ox.Triple] = self._context(store) if store is not None else []
        if self.context:
            self.mem.extend(ox.Quad(t.subject, t.predicate, t.object) for t in self.context)
        written: dict = {}
        Data.remember(self.triples, written)
        self.data = Data.of_store(self.mem, written)

    def _context(self, store) -> list[ox.Triple]:
        """What the store already holds about the nodes this batch points to or describes."""
        own = {g for _, g, _ in self.items}
        out: list[ox.Triple] = []
        # What other records say about the batch's organisations' legal names (one PIC, one name).
        orgs = [r["s"] for r in self.mem.query("SELECT DISTINCT ?s WHERE { ?s a <%s> }" % _ORGANISATION.value)]
        seen = set()
        for chunk in _chunks(orgs, 2000):
            rows = store.query("SELECT ?s ?o ?g WHERE { VALUES ?s { %s } GRAPH ?g { ?s <%s> ?o } }" % (" ".join(map(str, chunk)), _LEGAL_NAME.value))
            for r in rows:
                if r["g"].value in own:  # this batch replaces those graphs
                    continue
                t = (r["s"], _LEGAL_NAME, r["o"])
                if t not in seen:
                    seen.add(t)
                    out.append(ox.Triple(*t))
        # The types of the nodes the batch points to but does not describe (e.g. an organisation in the store).
        pointed = [r["o"] for r in self.mem.query(
            "SELECT DISTINCT ?o WHERE { ?s ?p ?o FILTER(isIRI(?o) && ?p != <%s>) FILTER NOT EXISTS { ?o a ?t } }" % _A.value
        )]
        for chunk in _chunks(pointed, 2000):
            rows = store.query("SELECT DISTINCT ?s ?c WHERE { VALUES ?s { %s } ?s a ?c }" % " ".join(map(str, chunk)))
            out.extend(ox.Triple(r["s"], _A, r["c"]) for r in rows)
        return out

    def classes(self) -> set[str]:
        return {r["c"].value for r in self.mem.query("SELECT DISTINCT ?c WHERE { ?s a ?c }")}

    def ntriples(self) -> bytes:
        return ox.serialize([*reference_triples(), *self.triples, *self.context], format=ox.RdfFormat.N_TRIPLES)

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
        by_str = {str(s): idx for s, idx in self.owner.items()}
        own_values: dict[tuple, set[int]] | None = None
        for r in results:
            idx = by_str.get(r.focus)
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
        for i, (_, _, triples) in enumerate(self.items):
            for t in (*triples, *getattr(triples, "vocab", ())):
                if len(self.owner[t.subject]) > 1:
                    out[(str(t.subject), str(t.predicate), str(t.object))].add(i)
        return out


def _chunks(seq, n):
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


