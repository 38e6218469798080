"""The SHACL shapes: every case of tests/shapes gives exactly the results it declares, with both
engines (pySHACL, the reference, and the shapes compiled to SPARQL), which agree result for result."""
from __future__ import annotations

import csv
import functools
import re
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest

from collabkg import validation as validate
from collabkg.mapping.terms import Triples
from collabkg.namespaces import IRIs
from collabkg.records import SourceRecord

from conftest import CORDIS_CSV_DIR, CORDIS_ZIP, sparql_parsed_once

CASES = Path(__file__).parent / "shapes"
VIOLATING = sorted((CASES / "violating").glob("*.ttl"))
CONFORMING = sorted((CASES / "conforming").glob("*.ttl"))
SH = "http://www.w3.org/ns/shacl#"


@pytest.fixture(scope="module", autouse=True)
def _pyshacl_parses_each_constraint_once():
    """pySHACL re-parses a SPARQL constraint for every focus node (minutes on the real-data sample);
    the same queries run with the same bindings, parsed once (see conftest.sparql_parsed_once)."""
    with sparql_parsed_once():
        yield


def _prefixes(text: str) -> dict[str, str]:
    return dict(re.findall(r"@prefix\s+(\w*):\s*<([^>]*)>", text))


def _expand(name: str, prefixes: dict[str, str]) -> str | None:
    if name == "-":
        return None
    inverse = name.startswith("^")
    p, local = name.lstrip("^").split(":", 1)
    iri = f"<{prefixes[p]}{local.replace(chr(92), '')}>"
    return "^" + iri if inverse else iri


def expected(path: Path) -> set[tuple]:
    text = path.read_text(encoding="utf-8")
    pre = {**_prefixes(text), "sh": SH}
    out = set()
    for focus, p, comp, sev in re.findall(r"^# expect: (\S+) (\S+) (\S+) (\S+)$", text, re.M):
        out.add((_expand(focus, pre), _expand(p, pre), comp.split(":", 1)[1], sev.split(":", 1)[1]))
    return out


