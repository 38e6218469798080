"""`collabkg sparql`, `stats`, `--version`, help texts and options: on a store of real CORDIS records."""
from __future__ import annotations

import csv
import io
import json

import pyoxigraph as ox
import pytest

from conftest import XML_SAMPLE, run_cli

PROJECT = "https://w3id.org/collabkg/id/project/101106614"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("sparql") / "store"
    r = run_cli("ingest", "--store", str(path), "--no-progress", str(XML_SAMPLE))
    assert r.returncode == 0, r.stderr
    return str(path)


def test_long_one_line_query_is_a_query_not_a_path(store):
    """Issue 14.9: > 255 characters on one line gave `OSError: File name too long` and exit 1."""
    q = f"SELECT ?t WHERE {{ <{PROJECT}> ckg:title ?t }} # " + "x" * 300
    r = run_cli("sparql", "--store", store, q, "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1].startswith("Solar powered atmospheric plasma")


def test_query_file_is_read_and_missing_rq_file_is_a_usage_error(store, tmp_path):
    f = tmp_path / "q.rq"
    f.write_text(f"ASK {{ <{PROJECT}> a ckg:Project }}", encoding="utf-8")
    r = run_cli("sparql", "--store", store, str(f))
    assert (r.returncode, r.stdout) == (0, "true\n")
    r = run_cli("sparql", "--store", store, str(tmp_path / "missing.rq"))
    assert r.returncode == 2 and "no such query file" in r.stderr


def test_select_star_keeps_the_query_column_order_and_tsv(store):
    q = f"SELECT * WHERE {{ BIND(<{PROJECT}> AS ?s) ?s ckg:acronym ?o ; ?p ?o }}"
    r = run_cli("sparql", "--store", store, q, "--format", "tsv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(io.StringIO(r.stdout), delimiter="\t"))
    assert rows[0] == ["s", "o", "p"]
    assert rows[1] == [PROJECT, "SolarPlas", "https://w3id.org/collabkg/ontology#acronym"]


def test_construct_as_json_is_json_ld_and_csv_is_refused(store):
    q = f"CONSTRUCT {{ <{PROJECT}> ckg:acronym ?a }} WHERE {{ <{PROJECT}> ckg:acronym ?a }}"
    r = run_cli("sparql", "--store", store, q, "--format", "json")
    assert r.returncode == 0, r.stderr
    triples = list(ox.parse(r.stdout.encode(), format=ox.RdfFormat.JSON_LD))
    assert [(t.subject.value, t.object.value) for t in triples] == [(PROJECT, "SolarPlas")]
    r = run_cli("sparql", "--store", store, q, "--format", "csv")
    assert r.returncode == 2 and "gives a graph" in r.stderr


@pytest.mark.parametrize("update", [
    "INSERT DATA { <urn:a> <urn:b> 1 }",
    "PREFIX x: <urn:x#> # a comment\nDELETE WHERE { ?s ?p ?o }",
])
def test_updates_are_not_allowed_here(store, update):
    r = run_cli("sparql", "--store", store, update)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "updates are not allowed here" in r.stderr


def test_service_in_a_literal_or_comment_is_not_a_call_and_stdin_works(store):
    q = 'SELECT ?x WHERE { BIND("SERVICE <http://example.org/>" AS ?x) } # SERVICE <http://example.org/>'
    r = run_cli("sparql", "--store", store, "-", "--format", "csv", input=q)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["x", "SERVICE <http://example.org/>"]


def test_service_is_refused_unless_its_host_is_allowed_and_a_failure_is_one_line(store):
    q = "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"
    r = run_cli("sparql", "--store", store, q)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "--allow-service 127.0.0.1" in r.stderr
    r = run_cli("sparql", "--store", store, q, "--allow-service", "127.0.0.1")
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert "SERVICE 127.0.0.1" in r.stderr and "Traceback" not in r.stderr


def test_stats_says_what_the_store_holds(store):
    r = run_cli("stats", "--store", store, "--format", "json")
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert st["records"]["cordis"] == len(list(XML_SAMPLE.glob("*.xml")))
    assert st["classes"]["https://w3id.org/collabkg/ontology#Project"] == st["records"]["cordis"]
    assert st["triples"] > 1000 and st["graphs"] > st["records"]["cordis"] and st["size_bytes"] > 0
    text = run_cli("stats", "--store", store).stdout
    assert "records per source" in text and "ckg:Project" in text


def test_version_help_and_options():
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("collabkg ")
    top = run_cli("--help").stdout
    assert "Exit codes: 0 ok, 1 records rejected" in " ".join(top.split())
    for cmd in ("sparql", "query", "export", "validate", "audit", "stats"):
        h = run_cli(cmd, "--help").stdout
        assert "--endpoint" in h or cmd == "query"
        for write_option in ("--update-endpoint", "--graph-store", "--bulk-dir"):
            assert write_option not in h, (cmd, write_option)
    for cmd in ("build", "ingest"):
        h = " ".join(run_cli(cmd, "--help").stdout.split())
        assert "--bulk-dir" in h and "show a progress bar" in h and "--replace-owned" in h
    ingest = " ".join(run_cli("ingest", "--help").stdout.split())
    assert "PATH a CORDIS XML zip" in ingest


def test_unknown_exception_exits_3_with_one_line_and_traceback_only_with_debug(monkeypatch, capsys, store):
    from collabkg import cli
    from collabkg.commands import stats

    def boom(*a, **k):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(stats, "store_stats", boom)
    assert cli.main(["stats", "--store", store]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: ZeroDivisionError: boom; please report it" in err
    assert cli.main(["--debug", "stats", "--store", store]) == 3
    assert "Traceback" in capsys.readouterr().err
