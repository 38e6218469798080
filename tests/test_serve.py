"""`collabkg serve` as a real HTTP server on loopback: SPARQL 1.1 Protocol (SPARQLWrapper as the
client), read-only guards, limits, content negotiation, stored queries, validation, query page."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import rdflib

from conftest import CORDIS_CSV_DIR, ROOT, XML_SAMPLE, run_cli
from servers import free_port, stop, wait_http

CKG = "https://w3id.org/collabkg/ontology#"
PROJECT_IRI = "https://w3id.org/collabkg/id/project/"


def start_serve(store_path: Path, *extra: str):
    port = free_port()
    exe = Path(sys.executable).parent / "collabkg"
    proc = subprocess.Popen([str(exe), "serve", "--store", str(store_path), "--port", str(port), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/sparql?query=ASK%7B%7D", proc)
    return proc, base


@pytest.fixture(scope="module")
def served(built_store_path):
    proc, base = start_serve(built_store_path, "--max-rows", "5000")
    yield base
    stop(proc)


def http(url: str, data: bytes | None = None, headers: dict | None = None, method: str | None = None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def sparqlwrapper(base: str, query: str, fmt="json"):
    from SPARQLWrapper import JSON, POST, TURTLE, SPARQLWrapper

    sw = SPARQLWrapper(base + "/sparql")
    sw.setMethod(POST)
    sw.setQuery(query)
    sw.setReturnFormat(JSON if fmt == "json" else TURTLE)
    return sw.queryAndConvert()


def csv_projects() -> set[str]:
    with open(CORDIS_CSV_DIR / "project.csv", newline="", encoding="utf-8") as f:
        return {row["id"] for row in csv.DictReader(f)}


def test_select_with_sparqlwrapper_matches_the_csv_and_the_store(served, built_store):
    got = sparqlwrapper(served, f"SELECT ?p WHERE {{ ?p a <{CKG}Project> }}")
    projects = {b["p"]["value"].removeprefix(PROJECT_IRI) for b in got["results"]["bindings"]}
    assert projects == csv_projects()
    q = f"SELECT ?c (COUNT(?o) AS ?n) WHERE {{ ?o a <{CKG}Organisation> ; <{CKG}country> ?c }} GROUP BY ?c"
    served_counts = {b["c"]["value"]: int(b["n"]["value"]) for b in sparqlwrapper(served, q)["results"]["bindings"]}
    store_counts = {r["c"].value: int(r["n"].value) for r in built_store.query(q)}
    assert served_counts == store_counts and len(served_counts) > 20


def test_get_ask_and_construct(served, built_store):
    status, ctype, body = http(served + "/sparql?" + urllib.parse.urlencode({"query": f"ASK {{ ?p a <{CKG}Project> }}"}))
    assert status == 200 and json.loads(body)["boolean"] is True
    iri = next(iter(built_store.query(f"SELECT ?p WHERE {{ ?p a <{CKG}Project> }} LIMIT 1")))["p"].value
    g = sparqlwrapper(served, f"CONSTRUCT {{ <{iri}> ?p ?o }} WHERE {{ <{iri}> ?p ?o }}", fmt="turtle")
    g2 = rdflib.Graph().parse(data=g, format="turtle") if isinstance(g, (bytes, str)) else g
    expected = {(r["p"].value, r["o"].value) for r in built_store.query(f"SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}")}
    assert {(str(p), str(o)) for _, p, o in g2} == expected


@pytest.mark.parametrize("accept,fmt", [("text/csv", "csv"), ("text/tab-separated-values", "tsv"), ("application/sparql-results+xml", "xml")])
def test_result_formats(served, accept, fmt):
    q = f"SELECT ?p ?t WHERE {{ ?p a <{CKG}Project> ; <{CKG}title> ?t }} ORDER BY ?p LIMIT 5"
    status, ctype, body = http(served + "/sparql?" + urllib.parse.urlencode({"query": q}), headers={"Accept": accept})
    assert status == 200 and ctype.startswith(accept)
    status_j, _, body_j = http(served + "/sparql?" + urllib.parse.urlencode({"query": q}))
    titles = [b["t"]["value"] for b in json.loads(body_j)["results"]["bindings"]]
    text = body.decode("utf-8")
    if fmt == "csv":
        assert [r[1] for r in list(csv.reader(text.splitlines()))[1:]] == titles
    elif fmt == "xml":
        from xml.etree import ElementTree as ET

        ns = {"r": "http://www.w3.org/2005/sparql-results#"}
        assert [e.text for e in ET.fromstring(body).findall(".//r:binding[@name='t']/r:literal", ns)] == titles
    else:
        assert len(text.strip().splitlines()) == len(titles) + 1


def test_updates_and_graph_store_writes_are_refused(served, built_store):
    before = built_store.count_triples()
    upd = "INSERT DATA { GRAPH <urn:x> { <urn:a> <urn:b> <urn:c> } }"
    for data, headers in [
        (urllib.parse.urlencode({"update": upd}).encode(), {"Content-Type": "application/x-www-form-urlencoded"}),
        (upd.encode(), {"Content-Type": "application/sparql-update"}),
        (urllib.parse.urlencode({"query": upd}).encode(), {"Content-Type": "application/x-www-form-urlencoded"}),
    ]:
        status, _, body = http(served + "/sparql", data, headers)
        assert status == 403 and b"read-only" in body
    for path in ("/store?graph=urn:x", "/sparql?graph=urn:x", "/rdf-graph-store?default"):
        for method in ("PUT", "POST", "DELETE"):
            if path.startswith("/sparql") and method == "POST":
                continue  # POST /sparql is a query; covered above
            status, _, _ = http(served + path, b"<urn:a> <urn:b> <urn:c> .", {"Content-Type": "application/n-triples"}, method)
            assert 400 <= status < 500, (path, method, status)
    from SPARQLWrapper import SPARQLWrapper
    from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException
    import urllib.error as ue

    sw = SPARQLWrapper(served + "/sparql")
    sw.setMethod("POST")
    sw.setQuery(upd)
    with pytest.raises((SPARQLWrapperException, ue.HTTPError)):
        sw.query()
    assert built_store.count_triples() == before
    status, _, body = http(served + "/sparql?" + urllib.parse.urlencode({"query": "ASK { GRAPH <urn:x> { ?s ?p ?o } }"}))
    assert json.loads(body)["boolean"] is False


def test_service_to_other_hosts_is_refused(served):
    q = "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } } LIMIT 1"
    status, _, body = http(served + "/sparql?" + urllib.parse.urlencode({"query": q}))
    assert status == 403 and b"SERVICE to example.org is refused" in body
    # The word in a string or comment is not a SERVICE call.
    q = 'SELECT ?x WHERE { BIND("SERVICE <http://example.org/>" AS ?x) } # SERVICE <http://example.org/>'
    status, _, body = http(served + "/sparql?" + urllib.parse.urlencode({"query": q}))
    assert status == 200


def test_result_size_limit_is_a_clear_error(served):
    q = f"SELECT ?o WHERE {{ ?o a <{CKG}Organisation> }}"  # over 8000 rows; the fixture allows 5000
    status, _, body = http(served + "/sparql?" + urllib.parse.urlencode({"query": q}))
    assert status == 413 and b"more than 5000 rows" in body
    status, _, body = http(served + "/sparql?" + urllib.parse.urlencode({"query": q + " LIMIT 10"}))
    assert status == 200 and len(json.loads(body)["results"]["bindings"]) == 10


def test_query_timeout_is_a_clear_error(built_store_path):
    proc, base = start_serve(built_store_path, "--query-timeout", "0.2")
    try:
        q = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?o a <{CKG}Organisation> . ?p a <{CKG}Project> }}"
        status, _, body = http(base + "/sparql?" + urllib.parse.urlencode({"query": q}))
        assert status == 503 and b"timed out after 0.2 s" in body
    finally:
        stop(proc)


def test_syntax_error_is_400(served):
    status, _, body = http(served + "/sparql?query=SELEC")
    assert status == 400 and b"syntax" in body.lower()


def _some_project(store) -> str:
    return next(iter(store.query(f"SELECT ?p WHERE {{ ?p a <{CKG}Project> . ?x <{CKG}project> ?p }} ORDER BY ?p LIMIT 1")))["p"].value


@pytest.mark.parametrize("accept,rdflib_format", [("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/ld+json", "json-ld")])
def test_resource_content_negotiation(served, built_store, accept, rdflib_format):
    iri = _some_project(built_store)
    status, ctype, body = http(served + "/" + iri.removeprefix("https://w3id.org/collabkg/"), headers={"Accept": accept})
    assert status == 200 and ctype.startswith(accept)
    g = rdflib.Graph().parse(data=body.decode("utf-8"), format=rdflib_format)
    expected = {(r["p"].value, r["o"].value) for r in built_store.query(f"SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}")}
    assert {(str(p), str(o)) for s, p, o in g if str(s) == iri} == expected and expected


def test_resource_html_page_links_to_other_resources(served, built_store):
    iri = _some_project(built_store)
    path = "/" + iri.removeprefix("https://w3id.org/collabkg/")
    status, ctype, body = http(served + path, headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"})
    assert status == 200 and ctype.startswith("text/html")
    html = body.decode("utf-8")
    part = next(iter(built_store.query(f"SELECT ?x WHERE {{ ?x <{CKG}project> <{iri}> }} LIMIT 1")))["x"].value
    link = "/" + part.removeprefix("https://w3id.org/collabkg/")
    assert f'href="{link}"' in html
    status, ctype, _ = http(served + link, headers={"Accept": "text/html"})  # the linked page exists too
    assert status == 200
    assert http(served + "/id/project/does-not-exist", headers={"Accept": "text/html"})[0] == 404


def _param_sets():
    from collabkg import catalogue

    out = []
    for q in catalogue.catalogue().values():
        params = {p.name: "TN" for p in q.params if p.required and p.type == "country"}
        out.append((q.name, params))
    out.append(("partner-countries", {"country": "TR"}))
    return out


@pytest.mark.parametrize("name,params", _param_sets())
def test_stored_query_endpoint_matches_cli(served, built_store_path, name, params):
    status, ctype, body = http(served + f"/queries/{name}?" + urllib.parse.urlencode(params))
    assert status == 200, body
    args = [a for k, v in params.items() for a in ("-p", f"{k}={v}")]
    cli = run_cli("query", name, *args, "--store", str(built_store_path), "--format", "json")
    assert cli.returncode == 0, cli.stderr
    assert json.loads(body) == json.loads(cli.stdout)
    status, ctype, body = http(served + f"/queries/{name}?" + urllib.parse.urlencode({**params, "format": "csv"}))
    cli = run_cli("query", name, *args, "--store", str(built_store_path), "--format", "csv")
    assert status == 200 and body.decode("utf-8") == cli.stdout


def test_stored_query_bad_parameter_is_400_with_what_is_allowed(served):
    status, _, body = http(served + "/queries/partner-countries?country=ZZZ")
    assert status == 400 and b"country" in body
    assert http(served + "/queries/no-such-query")[0] == 404


def test_validate_posted_cordis_xml_gives_the_cli_report(served, tmp_path):
    xml = sorted(XML_SAMPLE.glob("*.xml"))[0]
    status, ctype, body = http(served + "/validate?format=json", xml.read_bytes(), {"Content-Type": "application/xml"})
    cli = run_cli("validate", str(xml), "--format", "json")
    assert cli.returncode in (0, 1)
    assert status == (200 if cli.returncode == 0 else 422)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "file"} for r in rows]
    assert strip(json.loads(body)) == strip(json.loads(cli.stdout))


def test_validate_posted_violating_turtle(served):
    case = ROOT / "tests" / "shapes" / "violating" / "organisation-pic-eight-digits.ttl"
    status, _, body = http(served + "/validate", case.read_bytes(), {"Content-Type": "text/turtle"})
    cli = run_cli("validate", str(case))
    assert cli.returncode == 1 and status == 422
    text = body.decode("utf-8")
    assert "does not conform" in text
    assert text.replace("request-body.ttl", case.name).splitlines()[1:] == cli.stdout.replace(str(case), case.name).splitlines()[1:]
    assert http(served + "/validate", b"x", {"Content-Type": "image/png"})[0] == 415


def test_serve_base_is_the_dataset_uri_space_and_the_base_of_posted_records(built_store_path):
    """``serve --base``: the base the store was built under. The dataset description says it
    (void:uriSpace) and a posted record is mapped under it, as ``collabkg validate --base`` maps it."""
    base = "https://example.org/kg/"
    proc, served_at = start_serve(built_store_path, "--base", base, "--workers", "1")
    try:
        status, _, body = http(served_at + "/dataset", headers={"Accept": "text/turtle"})
        d = rdflib.Graph().parse(data=body.decode("utf-8"), format="turtle")
        assert status == 200
        assert {str(o) for o in d.objects(None, rdflib.URIRef("http://rdfs.org/ns/void#uriSpace"))} == {base}
        # The first sample with results (warnings): its report names nodes under the base.
        for xml in sorted(XML_SAMPLE.glob("*.xml")):
            cli = run_cli("validate", str(xml), "--format", "json", "--base", base)
            if json.loads(cli.stdout):
                break
        status, _, body = http(served_at + "/validate?format=json", xml.read_bytes(), {"Content-Type": "application/xml"})
        strip = lambda rows: [{k: v for k, v in r.items() if k != "file"} for r in rows]  # noqa: E731
        assert strip(json.loads(body)) == strip(json.loads(cli.stdout))
        assert base in body.decode("utf-8") and PROJECT_IRI not in body.decode("utf-8")
    finally:
        stop(proc)


def test_serve_binds_loopback_by_default():
    from collabkg.cli import parser

    args = parser().parse_args(["serve"])
    assert args.host == "127.0.0.1"


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def test_query_page_in_headless_chromium(served, built_store, tmp_path):
    """Load the query page, run a query by clicking the button, read the rendered table."""
    from conftest import require_tool
    from servers import Chromium

    exe = require_tool("chromium", "chromium")
    q = f"SELECT ?c (COUNT(?p) AS ?n) WHERE {{ ?p a <{CKG}Project> ; ^<{CKG}project>/<{CKG}organisation>/<{CKG}country> ?c }} GROUP BY ?c ORDER BY DESC(?n) ?c LIMIT 5"
    expected = [[r["c"].value, r["n"].value] for r in built_store.query(q)]
    with Chromium(exe, tmp_path / "profile", CHROMIUM_FLAGS) as browser:
        browser.navigate(served + "/")
        browser.wait_for("document.readyState === 'complete' && document.getElementById('stored').options.length > 1")
        browser.evaluate(f"document.getElementById('query').value = {json.dumps(q)}; document.getElementById('run').click(); true")
        browser.wait_for("/row\\(s\\)/.test(document.getElementById('status').textContent)")
        header = browser.evaluate("[...document.querySelectorAll('#results thead th')].map(e => e.textContent)")
        rows = browser.evaluate("[...document.querySelectorAll('#results tbody tr')].map(r => [...r.cells].map(c => c.textContent))")
    assert header == ["c", "n"]
    assert rows == expected and len(rows) == 5
