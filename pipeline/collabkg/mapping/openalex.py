"""OpenAlex work records → triples: one function per class (the agreed publication-side model).

A work record's graph holds what only this record says: the work's OpenAlex facts (id, type,
date, language, citations, abstract, keywords, topics, funders, awards), its authorships and
their links. Entities are described once each, in their own graph (latest record wins): the
work's shared description (type, DOI, title, year, journal; one graph for CORDIS and OpenAlex),
persons, institutions, funders, awards and research topics. Persons, institutions, funders and
topics are mapped once per process (memoised on the frozen record value).
"""
from __future__ import annotations

import pyoxigraph as ox

from functools import lru_cache

from collabkg.mapping.terms import LABEL, A, BlockBuilder, EntityBlocks, Triples, ckg, literal
from collabkg.namespaces import IRIs, country, doi_iri
from collabkg.records import SourceRecord
from collabkg.records.openalex import Authorship, Award, Funder, Institution, Person, Topic, Work


def map_record(rec: SourceRecord, iris: IRIs) -> Triples:
    t = Triples()
    work(t, rec.record, iris)
    return t


def work(t: Triples, w: Work, iris: IRIs) -> ox.NamedNode:
    s = ox.NamedNode(iris.work(doi=w.doi, openalex_id=w.openalex_id))
    e = ("work", iris.work_key(doi=w.doi, openalex_id=w.openalex_id))
    t.add_entity(e, s, A, ckg("Work"))
    t.add_entity(e, s, LABEL, literal(w.title or w.doi or w.openalex_id))
    if w.doi:
        t.add_entity(e, s, ckg("doi"), literal(w.doi))
        t.add_entity(e, s, ckg("doiIri"), ox.NamedNode(doi_iri(w.doi)))
    # One title and one year per work: the latest record describing the work states them (a
    # build imports OpenAlex after CORDIS); CORDIS's own wording stays on its publication results.
    t.add_entity(e, s, ckg("title"), literal(w.title))
    t.add_entity(e, s, ckg("publicationYear"), literal(w.publication_year))
    t.add_entity(e, s, ckg("journal"), literal(w.journal))
    t.add(s, ckg("openalexId"), literal(w.openalex_id))
    t.add(s, ckg("workType"), literal(w.type))
    t.add(s, ckg("publicationDate"), literal(w.publication_date))
    t.add(s, ckg("language"), literal(w.language))
    t.add(s, ckg("citedByCount"), literal(w.cited_by_count))
    t.add(s, ckg("abstract"), literal(w.abstract))
    for k in w.keywords:
        t.add(s, ckg("keyword"), literal(k))
    for tp in w.topics:
        t.add(s, ckg("topic"), topic(t, tp, iris))
    if w.primary_topic:
        t.add(s, ckg("primaryTopic"), topic(t, w.primary_topic, iris))
    for f in w.funders:
        t.add(s, ckg("funder"), funder(t, f, iris))
    funders = {f.openalex_id: f for f in w.funders}
    for a in w.awards:
        # an award names its funder more briefly than the work's funder list (no ROR): take the fuller one
        if a.funder is not None and a.funder.openalex_id in funders:
            a = Award(a.openalex_id, a.award_id, funders[a.funder.openalex_id], a.display_name)
        t.add(s, ckg("award"), award(t, a, iris))
    for a in w.authorships:
        t.add(s, ckg("authorship"), authorship(t, a, s, w.openalex_id, iris))
    return s


def authorship(t: Triples, a: Authorship, work_node, work_key: str, iris: IRIs) -> ox.NamedNode:
    # Keyed by the OpenAlex work id, not the DOI: two OpenAlex records sharing a DOI keep apart authorships.
    s = ox.NamedNode(iris.authorship(work_key, a.order))
    t.add(s, A, ckg("Authorship"))
    t.add(s, ckg("work"), work_node)
    if a.person:
        t.add(s, ckg("author"), person(t, a.person, iris))
    t.add(s, ckg("authorName"), literal(a.author_name))
    t.add(s, ckg("authorPosition"), literal(a.position))
    t.add(s, ckg("order"), literal(a.order))
    t.add(s, ckg("isCorresponding"), literal(a.is_corresponding))
    for inst in a.institutions:
        t.add(s, ckg("affiliation"), institution(t, inst, iris))
    for c in a.countries:
        t.add(s, ckg("country"), ox.NamedNode(country(c)))
    for r in a.raw_affiliations:
        t.add(s, ckg("rawAffiliation"), literal(r))
    return s


def person(t: Triples, p: Person, iris: IRIs) -> ox.NamedNode:
    t.add_blocks(_person_block(p, iris.base))
    return ox.NamedNode(iris.person(p.openalex_id))


