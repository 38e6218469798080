"""Namespaces and the one place where IRIs are minted.

Ontology terms and reference data (countries, roles) have fixed IRIs; instance data
(projects, organisations, ...) is minted under a configurable base
(``--base`` / ``$COLLABKG_BASE``, default :data:`DEFAULT_BASE`).
"""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

from collabkg.settings import Settings  # the environment is read there

# The project's fixed IRIs: everything under its w3id.org root that is not minted from a source.
W3ID = "https://w3id.org/collabkg/"
DEFAULT_BASE = W3ID + "id/"  # instance IRIs unless --base / $COLLABKG_BASE says otherwise
CKG = W3ID + "ontology#"
COUNTRY = W3ID + "country/"

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
SH = "http://www.w3.org/ns/shacl#"
DCAT = "http://www.w3.org/ns/dcat#"
VOID = "http://rdfs.org/ns/void#"
W3C_FORMATS = "http://www.w3.org/ns/formats/"
# The EU Publications Office authority tables (countries, licences, file types, ...).
EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
DOI_RESOLVER = "https://doi.org/"
# The ontology and reference data (one named graph per ontology/*.ttl file, under this prefix).
ONTOLOGY_GRAPH = W3ID + "graph/ontology/"
# Research themes (ontology/themes.ttl) are fixed, like the ontology terms.
THEME = W3ID + "theme/"
# An organisation (OIC, the publisher) named by the project itself.
ORG_NS = W3ID + "org/"
OIC = ORG_NS + "OIC"
PUBLISHER = ORG_NS + "collabkg"  # the publisher of the exports (``collabkg export --publisher-iri``)

# Vocabularies of the exports' DCAT-AP description, the server's service description and the docs.
SD = "http://www.w3.org/ns/sparql-service-description#"
SPARQL_RESULTS = "http://www.w3.org/2005/sparql-results#"
SPDX = "http://spdx.org/rdf/terms#"
ADMS = "http://www.w3.org/ns/adms#"
ADMS_LICENCE_TYPE = "http://purl.org/adms/licencetype/"
ADMS_PUBLISHER_TYPE = "http://purl.org/adms/publishertype/"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
VANN = "http://purl.org/vocab/vann/"
# Vocabularies the ontology aligns to (written in the export's prefix block when used).
EURIO = "http://data.europa.eu/s66#"
FABIO = "http://purl.org/spar/fabio/"
FRAPO = "http://purl.org/cerif/frapo/"
GEO = "http://www.w3.org/2003/01/geo/wgs84_pos#"
PRISM = "http://prismstandard.org/namespaces/basic/2.0/"
PRO = "http://purl.org/spar/pro/"
# Identifier authorities whose IRIs the sources give (kept as they are: linked, not lost).
ROR = "https://ror.org/"
ORCID = "https://orcid.org/"
# The sources as datasets, their publisher, and the licence deed.
CORDIS_DATASET = "http://data.europa.eu/88u/dataset/cordis-eu-research-projects-under-horizon-europe-2021-2027"
OPENALEX_DATASET = "https://openalex.org/"
OURRESEARCH = "https://ourresearch.org/"
CC_BY_DEED = "https://creativecommons.org/licenses/by/4.0/"

# First path segments of the instance IRIs that IRIs mints under the base (besides "graph"):
# the export's prefix block is derived from this list.
INSTANCE_SEGMENTS = (
    "project", "organisation", "participation", "programme", "topic", "call", "funding-scheme",
    "euroscivoc", "activity-type", "nuts", "work", "person", "institution", "authorship", "funder", "award",
    "publication-result",
)
# Entity kinds whose graph is shared by every source (two sources describe one work: one graph).
CROSS_SOURCE_KINDS = frozenset({"work"})

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


_DOI_PREFIX = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:")


def normalise_doi(doi: str | None) -> str | None:
    """The one DOI form of the graph: bare (``10.x/...``), resolver prefix removed, lower case
    (DOIs are case-insensitive), or None when the value is not a DOI."""
    if doi is None:
        return None
    d = doi.strip()
    low = d.lower()
    for prefix in _DOI_PREFIX:
        if low.startswith(prefix):
            d = d[len(prefix):]
            break
    d = d.strip().lower()
    if not d.startswith("10.") or "/" not in d or any(c.isspace() for c in d):
        return None
    return d


def doi_iri(doi: str) -> str:
    """The resolver IRI of a (normalised) DOI."""
    return DOI_RESOLVER + quote(doi.strip(), safe="/:;()._-~")


@lru_cache(maxsize=65536)
def _seg(value: str) -> str:
    """Percent-encode a source identifier so that it is always a valid IRI segment."""
    return quote(value.strip(), safe="-._~")


class IRIs:
    """Mints every instance IRI from source identifiers under one base."""

    def __init__(self, base: str | None = None):
        base = base or Settings.from_env().base or DEFAULT_BASE
        if not base.endswith(("/", "#")):
            base += "/"
        self.base = base

    def _iri(self, *parts: str) -> str:
        return self.base + "/".join(_seg(p) for p in parts)

    # graphs: one named graph per source record
    def graph(self, source: str, record_id: str) -> str:
        return self._iri("graph", source, record_id)

    def entity_graph(self, source: str, kind: str, ident: str) -> str:
        """The graph of a shared entity (organisation, person, institution, funder, vocabulary term).

        A work is one node whatever source describes it, so its graph is one for all sources
        (``graph/work/<key>``): the latest record describing it wins, as for every entity."""
        if kind in CROSS_SOURCE_KINDS:
            return self._iri("graph", kind, ident)
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

    def work(self, doi: str | None = None, openalex_id: str | None = None, cordis_result: str | None = None) -> str:
        """A work is keyed by its DOI where it has one, so both sources meet on it; else by the
        OpenAlex id or the CORDIS result identity."""
        if doi:
            return self._iri("work", "doi", doi.lower())
        if cordis_result:
            return self._iri("work", "cordis", cordis_result)
        return self._iri("work", "openalex", openalex_id or "")

    @staticmethod
    def work_key(doi: str | None = None, openalex_id: str | None = None, cordis_result: str | None = None) -> str:
        """The identity of a work's entity graph (same precedence as :meth:`work`)."""
        if doi:
            return "doi:" + doi.lower()
        if cordis_result:
            return "cordis:" + cordis_result
        return "openalex:" + (openalex_id or "")

    def publication_result(self, grant: str, result: str) -> str:
        """A CORDIS publication result as the project record states it (title, year, journal)."""
        return self._iri("publication-result", grant, result)

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


def theme(key: str) -> str:
    return THEME + key
