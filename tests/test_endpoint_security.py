"""Hostile requests to `collabkg serve` beyond tests/test_serve.py: SERVICE calls written to slip
past a text check (lower case, SILENT, prefixed names, variables, escapes) never reach another
host (a canary listener on loopback counts connections), and writes smuggled into queries
(LOAD, CLEAR, an update after a query) leave the store as it was."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path

import pytest

from conftest import XML_SAMPLE
from servers import free_port, stop, wait_http
from test_serve import http

EXE = str(Path(sys.executable).parent / "collabkg")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    store = tmp_path_factory.mktemp("sec") / "store"
    r = subprocess.run([EXE, "ingest", str(XML_SAMPLE), "--store", str(store), "--no-progress"], capture_output=True, text=True,
                       env={**os.environ, "COLLABKG_VALIDATE": "0"}, timeout=600)
    assert r.returncode == 0, r.stderr
    port = free_port()
    proc = subprocess.Popen([EXE, "serve", "--store", str(store), "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/sparql?query=ASK%7B%7D", proc)
    yield base
    stop(proc)


class Canary:
    """A loopback TCP listener that counts connections (a SERVICE call would be one)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port, self.hits, self.running = self.sock.getsockname()[1], 0, True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
                self.hits += 1
                conn.close()
            except OSError:
                pass

    def close(self):
        self.running = False
        self.thread.join(timeout=2)
        self.sock.close()


def count_triples(base: str) -> int:
    q = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    status, _, body = http(base + "/sparql?" + urllib.parse.urlencode({"query": q}), headers={"Accept": "text/csv"})
    assert status == 200
    return int(body.decode().split()[-1])


def test_service_variants_never_reach_another_host(served):
    canary = Canary()
    other = f"http://127.0.0.2:{canary.port}/sparql"  # another host, on loopback
    try:
        queries = [
            f"SELECT * WHERE {{ SERVICE <{other}> {{ ?s ?p ?o }} }}",
            f"select * where {{ service <{other}> {{ ?s ?p ?o }} }}",
            f"SELECT * WHERE {{ SERVICE SILENT <{other}> {{ ?s ?p ?o }} }}",
            f"PREFIX e: <http://127.0.0.2:{canary.port}/> SELECT * WHERE {{ SERVICE e:sparql {{ ?s ?p ?o }} }}",
            f"SELECT * WHERE {{ VALUES ?e {{ <{other}> }} SERVICE ?e {{ ?s ?p ?o }} }}",
            f"SELECT * WHERE {{ \\u0053ERVICE <{other}> {{ ?s ?p ?o }} }}",
            f"SELECT * WHERE {{ SERVICE\t\n<{other}> {{ ?s ?p ?o }} }}",
            f"SELECT * WHERE {{ SERVICE#comment\n<{other}> {{ ?s ?p ?o }} }}",
            f"ASK {{ SERVICE <{other}> {{ ?s ?p ?o }} }}",
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{other}> {{ ?s ?p ?o }} }}",
        ]
        for q in queries:
            for method in ("GET", "POST"):
                if method == "GET":
                    status, _, body = http(served + "/sparql?" + urllib.parse.urlencode({"query": q}))
                else:
                    status, _, body = http(served + "/sparql", q.encode(), {"Content-Type": "application/sparql-query"})
                assert status != 200 or b"127.0.0.2" not in body, (q, status)
                assert status < 500, (q, status, body[:300])
        assert canary.hits == 0, f"{canary.hits} connection(s) reached another host"
    finally:
        canary.close()


def test_writes_smuggled_into_queries_change_nothing(served):
    before = count_triples(served)
    attempts = [
        "LOAD <file:///etc/passwd> INTO GRAPH <urn:x>",
        "CLEAR ALL",
        "DROP ALL",
        "SELECT * WHERE { ?s ?p ?o } LIMIT 1 ; DELETE WHERE { ?s ?p ?o }",
        "ASK {} ; INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "SELECT * WHERE { ?s ?p ?o } LIMIT 1 } ; CLEAR ALL ; SELECT * { ?s ?p ?o",
    ]
    for q in attempts:
        for data, headers in [
            (urllib.parse.urlencode({"query": q}).encode(), {"Content-Type": "application/x-www-form-urlencoded"}),
            (urllib.parse.urlencode({"update": q}).encode(), {"Content-Type": "application/x-www-form-urlencoded"}),
            (q.encode(), {"Content-Type": "application/sparql-update"}),
        ]:
            status, _, body = http(served + "/sparql", data, headers)
            assert 400 <= status < 500, (q, status, body[:300])
            assert b"root:x:0:0" not in body
        status, _, _ = http(served + "/sparql?" + urllib.parse.urlencode({"query": q}))
        assert 400 <= status < 500, (q, status)
    assert count_triples(served) == before
