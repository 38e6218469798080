"""Derived shortcuts the stored queries join on, written after an import.

``<base>graph/derived/project-countries`` holds ``?project ckg:participantCountry ?country``: the
distinct countries of the organisations taking part in each CORDIS project (any role), derived
from the participations (``ckg:project``, ``ckg:organisation``) and the organisations'
``ckg:country``. Nothing new is said: the same pairs follow from those three properties.

What is recomputed when: ``build``, ``load`` and a first import derive the whole graph
(:func:`derive_shortcuts`). After an ``ingest`` into a store that held records
(:func:`update_shortcuts`), only the pairs of the projects the import can have changed are
re-derived: the projects written, plus every project with a participation of an organisation
whose graph (with its address) was written with a content other than it held (its country may
have changed; ``stages.Changes``). Those projects' old pairs
are dropped and their new pairs added, the rest of the graph kept, in one transaction
(``Store.replace_subjects``; on the embedded store one UPDATE that reads only those projects' pairs).
If the graph is absent (never derived), it is derived whole.

Why it exists: the country questions (collaboration network, partner countries, country pairs)
all start from (project, country) pairs. Computed inside a query, they join every participation
three ways; Oxigraph evaluates that join with one index lookup per participation (~4 s for the
276,000 participations of the whole CORDIS dump, 18 s with the country codes), and the faster
nested sub-SELECTs are what Virtuoso 7 answers wrongly. Derived once per import by one query
whose three one-pattern scans are joined by hashing (:data:`PAIRS`, as a CONSTRUCT serialized by
Oxigraph), the pairs cost ~0.3 s at x1 and ~1.5 s at that size.
"""
from __future__ import annotations

import pyoxigraph as ox

import collabkg.linking as linking
from collabkg.namespaces import IRIs, sparql_prefixes
from collabkg.store import Store


# Each pattern its own sub-SELECT: Oxigraph joins sub-SELECTs by hashing (three scans) instead of
# one index lookup per participation; none nests another (Virtuoso 7 loses joined rows then).
PAIRS = """SELECT DISTINCT ?project ?country WHERE {
  { SELECT ?participation ?project WHERE { ?participation ckg:project ?project } }
  { SELECT ?participation ?org WHERE { ?participation ckg:organisation ?org } }
  { SELECT ?org ?country WHERE { ?org ckg:country ?country } }
  FILTER (isIRI(?project) && isIRI(?country))
}"""


# The pairs of given projects (a VALUES block): one index lookup per participation of those projects.
PAIRS_OF = """SELECT DISTINCT ?project ?country WHERE {
  VALUES ?project { %s }
  ?participation ckg:project ?project ; ckg:organisation ?org .
  ?org ckg:country ?country
  FILTER (isIRI(?country))
}"""


def _values(iris) -> str:
    return " ".join(f"<{i}>" for i in sorted(iris))


def projects_of(store: Store, organisations: set[str], chunk: int = 1000) -> set[str]:
    """The projects with a participation of one of ``organisations``."""
    out: set[str] = set()
    orgs = sorted(organisations)
    for i in range(0, len(orgs), chunk):
        q = f"SELECT DISTINCT ?p WHERE {{ VALUES ?o {{ {_values(orgs[i:i + chunk])} }} ?x ckg:organisation ?o ; ckg:project ?p FILTER(isIRI(?p)) }}"
        out.update(r["p"].value for r in store.query(sparql_prefixes() + q))
    return out


def pairs_of(store: Store, projects: set[str], chunk: int = 1000) -> bytes:
    """The distinct (project, country) pairs of ``projects`` only, as N-Triples lines."""
    out: list[bytes] = []
    ps = sorted(projects)
    for i in range(0, len(ps), chunk):
        construct = f"CONSTRUCT {{ ?project ckg:participantCountry ?country }} WHERE {{ {{ {PAIRS_OF % _values(ps[i:i + chunk])} }} }}"
        out.append(store.query(sparql_prefixes() + construct).serialize(format=ox.RdfFormat.N_TRIPLES))
    return b"".join(out)


def update_shortcuts(store: Store, written: dict[str, set[str]], base: str | None = None) -> dict[str, int]:
    """Re-derive the pairs of the projects written and of the projects of the organisations (or
    addresses) written (``written``: subjects by class, see ``stages.written_subjects``); keep the
    other pairs. Returns the graph's number of pairs and ``"projects re-derived"``."""
    graph = IRIs(base).graph("derived", "project-countries")
    if not store.has_graph(graph):
        return {**derive_shortcuts(store, base), "projects re-derived": -1}  # -1: all of them
    projects = set(written.get("Project", ())) | projects_of(store, linking.written_organisations(store, written))
    if not projects:
        return {"projects re-derived": 0}
    # As N-Triples bytes, the rest of the graph untouched (x16: 149,000 pairs, of which 300 new
    # projects re-derive ~14,000: 2.8 s as Python objects and a whole-graph diff).
    nt = pairs_of(store, projects)
    store.replace_subjects(graph, projects, nt)
    return {"pairs re-derived": nt.count(b"\n"), "projects re-derived": len(projects)}


def derive_shortcuts(store: Store, base: str | None = None) -> dict[str, int]:
    """Recompute the derived graph from what the store holds; return its number of pairs."""
    graph = IRIs(base).graph("derived", "project-countries")
    # As N-Triples serialized by Oxigraph: no Python object per pair (x16: 149,000 pairs).
    construct = f"CONSTRUCT {{ ?project ckg:participantCountry ?country }} WHERE {{ {PAIRS} }}"
    nt = store.query(sparql_prefixes() + construct).serialize(format=ox.RdfFormat.N_TRIPLES)
    store.replace_graphs_ntriples({graph: nt})
    return {graph: nt.count(b"\n")}
