"""Write the shape test cases: one conforming record and, per rule, a copy of it broken on purpose.

Each case file declares the results it must give, one ``# expect:`` line each:
``# expect: <focus> <path|^path|-> <constraint component> <severity>`` (prefixed names of the file).
Run ``python tests/shapes/make_cases.py`` after changing the base record or the list; the .ttl files
are the test data (read them, they are short).
"""
from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent

PREFIXES = """@prefix ckg: <https://w3id.org/collabkg/ontology#> .
@prefix ckgc: <https://w3id.org/collabkg/country/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix proj: <https://w3id.org/collabkg/id/project/> .
@prefix part: <https://w3id.org/collabkg/id/participation/900000001/> .
@prefix org: <https://w3id.org/collabkg/id/organisation/> .
@prefix addr: <https://w3id.org/collabkg/id/address/> .
@prefix voc: <https://w3id.org/collabkg/id/> .
@prefix work: <https://w3id.org/collabkg/id/work/openalex/> .
@prefix auth: <https://w3id.org/collabkg/id/authorship/W900000001/> .
@prefix person: <https://w3id.org/collabkg/id/person/> .
@prefix inst: <https://w3id.org/collabkg/id/institution/> .
"""

# The conforming record: one statement per key, so that a case can drop or replace one.
BASE = {
    "p.type": "proj:900000001 a ckg:Project .",
    "p.grant": 'proj:900000001 ckg:grantNumber "900000001" .',
    "p.rcn": 'proj:900000001 ckg:rcn "250001" .',
    "p.acronym": 'proj:900000001 ckg:acronym "TESTKG" .',
    "p.title": 'proj:900000001 ckg:title "A hand-written test project"@en .',
    "p.status": 'proj:900000001 ckg:status "SIGNED" .',
    "p.start": 'proj:900000001 ckg:startDate "2024-01-01"^^xsd:date .',
    "p.end": 'proj:900000001 ckg:endDate "2026-12-31"^^xsd:date .',
    "p.duration": "proj:900000001 ckg:durationMonths 36 .",
    "p.cost": 'proj:900000001 ckg:totalCost "1500000.50"^^xsd:decimal .',
    "p.ecmax": 'proj:900000001 ckg:ecMaxContribution "1200000"^^xsd:decimal .',
    "p.currency": 'proj:900000001 ckg:currency "EUR" .',
    "p.doi": 'proj:900000001 ckg:grantDoi "10.3030/900000001" .',
    "p.doiIri": "proj:900000001 ckg:doiIri <https://doi.org/10.3030/900000001> .",
    "p.lang": 'proj:900000001 ckg:language "en" .',
    "p.esv": "proj:900000001 ckg:euroSciVocValidated true .",
    "p.call": "proj:900000001 ckg:call voc:call\\/HORIZON-CL5-2023-D1-01 .",
    "p.topic": "proj:900000001 ckg:topic voc:topic\\/HORIZON-CL5-2023-D1-01-02 .",
    "p.lb": "proj:900000001 ckg:legalBasis voc:programme\\/HORIZON.2.5 ; ckg:mainLegalBasis voc:programme\\/HORIZON.2.5 .",
    "p.fs": "proj:900000001 ckg:fundingScheme voc:funding-scheme\\/HORIZON-RIA .",
    "p.fos": "proj:900000001 ckg:fieldOfScience voc:euroscivoc\\/1183 .",
    "p.pub": "proj:900000001 ckg:hasPublication work:W900000001 .",
    "c.type": 'voc:call\\/HORIZON-CL5-2023-D1-01 a ckg:Call ; ckg:code "HORIZON-CL5-2023-D1-01" .',
    "c.label": 'voc:call\\/HORIZON-CL5-2023-D1-01 rdfs:label "Climate science and responses"@en .',
    "t.type": 'voc:topic\\/HORIZON-CL5-2023-D1-01-02 a ckg:Topic ; ckg:code "HORIZON-CL5-2023-D1-01-02" ; rdfs:label "Topic two"@en .',
    "lb.type": 'voc:programme\\/HORIZON.2.5 a ckg:ProgrammePart ; ckg:code "HORIZON.2.5" ; rdfs:label "Climate, Energy and Mobility"@en ; ckg:frameworkProgramme "HORIZON" .',
    "lb.broader": "voc:programme\\/HORIZON.2.5 skos:broader voc:programme\\/HORIZON.2 .",
    "lb2.type": 'voc:programme\\/HORIZON.2 a ckg:ProgrammePart ; ckg:code "HORIZON.2" .',
    "fs.type": 'voc:funding-scheme\\/HORIZON-RIA a ckg:FundingScheme ; ckg:code "HORIZON-RIA" ; rdfs:label "Research and Innovation action"@en .',
    "fos.type": 'voc:euroscivoc\\/1183 a ckg:FieldOfScience ; skos:inScheme ckg:EuroSciVocScheme ; skos:notation "1183" ; skos:prefLabel "climatology"@en .',
    # the coordinator
    "c1.type": "part:1-coordinator-999000001 a ckg:Participation ; ckg:project proj:900000001 ; ckg:organisation org:999000001 .",
    "c1.role": "part:1-coordinator-999000001 ckg:role ckg:CoordinatorRole .",
    "c1.order": "part:1-coordinator-999000001 ckg:order 1 .",
    "c1.money": 'part:1-coordinator-999000001 ckg:ecContribution "700000"^^xsd:decimal ; ckg:netEcContribution "650000"^^xsd:decimal ; ckg:totalCost "800000"^^xsd:decimal .',
    "c1.flags": "part:1-coordinator-999000001 ckg:terminated false ; ckg:sme false .",
    # a participant
    "p2.type": "part:2-participant-999000002 a ckg:Participation ; ckg:organisation org:999000002 .",
    "p2.project": "part:2-participant-999000002 ckg:project proj:900000001 .",
    "p2.role": "part:2-participant-999000002 ckg:role ckg:ParticipantRole .",
    "p2.order": "part:2-participant-999000002 ckg:order 2 .",
    "p2.money": 'part:2-participant-999000002 ckg:ecContribution "500000"^^xsd:decimal ; ckg:netEcContribution "500000"^^xsd:decimal .',
    "p2.sme": "part:2-participant-999000002 ckg:sme true .",
    # organisations
    "o1.type": 'org:999000001 a ckg:Organisation ; ckg:pic "999000001" ; ckg:rcn "900001" ; ckg:shortName "TU" .',
    "o1.name": 'org:999000001 ckg:legalName "TEST UNIVERSITY" .',
    "o1.country": 'org:999000001 ckg:country ckgc:TR ; ckg:sourceCountryCode "TR" .',
    "o1.url": 'org:999000001 ckg:url "https://test.example.edu.tr/"^^xsd:anyURI .',
    "o1.address": "org:999000001 ckg:address addr:a1 .",
    "o1.activity": "org:999000001 ckg:activityType voc:activity-type\\/HES ; ckg:nutsRegion voc:nuts\\/TR100 .",
    "a1.type": 'addr:a1 a ckg:Address ; ckg:street "1 Test Street" ; ckg:postcode "06800" ; ckg:city "ANKARA" ; ckg:country ckgc:TR .',
    "a1.geo": 'addr:a1 ckg:latitude "39.92"^^xsd:decimal ; ckg:longitude "32.85"^^xsd:decimal .',
    "o2.type": 'org:999000002 a ckg:Organisation ; ckg:pic "999000002" ; ckg:legalName "ECOLE TEST" ; ckg:country ckgc:SN .',
    "at.type": 'voc:activity-type\\/HES a ckg:ActivityType ; ckg:code "HES" ; rdfs:label "Higher or Secondary Education Establishments"@en .',
    "nuts.type": 'voc:nuts\\/TR100 a ckg:NutsRegion ; ckg:code "TR100" ; rdfs:label "Istanbul"@en .',
    # the publication side
    "w.type": "work:W900000001 a ckg:Work ; ckg:doiIri <https://doi.org/10.1234/test.1> .",
    "w.ids": 'work:W900000001 ckg:openalexId "W900000001" ; ckg:doi "10.1234/test.1" .',
    "w.title": 'work:W900000001 ckg:title "A test article" .',
    "w.meta": 'work:W900000001 ckg:workType "article" ; ckg:publicationDate "2024-05-01"^^xsd:date ; ckg:publicationYear 2024 ; ckg:language "en" .',
    "w.cited": "work:W900000001 ckg:citedByCount 3 .",
    "w.topic": "work:W900000001 ckg:topic voc:topic\\/T10001 .",
    "w.auth": "work:W900000001 ckg:authorship auth:1 .",
    "rt.type": 'voc:topic\\/T10001 a ckg:ResearchTopic ; ckg:openalexId "T10001" ; rdfs:label "Climate modelling"@en .',
    "au.type": "auth:1 a ckg:Authorship ; ckg:work work:W900000001 ; ckg:author person:A900000001 ; ckg:isCorresponding true .",
    "au.position": 'auth:1 ckg:authorPosition "first" .',
    "au.order": "auth:1 ckg:order 1 .",
    "au.aff": 'auth:1 ckg:affiliation inst:I900000001 ; ckg:rawAffiliation "Test University, Ankara" .',
    "au.country": "auth:1 ckg:country ckgc:TR .",
    "pe.type": 'person:A900000001 a ckg:Person ; ckg:openalexId "A900000001" ; ckg:displayName "Ayşe Test" .',
    "pe.orcid": "person:A900000001 ckg:orcid <https://orcid.org/0000-0002-1825-0097> .",
    "in.type": 'inst:I900000001 a ckg:Institution ; ckg:displayName "Test University" ; ckg:institutionType "education" ; ckg:country ckgc:TR .',
    "in.id": 'inst:I900000001 ckg:openalexId "I900000001" .',
    "in.ror": "inst:I900000001 ckg:ror <https://ror.org/01abcdefg> .",
}

