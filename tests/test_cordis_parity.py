"""Parity with the CSV flattening of the same XML: every project and every participation
row is in the graph with the same (typed) values, and nothing extra."""
from __future__ import annotations

import csv
from collections import Counter, defaultdict
from datetime import date, datetime
from decimal import Decimal

import pytest

from conftest import CORDIS_CSV_DIR
from collabkg.namespaces import CKG, COUNTRY, IRIs

CSV_FIX = {"EL": "GR", "UK": "GB"}


def _csv(name: str) -> list[dict]:
    with open(CORDIS_CSV_DIR / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def projects_csv():
    return _csv("project.csv")


@pytest.fixture(scope="module")
def orgs_csv():
    return _csv("organization.csv")


def _values(store, query: str) -> dict:
    """Run a SELECT with ?s ?v and return {s: set of (value, datatype)}."""
    out = defaultdict(set)
    # Oxigraph's union default graph is a bag (a triple stated in k record graphs comes back
    # k times), so ask for distinct solutions.
    for row in store.query(query.replace("SELECT ?s ?v", "SELECT DISTINCT ?s ?v", 1)):
        v = row["v"]
        out[row["s"].value].add(v.value)
    return out


def _project_prop(store, prop: str) -> dict:
    return _values(store, f"SELECT ?s ?v WHERE {{ ?s a <{CKG}Project> ; <{CKG}{prop}> ?v }}")


def test_every_project_is_there_once(built_store, projects_csv):
    iris = IRIs()
    in_graph = {r["s"].value for r in built_store.query(f"SELECT ?s WHERE {{ ?s a <{CKG}Project> }}")}
    expected = {iris.project(r["id"]) for r in projects_csv}
    assert len(expected) == len(projects_csv) == 1027
    assert in_graph == expected


def _num(s: str) -> Decimal:
    return Decimal(s)


@pytest.mark.parametrize(
    "column,prop,convert",
    [
        ("acronym", "acronym", str),
        ("title", "title", str),
        ("teaser", "teaser", str),
        ("objective", "objective", str),
        ("status", "status", str),
        ("rcn", "rcn", str),
        ("totalCost", "totalCost", _num),
        ("ecMaxContribution", "ecMaxContribution", _num),
        ("startDate", "startDate", date.fromisoformat),
        ("endDate", "endDate", date.fromisoformat),
        ("ecSignatureDate", "signatureDate", date.fromisoformat),
        ("terminationDate", "terminationDate", lambda v: date.fromisoformat(v[:10])),
        ("duration", "durationMonths", int),
        ("identifiers/grantDoi", "grantDoi", str),
        ("contentUpdateDate", "contentUpdateDate", datetime.fromisoformat),
        ("lastUpdateDate", "lastUpdateDate", datetime.fromisoformat),
    ],
)
def test_project_values(built_store, projects_csv, column, prop, convert):
    """Each project's value equals the CSV cell (typed); an empty cell gives no triple."""
    iris = IRIs()
    graph = _project_prop(built_store, prop)
    back = {
        "totalCost": Decimal, "ecMaxContribution": Decimal, "durationMonths": int,
        "startDate": date.fromisoformat, "endDate": date.fromisoformat, "signatureDate": date.fromisoformat,
        "terminationDate": date.fromisoformat, "contentUpdateDate": datetime.fromisoformat,
        "lastUpdateDate": datetime.fromisoformat,
    }.get(prop, str)
    mismatches = []
    for row in projects_csv:
        s = iris.project(row["id"])
        cell = row[column]
        got = {back(v) for v in graph.get(s, ())}
        want = {convert(cell)} if cell.strip() else set()
        if got != want:
            mismatches.append((row["id"], want, got))
    assert not mismatches, mismatches[:5]


def test_project_keywords_calls_topics_schemes(built_store, projects_csv):
    iris = IRIs()
    kw = _project_prop(built_store, "keyword")
    calls = _values(built_store, f"SELECT ?s ?v WHERE {{ ?s <{CKG}call>/<{CKG}code> ?v }}")
    subcalls = _values(built_store, f"SELECT ?s ?v WHERE {{ ?s <{CKG}subCall>/<{CKG}code> ?v }}")
    topics = _values(built_store, f"SELECT ?s ?v WHERE {{ ?s <{CKG}topic>/<{CKG}code> ?v }}")
    schemes = _values(built_store, f"SELECT ?s ?v WHERE {{ ?s <{CKG}fundingScheme>/<{CKG}code> ?v }}")
    legal = _values(built_store, f"SELECT ?s ?v WHERE {{ ?s <{CKG}legalBasis>/<{CKG}code> ?v }}")
    main = _values(built_store, f"SELECT ?s ?v WHERE {{ ?s <{CKG}mainLegalBasis>/<{CKG}code> ?v }}")
    fields = _values(built_store, f"SELECT ?s ?v WHERE {{ ?s <{CKG}fieldOfScience>/<http://www.w3.org/2004/02/skos/core#notation> ?v }}")
    for row in projects_csv:
        s = iris.project(row["id"])
        assert kw.get(s, set()) == {k.strip() for k in row["keywords"].split(",") if k.strip()}, row["id"]
        assert calls.get(s, set()) == ({row["call[relatedMasterCall]/identifier"]} - {""}), row["id"]
        assert subcalls.get(s, set()) == ({row["call[relatedSubCall]/identifier"]} - {""}), row["id"]
        assert topics.get(s, set()) == (set(row["programme[relatedTopic]/code"].split(";")) - {""}), row["id"]
        assert schemes.get(s, set()) == ({row["category[projectFundingSchemeCategory]/code"].lstrip("/")} - {""}), row["id"]
        codes = row["programme[relatedLegalBasis]/code"].split(";")
        flags = row["programme[relatedLegalBasis]/@uniqueProgrammePart"].split(";")
        assert legal.get(s, set()) == set(codes) - {""}, row["id"]
        assert main.get(s, set()) == {c for c, f in zip(codes, flags) if f == "true"}, row["id"]
        leaf_codes = {c.rstrip("/").split("/")[-1] for c in row["category[euroSciVoc]/code"].split(";") if c}
        assert fields.get(s, set()) == leaf_codes, row["id"]


def test_euroscivoc_hierarchy_and_labels(built_store, projects_csv):
    """Each field's skos:broader chain and labels follow the source code/label paths."""
    broader = {}
    label = {}
    skos = "http://www.w3.org/2004/02/skos/core#"
    for r in built_store.query(f"SELECT ?n ?b WHERE {{ ?f <{skos}notation> ?n ; <{skos}broader>/<{skos}notation> ?b }}"):
        broader[r["n"].value] = r["b"].value
    for r in built_store.query(f"SELECT ?n ?l WHERE {{ ?f a <{CKG}FieldOfScience> ; <{skos}notation> ?n ; <{skos}prefLabel> ?l }}"):
        label[r["n"].value] = r["l"].value
    checked = 0
    for row in projects_csv:
        codes = [c for c in row["category[euroSciVoc]/code"].split(";") if c]
        labels = [c for c in row["category[euroSciVoc]/displayCode"].split(";") if c]
        for code, lab in zip(codes, labels):
            cs, ls = code.strip("/").split("/"), lab.strip("/").split("/")
            for i in range(1, len(cs)):
                assert broader[cs[i]] == cs[i - 1]
            assert cs[0] not in broader
            if len(cs) == len(ls):
                for c, l in zip(cs, ls):
                    assert label[c] == l
                    checked += 1
    assert checked > 1000


ORG_COLUMNS = [
    ("@ecContribution", "ecContribution", Decimal, "part"),
    ("@netEcContribution", "netEcContribution", Decimal, "part"),
    ("@totalCost", "totalCost", Decimal, "part"),
    ("@terminated", "terminated", lambda v: v == "true", "part"),
    ("@sme", "sme", lambda v: v == "true", "part"),
    ("@order", "order", int, "part"),
    ("legalName", "legalName", str, "org"),
    ("shortName", "shortName", str, "org"),
    ("vatNumber", "vatNumber", str, "org"),
    ("departmentName", "departmentName", str, "org"),
    ("rcn", "rcn", str, "org"),
    ("address/url", "url", lambda v: v.strip(), "org"),
    ("address/street", "street", str, "addr"),
    ("address/postBox", "postBox", str, "addr"),
    ("address/postalCode", "postcode", str, "addr"),
    ("address/city", "city", str, "addr"),
]


def test_every_participation_row(built_store, orgs_csv):
    """All 17,290 rows: role, organisation and every typed value; no participant from results."""
    iris = IRIs()
    assert len(orgs_csv) == 17290
    rows = list(
        built_store.query(
            f"SELECT ?p ?proj ?org ?role WHERE {{ ?p a <{CKG}Participation> ; <{CKG}project> ?proj ; "
            f"<{CKG}organisation> ?org ; <{CKG}role> ?role }}"
        )
    )
    graph = {r["p"].value: (r["proj"].value, r["org"].value, r["role"].value) for r in rows}
    assert len(rows) == len(graph) == 17290
    role_iri = {"coordinator": "CoordinatorRole", "participant": "ParticipantRole", "associatedPartner": "AssociatedPartnerRole", "thirdParty": "ThirdPartyRole"}
    for r in orgs_csv:
        p = iris.participation(r["project/id"], r["@order"], r["@type"], r["id"])
        assert graph[p] == (iris.project(r["project/id"]), iris.organisation(r["id"]), CKG + role_iri[r["@type"]])


def test_participation_and_organisation_values(built_store, orgs_csv):
    """Participation values equal the row's (typed). An organisation has one value per field,
    one that its rows give (one PIC can be spelt differently in different project records)."""
    iris = IRIs()
    subject_of = {
        "part": lambda r: iris.participation(r["project/id"], r["@order"], r["@type"], r["id"]),
        "org": lambda r: iris.organisation(r["id"]),
        "addr": lambda r: iris.organisation(r["id"]),
    }
    pattern = {
        "part": "?s a <{ckg}Participation> ; <{ckg}{prop}> ?v",
        "org": "?s <{ckg}pic> ?pic ; <{ckg}{prop}> ?v",
        "addr": "?s <{ckg}pic> ?pic ; <{ckg}address> ?a . ?a <{ckg}{prop}> ?v",
    }
    problems = Counter()
    for col, prop, conv, kind in ORG_COLUMNS:
        values = _values(built_store, "SELECT ?s ?v WHERE { " + pattern[kind].format(ckg=CKG, prop=prop) + " }")
        per_pic = defaultdict(set)  # every value the CSV rows give for one organisation
        always = defaultdict(lambda: True)  # does every row of this PIC give a value?
        for r in orgs_csv:
            cell = r[col]
            got = {conv(v) for v in values.get(subject_of[kind](r), ())}
            want = {conv(cell)} if cell.strip() else set()
            if kind == "part" and got != want:
                problems[col] += 1
            per_pic[r["id"]] |= want
            always[r["id"]] &= bool(want)
        if kind != "part":
            # The organisation is stated once (by the latest record describing it): one value,
            # and one that a row of this PIC gives.
            for pic, wanted in per_pic.items():
                got = {conv(v) for v in values.get(iris.organisation(pic), ())}
                if len(got) > 1 or not got <= wanted or (always[pic] and not got):
                    problems[col] += 1
    assert not problems, problems


def test_countries_iso_with_source_code_kept(built_store, orgs_csv):
    iris = IRIs()
    country = _values(built_store, f"SELECT ?s ?v WHERE {{ ?s a <{CKG}Organisation> ; <{CKG}country> ?v }}")
    source = _values(built_store, f"SELECT ?s ?v WHERE {{ ?s a <{CKG}Organisation> ; <{CKG}sourceCountryCode> ?v }}")
    for r in orgs_csv:
        o = iris.organisation(r["id"])
        assert COUNTRY + CSV_FIX.get(r["address/country"], r["address/country"]) in country[o]
        assert r["address/country"] in source[o]
    assert any(COUNTRY + "GR" in v for v in country.values()) and any("EL" in v for v in source.values())


def test_geolocation_split_into_decimals(built_store, orgs_csv):
    iris = IRIs()
    lat = _values(built_store, f"SELECT ?s ?v WHERE {{ ?s <{CKG}address> ?a . ?a <{CKG}latitude> ?v }}")
    lon = _values(built_store, f"SELECT ?s ?v WHERE {{ ?s <{CKG}address> ?a . ?a <{CKG}longitude> ?v }}")
    rows_of = defaultdict(set)
    for r in orgs_csv:
        if r["address/geolocation"]:
            a, b = r["address/geolocation"].split(",")
            rows_of[iris.organisation(r["id"])].add((Decimal(a), Decimal(b)))
    assert rows_of
    for o, pairs in rows_of.items():
        got = {(Decimal(a), Decimal(b)) for a in lat.get(o, ()) for b in lon.get(o, ())}
        assert len(got) == 1 and got <= pairs, o


def test_postcodes_keep_leading_zeros(built_store, orgs_csv):
    zeros = {r["address/postalCode"] for r in orgs_csv if r["address/postalCode"].startswith("0")}
    assert zeros
    got = {r["v"].value for r in built_store.query(f"SELECT ?v WHERE {{ ?a <{CKG}postcode> ?v FILTER(STRSTARTS(?v, '0')) }}")}
    assert zeros <= got


def test_no_participant_from_results(built_store, orgs_csv):
    per_project = Counter(r["project/id"] for r in orgs_csv)
    rows = built_store.query(
        f"SELECT ?g (COUNT(?p) AS ?n) WHERE {{ ?p a <{CKG}Participation> ; <{CKG}project>/<{CKG}grantNumber> ?g }} GROUP BY ?g"
    )
    got = {r["g"].value: int(r["n"].value) for r in rows}
    assert got == dict(per_project)
