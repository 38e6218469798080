"""The stored query catalogue (queries/*.rq): every file's header, parse and answer.

Each query's answer on the store built from the bundled data is compared with an answer
computed here in plain Python from the CSV flattening of CORDIS
(data/cordis-horizon-europe/*.csv) or from the raw OpenAlex JSON, for several parameter
values. No SPARQL is used to compute an expected answer.
"""
from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from functools import lru_cache

import pytest

from conftest import CORDIS_CSV_DIR, OPENALEX_DIR, ROOT, run_cli

from collabkg import catalogue

QUERIES = ROOT / "queries"
NAMES = sorted(p.stem for p in QUERIES.glob("*.rq"))
CORDIS_TO_ISO = {"EL": "GR", "UK": "GB"}
COUNTRIES = ["TN", "TR", "MA", "SA", "EG"]
PUBLICATION_QUERIES = {"cross-oic-works", "coauthor-countries", "collaboration-network"}


# --- the independent source: CSV and JSON read with the csv / json modules ------

@lru_cache(maxsize=1)
def oic() -> frozenset[str]:
    """The OIC list as printed in the data README (checked against the reference data below)."""
    text = (CORDIS_CSV_DIR / "README.md").read_text(encoding="utf-8")
    block = text.split("## OIC member codes used", 1)[1].split("\n\n", 2)[1]
    return frozenset(re.findall(r"\b[A-Z]{2}\b", block))


@lru_cache(maxsize=1)
def projects() -> dict[str, dict]:
    with open(CORDIS_CSV_DIR / "project.csv", encoding="utf-8", newline="") as f:
        return {r["id"]: r for r in csv.DictReader(f)}


@lru_cache(maxsize=1)
def rows() -> list[dict]:
    """organization.csv rows (one per participation), with an ISO country code in 'iso'."""
    with open(CORDIS_CSV_DIR / "organization.csv", encoding="utf-8", newline="") as f:
        out = list(csv.DictReader(f))
    for r in out:
        r["iso"] = CORDIS_TO_ISO.get(r["address/country"], r["address/country"])
    return out


def by_project() -> dict[str, list[dict]]:
    d = defaultdict(list)
    for r in rows():
        d[r["project/id"]].append(r)
    return d


def ec(r: dict) -> Decimal:
    return Decimal(r["@ecContribution"] or 0)


def year(pid: str) -> int:
    return int(projects()[pid]["startDate"][:4])


@lru_cache(maxsize=1)
def work_countries() -> dict[str, frozenset[str]]:
    """OpenAlex work id → country codes of its authorships' institutions."""
    out: dict[str, set[str]] = defaultdict(set)
    for path in sorted(OPENALEX_DIR.glob("*.json")):
        for w in json.loads(path.read_text(encoding="utf-8"))["works"]:
            cs = out[w["id"]]
            for a in w.get("authorships") or []:
                for inst in a.get("institutions") or []:
                    if inst.get("country_code"):
                        cs.add(inst["country_code"])
    return {k: frozenset(v) for k, v in out.items()}


def project_countries() -> dict[str, set[str]]:
    d = defaultdict(set)
    for r in rows():
        d[r["project/id"]].add(r["iso"])
    return d


# --- expected answers, one function per stored query --------------------------

def partner_countries(country):
    n = Counter()
    for cs in project_countries().values():
        if country in cs:
            n.update(cs - {country})
    return sorted(((c, k) for c, k in n.items()), key=lambda t: (-t[1], t[0]))


def oic_country_summary():
    out = []
    for c in oic():
        rs = [r for r in rows() if r["iso"] == c]
        if not rs:
            continue
        coord = {r["project/id"] for r in rs if r["@type"] == "coordinator"}
        out.append((c, len({r["project/id"] for r in rs}), len(rs), len({r["id"] for r in rs}), len(coord), sum(map(ec, rs))))
    return sorted(out, key=lambda t: (-t[1], t[0]))


def projects_per_year(country):
    n = Counter(year(pid) for pid, cs in project_countries().items() if country in cs)
    return sorted(n.items())


def oic_pairs():
    n = Counter()
    for cs in project_countries().values():
        members = sorted(cs & oic())
        n.update((a, b) for i, a in enumerate(members) for b in members[i + 1:])
    return sorted(((a, b, k) for (a, b), k in n.items()), key=lambda t: (-t[2], t[0], t[1]))


