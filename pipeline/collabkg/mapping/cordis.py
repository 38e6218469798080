"""CORDIS project records → triples: one function per class.

Graphs: the project record's graph holds the project, its participations and publication
results (the record's own facts) and its links; organisations, works and every vocabulary term
(call, topic, programme part, funding scheme, field, NUTS region, activity type) are entities,
each in its own graph, replaced by the latest record that describes them. Shared entities are
mapped once per process (memoised on the frozen record value), not once per mention.

Terms are written as N-Triples text (:class:`~collabkg.mapping.terms.NTriples`): the importer joins
a record's lines into its graphs without building a term object per triple; :func:`map_record`
gives the same triples as term objects (validation, tests).
"""
from __future__ import annotations

from functools import lru_cache

import pyoxigraph as ox

from collabkg.mapping.terms import NT_A as A, NT_LABEL as LABEL, NTBlockBuilder, NTBlocks, NTriples, Triples
from collabkg.mapping.terms import nt_any_uri as any_uri, nt_ckg as ckg, nt_iri as iri, nt_literal as literal
from collabkg.namespaces import IRIs, SKOS, country, doi_iri
from collabkg.records import SourceRecord
from collabkg.records.cordis import Coded, Field, Organisation, Participation, Project, ProgrammePart, Publication

PREF_LABEL = iri(SKOS + "prefLabel")
BROADER = iri(SKOS + "broader")
NOTATION = iri(SKOS + "notation")
IN_SCHEME = iri(SKOS + "inScheme")
EUROSCIVOC_SCHEME = ckg("EuroSciVocScheme")
ROLE = {r: ckg(r[0].upper() + r[1:] + "Role") for r in ("coordinator", "participant", "associatedPartner", "thirdParty")}

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
    """The record's triples as term objects (for validation and tests; the importer uses :func:`map_ntriples`)."""
    return Triples.from_ntriples(map_ntriples(rec, iris))


def map_ntriples(rec: SourceRecord, iris: IRIs) -> NTriples:
    """The record's triples as N-Triples lines, sorted into its own graph and entity graphs."""
    t = NTriples()
    project(t, rec.record, iris)
    return t


def project(t: NTriples, p: Project, iris: IRIs) -> str:
    # The one term object of a record: it checks the IRI base (an invalid base fails here, with
    # Oxigraph's message, as it did when every term was an object); minted IRIs need no check.
    s = str(ox.NamedNode(iris.project(p.grant)))
    add = t.add
    add(s, A, ckg("Project"))
    add(s, ckg("grantNumber"), literal(p.grant))
    add(s, ckg("rcn"), literal(p.rcn))
    add(s, ckg("acronym"), literal(p.acronym))
    add(s, ckg("title"), literal(p.title, "en"))
    add(s, LABEL, literal(p.acronym or p.title or p.grant))
    add(s, ckg("teaser"), literal(p.teaser, "en"))
    add(s, ckg("objective"), literal(p.objective, "en"))
    for k in p.keywords:
        add(s, ckg("keyword"), literal(k))
    add(s, ckg("status"), literal(p.status))
    add(s, ckg("startDate"), literal(p.start_date))
    add(s, ckg("endDate"), literal(p.end_date))
    add(s, ckg("signatureDate"), literal(p.signature_date))
    add(s, ckg("terminationDate"), literal(p.termination_date))
    add(s, ckg("durationMonths"), literal(p.duration_months))
    add(s, ckg("totalCost"), literal(p.total_cost))
    add(s, ckg("ecMaxContribution"), literal(p.ec_max_contribution))
    if p.total_cost is not None or p.ec_max_contribution is not None:
        add(s, ckg("currency"), literal("EUR"))
    if p.grant_doi:
        add(s, ckg("grantDoi"), literal(p.grant_doi))
        add(s, ckg("doiIri"), iri(doi_iri(p.grant_doi)))
    add(s, ckg("language"), literal(p.language))
    add(s, ckg("contentUpdateDate"), literal(p.content_update))
    add(s, ckg("lastUpdateDate"), literal(p.last_update))
    add(s, ckg("euroSciVocValidated"), literal(p.euroscivoc_validated))
    if p.call:
        add(s, ckg("call"), call(t, p.call, iris))
    if p.sub_call:
        add(s, ckg("subCall"), call(t, p.sub_call, iris))
    for tp in p.topics:
        add(s, ckg("topic"), coded(t, tp, iris.topic(tp.code), "Topic", "topic"))
    for pp in p.programme_parts:
        node = programme_part(t, pp, iris)
        add(s, ckg("legalBasis"), node)
        if pp.main:
            add(s, ckg("mainLegalBasis"), node)
    if p.funding_scheme:
        add(s, ckg("fundingScheme"), coded(t, p.funding_scheme, iris.funding_scheme(p.funding_scheme.code), "FundingScheme", "funding-scheme"))
    for f in p.fields:
        add(s, ckg("fieldOfScience"), field_of_science(t, f, iris))
    for part in p.participations:
        add(s, ckg("hasParticipation"), participation(t, part, s, p.grant, iris))
    described: set[str] = set()  # works this record describes (the first result about a DOI does)
    for pub in p.publications:
        work, result = _publication(t, pub, iris, p.grant, described)
        add(s, ckg("hasPublication"), work)
        add(s, ckg("publicationResult"), result)
    return s


