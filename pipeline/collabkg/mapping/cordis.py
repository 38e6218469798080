"""CORDIS project records → triples: one function per class.

Graphs: the project record's graph holds the project, its participations and publication
results (the record's own facts) and its links; organisations, works and every vocabulary term
(call, topic, programme part, funding scheme, field, NUTS region, activity type) are entities,
each in its own graph, replaced by the latest record that describes them. Shared entities are
mapped once per process (memoised on the frozen record value), not once per mention.
"""
from __future__ import annotations

from functools import lru_cache

import pyoxigraph as ox

from collabkg.mapping.terms import LABEL, A, BlockBuilder, EntityBlocks, Triples, any_uri, ckg, literal
from collabkg.namespaces import IRIs, SKOS, country, doi_iri
from collabkg.records import SourceRecord
from collabkg.records.cordis import Coded, Field, Organisation, Participation, Project, ProgrammePart, Publication

PREF_LABEL = ox.NamedNode(SKOS + "prefLabel")
BROADER = ox.NamedNode(SKOS + "broader")
NOTATION = ox.NamedNode(SKOS + "notation")
IN_SCHEME = ox.NamedNode(SKOS + "inScheme")
EUROSCIVOC_SCHEME = ckg("EuroSciVocScheme")
ROLE = {r: ckg(r[0].upper() + r[1:] + "Role") for r in ("coordinator", "participant", "associatedPartner", "thirdParty")}
HAS_PARTICIPATION = ckg("hasParticipation")

# Programme parts that CORDIS names only as parents (no title in the source): their names in
# Regulation (EU) 2021/695 (Horizon Europe, pillars I-III and Part "Widening participation and
# strengthening the ERA") and Council Regulation (Euratom) 2021/765.
PROGRAMME_LABELS = {
    "HORIZON": "Horizon Europe",
    "HORIZON.1": "Excellent Science",
    "HORIZON.2": "Global Challenges and European Industrial Competitiveness",
    "HORIZON.3": "Innovative Europe",
    "HORIZON.4": "Widening Participation and Strengthening the European Research Area",
    "EURATOM": "Euratom Research and Training Programme",
}

def map_record(rec: SourceRecord, iris: IRIs) -> Triples:
    t = Triples()
    project(t, rec.record, iris)
    return t


def project(t: Triples, p: Project, iris: IRIs) -> ox.NamedNode:
    s = ox.NamedNode(iris.project(p.grant))
    t.add(s, A, ckg("Project"))
    t.add(s, ckg("grantNumber"), literal(p.grant))
    t.add(s, ckg("rcn"), literal(p.rcn))
    t.add(s, ckg("acronym"), literal(p.acronym))
    t.add(s, ckg("title"), literal(p.title, "en"))
    t.add(s, LABEL, literal(p.acronym or p.title or p.grant))
    t.add(s, ckg("teaser"), literal(p.teaser, "en"))
    t.add(s, ckg("objective"), literal(p.objective, "en"))
    for k in p.keywords:
        t.add(s, ckg("keyword"), literal(k))
    t.add(s, ckg("status"), literal(p.status))
    t.add(s, ckg("startDate"), literal(p.start_date))
    t.add(s, ckg("endDate"), literal(p.end_date))
    t.add(s, ckg("signatureDate"), literal(p.signature_date))
    t.add(s, ckg("terminationDate"), literal(p.termination_date))
    t.add(s, ckg("durationMonths"), literal(p.duration_months))
    t.add(s, ckg("totalCost"), literal(p.total_cost))
    t.add(s, ckg("ecMaxContribution"), literal(p.ec_max_contribution))
    if p.total_cost is not None or p.ec_max_contribution is not None:
        t.add(s, ckg("currency"), literal("EUR"))
    if p.grant_doi:
        t.add(s, ckg("grantDoi"), literal(p.grant_doi))
        t.add(s, ckg("doiIri"), ox.NamedNode(doi_iri(p.grant_doi)))
    t.add(s, ckg("language"), literal(p.language))
    t.add(s, ckg("contentUpdateDate"), literal(p.content_update))
    t.add(s, ckg("lastUpdateDate"), literal(p.last_update))
    t.add(s, ckg("euroSciVocValidated"), literal(p.euroscivoc_validated))
    if p.call:
        t.add(s, ckg("call"), call(t, p.call, iris))
    if p.sub_call:
        t.add(s, ckg("subCall"), call(t, p.sub_call, iris))
    for tp in p.topics:
        t.add(s, ckg("topic"), coded(t, tp, iris.topic(tp.code), "Topic", "topic"))
    for pp in p.programme_parts:
        node = programme_part(t, pp, iris)
        t.add(s, ckg("legalBasis"), node)
        if pp.main:
            t.add(s, ckg("mainLegalBasis"), node)
    if p.funding_scheme:
        t.add(s, ckg("fundingScheme"), coded(t, p.funding_scheme, iris.funding_scheme(p.funding_scheme.code), "FundingScheme", "funding-scheme"))
    for f in p.fields:
        t.add(s, ckg("fieldOfScience"), field_of_science(t, f, iris))
    for part in p.participations:
        t.add(s, HAS_PARTICIPATION, participation(t, part, s, p.grant, iris))
    described: set[str] = set()  # works this record describes (the first result about a DOI does)
    for pub in p.publications:
        work, result = publication(t, pub, iris, p.grant, described)
        t.add(s, ckg("hasPublication"), work)
        t.add(s, ckg("publicationResult"), result)
    return s


