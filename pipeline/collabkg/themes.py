"""Themes of projects and works, from the declarative table in ``ontology/themes.ttl``.

After an import, :func:`assign_themes` reads the table (EuroSciVoc code path prefixes and
keyword patterns per theme) and the records in the store, and writes ``?record ckg:theme
?theme`` into the named graph ``<base>graph/themes/assignments``. The rules (documented in the
Turtle file as well):

* a project: every theme with a field prefix that is a prefix (on whole path segments) of the
  code path of one of its EuroSciVoc fields, and every theme whose keyword pattern matches its
  title or a keyword. Title and keywords count even where fields exist: CORDIS assigns the
  fields automatically and often off the mark (a power-electronics project under "topology", a
  geological survey under "planets"); on the hand-labelled sample (tests/data) fields-only
  with a title/keyword fallback for projects without fields found 58 % of the expected themes,
  fields plus title/keywords over 90 % at the same precision;
* a work with OpenAlex research topics: every theme whose pattern matches a topic label;
  without topics, its title or a keyword.

What is recomputed when: ``build``, ``load`` and a first import replace the whole graph
(:func:`assign_themes`). After an ``ingest`` into a store that held records
(:func:`update_themes`), only these records are re-derived, the other assignments kept: the
projects and works written; the works with a research topic whose graph was written (its label
may have changed); and the projects with a EuroSciVoc field whose code path may have moved: a
field whose graph the import wrote with a content other than it held (``stages.Changes``: a new
field too), or any field under it. If the graph is absent (never derived), it is derived whole.
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


def _only(var: str, only: list[str] | None) -> str:
    """A VALUES block restricting ``?var`` to ``only`` (nothing when ``only`` is None: all)."""
    return "" if only is None else f"VALUES ?{var} {{ {' '.join(f'<{i}>' for i in only)} }} "


def read_hierarchy(store: Store) -> tuple[dict[str, str | None], dict[str, str]]:
    """The EuroSciVoc fields: (field → broader field or None, field → notation)."""
    parents: dict[str, str | None] = {}
    notations: dict[str, str] = {}
    for r in _read(store, "SELECT DISTINCT ?f ?n ?b WHERE { ?f a ckg:FieldOfScience ; skos:notation ?n . OPTIONAL { ?f skos:broader ?b } }"):
        notations[r["f"].value] = r["n"].value
        parents[r["f"].value] = r["b"].value if r["b"] is not None else None
    return parents, notations


def read_projects(store: Store, only: list[str] | None = None) -> dict[str, tuple[list[str], list[str]]]:
    """Project IRI → (field code paths, [title, keywords...]), for all projects or ``only`` those."""
    paths = field_paths(*read_hierarchy(store))
    v = _only("p", only)
    out: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for r in _read(store, f"SELECT DISTINCT ?p WHERE {{ {v}?p a ckg:Project }}"):
        out[r["p"].value]
    for r in _read(store, f"SELECT DISTINCT ?p ?f WHERE {{ {v}?p a ckg:Project ; ckg:fieldOfScience ?f }}"):
        out[r["p"].value][0].append(paths.get(r["f"].value, ""))
    for r in _read(store, f"SELECT DISTINCT ?p ?t WHERE {{ {v}?p a ckg:Project . {{ ?p ckg:title ?t }} UNION {{ ?p ckg:keyword ?t }} }}"):
        out[r["p"].value][1].append(r["t"].value)
    return {p: (sorted(set(f)), sorted(set(t))) for p, (f, t) in out.items()}


def read_works(store: Store, only: list[str] | None = None) -> dict[str, tuple[list[str], list[str]]]:
    """Work IRI → (research topic labels, [title, keywords...]), for all works or ``only`` those."""
    v = _only("w", only)
    out: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for r in _read(store, f"SELECT DISTINCT ?w WHERE {{ {v}?w a ckg:Work }}"):
        out[r["w"].value]
    for r in _read(store, f"SELECT DISTINCT ?w ?l WHERE {{ {v}?w a ckg:Work . {{ ?w ckg:topic ?t }} UNION {{ ?w ckg:primaryTopic ?t }} ?t rdfs:label ?l }}"):
        out[r["w"].value][0].append(r["l"].value)
    for r in _read(store, f"SELECT DISTINCT ?w ?t WHERE {{ {v}?w a ckg:Work . {{ ?w ckg:title ?t }} UNION {{ ?w ckg:keyword ?t }} }}"):
        out[r["w"].value][1].append(r["t"].value)
    return {w: (sorted(set(a)), sorted(set(b))) for w, (a, b) in out.items()}


def theme_triples(themes: list[Theme], projects: dict, works: dict, stats: dict[str, int]) -> list[ox.Triple]:
    """``?record ckg:theme ?theme`` for the records read; counts them in ``stats``."""
    triples: list[ox.Triple] = []
    pred = ckg("theme")
    for kind, records, fn in (("projects", projects, project_themes), ("works", works, work_themes)):
        for iri in sorted(records):
            found = fn(themes, *records[iri])
            stats[kind] += 1
            stats[f"{kind}_with_theme"] += bool(found)
            triples += [ox.Triple(ox.NamedNode(iri), pred, ox.NamedNode(t.iri)) for t in found]
    return triples


def _stats() -> dict[str, int]:
    return {"projects": 0, "projects_with_theme": 0, "works": 0, "works_with_theme": 0}


def assign_themes(store: Store, base: str | None = None) -> dict[str, int]:
    """Recompute the theme graph from the store; return counts (records, with a theme)."""
    graph = IRIs(base).graph("themes", "assignments")
    stats = _stats()
    store.replace_graphs([(graph, theme_triples(load_table(), read_projects(store), read_works(store), stats))])
    return stats


def moved_fields(store: Store, changed: set[str]) -> set[str]:
    """The fields whose code path may have moved: ``changed`` (fields whose graph an import wrote
    with a new content, new fields included) and every field under one of them."""
    return _under(store, changed) if changed else set()


def _under(store: Store, fields: set[str]) -> set[str]:
    """``fields`` and every field whose broader chain passes through one of them."""
    parents, _ = read_hierarchy(store)
    out = set(fields)
    for f in parents:
        node, seen = f, set()
        while node is not None and node not in seen:
            if node in fields:
                out.add(f)
                break
            seen.add(node)
            node = parents.get(node)
    return out


def update_themes(store: Store, written: dict[str, set[str]], moved: set[str], base: str | None = None) -> dict[str, int]:
    """Re-derive the themes of the records an ingest can have changed (the module docstring's
    rule; ``written``: subjects by class, ``moved``: fields whose path may have moved) and keep
    the other assignments. Returns the counts of the records re-derived."""
    graph = IRIs(base).graph("themes", "assignments")
    if not store.has_graph(graph):
        return assign_themes(store, base)
    projects = set(written.get("Project", ())) | _holders(store, "?r a ckg:Project ; ckg:fieldOfScience ?x", moved)
    topics = {s for kind in ("ResearchTopic", "Topic") for s in written.get(kind, ())}
    works = set(written.get("Work", ())) | _holders(store, "?r a ckg:Work . { ?r ckg:topic ?x } UNION { ?r ckg:primaryTopic ?x }", topics)
    stats = _stats()
    if not projects and not works:
        return stats
    new = theme_triples(load_table(), read_projects(store, sorted(projects)) if projects else {},
                        read_works(store, sorted(works)) if works else {}, stats)
    store.replace_subjects(graph, projects | works, ox.serialize(new, format=ox.RdfFormat.N_TRIPLES))
    return stats


def _holders(store: Store, pattern: str, things: set[str], chunk: int = 1000) -> set[str]:
    """The records ``?r`` matching ``pattern`` with ``?x`` one of ``things``."""
    out: set[str] = set()
    xs = sorted(things)
    for i in range(0, len(xs), chunk):
        out.update(r["r"].value for r in _read(store, f"SELECT DISTINCT ?r WHERE {{ {_only('x', xs[i:i + chunk])}{pattern} }}"))
    return out


def coverage(stats: dict[str, int], kind: str = "projects") -> float:
    """Share of records with at least one theme."""
    return stats[f"{kind}_with_theme"] / stats[kind] if stats[kind] else 0.0