iris_doi = doi_iri  # the resolver IRI of a DOI: collabkg.namespaces.doi_iri


def coded(t: NTriples, c: Coded, term_iri: str, cls: str, kind: str) -> str:
    """A coded vocabulary term (call, topic, scheme, ...), described in its own entity graph."""
    t.add_blocks(_coded_block(c.code, c.title, term_iri, cls, kind))
    return iri(term_iri)


@lru_cache(maxsize=65536)
def _coded_block(code: str, title: str | None, term_iri: str, cls: str, kind: str) -> NTBlocks:
    b = NTBlockBuilder()
    _describe_coded(b, (kind, code), iri(term_iri), code, title, cls)
    return b.done()


def _describe_coded(b: NTBlockBuilder, e, s: str, code: str, title: str | None, cls: str) -> None:
    b.add(e, s, A, ckg(cls))
    b.add(e, s, ckg("code"), literal(code))
    b.add(e, s, LABEL, literal(title or code, "en"))


def call(t: NTriples, c: Coded, iris: IRIs) -> str:
    return coded(t, c, iris.call(c.code), "Call", "call")


def programme_part(t: NTriples, pp: ProgrammePart, iris: IRIs) -> str:
    """A programme part and its parents (nearest first), each in its own entity graph.

    CORDIS names a part with its title, but a parent by code only. So that a mention as a parent
    never replaces a title stated elsewhere, a part's structure (type, code, framework, broader)
    and its name are two entity graphs: ``programme/<code>`` (the same from every mention) and
    ``programme-label/<code>``, written only by a mention that names it (or from
    :data:`PROGRAMME_LABELS`)."""
    t.add_blocks(_programme_block((pp.code, *pp.parents), pp.title, pp.framework, iris.base))
    return iri(iris.programme(pp.code))


@lru_cache(maxsize=65536)
def _programme_block(chain: tuple[str, ...], title: str | None, framework: str | None, base: str) -> NTBlocks:
    iris = IRIs(base)
    b = NTBlockBuilder()
    for i, code in enumerate(chain):
        s = iri(iris.programme(code))
        e = ("programme", code)
        b.add(e, s, A, ckg("ProgrammePart"))
        b.add(e, s, ckg("code"), literal(code))
        b.add(e, s, ckg("frameworkProgramme"), literal(framework))  # a parent is of its child's framework
        if i + 1 < len(chain):
            b.add(e, s, BROADER, iri(iris.programme(chain[i + 1])))
        name = (title if i == 0 else None) or PROGRAMME_LABELS.get(code)
        if name:
            b.add(("programme-label", code), s, LABEL, literal(name, "en"))
    return b.done()


def field_of_science(t: NTriples, f: Field, iris: IRIs) -> str | None:
    """A EuroSciVoc field and its ancestors, as SKOS concepts labelled from the source path."""
    t.add_blocks(_field_block(f, iris.base))
    return iri(iris.field(f.codes[-1])) if f.codes else None


@lru_cache(maxsize=65536)
def _field_block(f: Field, base: str) -> NTBlocks:
    iris = IRIs(base)
    b = NTBlockBuilder()
    node = None
    for depth, code in enumerate(f.codes):
        s = iri(iris.field(code))
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


def participation(t: NTriples, part: Participation, project_node: str, grant: str, iris: IRIs) -> str:
    org = part.organisation
    s = iri(iris.participation(grant, str(part.order), part.role, org.pic))
    add = t.add
    add(s, A, ckg("Participation"))
    add(s, ckg("project"), project_node)
    add(s, ckg("organisation"), organisation(t, org, iris))
    add(s, ckg("role"), ROLE[part.role])
    add(s, ckg("order"), literal(part.order))
    add(s, ckg("ecContribution"), literal(part.ec_contribution))
    add(s, ckg("netEcContribution"), literal(part.net_ec_contribution))
    add(s, ckg("totalCost"), literal(part.total_cost))
    add(s, ckg("terminated"), literal(part.terminated))
    add(s, ckg("sme"), literal(part.sme))
    return s