def cross_oic_works():
    n = Counter()
    for cs in work_countries().values():
        if cs - oic():
            n.update(cs & oic())
    return sorted(n.items(), key=lambda t: (-t[1], t[0]))


def coauthor_countries(country):
    n = Counter()
    for cs in work_countries().values():
        if country in cs:
            n.update(cs - {country})
    return sorted(n.items(), key=lambda t: (-t[1], t[0]))


def top_organisations(country, limit=20):
    mine = [r for r in rows() if r["iso"] == country]
    pcs = project_countries()
    out = []
    for pic in {r["id"] for r in mine}:
        rs = [r for r in mine if r["id"] == pic]
        pids = {r["project/id"] for r in rs}
        partners = set().union(*(pcs[p] for p in pids)) - {country}
        coord = {r["project/id"] for r in rs if r["@type"] == "coordinator"}
        out.append((pic, rs[0]["legalName"], len(pids), len(coord), len(partners), sum(map(ec, rs))))
    return sorted(out, key=lambda t: (-t[2], t[0]))[:limit]


def funding_by_year(country):
    s = defaultdict(Decimal)
    for r in rows():
        if r["iso"] == country:
            s[year(r["project/id"])] += ec(r)
    return sorted(s.items())


def field_profile(country):
    n = Counter()
    for pid, cs in project_countries().items():
        disp = projects()[pid]["category[euroSciVoc]/displayCode"]
        if country in cs and disp:
            n.update({path.strip("/").split("/")[0] for path in disp.split(";")})
    return sorted(n.items(), key=lambda t: (-t[1], t[0]))


def country_pair_projects(a, b):
    out = []
    for pid, rs in by_project().items():
        cs = {r["iso"] for r in rs}
        if a in cs and b in cs:
            p = projects()[pid]
            coord = [r["iso"] for r in rs if r["@type"] == "coordinator"]
            out.append((pid, p["acronym"], p["title"], date.fromisoformat(p["startDate"]), coord[0] if coord else None))
    return sorted(out, key=lambda t: (t[3], t[0]))


def collaboration_network(min_projects=1):
    def pairs(sets):
        n = Counter()
        for cs in sets:
            s = sorted(cs)
            n.update((a, b) for i, a in enumerate(s) for b in s[i + 1:])
        return n

    p, w = pairs(project_countries().values()), pairs(work_countries().values())
    out = [(a, b, p[(a, b)], w[(a, b)]) for a, b in set(p) | set(w)]
    out = [t for t in out if t[2] >= min_projects or t[3] >= min_projects]
    return sorted(out, key=lambda t: (-t[2], -t[3], t[0], t[1]))


def coordinated_by_oic():
    pids = defaultdict(set)
    for r in rows():
        if r["@type"] == "coordinator" and r["iso"] in oic():
            pids[r["iso"]].add(r["project/id"])
    out = [(c, len(ps), sum(Decimal(projects()[p]["ecMaxContribution"] or 0) for p in ps)) for c, ps in pids.items()]
    return sorted(out, key=lambda t: (-t[1], t[0]))


# name → (expected function, list of parameter sets)
CASES = {
    "partner-countries": (partner_countries, [{"country": c} for c in COUNTRIES] + [{"country": "GR"}]),
    "oic-country-summary": (oic_country_summary, [{}]),
    "projects-per-year": (projects_per_year, [{"country": c} for c in COUNTRIES]),
    "oic-pairs": (oic_pairs, [{}]),
    "cross-oic-works": (cross_oic_works, [{}]),
    "coauthor-countries": (coauthor_countries, [{"country": c} for c in ("SA", "QA", "AE", "TN", "US")]),
    "top-organisations": (top_organisations, [{"country": c} for c in COUNTRIES] + [{"country": "TR", "limit": 5}, {"country": "MA", "limit": 1000}]),
    "funding-by-year": (funding_by_year, [{"country": c} for c in COUNTRIES]),
    "field-profile": (field_profile, [{"country": c} for c in COUNTRIES]),
    "country-pair-projects": (country_pair_projects, [{"a": "TN", "b": "FR"}, {"a": "TR", "b": "MA"}, {"a": "SA", "b": "DE"}, {"a": "EG", "b": "MA"}, {"a": "EG", "b": "GB"}]),
    "collaboration-network": (collaboration_network, [{}, {"min_projects": 3}, {"min_projects": 20}]),
    "coordinated-by-oic": (coordinated_by_oic, [{}]),
}