@lru_cache(maxsize=65536)
def _person_block(p: Person, base: str) -> EntityBlocks:
    b = BlockBuilder()
    s = ox.NamedNode(IRIs(base).person(p.openalex_id))
    e = ("person", p.openalex_id)
    b.add(e, s, A, ckg("Person"))
    b.add(e, s, LABEL, literal(p.display_name or p.openalex_id))
    b.add(e, s, ckg("openalexId"), literal(p.openalex_id))
    b.add(e, s, ckg("displayName"), literal(p.display_name))
    if p.orcid:
        b.add(e, s, ckg("orcid"), ox.NamedNode(p.orcid))
    return b.done()


def institution(t: Triples, i: Institution, iris: IRIs) -> ox.NamedNode:
    """An institution and the parents of its lineage.

    OpenAlex names a lineage parent by id only (no name anywhere in the work record), so a parent
    is stated as an institution (type and id, graph ``institution/<id>``, the same from every
    mention) and its description (name, label, ROR, type, country, parents) sits in its own graph
    (``institution-description/<id>``), written only by a record that describes it: a mention as a
    parent never replaces a description. A parent no record describes has no name and no label."""
    t.add_blocks(_institution_block(i, iris.base))
    for parent_id in i.lineage:
        t.add_blocks(_institution_stub(parent_id, iris.base))
    return ox.NamedNode(iris.institution(i.openalex_id))


@lru_cache(maxsize=65536)
def _institution_stub(openalex_id: str, base: str) -> EntityBlocks:
    b = BlockBuilder()
    s = ox.NamedNode(IRIs(base).institution(openalex_id))
    e = ("institution", openalex_id)
    b.add(e, s, A, ckg("Institution"))
    b.add(e, s, ckg("openalexId"), literal(openalex_id))
    return b.done()


@lru_cache(maxsize=65536)
def _institution_block(i: Institution, base: str) -> EntityBlocks:
    iris = IRIs(base)
    b = BlockBuilder()
    s = ox.NamedNode(iris.institution(i.openalex_id))
    b.blocks.update({k: dict.fromkeys(v) for k, v in _institution_stub(i.openalex_id, base)})
    e = ("institution-description", i.openalex_id)
    b.add(e, s, LABEL, literal(i.display_name))
    b.add(e, s, ckg("displayName"), literal(i.display_name))
    if i.ror:
        b.add(e, s, ckg("ror"), ox.NamedNode(i.ror))
    b.add(e, s, ckg("institutionType"), literal(i.type))
    if i.country:  # an institution without country gets no ckg:country
        b.add(e, s, ckg("country"), ox.NamedNode(country(i.country)))
    for parent_id in i.lineage:
        b.add(e, s, ckg("parentInstitution"), ox.NamedNode(iris.institution(parent_id)))
    return b.done()


def topic(t: Triples, tp: Topic, iris: IRIs) -> ox.NamedNode:
    """An OpenAlex research topic (T…), described once, in its own entity graph."""
    t.add_blocks(_topic_block(tp, iris.base))
    return ox.NamedNode(iris.topic(tp.openalex_id))


@lru_cache(maxsize=65536)
def _topic_block(tp: Topic, base: str) -> EntityBlocks:
    b = BlockBuilder()
    s = ox.NamedNode(IRIs(base).topic(tp.openalex_id))
    e = ("topic", tp.openalex_id)
    b.add(e, s, A, ckg("ResearchTopic"))
    b.add(e, s, ckg("openalexId"), literal(tp.openalex_id))
    b.add(e, s, LABEL, literal(tp.display_name or tp.openalex_id, "en"))
    return b.done()


def funder(t: Triples, f: Funder, iris: IRIs) -> ox.NamedNode:
    t.add_blocks(_funder_block(f, iris.base))
    return ox.NamedNode(iris.funder(f.openalex_id))


@lru_cache(maxsize=65536)
def _funder_block(f: Funder, base: str) -> EntityBlocks:
    b = BlockBuilder()
    s = ox.NamedNode(IRIs(base).funder(f.openalex_id))
    e = ("funder", f.openalex_id)
    b.add(e, s, A, ckg("Funder"))
    b.add(e, s, ckg("openalexId"), literal(f.openalex_id))
    b.add(e, s, ckg("displayName"), literal(f.display_name))
    if f.ror:
        b.add(e, s, ckg("ror"), ox.NamedNode(f.ror))
    return b.done()


def award(t: Triples, a: Award, iris: IRIs) -> ox.NamedNode:
    """An award (grant) that works cite: an entity, so two works citing it state it once."""
    s = ox.NamedNode(iris.award(a.openalex_id))
    e = ("award", a.openalex_id)
    t.add_entity(e, s, A, ckg("Award"))
    t.add_entity(e, s, ckg("openalexId"), literal(a.openalex_id))
    t.add_entity(e, s, ckg("awardNumber"), literal(a.award_id))
    t.add_entity(e, s, ckg("displayName"), literal(a.display_name))
    if a.funder:
        t.add_entity(e, s, ckg("funder"), funder(t, a.funder, iris))
    return s
