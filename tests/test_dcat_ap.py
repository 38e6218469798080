"""The description `collabkg export` writes conforms to SEMIC's full official DCAT-AP 3.0.1 shapes
(with their range shapes), for every export format, on a store of real CORDIS and OpenAlex records.

The shapes are SEMIC's, shipped unchanged in tests/conformance/dcat-ap-3.0.1/ (© European Union,
CC BY 4.0, "Source: SEMIC, DCAT-AP 3.0.1")."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
import rdflib

from conftest import OPENALEX_DIR, XML_SAMPLE, run_cli

from collabkg.dataset_description import description_path

SEMIC = Path(__file__).parent / "conformance" / "dcat-ap-3.0.1"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
FORMATS = {"turtle": ".ttl", "ntriples": ".nt", "nquads": ".nq", "trig": ".trig", "jsonld": ".jsonld"}


@pytest.fixture(scope="module")
def store_path(tmp_path_factory) -> Path:
    from collabkg.importing import build
    from collabkg.store import EmbeddedStore

    path = tmp_path_factory.mktemp("dcat-store") / "store"
    with EmbeddedStore(path) as s:
        summary = build(s, [XML_SAMPLE, sorted(OPENALEX_DIR.glob("*.json"))[0]], progress=False, err=io.StringIO())
        assert summary.accepted > 10
    return path


@pytest.fixture(scope="module")
def semic_shapes() -> rdflib.Graph:
    return rdflib.Graph().parse(SEMIC / "dcat-ap-SHACL.ttl", format="turtle")


def _results(data: rdflib.Graph, shapes: rdflib.Graph) -> list[tuple[str, str, str, str]]:
    import pyshacl

    _, report, _ = pyshacl.validate(data, shacl_graph=shapes, allow_warnings=True)
    return sorted((str(report.value(r, SH.resultSeverity)).rsplit("#", 1)[-1], str(report.value(r, SH.focusNode)),
                   str(report.value(r, SH.resultPath)), str(report.value(r, SH.resultMessage)))
                  for r in report.subjects(rdflib.RDF.type, SH.ValidationResult))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_description_conforms_to_the_full_official_dcat_ap_shapes(store_path, semic_shapes, tmp_path, fmt):
    out = tmp_path / "dump" / f"collabkg{FORMATS[fmt]}"
    r = run_cli("export", "--store", str(store_path), "--out", str(out), "--format", fmt)
    assert r.returncode == 0, r.stderr
    g = rdflib.Graph().parse(description_path(out), format="turtle")
    assert _results(g, semic_shapes) == []
    # absolute download URL, without --download-base
    dist = g.value(predicate=rdflib.RDF.type, object=DCAT.Distribution)
    url = str(g.value(dist, DCAT.downloadURL))
    assert url == f"https://w3id.org/collabkg/id/dump/collabkg{FORMATS[fmt]}"
    assert str(g.value(dist, DCAT.accessURL)) == url
    # the authority values carry the classes the range shapes ask for
    ds = g.value(predicate=DCAT.distribution, object=dist)
    countries = list(g.objects(ds, DCT.spatial))
    assert countries and all((c, rdflib.RDF.type, DCT.Location) in g for c in countries)
    assert (g.value(ds, DCT.language), rdflib.RDF.type, DCT.LinguisticSystem) in g


def test_untyped_authority_value_is_a_violation(store_path, semic_shapes, tmp_path):
    """The test can fail: drop the class of one country and the official shapes object."""
    out = tmp_path / "x.ttl"
    assert run_cli("export", "--store", str(store_path), "--out", str(out)).returncode == 0
    g = rdflib.Graph().parse(description_path(out), format="turtle")
    country = next(g.objects(None, DCT.spatial))
    g.remove((country, rdflib.RDF.type, DCT.Location))
    found = _results(g, semic_shapes)
    assert [r for r in found if r[0] == "Violation" and r[2] == str(DCT.spatial)], found
