"""CORDIS project records → triples: one function per class."""
from __future__ import annotations

import pyoxigraph as ox

from collabkg.mapping import LABEL, A, Triples, any_uri, ckg, literal
from collabkg.namespaces import IRIs, SKOS, country
from collabkg.records import Coded, Field, Organisation, Participation, Project, ProgrammePart, Publication, SourceRecord

PREF_LABEL = ox.NamedNode(SKOS + "prefLabel")
BROADER = ox.NamedNode(SKOS + "broader")
NOTATION = ox.NamedNode(SKOS + "notation")
IN_SCHEME = ox.NamedNode(SKOS + "inScheme")
EUROSCIVOC_SCHEME = ckg("EuroSciVocScheme")
ROLE = {r: ckg(r[0].upper() + r[1:] + "Role") for r in ("coordinator", "participant", "associatedPartner", "thirdParty")}


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
        t.add(s, ckg("doiIri"), ox.NamedNode(iris_doi(p.grant_doi)))
    t.add(s, ckg("language"), literal(p.language))
    t.add(s, ckg("contentUpdateDate"), literal(p.content_update))
    t.add(s, ckg("lastUpdateDate"), literal(p.last_update))
    t.add(s, ckg("euroSciVocValidated"), literal(p.euroscivoc_validated))
    if p.call:
        t.add(s, ckg("call"), call(t, p.call, iris))
    if p.sub_call:
        t.add(s, ckg("subCall"), call(t, p.sub_call, iris))
    for tp in p.topics:
        t.add(s, ckg("topic"), coded(t, tp, iris.topic(tp.code), "Topic"))
    for pp in p.programme_parts:
        node = programme_part(t, pp, iris)
        t.add(s, ckg("legalBasis"), node)
        if pp.main:
            t.add(s, ckg("mainLegalBasis"), node)
    if p.funding_scheme:
        t.add(s, ckg("fundingScheme"), coded(t, p.funding_scheme, iris.funding_scheme(p.funding_scheme.code), "FundingScheme"))
    for f in p.fields:
        t.add(s, ckg("fieldOfScience"), field_of_science(t, f, iris))
    for part in p.participations:
        participation(t, part, s, p.grant, iris)
    for pub in p.publications:
        t.add(s, ckg("hasPublication"), publication(t, pub, iris))
    return s


def iris_doi(doi: str) -> str:
    from urllib.parse import quote

    return "https://doi.org/" + quote(doi.strip(), safe="/:;()._-~")


def coded(t: Triples, c: Coded, iri: str, cls: str) -> ox.NamedNode:
    """A coded vocabulary term (call, topic, scheme, ...), described in the vocabulary graph."""
    s = ox.NamedNode(iri)
    t.add_vocab(s, A, ckg(cls))
    t.add_vocab(s, ckg("code"), literal(c.code))
    t.add_vocab(s, LABEL, literal(c.title or c.code, "en"))
    return s


def call(t: Triples, c: Coded, iris: IRIs) -> ox.NamedNode:
    return coded(t, c, iris.call(c.code), "Call")


def programme_part(t: Triples, pp: ProgrammePart, iris: IRIs) -> ox.NamedNode:
    s = coded(t, pp, iris.programme(pp.code), "ProgrammePart")
    t.add_vocab(s, ckg("frameworkProgramme"), literal(pp.framework))
    child = s
    for parent_code in pp.parents:
        parent = ox.NamedNode(iris.programme(parent_code))
        t.add_vocab(parent, A, ckg("ProgrammePart"))
        t.add_vocab(parent, ckg("code"), literal(parent_code))
        t.add_vocab(child, BROADER, parent)
        child = parent
    return s


def field_of_science(t: Triples, f: Field, iris: IRIs) -> ox.NamedNode:
    """A EuroSciVoc field and its ancestors, as SKOS concepts labelled from the source path."""
    node = None
    for depth, code in enumerate(f.codes):
        s = ox.NamedNode(iris.field(code))
        t.add_vocab(s, A, ckg("FieldOfScience"))
        t.add_vocab(s, IN_SCHEME, EUROSCIVOC_SCHEME)
        t.add_vocab(s, NOTATION, literal(code))
        if f.labels:
            t.add_vocab(s, PREF_LABEL, literal(f.labels[depth], "en"))
        if node is not None:
            t.add_vocab(s, BROADER, node)
        node = s
    return node


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
    s = ox.NamedNode(iris.organisation(o.pic))
    e = ("organisation", o.pic)
    t.add_entity(e, s, A, ckg("Organisation"))
    t.add_entity(e, s, ckg("pic"), literal(o.pic))
    t.add_entity(e, s, ckg("rcn"), literal(o.rcn))
    t.add_entity(e, s, ckg("legalName"), literal(o.legal_name))
    t.add_entity(e, s, ckg("shortName"), literal(o.short_name))
    t.add_entity(e, s, ckg("vatNumber"), literal(o.vat_number))
    t.add_entity(e, s, ckg("departmentName"), literal(o.department))
    t.add_entity(e, s, ckg("url"), any_uri(o.url))
    if o.country:
        t.add_entity(e, s, ckg("country"), ox.NamedNode(country(o.country)))
    t.add_entity(e, s, ckg("sourceCountryCode"), literal(o.source_country))  # also when not ISO (XH)
    if o.address:
        a = o.address
        addr = ox.NamedNode(iris.address(o.pic))
        t.add_entity(e, s, ckg("address"), addr)
        t.add_entity(e, addr, A, ckg("Address"))
        t.add_entity(e, addr, ckg("street"), literal(a.street))
        t.add_entity(e, addr, ckg("postBox"), literal(a.post_box))
        t.add_entity(e, addr, ckg("postcode"), literal(a.postcode))
        t.add_entity(e, addr, ckg("city"), literal(a.city))
        if a.country:
            t.add_entity(e, addr, ckg("country"), ox.NamedNode(country(a.country)))
        t.add_entity(e, addr, ckg("latitude"), literal(a.latitude))
        t.add_entity(e, addr, ckg("longitude"), literal(a.longitude))
    if o.activity_type:
        t.add_entity(e, s, ckg("activityType"), coded(t, o.activity_type, iris.activity_type(o.activity_type.code), "ActivityType"))
    if o.nuts:
        t.add_entity(e, s, ckg("nutsRegion"), coded(t, o.nuts, iris.nuts(o.nuts.code), "NutsRegion"))
    return s


def publication(t: Triples, pub: Publication, iris: IRIs) -> ox.NamedNode:
    """A project publication with a DOI: the Work node that OpenAlex works meet on."""
    s = ox.NamedNode(iris.work(doi=pub.doi))
    t.add(s, A, ckg("Work"))
    t.add(s, ckg("doi"), literal(pub.doi))
    t.add(s, ckg("doiIri"), ox.NamedNode(iris_doi(pub.doi)))
    t.add(s, ckg("title"), literal(pub.title))
    t.add(s, ckg("publicationYear"), literal(pub.year))
    t.add(s, ckg("journal"), literal(pub.journal))
    return s