def test_the_issue_catalogue_is_complete():
    # Other stored queries (e.g. the theme queries) check their answers in their own tests;
    # all files still get the header, parse and run checks below.
    assert set(CASES) <= set(NAMES), sorted(set(CASES) - set(NAMES))


def test_oic_list_of_the_readme_is_the_reference_data():
    from collabkg.reference import oic_members

    assert len(oic()) == 57
    assert oic() == oic_members()


def _openalex_loaded(store) -> bool:
    q = "PREFIX ckg: <https://w3id.org/collabkg/ontology#> ASK { ?w a ckg:Work ; ckg:openalexId ?id }"
    return bool(store.query(q))


def _case_ids():
    for name in NAMES:
        for params in CASES.get(name, (None, [None]))[1]:
            if params is None:  # not one of the issue's queries: run with sample values
                yield pytest.param(name, None, id=name)
                continue
            yield pytest.param(name, params, id=name + ("[" + ",".join(f"{k}={v}" for k, v in params.items()) + "]" if params else ""))


@pytest.mark.parametrize("name,params", list(_case_ids()))
def test_stored_query(name, params, built_store):
    q = catalogue.load(QUERIES / f"{name}.rq")  # header, declared = used parameters, parses, projection
    if params is None:
        params = {p.name: {"country": "TR", "integer": "1"}.get(p.type, p.default) for p in q.params if p.required}
    assert q.summary and q.columns
    # Standard SPARQL: rdflib's parser accepts the text as it is sent to an endpoint.
    from rdflib.plugins.sparql import prepareQuery

    prepareQuery(catalogue.prepare(q, catalogue.bind(q, params)))

    if name in PUBLICATION_QUERIES and not _openalex_loaded(built_store):
        pytest.xfail("OpenAlex source not yet merged")
    if name not in CASES:
        assert catalogue.run(q, built_store, params).rows is not None
        return
    got = [tuple(r.values()) for r in catalogue.run(q, built_store, params).records()]
    expected_fn = CASES[name][0]
    expected = expected_fn(**{k: v for k, v in params.items()})
    assert expected, f"{name} {params}: the independent answer is empty, the case tests nothing"
    assert got == expected


def test_participant_countries_are_the_participants_countries_of_the_csv(built_store):
    """The derived (project, country) pairs the country queries join on are exactly the distinct
    (project, ISO country) pairs of organization.csv, and live in the derived graph only."""
    from collabkg.namespaces import CKG, IRIs, country

    iris = IRIs()
    isos = {r["iso"] for r in rows()}
    iso_of = {country(c): c for c in isos}
    known = {c for c in isos if built_store.query(f"ASK {{ <{country(c)}> <{CKG}iso2> ?code }}")}
    want = {(iris.project(r["project/id"]), r["iso"]) for r in rows() if r["iso"] in known}
    found = list(built_store.query(f"SELECT ?g ?p ?c WHERE {{ GRAPH ?g {{ ?p <{CKG}participantCountry> ?c }} }}"))
    assert {r["g"].value for r in found} == {iris.graph("derived", "project-countries")}
    got = [(r["p"].value, iso_of.get(r["c"].value, r["c"].value)) for r in found]
    assert len(got) == len(set(got))
    assert len(want) > 5000 and set(got) == want


# --- loader errors name the file ----------------------------------------------

GOOD = """#+ summary: test
#+ params:
#+   - {name: country, type: country, required: true}
#+ columns:
#+   - {name: n, meaning: count}
SELECT (COUNT(*) AS ?n) WHERE { ?o <https://w3id.org/collabkg/ontology#country> ?_country }
"""


@pytest.mark.parametrize(
    "text,message",
    [
        (GOOD.replace("#+ summary: test", "#+ summary: [unclosed"), "not valid YAML"),
        (GOOD.replace("?_country }", "?c }"), "declared but not used"),
        (GOOD.replace("?_country }", "?_country . ?o ?p ?_other }"), "used in the query but not declared"),
        (GOOD.replace("type: country", "type: person"), "is not one of"),
        (GOOD.replace("{name: n,", "{name: m,"), "declares columns"),
        (GOOD.replace("(COUNT(*) AS ?n)", "(COUNT(*) AS ?n"), "syntax error"),
        (GOOD.replace("#+ summary: test\n", ""), "summary is missing"),
        ("SELECT * WHERE { ?s ?p ?o }\n", "no '#+' header"),
        (GOOD.replace("#+ columns:", "#+ colums: []\n#+ columns:"), "unknown header key"),
        (GOOD.replace("required: true", "default: ZZ"), "is not a country code"),
    ],
)
def test_broken_query_file_is_an_error_naming_the_file(tmp_path, text, message):
    path = tmp_path / "broken-query.rq"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(catalogue.CatalogueError) as e:
        catalogue.load(path)
    assert str(e.value).startswith(str(path)), e.value
    assert message in str(e.value)
    assert catalogue.load  # a good file loads
    (tmp_path / "good.rq").write_text(GOOD, encoding="utf-8")
    assert catalogue.load(tmp_path / "good.rq").params[0].name == "country"


