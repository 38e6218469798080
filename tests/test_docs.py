"""`collabkg docs`: HTML documentation of every ontology term and reproducible serialisations."""
from __future__ import annotations

import subprocess

import pytest
import rdflib
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, RDFS

from conftest import ROOT, require_tool, run_cli

ONTOLOGY = ROOT / "ontology" / "collabkg.ttl"


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs")
    r = run_cli("docs", "--out", str(out), "--engine", "builtin")
    assert r.returncode == 0, r.stderr
    return out


def test_every_declared_term_has_a_section(docs):
    page = (docs / "index.html").read_text(encoding="utf-8")
    g = rdflib.Graph().parse(ONTOLOGY, format="turtle")
    terms = {s for t in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty) for s in g.subjects(RDF.type, t)
             if isinstance(s, rdflib.URIRef)}
    assert len(terms) > 20
    for t in terms:
        local = str(t).rsplit("#", 1)[-1]
        assert f'<section id="{local}">' in page, t
        comment = g.value(t, RDFS.comment)
        if comment is not None:
            import html
            assert html.escape(str(comment)) in page


@pytest.mark.parametrize("name,fmt", [("collabkg.ttl", "turtle"), ("collabkg.nt", "nt"), ("collabkg.jsonld", "json-ld")])
def test_serialisations_are_the_ontology(docs, name, fmt):
    source = rdflib.Graph().parse(ONTOLOGY, format="turtle")
    written = rdflib.Graph().parse(docs / name, format=fmt)
    assert isomorphic(source, written)


@pytest.mark.parametrize("name,syntax", [("collabkg.ttl", "turtle"), ("collabkg.nt", "ntriples")])
def test_rapper_accepts_the_serialisations(docs, name, syntax):
    rapper = require_tool("rapper", "raptor2-utils")
    r = subprocess.run([rapper, "-i", syntax, "-c", str(docs / name)], capture_output=True, text=True)
    assert r.returncode == 0 and "warning" not in r.stderr.lower() and "error" not in r.stderr.lower(), r.stderr


def test_docs_are_reproducible(docs, tmp_path):
    assert run_cli("docs", "--out", str(tmp_path), "--engine", "builtin").returncode == 0
    for name in ("index.html", "collabkg.ttl", "collabkg.nt", "collabkg.jsonld"):
        assert (tmp_path / name).read_bytes() == (docs / name).read_bytes(), name


def test_missing_ontology_is_a_usage_error(tmp_path):
    r = run_cli("docs", "--out", str(tmp_path), "--ontology", str(tmp_path / "nope.ttl"))
    assert r.returncode == 2 and "no such ontology file" in r.stderr
