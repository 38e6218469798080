"""Links between nodes that are the same body or person, written after an import.

Two kinds, each in its own named graph:

* ``<base>graph/links/cordis-openalex``: CORDIS organisations ↔ OpenAlex institutions, asserted
  as ``owl:sameAs`` only on strong evidence (:func:`match_organisations` states the rule): an equal
  ROR; an equal normalised name in the same country, unique on both sides; or the institution's
  name inside the legal name with nothing around it but legal-form words ("The Chancellor, Masters
  and Scholars of the University of Oxford") or the institution's acronym ("... CNRS"), where the
  organisation's city is named in the institution's name or the acronym matches.
* ``<base>graph/links/cordis-openalex-candidates``: weaker candidates (an ambiguous equal name, a
  name that is only a contiguous part of the legal name), with their score and evidence, as
  ``ckg:LinkProposal`` descriptions only: the link itself is *not* stated, so the union of the
  graphs (what queries see) holds no weak link.
* ``<base>graph/links/openalex-persons``: OpenAlex author ids that look like one researcher
  (equal normalised name plus a shared institution, co-author or ORCID, and never co-authors of
  one work, never two different ORCIDs). Always ``skos:closeMatch``: a proposal, never a merge.

Every link is also described by a ``ckg:LinkProposal`` (a reified ``rdf:Statement``) carrying the
evidence in words and a score, so a person can review it.

What is recomputed when: ``build``, ``load`` and a first import recompute the three graphs from
the whole store (:func:`link_sources`). After an ``ingest`` into a store that held records
(:func:`update_links`):

* organisation links: if an institution was written, all of them (an institution can change any
  organisation's links, and the uniqueness of a name on the institutions' side); else, if
  organisations were written with a new content (their graph holds their address too), only the links of a
  pair with one of those organisations or with an institution one of them is or was linked to
  (that is all a changed organisation can move: rule 2 counts organisations per name, and an
  equal name stops rule 3 for that institution), the others kept; else they are kept;
* person links: match_persons clusters authors globally, so if a person, an authorship, a work
  or an institution was written, all of them; else they are kept.

If none of the link graphs exists (never derived), all are derived.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from decimal import Decimal
from itertools import combinations

import pyoxigraph as ox

from collabkg.mapping.terms import A, ckg, literal
from collabkg.namespaces import OWL, RDF, SKOS, IRIs, sparql_prefixes
from collabkg.store import Store

SAME_AS = OWL + "sameAs"
CLOSE_MATCH = SKOS + "closeMatch"

# Function words dropped from names (the languages of the CORDIS legal names).
_STOP = set(
    "of the and for at in on a an de del della degli dei di da des du d l la le les el y e et i zu und der "
    "die das van von voor ve".split()
)
# The same word in other languages, folded to one token so that "UNIVERSITE DE TUNIS" = "Tunis University".
_SYNONYMS = {
    **{w: "university" for w in "universite universidad universita universitat universitaet universiteit universitet "
       "universitetet universiti universitas universitesi universidade univerzita uniwersytet".split()},
    **{w: "institute" for w in "institut instituto istituto institutul".split()},
    **{w: "technology" for w in "technique technologie tecnologia teknik teknoloji technische technical".split()},
    **{w: "national" for w in "nationale nacional nazionale ulusal".split()},
    **{w: "sciences" for w in "science scientifique scientifica bilimleri".split()},
    **{w: "centre" for w in "center centro zentrum merkezi".split()},
}
# Words that alone name no particular body: a name of only these never links.
_GENERIC = set(
    "university institute technology national sciences centre college school academy research hospital "
    "ministry health foundation agency council company group laboratory applied state public federal".split()
)


@lru_cache(maxsize=1 << 18)
def name_tokens(name: str) -> tuple[str, ...]:
    """Normalised word sequence of a name: accents, case, punctuation (U+2010 hyphens too),
    parenthesised qualifiers and function words removed; foreign forms of common words folded."""
    s = re.sub(r"\([^)]*\)", " ", name)
    s = unicodedata.normalize("NFKD", s.replace("ı", "i").replace("ß", "ss"))
    s = "".join(c for c in s if not unicodedata.combining(c)).casefold()
    words = re.split(r"[^0-9a-z]+", s)
    return tuple(_SYNONYMS.get(w, w) for w in words if w and w not in _STOP)


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


@dataclass(frozen=True)
class Link:
    subject: str
    predicate: str  # SAME_AS or CLOSE_MATCH
    object: str
    score: Decimal
    evidence: str


# ------------------------------------------------------------------ organisations ↔ institutions --


@dataclass(frozen=True)
class Named:
    iri: str
    name: str
    country: str | None
    ror: str | None = None


# Words that a legal name may put before a body's everyday name without naming another body.
_LEGAL_FORM = set("chancellor masters scholars governing council alma mater studiorum president fellows regents board "
                  "trustees rector rectors".split())


def _acronym(name: str) -> str:
    """Initials of the capitalised words of a name ("Centre National de la Recherche Scientifique" → "cnrs")."""
    words = re.findall(r"[^\W\d_][\w'-]*", re.sub(r"\([^)]*\)", " ", name))
    return "".join(w[0] for w in words if w[0].isupper()).casefold()


def _framed(org: tuple[str, ...], inst: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(prefix, suffix) of the legal name around the institution's name, or None if not inside."""
    n = len(inst)
    for i in range(len(org) - n + 1):
        if org[i : i + n] == inst:
            return org[:i], org[i + n :]
    return None