iris_doi = doi_iri  # the resolver IRI of a DOI: collabkg.namespaces.doi_iri


def coded(t: Triples, c: Coded, iri: str, cls: str, kind: str) -> ox.NamedNode:
    """A coded vocabulary term (call, topic, scheme, ...), described in its own entity graph."""
    t.add_blocks(_coded_block(c.code, c.title, iri, cls, kind))
    return ox.NamedNode(iri)


@lru_cache(maxsize=65536)
def _coded_block(code: str, title: str | None, iri: str, cls: str, kind: str) -> EntityBlocks:
    b = BlockBuilder()
    _describe_coded(b, (kind, code), ox.NamedNode(iri), code, title, cls)
    return b.done()


def _describe_coded(b: BlockBuilder, e, s, code: str, title: str | None, cls: str) -> None:
    b.add(e, s, A, ckg(cls))
    b.add(e, s, ckg("code"), literal(code))
    b.add(e, s, LABEL, literal(title or code, "en"))


def call(t: Triples, c: Coded, iris: IRIs) -> ox.NamedNode:
    return coded(t, c, iris.call(c.code), "Call", "call")


def programme_part(t: Triples, pp: ProgrammePart, iris: IRIs) -> ox.NamedNode:
    """A programme part and its parents (nearest first), each in its own entity graph.

    CORDIS names a part with its title, but a parent by code only. So that a mention as a parent
    never replaces a title stated elsewhere, a part's structure (type, code, framework, broader)
    and its name are two entity graphs: ``programme/<code>`` (the same from every mention) and
    ``programme-label/<code>``, written only by a mention that names it (or from
    :data:`PROGRAMME_LABELS`)."""
    t.add_blocks(_programme_block((pp.code, *pp.parents), pp.title, pp.framework, iris.base))
    return ox.NamedNode(iris.programme(pp.code))


@lru_cache(maxsize=65536)
def _programme_block(chain: tuple[str, ...], title: str | None, framework: str | None, base: str) -> EntityBlocks:
    iris = IRIs(base)
    b = BlockBuilder()
    for i, code in enumerate(chain):
        s = ox.NamedNode(iris.programme(code))
        e = ("programme", code)
        b.add(e, s, A, ckg("ProgrammePart"))
        b.add(e, s, ckg("code"), literal(code))
        b.add(e, s, ckg("frameworkProgramme"), literal(framework))  # a parent is of its child's framework
        if i + 1 < len(chain):
            b.add(e, s, BROADER, ox.NamedNode(iris.programme(chain[i + 1])))
        name = (title if i == 0 else None) or PROGRAMME_LABELS.get(code)
        if name:
            b.add(("programme-label", code), s, LABEL, literal(name, "en"))
    return b.done()


def field_of_science(t: Triples, f: Field, iris: IRIs) -> ox.NamedNode:
    """A EuroSciVoc field and its ancestors, as SKOS concepts labelled from the source path."""
    t.add_blocks(_field_block(f, iris.base))
    return ox.NamedNode(iris.field(f.codes[-1])) if f.codes else None


@lru_cache(maxsize=65536)
def _field_block(f: Field, base: str) -> EntityBlocks:
    iris = IRIs(base)
    b = BlockBuilder()
    node = None
    for depth, code in enumerate(f.codes):
        s = ox.NamedNode(iris.field(code))
        e = ("euroscivoc", code)
        b.add(e, s, A, ckg("FieldOfScience"))
        b.add(e, s, IN_SCHEME, EUROSCIVOC_SCHEME)
        b.add(e, s, NOTATION, literal(code))
        if f.labels:  # only where the source's label path lines up: its own graph, so a record without it keeps it
            b.add(("euroscivoc-label", code), s, PREF_LABEL, literal(f.labels[depth], "en"))
        if node is not None:
            b.add(e, s, BROADER, node)
        node = s
    return b.done()


def participation(t: Triples, part: Participation, project_node, grant: str, iris: IRIs) -> ox.NamedNode:
    org = part.organisation
    s = ox.NamedNode(iris.participation(grant, str(part.order), part.role, org.pic))
    t.add(s, A, ckg("Participation"))
    t.add(s, ckg("project"), project_node)
    t.add(s, ckg("organisation"), organisation(t, org, iris))
    t.add(s, ckg("role"), ROLE[part.role])
    t.add(s, ckg("order"), literal(part.order))
    t.add(s, ckg("ecContribution"), literal(part.ec_contribution))
    t.add(s, ckg("netEcContribution"), literal(part.net_ec_contribution))
    t.add(s, ckg("totalCost"), literal(part.total_cost))
    t.add(s, ckg("terminated"), literal(part.terminated))
    t.add(s, ckg("sme"), literal(part.sme))
    return s


