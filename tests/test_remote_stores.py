"""Remote stores on real SPARQL servers: Oxigraph server and Virtuoso Open Source 7.

`collabkg build` loads into each server over the Graph Store Protocol; every stored query must
then answer as the embedded store does on the same data. Oxigraph server gets the whole bundled
data (compared with the session's `built_store`); Virtuoso gets a subset (the 14 CORDIS XML
sample records and the OpenAlex sample), compared with an embedded store built from the same
files, because the full build over HTTP into Virtuoso takes about five minutes.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess

import pyoxigraph as ox
import pytest

from conftest import IN_CI, OPENALEX_DIR, ROOT, XML_SAMPLE, require_tool, run_cli
import servers

CKG = "https://w3id.org/collabkg/ontology#"
SUBSET = [str(XML_SAMPLE), str(OPENALEX_DIR)]


def _ensure_system_tools() -> None:
    if not shutil.which("virtuoso-t") and os.geteuid() == 0:
        subprocess.run(["bash", str(ROOT / "tools" / "system-deps.sh")], check=False)


@pytest.fixture(scope="module")
def oxigraph_server(tmp_path_factory):
    if not servers.oxigraph_exe():
        msg = "the oxigraph server is missing: pip install oxigraph (the test extra)"
        pytest.fail(msg) if IN_CI else pytest.skip(msg)
    gen = servers.start_oxigraph(tmp_path_factory.mktemp("oxigraph"))
    yield next(gen)
    next(gen, None)


@pytest.fixture(scope="module")
def virtuoso_server(tmp_path_factory):
    _ensure_system_tools()
    require_tool("virtuoso-t", "virtuoso-opensource-7")
    require_tool("isql-vt", "virtuoso-opensource-7")
    work = tmp_path_factory.mktemp("virtuoso")
    gen = servers.start_virtuoso(work, bulk_dir=work / "bulk")
    yield next(gen)
    next(gen, None)


@pytest.fixture(scope="module")
def subset_store(tmp_path_factory):
    from collabkg.importing import build
    from collabkg.store import EmbeddedStore

    path = tmp_path_factory.mktemp("subset") / "store"
    with EmbeddedStore(path) as store:
        build(store, SUBSET, progress=False, err=io.StringIO())
    store = EmbeddedStore(path, read_only=True)
    yield store
    store.close()


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def loaded(request):
    """(server, embedded store with the same data, paths built) after `collabkg build` into the server."""
    server = request.getfixturevalue(f"{request.param}_server")
    if request.param == "oxigraph":
        paths, embedded = [], request.getfixturevalue("built_store")
    else:
        paths, embedded = SUBSET, request.getfixturevalue("subset_store")
    r = run_cli("build", *paths, *server.cli_args(), "--no-progress", env=server.env)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "records rejected  0" in r.stdout
    return server, embedded, paths


def _param_sets():
    from collabkg import catalogue

    for q in catalogue.catalogue().values():
        yield q.name, {p.name: "TN" for p in q.params if p.required and p.type == "country"}
    yield "partner-countries", {"country": "TR"}


def test_build_gives_the_same_classes(loaded):
    server, embedded, _ = loaded
    from collabkg.importing import class_counts

    remote = {c: n for c, n in class_counts(server.store()).items() if c.startswith(CKG)}
    assert remote == {c: n for c, n in class_counts(embedded).items() if c.startswith(CKG)}
    assert remote[CKG + "Project"] > 10


@pytest.mark.parametrize("name,params", list(_param_sets()), ids=lambda v: v if isinstance(v, str) else "-".join(v.values()) or "default")
def test_every_stored_query_answers_as_the_embedded_store(loaded, name, params):
    from collabkg import catalogue

    server, embedded, _ = loaded
    q = catalogue.get(name)
    want = catalogue.run(q, embedded, params).plain_rows()
    got = catalogue.run(q, server.store(), params).plain_rows()
    assert sorted(got) == sorted(want)


def test_stored_queries_are_not_all_empty(loaded):
    """The comparison above is not between empty answers."""
    from collabkg import catalogue

    _, embedded, _ = loaded
    assert sum(bool(catalogue.run(catalogue.get(n), embedded, p).rows) for n, p in _param_sets()) >= 5


def test_cli_query_and_sparql_on_the_endpoint(loaded, tmp_path):
    server, embedded, _ = loaded
    store_arg = ["--store", embedded.location]
    a = run_cli("query", "partner-countries", "-p", "country=TN", "--format", "csv", "--endpoint", server.query)
    b = run_cli("query", "partner-countries", "-p", "country=TN", "--format", "csv", *store_arg)
    assert a.returncode == b.returncode == 0, a.stderr
    assert sorted(a.stdout.splitlines()) == sorted(b.stdout.splitlines())
    q = f"SELECT (COUNT(DISTINCT ?w) AS ?n) WHERE {{ ?w a <{CKG}Work> }}"
    a = run_cli("sparql", q, "--format", "csv", "--endpoint", server.query)
    b = run_cli("sparql", q, "--format", "csv", *store_arg)
    assert a.returncode == 0 and a.stdout == b.stdout
    a = run_cli("sparql", "SELEC nothing", "--endpoint", server.query)
    assert a.returncode == 2 and "syntax" in a.stderr.lower()


def test_validate_against_the_endpoint(loaded):
    server, embedded, _ = loaded
    xml = str(sorted(XML_SAMPLE.glob("*.xml"))[0])
    a = run_cli("validate", xml, "--format", "json", "--endpoint", server.query)
    b = run_cli("validate", xml, "--format", "json", "--store", embedded.location)
    assert a.returncode == b.returncode, a.stderr
    strip = lambda rows: sorted(json.dumps({k: v for k, v in r.items() if k != "file"}, sort_keys=True) for r in rows)
    assert strip(json.loads(a.stdout)) == strip(json.loads(b.stdout))


def test_export_from_the_endpoint_equals_export_from_the_store(oxigraph_server, tmp_path):
    """Build the subset into a fresh graph set, export both ways, compare (one server suffices)."""
    base = "https://example.org/export-test/"
    s = oxigraph_server
    from collabkg.importing import ingest
    from collabkg.store import EmbeddedStore

    with s.store() as remote:
        ingest(remote, [str(XML_SAMPLE)], base=base, progress=False, err=io.StringIO())
    with EmbeddedStore(tmp_path / "emb") as emb:
        ingest(emb, [str(XML_SAMPLE)], base=base, progress=False, err=io.StringIO())
    a = run_cli("export", "--endpoint", s.query, "--base", base, "--graph", "cordis", "--format", "ntriples", "--out", str(tmp_path / "a.nt"), "--no-description")
    b = run_cli("export", "--store", str(tmp_path / "emb"), "--base", base, "--graph", "cordis", "--format", "ntriples", "--out", str(tmp_path / "b.nt"), "--no-description")
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    assert (tmp_path / "a.nt").read_bytes() == (tmp_path / "b.nt").read_bytes()
    assert (tmp_path / "a.nt").stat().st_size > 10_000


def _triples(n: int, tag: str) -> list[ox.Triple]:
    return [ox.Triple(ox.NamedNode(f"urn:test:s{i}"), ox.NamedNode("urn:test:p"), ox.Literal(f"{tag} {i}")) for i in range(n)]


def _graph(store, g: str) -> set:
    return {(r["s"].value, r["o"].value) for r in store.query(f"SELECT ?s ?o WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}")}


@pytest.mark.parametrize("server_name", ["oxigraph", "virtuoso"])
def test_failed_graph_store_batch_is_reported_and_undone(request, server_name):
    from collabkg.store import StoreError

    server = request.getfixturevalue(f"{server_name}_server")
    store = server.store()
    g1, g2, g3 = (f"urn:test:{server_name}:g{i}" for i in (1, 2, 3))
    store.replace_graphs([(g1, _triples(3, "old"))])
    old = _graph(store, g1)
    # The third graph's name is not an IRI: the server refuses that PUT after g1 and g2 were written.
    with pytest.raises(StoreError) as e:
        store.replace_graphs([(g1, _triples(5, "new")), (g2, _triples(2, "new")), ("not an iri", _triples(1, "x"))])
    assert "not applied" in str(e.value) and "3 graph(s)" in str(e.value) and "not an iri" in str(e.value)
    assert _graph(store, g1) == old  # put back
    assert _graph(store, g2) == set()  # removed again
    store.replace_graphs([(g1, _triples(4, "new"))], add=[(g3, _triples(1, "shared"))])
    assert len(_graph(store, g1)) == 4 and len(_graph(store, g3)) == 1


def test_update_endpoint_batches_are_atomic(oxigraph_server):
    from collabkg.remote_store import RemoteStore
    from collabkg.store import StoreError

    store = RemoteStore(oxigraph_server.query, oxigraph_server.update)
    store.replace_graphs([("urn:test:u1", _triples(3, "old"))])
    before = _graph(store, "urn:test:u1")
    with pytest.raises(StoreError, match="not applied"):
        store.replace_graphs([("urn:test:u1", _triples(5, "new")), ("urn:test:u2", [ox.Triple(ox.NamedNode("urn:a"), ox.NamedNode("urn:b"), ox.Literal("x"))]),
                              ("bad iri>", _triples(1, "x"))])
    assert _graph(store, "urn:test:u1") == before and _graph(store, "urn:test:u2") == set()


def test_replacing_some_subjects_of_a_graph_keeps_the_rest_on_both_stores(oxigraph_server, tmp_path):
    """``replace_subjects`` (incremental enrichment): the endpoint's (read, filter, replace the
    graph) and the embedded store's (one UPDATE) give the same graph."""
    from collabkg.remote_store import RemoteStore
    from collabkg.store import EmbeddedStore

    g = "urn:test:derived"
    new = ox.serialize([ox.Triple(ox.NamedNode("urn:test:s1"), ox.NamedNode("urn:test:p"), ox.Literal("new 1"))],
                       format=ox.RdfFormat.N_TRIPLES)
    want = {("urn:test:s1", "new 1"), ("urn:test:s3", "old 3"), ("urn:test:s4", "old 4")}
    with EmbeddedStore(tmp_path / "emb") as emb:
        for store in (RemoteStore(oxigraph_server.query, oxigraph_server.update), emb):
            store.replace_graphs([(g, _triples(5, "old"))])
            store.replace_subjects(g, {"urn:test:s0", "urn:test:s1", "urn:test:s2"}, new)
            assert _graph(store, g) == want, type(store).__name__