def match_organisations(orgs: list[Named], insts: list[Named], cities: dict[str, str] | None = None,
                        only: tuple[set[str], set[str]] | None = None) -> list[Link]:
    """Links from CORDIS organisations to OpenAlex institutions (pure: no store).

    ``owl:sameAs`` (score 1), strong evidence only:

    1. equal ROR;
    2. equal normalised name (:func:`name_tokens`, as a set) in the same country, the name not
       generic, one organisation and one institution with it;
    3. the institution's normalised name (or "X University" as "University X") is a contiguous part
       of the organisation's legal name in the same country, with only legal-form words before it
       (:data:`_LEGAL_FORM`) and nothing after it but the institution's acronym, and either the
       organisation's city (``cities``: organisation IRI → city) is a word of the institution's name
       or the acronym is there.

    ``skos:closeMatch`` candidates (score < 1, never stated as links, see :func:`link_sources`):
    an equal name shared by several organisations or institutions (0.8); the institution's name
    as a contiguous part of the legal name otherwise (0.6).

    ``only`` = (organisation IRIs, institution IRIs): just the links of a pair with one of those
    organisations or one of those institutions, judged against all of ``orgs`` and ``insts`` (the
    same links as the whole run, restricted to those pairs).
    """
    cities = cities or {}
    only_orgs, only_insts = only if only is not None else (None, None)
    links: list[Link] = []
    by_ror = defaultdict(list)
    for o in orgs:
        if o.ror:
            by_ror[o.ror].append(o)
    org_tokens = {o.iri: name_tokens(o.name) for o in orgs}
    orgs_by_key: dict[tuple, list[Named]] = defaultdict(list)
    orgs_by_country: dict[str, list[Named]] = defaultdict(list)
    for o in orgs:
        if o.country:
            orgs_by_key[(o.country, frozenset(org_tokens[o.iri]))].append(o)
            orgs_by_country[o.country].append(o)
    inst_keys: dict[tuple, set[str]] = defaultdict(set)
    for i in insts:
        if i.country:
            inst_keys[(i.country, frozenset(name_tokens(i.name)))].add(i.iri)
    done: set[tuple[str, str]] = set()

    if only_orgs is not None:
        # Outside the chosen institutions, only the chosen organisations are paired (rule 3's loop).
        chosen_by_country: dict[str, list[Named]] = defaultdict(list)
        for o in orgs:
            if o.country and o.iri in only_orgs:
                chosen_by_country[o.country].append(o)

    def add(o: Named, i: Named, pred: str, score: str, why: str) -> None:
        if only_orgs is not None and o.iri not in only_orgs and i.iri not in only_insts:
            return
        if (o.iri, i.iri) not in done:
            done.add((o.iri, i.iri))
            links.append(Link(o.iri, pred, i.iri, Decimal(score), why))

    for i in insts:
        for o in by_ror.get(i.ror or "", []):
            add(o, i, SAME_AS, "1", f"equal ROR {i.ror}")
        toks = name_tokens(i.name)
        if not i.country or not set(toks) - _GENERIC:
            continue  # no country, or a name that names nothing in particular: never linked
        key = (i.country, frozenset(toks))
        equal = orgs_by_key.get(key, [])
        if equal:
            certain = len(equal) == 1 and len(inst_keys[key]) == 1
            for o in equal:
                if certain:
                    add(o, i, SAME_AS, "1", f"equal normalised name '{' '.join(sorted(key[1]))}' in country {i.country}, unique on both sides")
                else:
                    add(o, i, CLOSE_MATCH, "0.8", f"equal normalised name '{' '.join(sorted(key[1]))}' in country {i.country}, "
                        f"but {len(equal)} organisations / {len(inst_keys[key])} institutions share it")
            continue
        # "Kiel University" ~ "University of Kiel": try the 'university' word moved to the front too.
        variants = {toks}
        if len(toks) > 1 and toks[-1] == "university":
            variants.add(("university",) + toks[:-1])
        acronym = _acronym(i.name)
        pool = orgs_by_country if only_orgs is None or i.iri in only_insts else chosen_by_country
        for o in pool.get(i.country, []):
            ot = org_tokens[o.iri]
            frames = [f for v in variants if (f := _framed(ot, v)) is not None]
            if not frames:
                continue
            city = set(name_tokens(cities.get(o.iri, "")))
            strong = next((
                (pre, suf) for pre, suf in frames
                if set(pre) <= _LEGAL_FORM and (suf == () or (len(acronym) > 1 and suf == (acronym,)))
                and (pre or suf) and ((city and city <= set(toks)) or (len(acronym) > 1 and suf == (acronym,)))
            ), None)
            if strong is not None:
                pre, suf = strong
                add(o, i, SAME_AS, "1", f"institution name '{i.name}' is the legal name '{o.name}' (normalised) but for "
                    f"legal-form words {' '.join(pre) or '-'} and acronym {' '.join(suf) or '-'}; same country {i.country}"
                    + (f", city '{cities.get(o.iri)}' named in it" if city and city <= set(toks) else ""))
            else:
                add(o, i, CLOSE_MATCH, "0.6", f"institution name '{i.name}' is a contiguous part of legal name '{o.name}' "
                    f"(normalised), same country {i.country}")
    return links


