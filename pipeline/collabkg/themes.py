"""Themes of projects and works, from the declarative table in ``ontology/themes.ttl``.

After an import, :func:`assign_themes` reads the table (EuroSciVoc code path prefixes and
keyword patterns per theme) and the records in the store, and writes ``?record ckg:theme
?theme`` into the named graph ``<base>graph/themes/assignments``, replaced as a whole on
every run. The rules (documented in the Turtle file as well):

* a project: every theme with a field prefix that is a prefix (on whole path segments) of the
  code path of one of its EuroSciVoc fields, and every theme whose keyword pattern matches its
  title or a keyword. Title and keywords count even where fields exist: CORDIS assigns the
  fields automatically and often off the mark (a power-electronics project under "topology", a
  geological survey under "planets"); on the hand-labelled sample (tests/data) fields-only
  with a title/keyword fallback for projects without fields found 58 % of the expected themes,
  fields plus title/keywords over 90 % at the same precision;
* a work with OpenAlex research topics: every theme whose pattern matches a topic label;
  without topics, its title or a keyword.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

import pyoxigraph as ox

from collabkg.mapping.terms import ckg
from collabkg.namespaces import THEME, IRIs, sparql_prefixes
from collabkg.resources import ontology_dir
from collabkg.store import Store

THEME_NS = THEME  # one IRI authority: collabkg.namespaces


@dataclass(frozen=True)
class Theme:
    iri: str
    notation: str
    label: str
    field_prefixes: tuple[str, ...]
    pattern: re.Pattern

    def matches_field(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self.field_prefixes)

    def matches_text(self, texts) -> bool:
        return any(t and self.pattern.search(t) for t in texts)


def load_table(path=None) -> list[Theme]:
    """The themes and their mapping table, in notation order (deterministic)."""
    path = path or ontology_dir() / "themes.ttl"
    store = ox.Store()
    store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    rows = store.query(sparql_prefixes() + """
        SELECT ?t ?n ?l ?prefix ?pattern WHERE {
          ?t a ckg:Theme ; skos:notation ?n ; skos:prefLabel ?l .
          OPTIONAL { ?t ckg:themeFieldPrefix ?prefix }
          OPTIONAL { ?t ckg:themeKeywordPattern ?pattern }
        }""")
    info: dict[str, dict] = {}
    for r in rows:
        d = info.setdefault(r["t"].value, {"n": r["n"].value, "l": r["l"].value, "prefixes": set(), "patterns": set()})
        if r["prefix"] is not None:
            d["prefixes"].add(r["prefix"].value.rstrip("/"))
        if r["pattern"] is not None:
            d["patterns"].add(r["pattern"].value)
    themes = []
    for iri, d in sorted(info.items(), key=lambda kv: kv[1]["n"]):
        if len(d["patterns"]) > 1:
            raise ValueError(f"{path}: theme {d['n']} has {len(d['patterns'])} keyword patterns (one allowed)")
        pattern = re.compile(next(iter(d["patterns"]), r"(?!)"), re.I)
        themes.append(Theme(iri, d["n"], d["l"], tuple(sorted(d["prefixes"])), pattern))
    return themes


def field_paths(parents: dict[str, str | None], notations: dict[str, str]) -> dict[str, str]:
    """Code path ("/25/67/425") of every field, from its skos:broader chain."""
    out: dict[str, str] = {}
    for f in notations:
        chain, node, seen = [], f, set()
        while node is not None and node not in seen:
            seen.add(node)
            chain.append(notations.get(node, ""))
            node = parents.get(node)
        out[f] = "/" + "/".join(reversed(chain))
    return out


def project_themes(themes: list[Theme], paths: list[str], texts: list[str]) -> list[Theme]:
    """Themes of one project: from its field code paths and from its title and keywords."""
    return [t for t in themes if any(t.matches_field(p) for p in paths) or t.matches_text(texts)]


def work_themes(themes: list[Theme], topic_labels: list[str], texts: list[str]) -> list[Theme]:
    """Themes of one work: from its research topic labels if it has any, else from its texts."""
    return [t for t in themes if t.matches_text(topic_labels or texts)]


def _read(store: Store, q: str):
    return store.query(sparql_prefixes() + q)


def read_projects(store: Store) -> dict[str, tuple[list[str], list[str]]]:
    """Project IRI → (field code paths, [title, keywords...])."""
    parents: dict[str, str | None] = {}
    notations: dict[str, str] = {}
    for r in _read(store, "SELECT DISTINCT ?f ?n ?b WHERE { ?f a ckg:FieldOfScience ; skos:notation ?n . OPTIONAL { ?f skos:broader ?b } }"):
        notations[r["f"].value] = r["n"].value
        parents[r["f"].value] = r["b"].value if r["b"] is not None else None
    paths = field_paths(parents, notations)
    out: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for r in _read(store, "SELECT DISTINCT ?p WHERE { ?p a ckg:Project }"):
        out[r["p"].value]
    for r in _read(store, "SELECT DISTINCT ?p ?f WHERE { ?p a ckg:Project ; ckg:fieldOfScience ?f }"):
        out[r["p"].value][0].append(paths.get(r["f"].value, ""))
    for r in _read(store, "SELECT DISTINCT ?p ?t WHERE { ?p a ckg:Project . { ?p ckg:title ?t } UNION { ?p ckg:keyword ?t } }"):
        out[r["p"].value][1].append(r["t"].value)
    return {p: (sorted(set(f)), sorted(set(t))) for p, (f, t) in out.items()}


def read_works(store: Store) -> dict[str, tuple[list[str], list[str]]]:
    """Work IRI → (research topic labels, [title, keywords...])."""
    out: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for r in _read(store, "SELECT DISTINCT ?w WHERE { ?w a ckg:Work }"):
        out[r["w"].value]
    for r in _read(store, "SELECT DISTINCT ?w ?l WHERE { ?w a ckg:Work . { ?w ckg:topic ?t } UNION { ?w ckg:primaryTopic ?t } ?t rdfs:label ?l }"):
        out[r["w"].value][0].append(r["l"].value)
    for r in _read(store, "SELECT DISTINCT ?w ?t WHERE { ?w a ckg:Work . { ?w ckg:title ?t } UNION { ?w ckg:keyword ?t } }"):
        out[r["w"].value][1].append(r["t"].value)
    return {w: (sorted(set(a)), sorted(set(b))) for w, (a, b) in out.items()}


def assign_themes(store: Store, base: str | None = None) -> dict[str, int]:
    """Recompute the theme graph from the store; return counts (records, with a theme)."""
    themes = load_table()
    graph = IRIs(base).graph("themes", "assignments")
    triples: list[ox.Triple] = []
    stats = {"projects": 0, "projects_with_theme": 0, "works": 0, "works_with_theme": 0}
    pred = ckg("theme")
    for kind, records, fn in (("projects", read_projects(store), project_themes), ("works", read_works(store), work_themes)):
        for iri in sorted(records):
            found = fn(themes, *records[iri])
            stats[kind] += 1
            stats[f"{kind}_with_theme"] += bool(found)
            triples += [ox.Triple(ox.NamedNode(iri), pred, ox.NamedNode(t.iri)) for t in found]
    store.replace_graphs([(graph, triples)])
    return stats


def coverage(stats: dict[str, int], kind: str = "projects") -> float:
    """Share of records with at least one theme."""
    return stats[f"{kind}_with_theme"] / stats[kind] if stats[kind] else 0.0
