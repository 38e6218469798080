"""Hand-written records (issue 18, items 1 and 2): a Turtle record that restates CORDIS project 101106614
(examples/record.ttl, the real record) is refused naming both records unless `--replace-owned`; instance
IRIs outside `--base` are refused unless `--allow-foreign-iris`."""
from __future__ import annotations

import pytest

from conftest import ROOT, XML_SAMPLE, run_cli

RECORD = ROOT / "examples" / "record.ttl"
BASE = "https://w3id.org/collabkg/id/"
PROJECT = BASE + "project/101106614"
CORDIS_GRAPH = BASE + "graph/cordis/101106614"
COORDINATORS = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?p ckg:project <{PROJECT}> ; ckg:role ckg:CoordinatorRole }}"
THEMES = f"SELECT (COUNT(*) AS ?n) WHERE {{ <{PROJECT}> ckg:theme ?t }}"
PARTICIPATIONS = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?p ckg:project <{PROJECT}> }}"


def _count(store, q) -> int:
    r = run_cli("sparql", "--store", str(store), q, "--format", "csv")
    assert r.returncode == 0, r.stderr
    return int(r.stdout.splitlines()[1])


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "store"
    # build, not ingest: the themes graph then also holds facts about the project (derived, owning nothing)
    r = run_cli("build", "--store", str(path), "--no-progress", str(XML_SAMPLE / "project-rcn-251797_en.xml"))
    assert r.returncode == 0, r.stderr
    assert _count(path, THEMES) > 0
    assert (_count(path, COORDINATORS), _count(path, PARTICIPATIONS)) == (1, 2)
    return path


def test_restating_a_cordis_project_is_refused_naming_both_records(store):
    r = run_cli("ingest", "--store", str(store), "--no-progress", str(RECORD))
    assert r.returncode == 1, r.stdout + r.stderr
    line = next(l for l in r.stderr.splitlines() if l.startswith(str(RECORD)))
    assert line.startswith(f"{RECORD}:101106614:subject: <{PROJECT}> is already described by cordis record 101106614")
    assert "--replace-owned" in line
    assert (_count(store, COORDINATORS), _count(store, PARTICIPATIONS)) == (1, 2)  # nothing got in
    graphs = run_cli("sparql", "--store", str(store), "SELECT DISTINCT ?g WHERE { GRAPH ?g {} }", "--format", "csv").stdout
    assert BASE + "graph/turtle/" not in graphs


def test_replace_owned_replaces_the_cordis_record_explicitly(store):
    r = run_cli("ingest", "--store", str(store), "--no-progress", "--replace-owned", str(RECORD))
    assert r.returncode == 0, r.stdout + r.stderr
    assert (_count(store, COORDINATORS), _count(store, PARTICIPATIONS)) == (1, 2)  # one version, not two
    assert _count(store, THEMES) > 0  # derived facts stay
    assert _count(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{CORDIS_GRAPH}> {{ ?s ?p ?o }} }}") == 0
    assert _count(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{BASE}graph/turtle/101106614> {{ <{PROJECT}> ?p ?o }} }}") > 10
    # every restated subject now has its facts in one graph only
    dup = ("SELECT (COUNT(*) AS ?n) WHERE { { SELECT ?s (COUNT(DISTINCT ?g) AS ?k) WHERE { GRAPH ?g { ?s ckg:legalName ?o } } "
           "GROUP BY ?s } FILTER(?k > 1) }")
    assert _count(store, dup) == 0


def test_instance_iris_outside_the_base_are_refused_unless_allowed(tmp_path):
    foreign = tmp_path / "foreign.ttl"
    foreign.write_text(RECORD.read_text(encoding="utf-8").replace(BASE, "http://evil.example.org/"), encoding="utf-8")
    store = tmp_path / "store"
    r = run_cli("ingest", "--store", str(store), "--no-progress", str(foreign))
    assert r.returncode == 1
    assert f"{foreign}:101106614:subject: <http://evil.example.org/" in r.stderr and "outside the instance base" in r.stderr
    assert _count(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s a ckg:Project }") == 0
    r = run_cli("ingest", "--store", str(store), "--no-progress", "--allow-foreign-iris", str(foreign))
    assert r.returncode == 0, r.stdout + r.stderr
    assert _count(store, "SELECT (COUNT(*) AS ?n) WHERE { <http://evil.example.org/project/101106614> a ckg:Project }") == 1