# ------------------------------------------------------------------ split authors ------------------


@dataclass(frozen=True)
class Author:
    iri: str
    name: str
    orcid: str | None
    works: frozenset[str]
    institutions: frozenset[str]  # institution names on this author's authorships
    coauthors: frozenset[str]  # person IRIs


def match_persons(authors: list[Author]) -> list[Link]:
    """Propose skos:closeMatch between author ids that look like one researcher (pure: no store)."""
    groups: dict[tuple, list[Author]] = defaultdict(list)
    for a in authors:
        key = name_tokens(a.name)
        if len(key) >= 2:  # a one-word name is too weak to group on
            groups[key].append(a)
    links = []
    for key, members in groups.items():
        for a, b in combinations(sorted(members, key=lambda x: x.iri), 2):
            if a.works & b.works:
                continue  # two authors of one work are two people
            if a.orcid and b.orcid and a.orcid != b.orcid:
                continue
            shared_inst = sorted(a.institutions & b.institutions)
            shared_co = (a.coauthors & b.coauthors) - {a.iri, b.iri}
            same_orcid = bool(a.orcid and a.orcid == b.orcid)
            if not (shared_inst or shared_co or same_orcid):
                continue
            why = [f"equal normalised name '{' '.join(key)}' ('{a.name}' / '{b.name}')"]
            if same_orcid:
                why.append(f"same ORCID {a.orcid}")
            if shared_inst:
                why.append(f"{len(shared_inst)} shared institution(s): {'; '.join(shared_inst[:5])}")
            if shared_co:
                why.append(f"{len(shared_co)} shared co-author(s)")
            why.append("never co-authors of one work")
            score = "0.95" if same_orcid else ("0.9" if shared_inst and shared_co else "0.7")
            links.append(Link(a.iri, CLOSE_MATCH, b.iri, Decimal(score), "; ".join(why)))
    return links


# ------------------------------------------------------------------ store in, store out -----------


def _rows(store: Store, q: str):
    return store.query(sparql_prefixes() + q)


def _val(term):
    return None if term is None else term.value


# Shared entities (organisations, persons, institutions) are stated once, in their own graphs, so
# these queries read the union of all graphs.


def _iso2(country_iri) -> str | None:
    return None if country_iri is None else country_iri.value.rsplit("/", 1)[1]


def read_cities(store: Store) -> dict[str, str]:
    """Organisation IRI → the city of its address."""
    return {r["o"].value: r["c"].value for r in _rows(store, """SELECT ?o (MIN(?city) AS ?c) WHERE {
        ?o a ckg:Organisation ; ckg:address/ckg:city ?city } GROUP BY ?o""")}


