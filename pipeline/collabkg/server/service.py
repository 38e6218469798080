"""The SPARQL 1.1 Service Description of ``/sparql`` (``GET /sparql`` without a query) and the
VoID/DCAT description of the served dataset (``GET /dataset``) it links to.

Both are built from the server's own settings, without querying the store, so they answer at
once even when every worker is busy. The full description of a dump (class partitions, sizes,
checksums) is written by ``collabkg export`` beside the dump.
"""
from __future__ import annotations

import pyoxigraph as ox

from collabkg.namespaces import CC_BY_DEED, CKG, DCAT, DCT, RDF, RDFS, SD, VOID, W3C_FORMATS as FORMATS
from collabkg.namespaces import IRIs
from collabkg.server.sparql import Limits

RDF_TYPE = ox.NamedNode(RDF + "type")
MEDIA = {"text/turtle": ox.RdfFormat.TURTLE, "application/ld+json": ox.RdfFormat.JSON_LD,
         "application/n-triples": ox.RdfFormat.N_TRIPLES, "application/rdf+xml": ox.RdfFormat.RDF_XML}
RESULT_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                  "Turtle", "N-Triples", "JSON-LD", "RDF_XML")
PREFIXES = {"sd": SD, "formats": FORMATS, "void": VOID, "dcat": DCAT, "dct": DCT}


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def describe(base: str, limits: Limits, media: str) -> bytes:
    """The service description of ``<base>/sparql`` in ``media`` (a key of MEDIA)."""
    service, endpoint, dataset = _n(base + "/sparql#service"), _n(base + "/sparql"), _n(base + "/dataset#dataset")
    default = ox.BlankNode("defaultGraph")
    t = [
        ox.Triple(service, RDF_TYPE, _n(SD + "Service")),
        ox.Triple(service, _n(SD + "endpoint"), endpoint),
        ox.Triple(service, _n(SD + "supportedLanguage"), _n(SD + "SPARQL11Query")),
        # The default graph of a query without FROM is the union of the named graphs.
        ox.Triple(service, _n(SD + "feature"), _n(SD + "UnionDefaultGraph")),
        ox.Triple(service, _n(SD + "defaultDataset"), dataset),
        ox.Triple(service, _n(DCT + "description"), ox.Literal(
            f"collabkg, read-only. Limits: {limits.timeout:g} s and {limits.max_rows} rows per query, "
            f"{limits.workers} queries at a time with {limits.queue} waiting, {limits.max_memory_mb} MB per worker.")),
        ox.Triple(dataset, RDF_TYPE, _n(SD + "Dataset")),
        ox.Triple(dataset, RDF_TYPE, _n(VOID + "Dataset")),
        ox.Triple(dataset, _n(SD + "defaultGraph"), default),
        ox.Triple(default, RDF_TYPE, _n(SD + "Graph")),
        ox.Triple(dataset, _n(RDFS + "seeAlso"), _n(base + "/dataset")),
    ]
    t += [ox.Triple(service, _n(SD + "resultFormat"), _n(FORMATS + f)) for f in RESULT_FORMATS]
    return ox.serialize(t, format=MEDIA[media], prefixes=PREFIXES) or b""


def dataset(base: str, media: str, uri_space: str | None = None) -> bytes:
    """A VoID + DCAT description of the served dataset: what it is, where to query it, licence,
    sources; ``uri_space``: the base of its instance IRIs (default: $COLLABKG_BASE, else the default base)."""
    d = _n(base + "/dataset#dataset")
    t = [
        ox.Triple(d, RDF_TYPE, _n(VOID + "Dataset")),
        ox.Triple(d, RDF_TYPE, _n(DCAT + "Dataset")),
        ox.Triple(d, _n(DCT + "title"), ox.Literal("collabkg: international research collaborations", language="en")),
        ox.Triple(d, _n(DCT + "description"), ox.Literal(
            "CORDIS Horizon Europe projects and OpenAlex works as RDF, with a focus on the member states of the OIC. "
            "Dumps with their full DCAT-AP description (partitions, sizes, checksums) are written by `collabkg export`.",
            language="en")),
        ox.Triple(d, _n(DCT + "license"), _n(CC_BY_DEED)),
        ox.Triple(d, _n(DCT + "rights"), ox.Literal("Source: CORDIS, © European Union, CC BY 4.0; OpenAlex, CC0")),
        ox.Triple(d, _n(VOID + "sparqlEndpoint"), _n(base + "/sparql")),
        ox.Triple(d, _n(VOID + "uriSpace"), ox.Literal(IRIs(uri_space).base)),
        ox.Triple(d, _n(VOID + "vocabulary"), _n(CKG)),
        ox.Triple(d, _n(DCAT + "landingPage"), _n(base + "/")),
    ]
    return ox.serialize(t, format=MEDIA[media], prefixes=PREFIXES) or b""