def test_read_only_and_missing_write_endpoint_are_refused(oxigraph_server):
    from collabkg.remote_store import RemoteStore
    from collabkg.store import StoreError

    with pytest.raises(StoreError, match="read-only"):
        RemoteStore(oxigraph_server.query, graph_store=oxigraph_server.graph_store, read_only=True).replace_graphs([("urn:x", _triples(1, "x"))])
    with pytest.raises(StoreError, match="--graph-store"):
        RemoteStore(oxigraph_server.query).replace_graphs([("urn:x", _triples(1, "x"))])


def test_unreachable_endpoint_is_a_clear_cli_error():
    r = run_cli("query", "partner-countries", "-p", "country=TN", "--endpoint", f"http://127.0.0.1:{servers.free_port()}/sparql")
    assert r.returncode == 2 and "cannot reach the SPARQL endpoint" in r.stderr


def test_virtuoso_bulk_load_of_nquads_batches(virtuoso_server, tmp_path):
    """--bulk-dir writes the batches as N-Quads; Virtuoso's ld_dir/rdf_loader_run loads them."""
    from collabkg.importing import ingest
    from collabkg.remote_store import RemoteStore
    from collabkg.store import EmbeddedStore

    base = "https://example.org/bulk-test/"
    bulk = virtuoso_server.query  # queries (validation context) still go to the endpoint
    bulk_dir = virtuoso_server.bulk_dir  # a folder the server's ini allows (DirsAllowed)
    with RemoteStore(bulk, bulk_dir=bulk_dir) as store:
        # enrich=False: links and themes are computed from the loaded data (`collabkg load` does it
        # after the server has bulk-loaded the files); here only the records' own graphs are compared.
        summary = ingest(store, [str(XML_SAMPLE)], base=base, progress=False, err=io.StringIO(), enrich=False)
    files = sorted(bulk_dir.glob("*.nq"))
    assert files and not list(bulk_dir.glob("*.part"))
    servers.virtuoso_isql(virtuoso_server.sql_port, f"ld_dir('{bulk_dir}', '*.nq', 'urn:collabkg:bulk'); rdf_loader_run(); checkpoint;")
    with EmbeddedStore(tmp_path / "emb") as emb:
        ingest(emb, [str(XML_SAMPLE)], base=base, progress=False, err=io.StringIO(), enrich=False)
        q = f"SELECT ?p WHERE {{ GRAPH ?g {{ ?p a <{CKG}Project> }} FILTER(STRSTARTS(STR(?g), '{base}')) }}"
        want = {r["p"].value for r in emb.query(q)}
        n = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), '{base}graph/')) }}"
        want_n = int(next(iter(emb.query(n)))["n"].value)
    remote = virtuoso_server.store()
    assert {r["p"].value for r in remote.query(q)} == want and len(want) == 14
    assert int(next(iter(remote.query(n)))["n"].value) == want_n
    assert summary.accepted == 14


def test_audit_on_the_endpoint_matches_the_store(tmp_path):
    """`audit --endpoint` finds what `audit --store` finds (the CORDIS XML sample on a server of its own)."""
    from collabkg.importing import build
    from collabkg.store import EmbeddedStore

    # A server of its own: the module's server already holds other graphs.
    (tmp_path / "ox").mkdir()
    gen = servers.start_oxigraph(tmp_path / "ox")
    server = next(gen)
    try:
        with server.store() as remote:
            build(remote, [str(XML_SAMPLE)], progress=False, err=io.StringIO())
        with EmbeddedStore(tmp_path / "emb") as emb:
            build(emb, [str(XML_SAMPLE)], progress=False, err=io.StringIO())
        a = run_cli("audit", "--endpoint", server.query, "--format", "json")
        b = run_cli("audit", "--store", str(tmp_path / "emb"), "--format", "json")
        assert a.returncode == b.returncode and a.returncode in (0, 1), a.stderr
        strip = lambda rows: sorted(json.dumps({k: v for k, v in r.items() if k != "file"}, sort_keys=True) for r in rows)
        assert strip(json.loads(a.stdout)) == strip(json.loads(b.stdout))
    finally:
        next(gen, None)