def has_institutions(store: Store) -> bool:
    """Whether the store holds an institution that :func:`read_organisations` would read (one ASK)."""
    return bool(_rows(store, "ASK { ?i a ckg:Institution ; ckg:displayName ?n }"))


def read_organisations(store: Store) -> tuple[list[Named], list[Named]]:
    """All organisations and all institutions, sorted."""
    orgs = {
        Named(r["o"].value, r["n"].value, _iso2(r["c"]), _val(r["r"]))
        for r in _rows(store, """SELECT DISTINCT ?o ?n ?c ?r WHERE { ?o a ckg:Organisation ; ckg:legalName ?n .
            OPTIONAL { ?o ckg:country ?c } OPTIONAL { ?o ckg:ror ?r } }""")
    }
    return sorted(orgs, key=lambda x: (x.iri, x.name)), read_institutions(store)


def read_institutions(store: Store) -> list[Named]:
    """All institutions, sorted."""
    insts = {
        Named(r["i"].value, r["n"].value, _iso2(r["c"]), _val(r["r"]))
        for r in _rows(store, """SELECT DISTINCT ?i ?n ?c ?r WHERE { ?i a ckg:Institution ; ckg:displayName ?n .
            OPTIONAL { ?i ckg:country ?c } OPTIONAL { ?i ckg:ror ?r } }""")
    }
    return sorted(insts, key=lambda x: (x.iri, x.name))


def read_authors(store: Store) -> list[Author]:
    info: dict[str, dict] = {}
    names: dict[str, set[str]] = defaultdict(set)
    for r in _rows(store, """SELECT DISTINCT ?p ?n WHERE { ?p a ckg:Person ; ckg:displayName ?n }"""):
        names[r["p"].value].add(r["n"].value)
    for p, ns in names.items():  # a person shown under several names is grouped under the first, sorted
        info[p] = {"name": min(ns), "orcid": set(), "works": set(), "inst": set(), "co": set()}
    for r in _rows(store, """SELECT DISTINCT ?p ?orcid WHERE { ?p a ckg:Person ; ckg:orcid ?orcid }"""):
        if r["p"].value in info:
            info[r["p"].value]["orcid"].add(r["orcid"].value)
    for r in _rows(store, """SELECT DISTINCT ?p ?w ?q WHERE { GRAPH ?g { ?a ckg:author ?p ; ckg:work ?w .
            ?w ckg:authorship/ckg:author ?q } }"""):
        d = info.get(r["p"].value)
        if d is not None:
            d["works"].add(r["w"].value)
            d["co"].add(r["q"].value)
    for r in _rows(store, """SELECT DISTINCT ?p ?in WHERE { ?a ckg:author ?p ; ckg:affiliation/ckg:displayName ?in }"""):
        if r["p"].value in info:
            info[r["p"].value]["inst"].add(r["in"].value)
    return [
        Author(p, d["name"], min(d["orcid"]) if len(d["orcid"]) == 1 else None, frozenset(d["works"]),
               frozenset(d["inst"]), frozenset(d["co"] - {p}))
        for p, d in sorted(info.items())
    ]


def link_triples(links: list[Link], graph: str, state: bool = True) -> list[ox.Triple]:
    """The links themselves (unless ``state`` is false: candidates) plus one ckg:LinkProposal each
    (IRI minted from the graph and the link)."""
    out = []
    for ln in links:
        s, p, o = ox.NamedNode(ln.subject), ox.NamedNode(ln.predicate), ox.NamedNode(ln.object)
        if state:
            out.append(ox.Triple(s, p, o))
        digest = hashlib.sha1(f"{ln.subject} {ln.predicate} {ln.object}".encode()).hexdigest()[:16]
        node = ox.NamedNode(f"{graph}#{digest}")
        out += [
            ox.Triple(node, A, ckg("LinkProposal")),
            ox.Triple(node, A, ox.NamedNode(RDF + "Statement")),
            ox.Triple(node, ox.NamedNode(RDF + "subject"), s),
            ox.Triple(node, ox.NamedNode(RDF + "predicate"), p),
            ox.Triple(node, ox.NamedNode(RDF + "object"), o),
            ox.Triple(node, ckg("linkScore"), literal(ln.score)),
            ox.Triple(node, ckg("linkEvidence"), literal(ln.evidence)),
        ]
    return out