# --- parameters -------------------------------------------------------------------

def test_country_parameter_accepts_cordis_codes_and_binds_the_country_iri():
    q = catalogue.get("partner-countries")
    assert catalogue.bind(q, {"country": "EL"})["country"].value == "https://w3id.org/collabkg/country/GR"
    assert catalogue.bind(q, {"country": "uk"})["country"].value == "https://w3id.org/collabkg/country/GB"
    for bad in ("XX", "TUN", "", "T N", "https://w3id.org/collabkg/country/TN"):
        with pytest.raises(catalogue.ParamError, match="allowed"):
            catalogue.bind(q, {"country": bad})


def test_unknown_or_missing_parameter_lists_what_is_allowed():
    q = catalogue.get("top-organisations")
    with pytest.raises(catalogue.ParamError, match=r"unknown parameter 'contry'.*country \(country, required\).*limit"):
        catalogue.bind(q, {"contry": "TN"})
    with pytest.raises(catalogue.ParamError, match="missing parameter country"):
        catalogue.bind(q, {})
    with pytest.raises(catalogue.ParamError, match="outside 1"):
        catalogue.bind(q, {"country": "TN", "limit": "0"})
    with pytest.raises(catalogue.ParamError, match="no stored query"):
        catalogue.get("no-such-query")


def test_python_api(built_store_path):
    import collabkg

    got = collabkg.query("partner-countries", store=built_store_path, country="TN")
    assert [(r["country"], r["projects"]) for r in got] == partner_countries("TN")


# --- the command line -------------------------------------------------------------

def test_cli_lists_the_catalogue():
    r = run_cli("queries")
    assert r.returncode == 0, r.stderr
    for name in NAMES:
        assert name in r.stdout
    assert "country (country, required)" in r.stdout


def test_cli_csv_has_the_declared_columns_and_plain_values(built_store_path):
    r = run_cli("query", "country-pair-projects", "--param", "a=TN", "--param", "b=EL", "--store", str(built_store_path), "--format", "csv")
    assert r.returncode == 0, r.stderr
    got = list(csv.reader(r.stdout.splitlines()))
    assert got[0] == ["project", "acronym", "title", "start_date", "coordinator_country"]
    expected = country_pair_projects("TN", "GR")
    assert [row[0] for row in got[1:]] == [t[0] for t in expected]
    assert [row[3] for row in got[1:]] == [t[3].isoformat() for t in expected]
    assert [row[4] for row in got[1:]] == [t[4] for t in expected]

    r = run_cli("query", "oic-country-summary", "--store", str(built_store_path), "--format", "csv")
    got = list(csv.reader(r.stdout.splitlines()))
    assert got[0] == ["country", "projects", "participations", "organisations", "coordinated", "ec_contribution"]
    for row, exp in zip(got[1:], oic_country_summary()):
        assert re.fullmatch(r"\d+(\.\d+)?", row[5]), row  # a plain decimal: no exponent, no datatype
        assert Decimal(row[5]) == exp[5] and row[0] == exp[0]


@pytest.mark.parametrize(
    "args,message",
    [
        (["query", "partner-countries", "--param", "country=XX"], "not a country code"),
        (["query", "partner-countries", "--param", "land=TN"], "unknown parameter 'land'"),
        (["query", "partner-countries"], "missing parameter country"),
        (["query", "top-organisations", "--param", "country=TN", "--param", "limit=ten"], "not an integer"),
        (["query", "no-such-query"], "no stored query"),
        (["query", "partner-countries", "--param", "country"], "expected KEY=VALUE"),
    ],
)
def test_cli_wrong_parameter_is_exit_2(args, message, tmp_path):
    r = run_cli(*args, "--store", str(tmp_path / "none"))
    assert r.returncode == 2
    assert message in r.stderr