P = "proj:900000001"
P2 = "part:2-participant-999000002"
O1 = "org:999000001"
W = "work:W900000001"

# name: (what the case breaks, {key: replacement or None to drop}, [expected results])
CASES = {
    "project-grant-number-missing": ("no grant number", {"p.grant": None}, [(P, "ckg:grantNumber", "MinCount", "Violation")]),
    "project-grant-number-pattern": ("a grant number with letters (the grant DOI no longer matches it)",
        {"p.grant": 'proj:900000001 ckg:grantNumber "9000A0001" .'},
        [(P, "ckg:grantNumber", "Pattern", "Violation"), (P, "ckg:grantDoi", "SPARQL", "Warning")]),
    "project-two-titles": ("two titles", {"p.title": 'proj:900000001 ckg:title "One"@en , "Two"@en .'}, [(P, "ckg:title", "MaxCount", "Violation")]),
    "project-title-without-language": ("a title without language tag", {"p.title": 'proj:900000001 ckg:title "No tag" .'},
        [(P, "ckg:title", "Datatype", "Violation")]),
    "project-status-unknown": ("an unknown status", {"p.status": 'proj:900000001 ckg:status "ONGOING" .'}, [(P, "ckg:status", "In", "Violation")]),
    "project-start-date-impossible": ("an impossible start date", {"p.start": 'proj:900000001 ckg:startDate "2024-13-45"^^xsd:date .'},
        [(P, "ckg:startDate", "Datatype", "Violation")]),
    "project-ends-before-start": ("an end date before the start date", {"p.end": 'proj:900000001 ckg:endDate "2023-12-31"^^xsd:date .'},
        [(P, "ckg:endDate", "SPARQL", "Violation")]),
    "project-duration-zero": ("a duration of 0 months", {"p.duration": "proj:900000001 ckg:durationMonths 0 ."},
        [(P, "ckg:durationMonths", "MinInclusive", "Violation")]),
    "project-total-cost-negative": ("a negative total cost (also not above 0)", {"p.cost": 'proj:900000001 ckg:totalCost "-5"^^xsd:decimal .'},
        [(P, "ckg:totalCost", "SPARQL", "Violation"), (P, "ckg:totalCost", "MinExclusive", "Warning")]),
    "project-total-cost-zero": ("a total cost of 0 (a quirk of real data)", {"p.cost": 'proj:900000001 ckg:totalCost "0"^^xsd:decimal .'},
        [(P, "ckg:totalCost", "MinExclusive", "Warning")]),
    "project-total-cost-not-a-number": ("a total cost that is not a decimal", {"p.cost": 'proj:900000001 ckg:totalCost "1.5 million" .'},
        [(P, "ckg:totalCost", "Datatype", "Violation"), (P, "ckg:totalCost", "MinExclusive", "Warning")]),
    "project-currency-usd": ("amounts in USD", {"p.currency": 'proj:900000001 ckg:currency "USD" .'}, [(P, "ckg:currency", "In", "Violation")]),
    "project-grant-doi-mismatch": ("a grant DOI of another grant (kept with a warning: CORDIS mistypes some)", {"p.doi": 'proj:900000001 ckg:grantDoi "10.3030/900000002" .'},
        [(P, "ckg:grantDoi", "SPARQL", "Warning")]),
    "project-grant-doi-missing": ("no grant DOI (informational)", {"p.doi": None}, [(P, "ckg:grantDoi", "MinCount", "Info")]),
    "project-doi-iri-literal": ("the DOI IRI written as a string", {"p.doiIri": 'proj:900000001 ckg:doiIri "https://doi.org/10.3030/900000001" .'},
        [(P, "ckg:doiIri", "NodeKind", "Violation")]),
    "project-language-upper-case": ("language EN", {"p.lang": 'proj:900000001 ckg:language "EN" .'}, [(P, "ckg:language", "Pattern", "Violation")]),
    "project-esv-flag-not-boolean": ("'EuroSciVoc validated' as a word", {"p.esv": 'proj:900000001 ckg:euroSciVocValidated "yes" .'},
        [(P, "ckg:euroSciVocValidated", "Datatype", "Violation")]),
    "project-call-is-a-topic": ("a call that is not a ckg:Call", {"p.call": "proj:900000001 ckg:call voc:topic\\/HORIZON-CL5-2023-D1-01-02 ."},
        [(P, "ckg:call", "Class", "Violation")]),
    "project-two-coordinators": ("two coordinators", {"p2.role": "part:2-participant-999000002 ckg:role ckg:CoordinatorRole ."},
        [(P, "^ckg:project", "QualifiedMaxCount", "Violation")]),
    "project-no-coordinator": ("no coordinator", {"c1.role": "part:1-coordinator-999000001 ckg:role ckg:ParticipantRole ."},
        [(P, "^ckg:project", "QualifiedMinCount", "Violation")]),
    "project-same-organisation-two-roles": ("the same organisation as participant and third party (a quirk of real data)",
        {"extra": 'part:3-thirdParty-999000002 a ckg:Participation ; ckg:project proj:900000001 ; ckg:organisation org:999000002 ; ckg:role ckg:ThirdPartyRole ; ckg:order 2 .'},
        [(P, "-", "SPARQL", "Warning")]),
    "participation-role-unknown": ("a role outside the role scheme", {"p2.role": "part:2-participant-999000002 ckg:role ckg:LeaderRole ."},
        [(P2, "ckg:role", "In", "Violation")]),
    "participation-project-missing": ("a participation without project", {"p2.project": None},
        [(P2, "ckg:project", "MinCount", "Violation")]),
    "participation-project-unknown": ("a participation in a project that is nowhere", {"p2.project": "part:2-participant-999000002 ckg:project proj:900000999 ."},
        [(P2, "ckg:project", "SPARQL", "Violation")]),
    "participation-organisation-unknown": ("a participation of an organisation that is nowhere", {"p2.type": "part:2-participant-999000002 a ckg:Participation ; ckg:organisation org:999000777 ."},
        [(P2, "ckg:organisation", "SPARQL", "Violation")]),
    "participation-order-zero": ("order 0", {"p2.order": "part:2-participant-999000002 ckg:order 0 ."}, [(P2, "ckg:order", "MinInclusive", "Violation")]),
    "participation-order-missing": ("no order", {"p2.order": None}, [(P2, "ckg:order", "MinCount", "Violation")]),
    "participation-contribution-negative": ("a negative EU contribution", {"p2.money": 'part:2-participant-999000002 ckg:ecContribution "-100"^^xsd:decimal .'},
        [(P2, "ckg:ecContribution", "SPARQL", "Violation")]),
    "participation-sme-not-boolean": ("SME as a word", {"p2.sme": 'part:2-participant-999000002 ckg:sme "maybe" .'}, [(P2, "ckg:sme", "Datatype", "Violation")]),
    "participation-associated-partner-unfunded": ("an associated partner without contribution (a quirk of real data)",
        {"p2.role": "part:2-participant-999000002 ckg:role ckg:AssociatedPartnerRole .", "p2.money": None},
        [(P2, "ckg:ecContribution", "SPARQL", "Warning")]),
    "organisation-pic-eight-digits": ("a PIC of eight digits", {"o1.type": 'org:999000001 a ckg:Organisation ; ckg:pic "99900001" ; ckg:rcn "900001" ; ckg:shortName "TU" .'},
        [(O1, "ckg:pic", "Pattern", "Violation")]),
    "organisation-legal-name-missing": ("no legal name", {"o1.name": None}, [(O1, "ckg:legalName", "MinCount", "Violation")]),
    "organisation-two-legal-names": ("two legal names for one PIC", {"o1.name": 'org:999000001 ckg:legalName "TEST UNIVERSITY" , "TEST UNIVERSITESI" .'},
        [(O1, "ckg:legalName", "MaxCount", "Warning")]),
    "organisation-country-unknown": ("a country outside the reference data", {"o1.country": 'org:999000001 ckg:country ckgc:XH ; ckg:sourceCountryCode "XH" .'},
        [(O1, "ckg:country", "SPARQL", "Violation")]),
    "organisation-url-with-space": ("a web site with a space", {"o1.url": 'org:999000001 ckg:url "https://test example.org/"^^xsd:anyURI .'},
        [(O1, "ckg:url", "Pattern", "Violation")]),
    "organisation-address-not-an-address": ("an address that is not a ckg:Address", {"o1.address": "org:999000001 ckg:address addr:nowhere ."},
        [(O1, "ckg:address", "Class", "Violation")]),
    "address-latitude-out-of-range": ("latitude 95", {"a1.geo": 'addr:a1 ckg:latitude "95"^^xsd:decimal ; ckg:longitude "32.85"^^xsd:decimal .'},
        [("addr:a1", "ckg:latitude", "MaxInclusive", "Violation")]),
    "address-two-latitudes": ("two latitudes (a quirk of real data)", {"a1.geo": 'addr:a1 ckg:latitude "39.92"^^xsd:decimal , "39.93"^^xsd:decimal ; ckg:longitude "32.85"^^xsd:decimal .'},
        [("addr:a1", "ckg:latitude", "MaxCount", "Warning")]),
    "address-country-unknown": ("an address country outside the reference data", {"a1.type": 'addr:a1 a ckg:Address ; ckg:street "1 Test Street" ; ckg:city "ANKARA" ; ckg:country ckgc:ZZ .'},
        [("addr:a1", "ckg:country", "SPARQL", "Violation")]),
    "vocabulary-call-without-code": ("a call without code", {"c.type": "voc:call\\/HORIZON-CL5-2023-D1-01 a ckg:Call ."},
        [("voc:call\\/HORIZON-CL5-2023-D1-01", "ckg:code", "MinCount", "Violation")]),
    "vocabulary-call-label-without-language": ("a call label without language tag", {"c.label": 'voc:call\\/HORIZON-CL5-2023-D1-01 rdfs:label "Climate" .'},
        [("voc:call\\/HORIZON-CL5-2023-D1-01", "rdfs:label", "Datatype", "Violation")]),
    "vocabulary-programme-broader-not-programme": ("a programme part under a funding scheme", {"lb.broader": "voc:programme\\/HORIZON.2.5 skos:broader voc:funding-scheme\\/HORIZON-RIA ."},
        [("voc:programme\\/HORIZON.2.5", "skos:broader", "Class", "Violation")]),
    "vocabulary-field-wrong-scheme": ("a field of science outside EuroSciVoc", {"fos.type": 'voc:euroscivoc\\/1183 a ckg:FieldOfScience ; skos:notation "1183" ; skos:prefLabel "climatology"@en .'},
        [("voc:euroscivoc\\/1183", "skos:inScheme", "HasValue", "Violation")]),
    "vocabulary-field-notation-letters": ("a field notation with letters", {"fos.type": 'voc:euroscivoc\\/1183 a ckg:FieldOfScience ; skos:inScheme ckg:EuroSciVocScheme ; skos:notation "11a3" .'},
        [("voc:euroscivoc\\/1183", "skos:notation", "Pattern", "Violation")]),
    "work-without-identifier": ("a work with neither DOI nor OpenAlex id", {"w.ids": None}, [(W, "-", "SPARQL", "Violation")]),
    "work-openalex-id-pattern": ("a work id that is not W…", {"w.ids": 'work:W900000001 ckg:openalexId "X900000001" ; ckg:doi "10.1234/test.1" .'},
        [(W, "ckg:openalexId", "Pattern", "Violation")]),
    "work-two-titles": ("two titles (two sources; a warning)", {"w.title": 'work:W900000001 ckg:title "A test article" , "A Test Article" .'},
        [(W, "ckg:title", "MaxCount", "Warning")]),
    "work-cited-by-negative": ("a negative citation count", {"w.cited": "work:W900000001 ckg:citedByCount -1 ."},
        [(W, "ckg:citedByCount", "MinInclusive", "Violation")]),
    "work-year-not-integer": ("a publication year as a string", {"w.meta": 'work:W900000001 ckg:workType "article" ; ckg:publicationYear "2024" .'},
        [(W, "ckg:publicationYear", "Datatype", "Violation"), (W, "ckg:publicationYear", "MinInclusive", "Violation"), (W, "ckg:publicationYear", "MaxInclusive", "Violation")]),
    "authorship-position-unknown": ("author position 'second'", {"au.position": 'auth:1 ckg:authorPosition "second" .'},
        [("auth:1", "ckg:authorPosition", "In", "Violation")]),
    "authorship-first-not-order-one": ("a first author at order 2", {"au.order": "auth:1 ckg:order 2 ."}, [("auth:1", "ckg:order", "SPARQL", "Warning")]),
    "authorship-work-missing": ("an authorship of no work", {"au.type": "auth:1 a ckg:Authorship ; ckg:author person:A900000001 ; ckg:isCorresponding true ."},
        [("auth:1", "ckg:work", "MinCount", "Violation")]),
    "authorship-country-unknown": ("an authorship country outside the reference data", {"au.country": "auth:1 ckg:country ckgc:QQ ."},
        [("auth:1", "ckg:country", "SPARQL", "Violation")]),
    "person-orcid-malformed": ("a malformed ORCID", {"pe.orcid": "person:A900000001 ckg:orcid <https://orcid.org/0000-0002-1825> ."},
        [("person:A900000001", "ckg:orcid", "Pattern", "Violation")]),
    "person-two-display-names": ("two display names (records fetched at different times)", {"pe.type": 'person:A900000001 a ckg:Person ; ckg:openalexId "A900000001" ; ckg:displayName "Ayşe Test" , "A. Test" .'},
        [("person:A900000001", "ckg:displayName", "MaxCount", "Warning")]),
    "institution-id-missing": ("an institution without OpenAlex id", {"in.id": None}, [("inst:I900000001", "ckg:openalexId", "MinCount", "Violation")]),
    "institution-ror-malformed": ("a malformed ROR id", {"in.ror": "inst:I900000001 ckg:ror <https://ror.org/ABC> ."},
        [("inst:I900000001", "ckg:ror", "Pattern", "Violation")]),
    "research-topic-without-id": ("a research topic without OpenAlex id", {"rt.type": 'voc:topic\\/T10001 a ckg:ResearchTopic ; rdfs:label "Climate modelling"@en .'},
        [("voc:topic\\/T10001", "ckg:openalexId", "MinCount", "Violation")]),
}


def render(statements: dict[str, str], header: str) -> str:
    return header + "\n" + PREFIXES + "\n" + "\n".join(s for s in statements.values() if s) + "\n"


def main() -> None:
    (HERE / "conforming").mkdir(exist_ok=True)
    (HERE / "violating").mkdir(exist_ok=True)
    (HERE / "conforming" / "full-record.ttl").write_text(
        render(BASE, "# A conforming hand-written record: a project with its participations, organisations and vocabulary,\n"
                     "# and a work with an authorship, a person and an institution. It must give no result at all.\n"),
        encoding="utf-8",
    )
    for name, (what, changes, expected) in CASES.items():
        st = dict(BASE)
        for key, repl in changes.items():
            st[key] = repl
        lines = [f"# Breaks the conforming record: {what}."]
        for focus, path, comp, sev in expected:
            lines.append(f"# expect: {focus} {path} sh:{comp}ConstraintComponent sh:{sev}")
        (HERE / "violating" / f"{name}.ttl").write_text(render(st, "\n".join(lines) + "\n"), encoding="utf-8")


if __name__ == "__main__":
    main()