def organisation(t: NTriples, o: Organisation, iris: IRIs) -> str:
    """An organisation (with its address, activity type and NUTS region), mapped once per value."""
    node, blocks = _organisation_block(o, iris.base)
    t.add_blocks(blocks)
    return node


@lru_cache(maxsize=65536)
def _organisation_block(o: Organisation, base: str) -> tuple[str, NTBlocks]:
    # Keyed on the frozen record value: an organisation that a later record describes differently
    # is a different key, so the cache never serves stale facts.
    iris = IRIs(base)
    b = NTBlockBuilder()
    s = iri(iris.organisation(o.pic))
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
        b.add(e, s, ckg("country"), iri(country(o.country)))
    b.add(e, s, ckg("sourceCountryCode"), literal(o.source_country))  # also when not ISO (XH)
    if o.address:
        a = o.address
        addr = iri(iris.address(o.pic))
        b.add(e, s, ckg("address"), addr)
        b.add(e, addr, A, ckg("Address"))
        b.add(e, addr, ckg("street"), literal(a.street))
        b.add(e, addr, ckg("postBox"), literal(a.post_box))
        b.add(e, addr, ckg("postcode"), literal(a.postcode))
        b.add(e, addr, ckg("city"), literal(a.city))
        if a.country:
            b.add(e, addr, ckg("country"), iri(country(a.country)))
        b.add(e, addr, ckg("latitude"), literal(a.latitude))
        b.add(e, addr, ckg("longitude"), literal(a.longitude))
    if o.activity_type:
        c = o.activity_type
        node = iri(iris.activity_type(c.code))
        b.add(e, s, ckg("activityType"), node)
        _describe_coded(b, ("activity-type", c.code), node, c.code, c.title, "ActivityType")
    if o.nuts:
        c = o.nuts
        node = iri(iris.nuts(c.code))
        b.add(e, s, ckg("nutsRegion"), node)
        _describe_coded(b, ("nuts", c.code), node, c.code, c.title, "NutsRegion")
    return s, b.done()


def publication(t: Triples, pub: Publication, iris: IRIs, grant: str | None = None, described: set | None = None):
    """:func:`_publication` into a :class:`Triples` (term objects): the work node (None without a
    DOI) when called without ``grant``; else (work, result)."""
    g = NTriples()
    work, result = _publication(g, pub, iris, grant, described)
    t.extend(Triples.from_ntriples(g))  # (entity marks are not carried over: callers look at terms)
    node = lambda term: None if term is None else ox.NamedNode(term[1:-1])
    return node(work) if grant is None else (node(work), node(result))


def _publication(t: NTriples, pub: Publication, iris: IRIs, grant: str | None, described: set | None) -> tuple[str | None, str | None]:
    """A project publication result. With a DOI: the Work it is about (keyed by the DOI, the node
    OpenAlex works meet on), described in the work's own graph from the first result about it in
    the record (by result id). With ``grant`` (a project's mapping), also the result itself, as the
    project states it (title, year, journal), in the project's graph: every result is kept, with or
    without a DOI, and two results that describe one DOI differently both keep their wording.

    Returns (work node or None without a DOI, result node or None without ``grant``)."""
    s = None
    if pub.doi:
        key = iris.work_key(doi=pub.doi)
        s = iri(iris.work(doi=pub.doi))
        if described is None or key not in described:
            if described is not None:
                described.add(key)
            e = ("work", key)
            t.add_entity(e, s, A, ckg("Work"))
            t.add_entity(e, s, LABEL, literal(pub.title or pub.doi))
            t.add_entity(e, s, ckg("doi"), literal(pub.doi))
            t.add_entity(e, s, ckg("doiIri"), iri(doi_iri(pub.doi)))
            t.add_entity(e, s, ckg("title"), literal(pub.title))
            t.add_entity(e, s, ckg("publicationYear"), literal(pub.year))
            t.add_entity(e, s, ckg("journal"), literal(pub.journal))
    if grant is None:
        return s, None
    r = iri(iris.publication_result(grant, pub.result_id or "doi:" + (pub.doi or "")))
    add = t.add
    add(r, A, ckg("PublicationResult"))
    add(r, LABEL, literal(pub.title or pub.result_id or pub.doi))
    add(r, ckg("resultId"), literal(pub.result_id))
    add(r, ckg("rcn"), literal(pub.rcn))
    add(r, ckg("doi"), literal(pub.doi))
    add(r, ckg("work"), s)
    add(r, ckg("title"), literal(pub.title))
    add(r, ckg("publicationYear"), literal(pub.year))
    add(r, ckg("journal"), literal(pub.journal))
    return s, r