def items_of(path: Path):
    """The file as one record (a batch of one), as the importer would hand it to the validator."""
    t = Triples()
    t.extend(ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
    rec = SourceRecord("turtle", str(path), path.stem, tuple(t))
    return [(rec, IRIs().graph("turtle", path.stem), t)]


@functools.cache
def results(path: Path, engine: str) -> tuple[validate.Result, ...]:
    """One run of ``engine`` per case file for the whole module: several tests look at the same
    case (declared results, the differential, the messages), and a pySHACL run is the slow part."""
    (rep,) = validate.validate_batch(items_of(path), engine=engine)
    return tuple(rep.results)


def test_enough_cases_covering_every_severity_and_shape():
    assert len(VIOLATING) >= 30
    severities = {e[3] for p in VIOLATING for e in expected(p)}
    assert severities == {"Violation", "Warning", "Info"}
    # every node shape of the record shapes is exercised by some case
    shapes = validate.shapes_graph()
    import rdflib

    node_shapes = {s for s in shapes.subjects(rdflib.URIRef(SH + "targetClass"), None)}
    hit = set()
    for p in VIOLATING:
        for r in results(p, "fast"):
            owners = set(shapes.subjects(rdflib.URIRef(SH + "property"), rdflib.URIRef(r.shape[1:-1]))) | {rdflib.URIRef(r.shape[1:-1])}
            hit |= owners & node_shapes
    assert node_shapes - hit == set()


@pytest.mark.parametrize("engine", ["fast", "pyshacl"])
@pytest.mark.parametrize("case", VIOLATING + CONFORMING, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_case_gives_exactly_its_declared_results(case, engine):
    got = {(r.focus, r.path, r.component, r.severity) for r in results(case, engine)}
    want = expected(case)
    if case.parent.name == "violating":
        assert want, f"{case.name} declares no expected result"
    assert got == want


@pytest.mark.parametrize("case", VIOLATING + CONFORMING, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_engines_agree_on_every_case(case):
    """Differential: identical results (focus, path, component, severity, value, shape, message)."""
    fast = [r.key() for r in results(case, "fast")]
    ref = [r.key() for r in results(case, "pyshacl")]
    assert sorted(fast, key=str) == sorted(ref, key=str)


def test_every_result_has_a_message_a_person_can_read():
    for case in VIOLATING:
        for r in results(case, "fast"):
            assert len(r.message) > 20 and "{" not in r.message, (case.name, r)


def test_shapes_conform_to_shacl_for_shacl():
    import pyshacl
    import rdflib

    conforms, _, text = pyshacl.validate(rdflib.Graph(), shacl_graph=validate.shapes_graph(), meta_shacl=True)
    assert conforms, text


def test_every_class_the_mappers_emit_has_a_node_shape(built_store):
    import rdflib

    targeted = {str(o) for o in validate.shapes_graph().objects(None, rdflib.URIRef(SH + "targetClass"))}
    rows = built_store.query(
        # record graphs and shared vocabulary of the mapped sources (not the linking step's graphs)
        "SELECT DISTINCT ?c WHERE { GRAPH ?g { ?s a ?c } FILTER(REGEX(STR(?g), '/graph/(cordis|openalex)/')) }"
    )
    emitted = {r["c"].value for r in rows}
    assert emitted and emitted <= targeted, emitted - targeted


@pytest.fixture(scope="module")
def audit_reports(built_store):
    return validate.audit(built_store)


def test_bundled_real_data_conforms(audit_reports):
    violations = [(rep.record, r) for rep in audit_reports for r in rep.violations]
    assert violations == []


def test_real_data_warnings_are_the_expected_kinds(audit_reports):
    kinds = {r.shape.rsplit("#", 1)[-1][:-1] for rep in audit_reports for r in rep.results}
    assert kinds <= {
        "Project-totalCost-zero", "Participation-associatedPartnerContribution", "Project-sameOrganisationTwice",
        "Organisation-legalName-stored", "Address-coordinates", "Project-grantDoi-missing", "Work-title-twice",
        "Person-displayName-twice", "Institution-displayName-twice", "Authorship-orderMatchesPosition",
    }


def test_real_data_warning_counts_match_the_csv_flattening(audit_reports):
    """Counted independently from the CSV files that flatten the same XML."""
    with open(CORDIS_CSV_DIR / "project.csv", newline="", encoding="utf-8") as f:
        projects = list(csv.DictReader(f))
    with open(CORDIS_CSV_DIR / "organization.csv", newline="", encoding="utf-8") as f:
        orgs = list(csv.DictReader(f))
    zero_cost = sum(1 for p in projects if p["totalCost"].strip() and Decimal(p["totalCost"]) == 0)
    no_doi = sum(1 for p in projects if not p["identifiers/grantDoi"].strip())
    unfunded = sum(1 for o in orgs if o["@type"] == "associatedPartner" and not (o["@ecContribution"].strip() and Decimal(o["@ecContribution"]) > 0))
    roles: dict[tuple, set] = {}
    for o in orgs:
        roles.setdefault((o["project/id"], o["id"]), set()).add(o["@type"])
    twice = sum(1 for r in roles.values() if len(r) > 1)

    def count(local):
        return len({(r.focus, r.value) for rep in audit_reports for r in rep.results if r.shape.endswith("#" + local + ">")})

    assert count("Project-totalCost-zero") == zero_cost
    assert count("Project-grantDoi-missing") == no_doi
    assert count("Participation-associatedPartnerContribution") == unfunded
    assert count("Project-sameOrganisationTwice") == twice


def test_engines_agree_on_a_real_data_sample():
    """Differential on real records: 40 CORDIS projects (and their vocabulary) in one batch."""
    from collabkg.mapping import map_record
    from collabkg.sources import read

    iris = IRIs()
    items = []
    for rec in read(CORDIS_ZIP):
        if len(items) >= 40:
            break
        items.append((rec, iris.graph(rec.source, rec.record_id), map_record(rec, iris)))
    fast = validate.validate_batch(items, engine="fast")
    ref = validate.validate_batch(items, engine="pyshacl")
    assert [sorted(r.key() for r in rep.results) for rep in fast] == [sorted(r.key() for r in rep.results) for rep in ref]
    assert any(rep.results for rep in fast)  # real data has warnings: the comparison compares something
