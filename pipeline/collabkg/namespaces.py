"""Namespaces and the one place where IRIs are minted.

Ontology terms and reference data (countries, roles) have fixed IRIs; instance data
(projects, organisations, ...) is minted under a configurable base
(``--base`` / ``$COLLABKG_BASE``, default :data:`DEFAULT_BASE`).
"""
from __future__ import annotations

import os
from functools import lru_cache
from urllib.parse import quote

CKG = "https://w3id.org/collabkg/ontology#"
COUNTRY = "https://w3id.org/collabkg/country/"
OIC = "https://w3id.org/collabkg/org/OIC"
DEFAULT_BASE = "https://w3id.org/collabkg/id/"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
SCHEMA = "https://schema.org/"
FOAF = "http://xmlns.com/foaf/0.1/"
ORG = "http://www.w3.org/ns/org#"
PROV = "http://www.w3.org/ns/prov#"

PREFIXES = {
    "ckg": CKG,
    "ckgc": COUNTRY,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "owl": OWL,
    "skos": SKOS,
    "dct": DCT,
    "schema": SCHEMA,
    "foaf": FOAF,
    "org": ORG,
    "prov": PROV,
}


def sparql_prefixes() -> str:
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


@lru_cache(maxsize=65536)
def _seg(value: str) -> str:
    """Percent-encode a source identifier so that it is always a valid IRI segment."""
    return quote(value.strip(), safe="-._~")


class IRIs:
    """Mints every instance IRI from source identifiers under one base."""

    def __init__(self, base: str | None = None):
        base = base or os.environ.get("COLLABKG_BASE") or DEFAULT_BASE
        if not base.endswith(("/", "#")):
            base += "/"
        self.base = base

    def _iri(self, *parts: str) -> str:
        return self.base + "/".join(_seg(p) for p in parts)

    # graphs: one named graph per source record
    def graph(self, source: str, record_id: str) -> str:
        return self._iri("graph", source, record_id)

    def entity_graph(self, source: str, kind: str, ident: str) -> str:
        """The graph of a shared entity (organisation, person, institution, funder)."""
        return self._iri("graph", source, kind, ident)

    def funder(self, openalex_id: str) -> str:
        return self._iri("funder", openalex_id)

    def award(self, openalex_id: str) -> str:
        return self._iri("award", openalex_id)

    def project(self, grant: str) -> str:
        return self._iri("project", grant)

    def organisation(self, pic: str) -> str:
        return self._iri("organisation", pic)

    def participation(self, grant: str, order: str, role: str, pic: str) -> str:
        # (order, role, PIC) is the key: CORDIS reuses an order number for a
        # participant and its third party, and lists a PIC twice under two roles.
        return self._iri("participation", grant, f"{order}-{role}-{pic}")

    def address(self, pic: str) -> str:
        """An organisation's address, as stated by the latest record describing it."""
        return self._iri("organisation", pic, "address")

    def programme(self, code: str) -> str:
        return self._iri("programme", code)

    def topic(self, code: str) -> str:
        return self._iri("topic", code)

    def call(self, identifier: str) -> str:
        return self._iri("call", identifier)

    def funding_scheme(self, code: str) -> str:
        return self._iri("funding-scheme", code)

    def field(self, code: str) -> str:
        return self._iri("euroscivoc", code)

    def activity_type(self, code: str) -> str:
        return self._iri("activity-type", code)

    def nuts(self, code: str) -> str:
        return self._iri("nuts", code)

    def work(self, doi: str | None = None, openalex_id: str | None = None) -> str:
        """A work is keyed by its DOI where it has one, so both sources meet on it."""
        if doi:
            return self._iri("work", "doi", doi.lower())
        return self._iri("work", "openalex", openalex_id or "")

    def person(self, openalex_id: str) -> str:
        return self._iri("person", openalex_id)

    def institution(self, openalex_id: str) -> str:
        return self._iri("institution", openalex_id)

    def authorship(self, work_key: str, position: int) -> str:
        return self._iri("authorship", work_key, str(position))


def country(alpha2: str) -> str:
    return COUNTRY + alpha2


def term(local: str) -> str:
    return CKG + local
