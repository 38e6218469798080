"""Derived shortcuts the stored queries join on, written after an import.

``<base>graph/derived/project-countries`` holds ``?project ckg:participantCountry ?country``: the
distinct countries of the organisations taking part in each CORDIS project (any role), derived
from the participations (``ckg:project``, ``ckg:organisation``) and the organisations'
``ckg:country``. Nothing new is said: the same pairs follow from those three properties. The
graph is replaced as a whole on every run, like the links and themes.

Why it exists: the country questions (collaboration network, partner countries, country pairs)
all start from (project, country) pairs. Computed inside a query, they join every participation
three ways; Oxigraph evaluates that join with one index lookup per participation (~4 s for the
276,000 participations of the whole CORDIS dump, 18 s with the country codes), and the faster
nested sub-SELECTs are what Virtuoso 7 answers wrongly. Derived once per import by one query
whose three one-pattern scans are joined by hashing (:data:`PAIRS`), the pairs cost ~0.3 s at x1
and a few seconds at that size.
"""
from __future__ import annotations

import pyoxigraph as ox

from collabkg.mapping.terms import ckg
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


def project_countries(store: Store) -> set[tuple[ox.NamedNode, ox.NamedNode]]:
    """The distinct (project, country) pairs of the store's participations."""
    return {(r["project"], r["country"]) for r in store.query(sparql_prefixes() + PAIRS)}


def derive_shortcuts(store: Store, base: str | None = None) -> dict[str, int]:
    """Recompute the derived graph from what the store holds; return its number of pairs."""
    graph = IRIs(base).graph("derived", "project-countries")
    pred = ckg("participantCountry")
    pairs = project_countries(store)
    store.replace_graphs([(graph, [ox.Triple(p, pred, c) for p, c in pairs])])  # a graph: order is not kept
    return {graph: len(pairs)}
