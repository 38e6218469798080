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
    for row in store.query(query):
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
    iris = IRIs()
    part = {}
    for col, prop, conv, kind in ORG_COLUMNS:
        if kind == "part":
            q = f"SELECT ?s ?v WHERE {{ ?s a <{CKG}Participation> ; <{CKG}{prop}> ?v }}"
        elif kind == "org":
            q = f"SELECT ?s ?v WHERE {{ ?s a <{CKG}Organisation> ; <{CKG}{prop}> ?v }}"
        else:
            q = f"SELECT ?s ?v WHERE {{ ?s a <{CKG}Organisation> ; <{CKG}address>/<{CKG}{prop}> ?v }}"
        part[col] = (_values(built_store, q), conv, kind)
    back = {Decimal: Decimal, int: int}
    problems = Counter()
    for r in orgs_csv:
        pi = iris.participation(r["project/id"], r["@order"], r["@type"], r["id"])
        oi = iris.organisation(r["id"])
        for col, (values, conv, kind) in part.items():
            subject = pi if kind == "part" else oi
            cell = r[col]
            got = values.get(subject, set())
            if kind == "part":
                typed = {conv(v) if conv not in (str,) else v for v in got} if conv not in (Decimal, int) else {conv(v) for v in got}
                if conv not in (Decimal, int, str):
                    typed = {v == "true" for v in got}
                want = {conv(cell)} if cell.strip() else set()
                if typed != want:
                    problems[col] += 1
            else:
                # an organisation may carry several spellings (one per project record): the row's is among them
                if cell.strip():
                    if conv(cell) not in got:
                        problems[col] += 1
                elif kind == "org" and col != "address/url" and got and r["id"] in ():
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
    lat = _values(built_store, f"SELECT ?s ?v WHERE {{ ?s <{CKG}address>/<{CKG}latitude> ?v }}")
    lon = _values(built_store, f"SELECT ?s ?v WHERE {{ ?s <{CKG}address>/<{CKG}longitude> ?v }}")
    n = 0
    for r in orgs_csv:
        if r["address/geolocation"]:
            a, b = r["address/geolocation"].split(",")
            o = iris.organisation(r["id"])
            assert Decimal(a) in {Decimal(v) for v in lat[o]}
            assert Decimal(b) in {Decimal(v) for v in lon[o]}
            n += 1
    assert n == sum(1 for r in orgs_csv if r["address/geolocation"])


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
