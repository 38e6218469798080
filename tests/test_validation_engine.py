"""The validation package beyond the W3C suite: ``validate --shapes`` on any RDF file, datatypes
checked as written, refusals in one line, and the supported set being the compilers' table."""
from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
import rdflib

from collabkg import validation
from collabkg.validation.shapes import shapes_dir

from conftest import run_cli

PREFIXES = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <http://example.org/> .
"""
INT_SHAPE = PREFIXES + "ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:n ; sh:property [ sh:path ex:n ; sh:datatype xsd:int ] .\n"


def _results(data: str, shapes: str, engine: str = "fast"):
    triples = list(ox.parse(data.encode(), format=ox.RdfFormat.TURTLE))
    return validation.validate_graphs(triples, rdflib.Graph().parse(data=shapes, format="turtle"), engine)


@pytest.mark.parametrize("engine", validation.ENGINES)
def test_datatypes_are_checked_as_written(engine):
    """Oxigraph stores "7"^^xsd:int as xsd:integer: the check must still see xsd:int."""
    ok = _results(PREFIXES + 'ex:a ex:n "7"^^xsd:int .', INT_SHAPE, engine)
    assert ok == []
    bad = _results(PREFIXES + 'ex:a ex:n "7"^^xsd:integer .\nex:b ex:n "3000000000"^^xsd:int .', INT_SHAPE, engine)
    assert sorted((r.focus, r.component) for r in bad) == [
        ("<http://example.org/a>", "DatatypeConstraintComponent"), ("<http://example.org/b>", "DatatypeConstraintComponent")]


@pytest.mark.parametrize("shape, feature", [
    ("ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:sparql [ sh:select 'SELECT $this WHERE { SERVICE <http://x> { $this ?p ?o } }' ] .", "SERVICE"),
    ("ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:fooBar 3 .", "sh:fooBar"),
    ("ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:sparql [ sh:select 'SELECT $this WHERE { $this ?p ?o MINUS { $this ?p 1 } }' ] .", "MINUS"),
])
def test_unsupported_features_are_refused_in_one_line_naming_the_shape(shape, feature):
    with pytest.raises(validation.Unsupported) as e:
        _results(PREFIXES + "ex:a ex:p 1 .", PREFIXES + shape)
    msg = str(e.value)
    assert "\n" not in msg and "<http://example.org/S>" in msg and feature in msg


def test_the_supported_set_is_the_compilers_table():
    assert validation.SUPPORTED == frozenset(validation.COMPILERS)
    assert {"minCount", "sparql", "qualifiedValueShape", "closed", "xone", "languageIn", "lessThanOrEquals"} <= validation.SUPPORTED


def test_record_shapes_are_found_by_glob(tmp_path, monkeypatch):
    names = {p.name for p in validation.shape_files()}
    assert {p.name for p in shapes_dir().glob("*.ttl")} - names == {"dcat-ap.ttl"}


def test_validate_shapes_on_any_rdf_file(tmp_path):
    """`collabkg validate DATA --shapes SHAPES` like `pyshacl -s`: Turtle, N-Triples, JSON-LD data; the
    same file as data and shapes; exit codes 0 / 1 / 2."""
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(INT_SHAPE, encoding="utf-8")
    good = tmp_path / "good.nt"
    good.write_text('<http://example.org/a> <http://example.org/n> "7"^^<http://www.w3.org/2001/XMLSchema#int> .\n', encoding="utf-8")
    bad = tmp_path / "bad.jsonld"
    bad.write_text(json.dumps({"@id": "http://example.org/b", "http://example.org/n": "seven"}), encoding="utf-8")
    res = run_cli("validate", str(good), "--shapes", str(shapes))
    assert res.returncode == 0, res.stderr
    res = run_cli("validate", str(bad), "--shapes", str(shapes), "--format", "json")
    assert res.returncode == 1
    rows = json.loads(res.stdout)
    assert [(r["focus"], r["component"]) for r in rows] == [("http://example.org/b", "sh:DatatypeConstraintComponent")]
    both = tmp_path / "both.ttl"
    both.write_text(INT_SHAPE + 'ex:c ex:n 1.5 .\n', encoding="utf-8")
    for engine in validation.ENGINES:
        res = run_cli("validate", str(both), "--shapes", str(both), "--engine", engine, "--format", "turtle")
        assert res.returncode == 1, res.stderr
        g = rdflib.Graph().parse(data=res.stdout, format="turtle")
        assert len(set(g.subjects(rdflib.RDF.type, rdflib.URIRef("http://www.w3.org/ns/shacl#ValidationResult")))) == 1
    refused = tmp_path / "refused.ttl"
    refused.write_text(PREFIXES + "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:fooBar 1 .\n", encoding="utf-8")
    res = run_cli("validate", str(good), "--shapes", str(refused))
    assert res.returncode == 2 and "sh:fooBar" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert run_cli("validate", str(tmp_path / "missing.ttl"), "--shapes", str(shapes)).returncode == 2


def test_export_description_against_the_dcat_ap_shapes(tmp_path, built_store_path):
    """The README example: the DCAT description `collabkg export` writes, checked with the official
    DCAT-AP 3.0.1 range shapes (shipped in tests/conformance); their modular file that writes
    the non-SHACL property sh:shape is refused, not half-checked."""
    from pathlib import Path

    dcat = Path(__file__).resolve().parent / "conformance" / "dcat-ap-3.0.1" / "modular-range.ttl"
    out = tmp_path / "dump.ttl"
    res = run_cli("export", "--store", str(built_store_path), "--out", str(out))
    assert res.returncode == 0, res.stderr
    desc = Path(str(out) + ".dcat.ttl") if Path(str(out) + ".dcat.ttl").exists() else out.with_suffix(".dcat.ttl")
    fast = run_cli("validate", str(desc), "--shapes", str(dcat), "--format", "json")
    ref = run_cli("validate", str(desc), "--shapes", str(dcat), "--format", "json", "--engine", "pyshacl")
    assert fast.returncode in (0, 1) and fast.returncode == ref.returncode, fast.stderr + ref.stderr
    refused = run_cli("validate", str(desc), "--shapes", str(dcat.parent / "modular-shapes.ttl"))
    assert refused.returncode == 2 and "sh:shape is not supported" in refused.stderr
    key = lambda rows: sorted((r["focus"], r["path"], r["component"], r["severity"]) for r in rows)  # noqa: E731
    assert key(json.loads(fast.stdout)) == key(json.loads(ref.stdout))


def test_a_qualified_count_over_a_store_finds_two_coordinators_and_none(built_store):
    """Project-coordinator (sh:qualifiedValueShape, one coordinator) over a whole store, where
    the suspects query compares the qualified counts in SPARQL: a real project given a second
    coordinator and one whose coordinator lost its role are reported, exactly as without the
    suspects query (every project's participations checked in Python)."""
    from collabkg.namespaces import CKG, RDF
    from collabkg.validation.engines import Data, FastEngine
    from collabkg.validation.service import record_shapes

    mem = ox.Store()  # the projects and their participations' links and roles, as built
    for p in (CKG + "project", CKG + "role"):
        mem.extend(q for q in built_store.raw.quads_for_pattern(None, ox.NamedNode(p), None))
    mem.extend(ox.Quad(s, ox.NamedNode(RDF + "type"), ox.NamedNode(CKG + "Project"), g)
               for s, _, _, g in built_store.raw.quads_for_pattern(None, ox.NamedNode(RDF + "type"), ox.NamedNode(CKG + "Project")))
    role, coordinator = ox.NamedNode(CKG + "role"), ox.NamedNode(CKG + "CoordinatorRole")
    coordinations = sorted(mem.quads_for_pattern(None, role, coordinator), key=str)
    others = sorted((q for q in mem.quads_for_pattern(None, role, None) if q.object != coordinator), key=str)
    project_of = {q.subject: q.object for q in mem.quads_for_pattern(None, ox.NamedNode(CKG + "project"), None)}
    lost = coordinations[0]
    second = next(q for q in others if project_of[q.subject] != project_of[lost.subject])
    mem.remove(lost)
    mem.remove(second)
    mem.add(ox.Quad(second.subject, role, coordinator, second.graph_name))

    unit = "<https://w3id.org/collabkg/shapes#Project> <https://w3id.org/collabkg/shapes#Project-coordinator>"
    data = Data(lambda q, b=None: mem.query(q, use_default_graph_as_union=True))
    found = {}
    for plan in ("auto", None):
        found[plan] = FastEngine(record_shapes(), data, prefilter=plan).run(only={unit})
    assert found["auto"] == found[None]
    assert {r.focus for r in found["auto"]} == {str(project_of[lost.subject]), str(project_of[second.subject])}