def organisation(t: Triples, o: Organisation, iris: IRIs) -> ox.NamedNode:
    """An organisation (with its address, activity type and NUTS region), mapped once per value."""
    t.add_blocks(_organisation_block(o, iris.base))
    return ox.NamedNode(iris.organisation(o.pic))


@lru_cache(maxsize=65536)
def _organisation_block(o: Organisation, base: str) -> EntityBlocks:
    # Keyed on the frozen record value: an organisation that a later record describes differently
    # is a different key, so the cache never serves stale facts.
    iris = IRIs(base)
    b = BlockBuilder()
    s = ox.NamedNode(iris.organisation(o.pic))
    e = ("organisation", o.pic)
    b.add(e, s, A, ckg("Organisation"))
    b.add(e, s, LABEL, literal(o.legal_name or o.short_name or o.pic))
    b.add(e, s, ckg("pic"), literal(o.pic))
    b.add(e, s, ckg("rcn"), literal(o.rcn))
    b.add(e, s, ckg("legalName"), literal(o.legal_name))
    b.add(e, s, ckg("shortName"), literal(o.short_name))
    b.add(e, s, ckg("vatNumber"), literal(o.vat_number))
    b.add(e, s, ckg("departmentName"), literal(o.department))
    b.add(e, s, ckg("url"), any_uri(o.url))
    if o.country:
        b.add(e, s, ckg("country"), ox.NamedNode(country(o.country)))
    b.add(e, s, ckg("sourceCountryCode"), literal(o.source_country))  # also when not ISO (XH)
    if o.address:
        a = o.address
        addr = ox.NamedNode(iris.address(o.pic))
        b.add(e, s, ckg("address"), addr)
        b.add(e, addr, A, ckg("Address"))
        b.add(e, addr, ckg("street"), literal(a.street))
        b.add(e, addr, ckg("postBox"), literal(a.post_box))
        b.add(e, addr, ckg("postcode"), literal(a.postcode))
        b.add(e, addr, ckg("city"), literal(a.city))
        if a.country:
            b.add(e, addr, ckg("country"), ox.NamedNode(country(a.country)))
        b.add(e, addr, ckg("latitude"), literal(a.latitude))
        b.add(e, addr, ckg("longitude"), literal(a.longitude))
    if o.activity_type:
        c = o.activity_type
        node = ox.NamedNode(iris.activity_type(c.code))
        b.add(e, s, ckg("activityType"), node)
        _describe_coded(b, ("activity-type", c.code), node, c.code, c.title, "ActivityType")
    if o.nuts:
        c = o.nuts
        node = ox.NamedNode(iris.nuts(c.code))
        b.add(e, s, ckg("nutsRegion"), node)
        _describe_coded(b, ("nuts", c.code), node, c.code, c.title, "NutsRegion")
    return b.done()


def publication(t: Triples, pub: Publication, iris: IRIs, grant: str | None = None, described: set | None = None):
    """A project publication result. With a DOI: the Work it is about (keyed by the DOI, the node
    OpenAlex works meet on), described in the work's own graph from the first result about it in
    the record (by result id). With ``grant`` (a project's mapping), also the result itself, as the
    project states it (title, year, journal), in the project's graph: every result is kept, with or
    without a DOI, and two results that describe one DOI differently both keep their wording.

    Returns the work node (None without a DOI) when called without ``grant``; else (work, result)."""
    s = None
    if pub.doi:
        key = iris.work_key(doi=pub.doi)
        s = ox.NamedNode(iris.work(doi=pub.doi))
        if described is None or key not in described:
            if described is not None:
                described.add(key)
            e = ("work", key)
            t.add_entity(e, s, A, ckg("Work"))
            t.add_entity(e, s, LABEL, literal(pub.title or pub.doi))
            t.add_entity(e, s, ckg("doi"), literal(pub.doi))
            t.add_entity(e, s, ckg("doiIri"), ox.NamedNode(doi_iri(pub.doi)))
            t.add_entity(e, s, ckg("title"), literal(pub.title))
            t.add_entity(e, s, ckg("publicationYear"), literal(pub.year))
            t.add_entity(e, s, ckg("journal"), literal(pub.journal))
    if grant is None:
        return s
    r = ox.NamedNode(iris.publication_result(grant, pub.result_id or "doi:" + (pub.doi or "")))
    t.add(r, A, ckg("PublicationResult"))
    t.add(r, LABEL, literal(pub.title or pub.result_id or pub.doi))
    t.add(r, ckg("resultId"), literal(pub.result_id))
    t.add(r, ckg("rcn"), literal(pub.rcn))
    t.add(r, ckg("doi"), literal(pub.doi))
    t.add(r, ckg("work"), s)
    t.add(r, ckg("title"), literal(pub.title))
    t.add(r, ckg("publicationYear"), literal(pub.year))
    t.add(r, ckg("journal"), literal(pub.journal))
    return s, r