def stored_links(store: Store, graph: str) -> list[Link]:
    """The links a link graph holds now, read back from their ckg:LinkProposal descriptions."""
    rows = _rows(store, f"""SELECT ?s ?p ?o ?score ?ev WHERE {{ GRAPH <{graph}> {{ ?n a ckg:LinkProposal ;
        rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ; ckg:linkScore ?score ; ckg:linkEvidence ?ev }} }}""")
    return [Link(r["s"].value, r["p"].value, r["o"].value, Decimal(r["score"].value), r["ev"].value) for r in rows]


def written_organisations(store: Store, written: dict[str, set[str]]) -> set[str]:
    """Organisations written, or whose address node was written (``written``: subjects by class)."""
    orgs = set(written.get("Organisation", ()))
    addresses = sorted(written.get("Address", ()))
    for i in range(0, len(addresses), 1000):
        values = " ".join(f"<{a}>" for a in addresses[i : i + 1000])
        orgs.update(r["o"].value for r in _rows(store, f"SELECT DISTINCT ?o WHERE {{ VALUES ?a {{ {values} }} ?o ckg:address ?a ; a ckg:Organisation }}"))
    return orgs


def organisation_links(store: Store, changed: set[str] | None, old: list[Link]) -> list[Link]:
    """All organisation links (``changed`` None), or ``old`` with the links of the pairs that the
    ``changed`` organisations can move re-derived (see the module docstring). Both read every
    organisation (names are counted over all of them); the incremental one pairs fewer."""
    if not has_institutions(store):  # every organisation link goes to an institution: none, no reading
        return []
    orgs, insts = read_organisations(store)
    cities = read_cities(store)
    if changed is None:
        return match_organisations(orgs, insts, cities=cities)
    first = match_organisations(orgs, insts, cities=cities, only=(changed, set()))
    touched = {ln.object for ln in old + first if ln.subject in changed}
    kept = [ln for ln in old if ln.subject not in changed and ln.object not in touched]
    return kept + match_organisations(orgs, insts, cities=cities, only=(changed, touched))


PERSON_INPUTS = ("Person", "Authorship", "Work", "Institution")


def _link_graphs(base: str | None) -> tuple[str, str, str]:
    """The organisation links, the organisation link candidates and the person links graphs."""
    iris = IRIs(base)
    return (iris.graph("links", "cordis-openalex"), iris.graph("links", "cordis-openalex-candidates"),
            iris.graph("links", "openalex-persons"))


def _organisation_graphs(found: list[Link], org_graph: str, candidate_graph: str) -> tuple[list, dict[str, int]]:
    """The two organisation link graphs' contents (stated links, candidates) and their sizes."""
    org_links = [ln for ln in found if ln.predicate == SAME_AS]
    candidates = [ln for ln in found if ln.predicate != SAME_AS]
    return ([(org_graph, link_triples(org_links, org_graph)), (candidate_graph, link_triples(candidates, candidate_graph, state=False))],
            {org_graph: len(org_links), candidate_graph: len(candidates)})


def update_links(store: Store, written: dict[str, set[str]], base: str | None = None) -> dict[str, int]:
    """After an ingest (``written``: the subjects it wrote, by class), re-derive only the links the
    module docstring's rule says can have changed; return the number of links per graph rewritten
    and ``"organisations re-linked"`` (-1: all)."""
    org_graph, candidate_graph, person_graph = _link_graphs(base)
    if not any(store.has_graph(g) for g in (org_graph, candidate_graph, person_graph)):
        return {**link_sources(store, base), "organisations re-linked": -1}
    graphs, stats = [], {}
    changed = None if written.get("Institution") else written_organisations(store, written)
    if changed is None or changed:
        old = [] if changed is None else stored_links(store, org_graph) + stored_links(store, candidate_graph)
        graphs, stats = _organisation_graphs(organisation_links(store, changed, old), org_graph, candidate_graph)
    stats["organisations re-linked"] = -1 if changed is None else len(changed)
    if any(written.get(k) for k in PERSON_INPUTS):
        person_links = match_persons(read_authors(store))
        graphs.append((person_graph, link_triples(person_links, person_graph)))
        stats[person_graph] = len(person_links)
    if graphs:
        store.replace_graphs(graphs)
    return stats


def link_sources(store: Store, base: str | None = None) -> dict[str, int]:
    """Recompute both link graphs from what the store holds; return the number of links per graph."""
    org_graph, candidate_graph, person_graph = _link_graphs(base)
    graphs, stats = _organisation_graphs(organisation_links(store, None, []), org_graph, candidate_graph)
    person_links = match_persons(read_authors(store))
    store.replace_graphs(graphs + [(person_graph, link_triples(person_links, person_graph))])
    return {**stats, person_graph: len(person_links)}
