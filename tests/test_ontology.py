"""The ontology (ontology/collabkg.ttl) declares, documents and aligns every ckg: term in use.

The terms in use are found without the mapper's help where possible: a regex over the source text of
``pipeline/collabkg`` (``ckg("X")`` calls and ``CKG + "X"`` concatenations), the four role individuals
(built in the mapper as ``ckg(Role + "Role")``, which no regex can see), and every ckg: IRI in the
reference data (``ontology/*.ttl``). A last group of tests runs the mapper on real CORDIS records and on
a synthetic record with every field filled, and checks what it emits against the declared domains and
ranges: the ontology and the mapper cannot drift apart silently.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

ROOT = Path(__file__).resolve().parents[1]
ONTOLOGY_DIR = ROOT / "ontology"
ONTOLOGY_FILE = ONTOLOGY_DIR / "collabkg.ttl"
PACKAGE = ROOT / "pipeline" / "collabkg"
CORDIS_ZIP = ROOT / "data" / "cordis-horizon-europe" / "cordis-HORIZONprojects-xml-oic-subset.zip"

CKG = rdflib.Namespace("https://w3id.org/collabkg/ontology#")
# An open namespace: rdflib's closed XSD warns when pytest inspects module attributes.
XSD = rdflib.Namespace("http://www.w3.org/2001/XMLSchema#")
ONTOLOGY_IRI = URIRef("https://w3id.org/collabkg/ontology")
CC_BY_4 = URIRef("https://creativecommons.org/licenses/by/4.0/")

# The mapper builds these as ckg(Role + "Role"); a regex over the source cannot see them.
ROLE_INDIVIDUALS = {CKG.CoordinatorRole, CKG.ParticipantRole, CKG.AssociatedPartnerRole, CKG.ThirdPartyRole}

# The publication side, declared before a mapper uses it (the brief of the ontology).
PUBLICATION_CLASSES = {CKG.Work, CKG.Authorship, CKG.Person, CKG.Institution}
PUBLICATION_PROPERTIES = {
    CKG[p]
    for p in (
        "doi doiIri openalexId publicationDate publicationYear workType journal citedByCount abstract authorship "
        "work author authorPosition isCorresponding affiliation rawAffiliation orcid ror displayName "
        "institutionType parentInstitution hasPublication"
    ).split()
}

# Properties used on several classes: a single-class rdfs:domain would infer wrong types.
SHARED_PROPERTIES = {CKG.rcn, CKG.totalCost, CKG.country, CKG.code, CKG.title}

TERM_TYPES = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.NamedIndividual, SKOS.ConceptScheme}
ALIGNMENT_PREDICATES = (
    RDFS.subClassOf,
    OWL.equivalentClass,
    SKOS.closeMatch,
    SKOS.exactMatch,
    SKOS.broadMatch,
    SKOS.narrowMatch,
)
# Datatypes a DatatypeProperty may range over (what ``collabkg.mapping.terms.literal`` and ``any_uri`` emit).
LITERAL_DATATYPES = {
    XSD.string,
    RDF.langString,
    XSD.decimal,
    XSD.integer,
    XSD.date,
    XSD.dateTime,
    XSD.boolean,
    XSD.anyURI,
    XSD.gYear,
}

_CKG_CALL = re.compile(r"""\bckg\(\s*["']([^"']+)["']\s*\)""")
_CKG_CONCAT = re.compile(r"""\bCKG\s*\+\s*["']([^"']+)["']""")
_CKG_TERM = re.compile(r"""\bterm\(\s*["']([^"']+)["']\s*\)""")
# Class names handed to a helper as its last, non-first argument: coded(t, tp, iri, "Topic").
_CLASS_ARG = re.compile(r""",\s*["']([A-Z][A-Za-z]*)["']\s*[),]""")


# ---------------------------------------------------------------- fixtures ---------------------------


@pytest.fixture(scope="module")
def onto() -> rdflib.Graph:
    return rdflib.Graph().parse(ONTOLOGY_FILE, format="turtle")


def _classes(g: rdflib.Graph) -> set[URIRef]:
    return {s for s in g.subjects(RDF.type, OWL.Class) if isinstance(s, URIRef)}


def _properties(g: rdflib.Graph) -> set[URIRef]:
    return {
        s
        for t in (OWL.ObjectProperty, OWL.DatatypeProperty)
        for s in g.subjects(RDF.type, t)
        if isinstance(s, URIRef)
    }


def _is_ckg(term) -> bool:
    return isinstance(term, URIRef) and str(term).startswith(str(CKG))


def _en(g: rdflib.Graph, s, p) -> list[Literal]:
    return [o for o in g.objects(s, p) if isinstance(o, Literal) and o.language == "en" and str(o).strip()]


def _members(g: rdflib.Graph, node) -> set:
    """A named class/datatype, or the members of an owl:unionOf."""
    if isinstance(node, URIRef):
        return {node}
    union = g.value(node, OWL.unionOf)
    assert union is not None, f"anonymous class/datatype {node} is not an owl:unionOf"
    return set(Collection(g, union))


def mapper_terms() -> set[URIRef]:
    """ckg: terms named in the source text of the package (mapper first), found by regex."""
    found: set[URIRef] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for rx in (_CKG_CALL, _CKG_CONCAT, _CKG_TERM):
            found.update(CKG[name] for name in rx.findall(text))
    return found


def mapping_terms() -> set[URIRef]:
    found: set[URIRef] = set()
    for path in sorted((PACKAGE / "mapping").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for rx in (_CKG_CALL, _CLASS_ARG):
            found.update(CKG[name] for name in rx.findall(text))
    return found | ROLE_INDIVIDUALS


def reference_terms() -> set[URIRef]:
    """Every ckg: IRI in the reference data (every ontology/*.ttl except the ontology itself)."""
    found: set[URIRef] = set()
    for path in sorted(ONTOLOGY_DIR.glob("*.ttl")):
        if path == ONTOLOGY_FILE:
            continue
        for triple in rdflib.Graph().parse(path, format="turtle"):
            found.update(t for t in triple if _is_ckg(t))
    return found


# ---------------------------------------------------------------- parsing and header -----------------


@pytest.mark.parametrize("path", sorted(ONTOLOGY_DIR.glob("*.ttl")), ids=lambda p: p.name)
def test_every_turtle_file_parses(path):
    g = rdflib.Graph().parse(path, format="turtle")
    assert len(g) > 0, f"{path.name}: parsed to an empty graph"


def test_the_ontology_file_exists_and_is_the_one_ontology(onto):
    assert set(onto.subjects(RDF.type, OWL.Ontology)) == {ONTOLOGY_IRI}


def test_ontology_header(onto):
    o = ONTOLOGY_IRI
    assert onto.value(o, OWL.versionInfo) is not None, "owl:versionInfo missing"
    assert _en(onto, o, DCTERMS.title), "dct:title missing"
    assert _en(onto, o, DCTERMS.description), "dct:description missing"
    assert (o, DCTERMS.license, CC_BY_4) in onto
    assert (o, DCTERMS.creator, Literal("collabkg contributors")) in onto


def test_alignment_policy_is_stated_at_the_top():
    head = ONTOLOGY_FILE.read_text(encoding="utf-8").split("@prefix", 1)[0]
    assert "ALIGNMENT POLICY" in head
    for word in ("owl:equivalentClass", "rdfs:subClassOf", "skos:closeMatch", "EURIO"):
        assert word in head, f"the alignment policy comment does not mention {word}"


# ---------------------------------------------------------------- every term in use is declared ------


def _undeclared(onto: rdflib.Graph, terms: set[URIRef]) -> list[str]:
    problems = []
    for t in sorted(terms):
        types = set(onto.objects(t, RDF.type)) & TERM_TYPES
        missing = [
            what
            for what, ok in (
                ("a type", bool(types)),
                ("an @en rdfs:label", bool(_en(onto, t, RDFS.label))),
                ("an @en rdfs:comment", bool(_en(onto, t, RDFS.comment))),
            )
            if not ok
        ]
        if missing:
            problems.append(f"{t.n3()} lacks {', '.join(missing)}")
    return problems


def test_the_regex_finds_the_mapper_terms():
    # Guard against a regex that silently finds nothing.
    terms = mapping_terms()
    assert {CKG.Project, CKG.Participation, CKG.grantNumber, CKG.project, CKG.EuroSciVocScheme} <= terms
    # class names that reach ckg() only through the coded() helper
    assert {CKG.Topic, CKG.Call, CKG.FundingScheme, CKG.ActivityType, CKG.NutsRegion} <= terms
    assert len(terms) > 50


def test_every_mapper_term_is_declared(onto):
    assert _undeclared(onto, mapping_terms() | mapper_terms()) == []


def test_every_reference_data_term_is_declared(onto):
    terms = reference_terms()
    assert {CKG.Country, CKG.iso2, CKG.memberOf} <= terms
    assert _undeclared(onto, terms) == []


def test_reference_data_uses_terms_as_declared(onto):
    """In countries.ttl (and the like): types are classes; literal-valued predicates are datatype
    properties, IRI-valued ones object properties."""
    problems = []
    for path in sorted(ONTOLOGY_DIR.glob("*.ttl")):
        if path == ONTOLOGY_FILE:
            continue
        for s, p, o in rdflib.Graph().parse(path, format="turtle"):
            if p == RDF.type and _is_ckg(o) and (o, RDF.type, OWL.Class) not in onto:
                problems.append(f"{path.name}: {o.n3()} used as a class")
            if _is_ckg(p):
                want = OWL.DatatypeProperty if isinstance(o, Literal) else OWL.ObjectProperty
                if (p, RDF.type, want) not in onto:
                    problems.append(f"{path.name}: {p.n3()} used as {want.n3()}")
    assert sorted(set(problems)) == []


def test_the_publication_side_is_declared(onto):
    assert PUBLICATION_CLASSES <= _classes(onto)
    assert PUBLICATION_PROPERTIES <= _properties(onto)


def test_every_ckg_iri_in_the_ontology_is_declared(onto):
    """A typo in a domain, range or alignment (ckg:Projcet) would otherwise go unnoticed."""
    used = {t for triple in onto for t in triple if _is_ckg(t)}
    declared = {s for s in used if set(onto.objects(s, RDF.type)) & TERM_TYPES}
    assert sorted(used - declared) == []


# ---------------------------------------------------------------- documentation and alignment --------


def test_every_class_and_property_has_label_and_comment(onto):
    assert _undeclared(onto, _classes(onto) | _properties(onto)) == []


def test_no_term_is_both_a_class_and_a_property_or_both_kinds_of_property(onto):
    classes, props = _classes(onto), _properties(onto)
    assert classes & props == set()
    obj = set(onto.subjects(RDF.type, OWL.ObjectProperty))
    dat = set(onto.subjects(RDF.type, OWL.DatatypeProperty))
    assert obj & dat == set()


def test_every_class_is_aligned_to_an_external_vocabulary(onto):
    """Each class has rdfs:subClassOf / owl:equivalentClass / skos:closeMatch / skos:exactMatch (or a
    hierarchical skos:broadMatch / narrowMatch) to a non-ckg IRI. No exception is needed: even the
    purely internal coded classes (ckg:Role, ckg:FieldOfScience, ckg:ActivityType) are subclasses of
    skos:Concept, and ckg:Role is also closeMatch org:Role."""
    unaligned = [
        c.n3()
        for c in sorted(_classes(onto))
        if not any(
            isinstance(o, URIRef) and not _is_ckg(o) for p in ALIGNMENT_PREDICATES for o in onto.objects(c, p)
        )
    ]
    assert unaligned == []


def test_equivalence_is_not_asserted_lightly(onto):
    """The policy asserts owl:equivalentClass/Property only for exact equivalents; none exist today.
    Adding one must be a conscious change of this test."""
    assert list(onto.subject_objects(OWL.equivalentClass)) == []
    assert list(onto.subject_objects(OWL.equivalentProperty)) == []


def test_eurio_alignments_use_the_eurio_namespace(onto):
    eurio = [o for _, _, o in onto if isinstance(o, URIRef) and "data.europa.eu/s66" in str(o)]
    assert eurio, "no EURIO alignment at all"
    assert all(str(o).startswith("http://data.europa.eu/s66#") for o in eurio)
    assert (CKG.Project, SKOS.closeMatch, URIRef("http://data.europa.eu/s66#Project")) in onto
    assert (CKG.Organisation, SKOS.closeMatch, URIRef("http://data.europa.eu/s66#Organisation")) in onto


# ---------------------------------------------------------------- domains and ranges -----------------


def test_every_property_has_a_well_formed_domain_and_range(onto):
    classes = _classes(onto)
    problems = []
    for p in sorted(_properties(onto)):
        domains = list(onto.objects(p, RDFS.domain))
        ranges = list(onto.objects(p, RDFS.range))
        if len(domains) != 1 or len(ranges) != 1:
            problems.append(f"{p.n3()}: {len(domains)} rdfs:domain, {len(ranges)} rdfs:range (want 1 and 1)")
            continue
        bad = _members(onto, domains[0]) - classes
        if bad:
            problems.append(f"{p.n3()}: domain has undeclared classes {sorted(bad)}")
        rng = _members(onto, ranges[0])
        if (p, RDF.type, OWL.DatatypeProperty) in onto:
            if not rng <= LITERAL_DATATYPES:
                problems.append(f"{p.n3()}: datatype range {sorted(rng)} is not among the mapper's datatypes")
        elif not rng <= classes | {OWL.Thing}:
            problems.append(f"{p.n3()}: object range {sorted(rng)} is not a declared class or owl:Thing")
    assert problems == []


def test_shared_properties_have_no_single_class_domain(onto):
    for p in SHARED_PROPERTIES:
        for d in onto.objects(p, RDFS.domain):
            assert isinstance(d, BNode) and len(_members(onto, d)) > 1, f"{p.n3()} has single-class domain {d}"


def test_english_texts_are_language_strings(onto):
    for p in (CKG.teaser, CKG.objective):
        assert onto.value(p, RDFS.range) == RDF.langString
    assert RDF.langString in _members(onto, onto.value(CKG.title, RDFS.range))


def test_amounts_are_decimals_in_eur(onto):
    for p in (CKG.totalCost, CKG.ecMaxContribution, CKG.ecContribution, CKG.netEcContribution):
        assert onto.value(p, RDFS.range) == XSD.decimal, p
        assert "EUR" in str(onto.value(p, RDFS.comment)), f"{p.n3()}: comment does not say the currency"


# ---------------------------------------------------------------- SKOS structure -------------------


def test_roles_are_concepts_of_the_role_scheme(onto):
    assert (CKG.RoleScheme, RDF.type, SKOS.ConceptScheme) in onto
    for r in ROLE_INDIVIDUALS:
        for t in (OWL.NamedIndividual, SKOS.Concept, CKG.Role):
            assert (r, RDF.type, t) in onto, f"{r.n3()} is not a {t.n3()}"
        assert (r, SKOS.inScheme, CKG.RoleScheme) in onto
        assert onto.value(r, SKOS.prefLabel) is not None and onto.value(r, SKOS.notation) is not None


def test_role_notations_are_the_source_role_codes(onto):
    notations = {str(onto.value(r, SKOS.notation)) for r in ROLE_INDIVIDUALS}
    assert notations == {"coordinator", "participant", "associatedPartner", "thirdParty"}


def test_fields_of_science_are_skos_concepts_of_euroscivoc(onto):
    assert (CKG.FieldOfScience, RDFS.subClassOf, SKOS.Concept) in onto
    assert (CKG.EuroSciVocScheme, RDF.type, SKOS.ConceptScheme) in onto


def test_external_skos_terms_are_not_redeclared(onto):
    for t in (SKOS.broader, SKOS.prefLabel, SKOS.notation, SKOS.inScheme, RDFS.label):
        assert (t, RDF.type, None) not in onto, f"{t.n3()} is external and must not be redeclared"


# ---------------------------------------------------------------- the mapper emits what is declared ---


def _emitted(mapped) -> list:
    """A record's triples plus those it adds to the shared vocabulary graph (if the mapper has one)."""
    return list(mapped) + list(getattr(mapped, "vocab", []))


def _check_emitted(onto: rdflib.Graph, triples) -> list[str]:
    """Every ckg: predicate emitted is declared; objects fit the kind and range; subjects fit the domain."""
    import pyoxigraph as ox

    classes = _classes(onto)
    types: dict[str, set[URIRef]] = {}
    for t in triples:
        if t.predicate.value == str(RDF.type):
            types.setdefault(t.subject.value, set()).add(URIRef(t.object.value))
    problems = set()
    for t in triples:
        p = URIRef(t.predicate.value)
        o = t.object
        if p == RDF.type:
            if _is_ckg(URIRef(o.value)) and URIRef(o.value) not in classes:
                problems.add(f"rdf:type {o.value} is not a declared class")
            continue
        if not _is_ckg(p):
            continue
        rng = onto.value(p, RDFS.range)
        if (p, RDF.type, OWL.DatatypeProperty) in onto:
            if not isinstance(o, ox.Literal):
                problems.add(f"{p.n3()}: datatype property with IRI object {o}")
                continue
            dt = RDF.langString if o.language else URIRef(o.datatype.value)
            if dt not in _members(onto, rng):
                problems.add(f"{p.n3()}: emitted {dt.n3()}, range is {sorted(_members(onto, rng))}")
        elif (p, RDF.type, OWL.ObjectProperty) in onto:
            if not isinstance(o, ox.NamedNode):
                problems.add(f"{p.n3()}: object property with literal object {o}")
                continue
            want = _members(onto, rng) - {OWL.Thing}
            got = types.get(o.value)
            if want and got is not None and not (got & want):
                problems.add(f"{p.n3()}: object typed {sorted(got)}, range is {sorted(want)}")
        else:
            problems.add(f"{p.n3()}: emitted but not declared as a property")
            continue
        dom = _members(onto, onto.value(p, RDFS.domain))
        got = types.get(t.subject.value, set())
        if not (got & dom):
            problems.add(f"{p.n3()}: subject typed {sorted(got)}, domain is {sorted(dom)}")
    return sorted(problems)


def _full_record():
    """A synthetic CORDIS record with every field filled, so that rare fields are exercised too."""
    from collabkg import records as r
    from collabkg.records import cordis as c

    org = c.Organisation(
        pic="999999999",
        rcn="1",
        legal_name="Example University",
        short_name="EU",
        vat_number="EL123",
        department="Physics",
        url="https://example.org",
        country="GR",
        source_country="EL",
        address=c.Address("Street 1", "PB 2", "12345", "Athens", "GR", Decimal("37.9"), Decimal("23.7")),
        activity_type=c.Coded("HES", "Higher or Secondary Education Establishments"),
        nuts=c.Coded("EL303", "Central Athens"),
    )
    part = c.Participation(org, "coordinator", 1, Decimal("1.5"), Decimal("1.5"), Decimal("2"), False, True)
    return r.SourceRecord(
        "cordis",
        "synthetic.xml",
        "101000001",
        c.Project(
            grant="101000001",
            rcn="2",
            acronym="EX",
            title="Example",
            teaser="Teaser",
            objective="Objective",
            keywords=("a", "b"),
            status="SIGNED",
            start_date=date(2023, 1, 1),
            end_date=date(2025, 12, 31),
            signature_date=date(2022, 12, 1),
            termination_date=date(2024, 1, 1),
            duration_months=36,
            total_cost=Decimal("100.50"),
            ec_max_contribution=Decimal("90"),
            grant_doi="10.3030/101000001",
            language="en",
            content_update=datetime(2024, 1, 1, 12, 0),
            last_update=datetime(2024, 1, 2, 12, 0),
            call=c.Coded("HORIZON-CL5-2021-D3", "A call"),
            sub_call=c.Coded("HORIZON-CL5-2021-D3-02", "A sub-call"),
            topics=(c.Coded("HORIZON-CL5-2021-D3-02-01", "A topic"),),
            programme_parts=(c.ProgrammePart("HORIZON.2.5", "Climate", main=True, framework="HORIZON", parents=("HORIZON.2", "HORIZON")),),
            funding_scheme=c.Coded("HORIZON-RIA", "Research and Innovation Action"),
            fields=(c.Field(("25", "67"), ("natural sciences", "physics")),),
            euroscivoc_validated=True,
            participations=(part,),
            publications=(c.Publication("10.1000/XYZ", "A paper", 2024, "A journal"),),
        ),
    )


def test_the_mapper_emits_what_the_ontology_declares_on_a_full_record(onto):
    from collabkg.mapping import map_record
    from collabkg.namespaces import IRIs

    triples = _emitted(map_record(_full_record(), IRIs()))
    emitted = {URIRef(t.predicate.value) for t in triples if _is_ckg(URIRef(t.predicate.value))}
    assert len(emitted) > 40, "the synthetic record no longer exercises the mapper"
    assert _check_emitted(onto, triples) == []


@pytest.mark.skipif(not CORDIS_ZIP.exists(), reason="bundled CORDIS data not present")
def test_the_mapper_emits_what_the_ontology_declares_on_real_records(onto):
    from collabkg.mapping import map_record
    from collabkg.namespaces import IRIs
    from collabkg.records import SourceRecord
    from collabkg.sources import cordis_xml

    triples = []
    for i, rec in enumerate(cordis_xml.read(CORDIS_ZIP)):
        if isinstance(rec, SourceRecord) and i % 10 == 0:  # a spread of about a hundred projects
            triples.extend(_emitted(map_record(rec, IRIs())))
    assert triples
    assert _check_emitted(onto, triples) == []
