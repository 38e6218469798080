"""OpenAlex work records → triples: one function per class (the agreed publication-side model).

A work's graph holds the work, its authorships, and the persons, institutions, funders and
awards they point to; research topics are shared vocabulary (the openalex vocabulary graph).
"""
from __future__ import annotations

import pyoxigraph as ox

from collabkg.mapping import LABEL, A, Triples, ckg, literal
from collabkg.mapping.cordis import iris_doi
from collabkg.namespaces import IRIs, country
from collabkg.records import SourceRecord
from collabkg.records_openalex import Authorship, Award, Funder, Institution, Person, Topic, Work


def map_record(rec: SourceRecord, iris: IRIs) -> Triples:
    t = Triples()
    work(t, rec.record, iris)
    return t


def work(t: Triples, w: Work, iris: IRIs) -> ox.NamedNode:
    s = ox.NamedNode(iris.work(doi=w.doi, openalex_id=w.openalex_id))
    t.add(s, A, ckg("Work"))
    t.add(s, ckg("openalexId"), literal(w.openalex_id))
    if w.doi:
        t.add(s, ckg("doi"), literal(w.doi))
        t.add(s, ckg("doiIri"), ox.NamedNode(iris_doi(w.doi)))
    t.add(s, ckg("title"), literal(w.title))
    t.add(s, ckg("workType"), literal(w.type))
    t.add(s, ckg("publicationDate"), literal(w.publication_date))
    t.add(s, ckg("publicationYear"), literal(w.publication_year))
    t.add(s, ckg("language"), literal(w.language))
    t.add(s, ckg("journal"), literal(w.journal))
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
    for a in w.awards:
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
    s = ox.NamedNode(iris.person(p.openalex_id))
    e = ("person", p.openalex_id)
    t.add_entity(e, s, A, ckg("Person"))
    t.add_entity(e, s, ckg("openalexId"), literal(p.openalex_id))
    t.add_entity(e, s, ckg("displayName"), literal(p.display_name))
    if p.orcid:
        t.add_entity(e, s, ckg("orcid"), ox.NamedNode(p.orcid))
    return s


def institution(t: Triples, i: Institution, iris: IRIs) -> ox.NamedNode:
    s = ox.NamedNode(iris.institution(i.openalex_id))
    e = ("institution", i.openalex_id)
    t.add_entity(e, s, A, ckg("Institution"))
    t.add_entity(e, s, ckg("openalexId"), literal(i.openalex_id))
    t.add_entity(e, s, ckg("displayName"), literal(i.display_name))
    if i.ror:
        t.add_entity(e, s, ckg("ror"), ox.NamedNode(i.ror))
    t.add_entity(e, s, ckg("institutionType"), literal(i.type))
    if i.country:  # an institution without country gets no ckg:country
        t.add_entity(e, s, ckg("country"), ox.NamedNode(country(i.country)))
    for parent_id in i.lineage:
        parent = ox.NamedNode(iris.institution(parent_id))
        # only a stub for the parent here (add-only vocabulary): its own description comes
        # from the works that name it
        t.add_vocab(parent, A, ckg("Institution"))
        t.add_vocab(parent, ckg("openalexId"), literal(parent_id))
        t.add_entity(e, s, ckg("parentInstitution"), parent)
    return s


def topic(t: Triples, tp: Topic, iris: IRIs) -> ox.NamedNode:
    """An OpenAlex research topic (T…), described once in the shared vocabulary graph."""
    s = ox.NamedNode(iris.topic(tp.openalex_id))
    t.add_vocab(s, A, ckg("ResearchTopic"))
    t.add_vocab(s, ckg("openalexId"), literal(tp.openalex_id))
    t.add_vocab(s, LABEL, literal(tp.display_name or tp.openalex_id, "en"))
    return s


def funder(t: Triples, f: Funder, iris: IRIs) -> ox.NamedNode:
    s = ox.NamedNode(iris.funder(f.openalex_id))
    e = ("funder", f.openalex_id)
    t.add_entity(e, s, A, ckg("Funder"))
    t.add_entity(e, s, ckg("openalexId"), literal(f.openalex_id))
    t.add_entity(e, s, ckg("displayName"), literal(f.display_name))
    if f.ror:
        t.add_entity(e, s, ckg("ror"), ox.NamedNode(f.ror))
    return s


def award(t: Triples, a: Award, iris: IRIs) -> ox.NamedNode:
    s = ox.NamedNode(iris.award(a.openalex_id))
    t.add(s, A, ckg("Award"))
    t.add(s, ckg("openalexId"), literal(a.openalex_id))
    t.add(s, ckg("awardNumber"), literal(a.award_id))
    t.add(s, ckg("displayName"), literal(a.display_name))
    if a.funder:
        t.add(s, ckg("funder"), funder(t, a.funder, iris))
    return s
