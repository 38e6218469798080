"""The dataset description written beside a dump: DCAT-AP 3 and VoID in one Turtle file.

``<dump>.dcat.ttl`` (e.g. ``collabkg.ttl.gz.dcat.ttl``) describes:

- a ``dcat:Catalog`` holding one ``dcat:Dataset`` (also a ``void:Dataset``) with title,
  description, publisher, issued/modified, keywords, EU data theme, language, spatial and
  temporal coverage, licence (CC BY 4.0, with the CORDIS attribution as ``dct:rights``) and
  the sources (``dct:source``: CORDIS, CC BY 4.0; OpenAlex, CC0);
- one ``dcat:Distribution`` per dump file: download URL, ``dct:format`` (EU file-type authority),
  ``dcat:mediaType`` (IANA), ``dcat:compressFormat`` when gzipped, ``dcat:byteSize``, and an
  ``spdx:checksum`` (SHA-256);
- VoID figures: ``void:triples``, ``void:entities``, class and property partitions,
  ``void:dataDump``, ``void:sparqlEndpoint`` (when given) and ``void:vocabulary``.

Every value is derived from the store and the dump, so the description is as reproducible
as the dump. Access and download URLs are absolute: under ``download_base`` when given, else
under :func:`default_download_base` (``<base>dump/``, e.g. ``https://w3id.org/collabkg/id/dump/``).
Values taken from EU authority tables (countries, language, theme, publisher type, file type,
checksum algorithm) carry the class and label DCAT-AP's range shapes expect, so the description
conforms to SEMIC's full DCAT-AP 3.0.1 shapes (``tests/test_dcat_ap.py``); ``shapes/dcat-ap.ttl``
checks the project's own rules.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox

from collabkg.files import sha256
import collabkg.export as ex
from collabkg.namespaces import (
    ADMS, ADMS_LICENCE_TYPE, ADMS_PUBLISHER_TYPE, CC_BY_DEED, CKG, CORDIS_DATASET, DCAT, DCT, EU_AUTHORITY as EU, FOAF,
    IANA_MEDIA_TYPES as IANA, ONTOLOGY_GRAPH, OPENALEX_DATASET, OURRESEARCH, PUBLISHER, RDF, RDFS, SKOS, SPDX, VOID,
    W3C_FORMATS, XSD, IRIs,
)

CORDIS_ATTRIBUTION = "Source: CORDIS, © European Union, CC BY 4.0"
OPENALEX_NOTE = "OpenAlex data: CC0 1.0 (public domain dedication), from OpenAlex (OurResearch)"
CC_BY = EU + "licence/CC_BY_4_0"
THEME = EU + "data-theme/TECH"
PUBLICATIONS_OFFICE = EU + "corporate-body/PUBL"
LANGUAGE = EU + "language/ENG"
PUBLISHER_TYPE = ADMS_PUBLISHER_TYPE + "Academia-ScientificOrganisation"
CC0 = EU + "licence/CC0"



def default_download_base(base: str | None = None) -> str:
    """Where dumps are published unless ``--download-base`` says otherwise: ``<base>dump/``."""
    return IRIs(base).base + "dump/"

DESCRIPTION_PREFIXES = [
    ("dcat", DCAT), ("dct", DCT), ("void", VOID), ("spdx", SPDX), ("adms", ADMS), ("foaf", FOAF),
    ("rdf", RDF), ("rdfs", RDFS), ("skos", SKOS), ("xsd", XSD),
    ("filetype", EU + "file-type/"), ("theme", EU + "data-theme/"), ("lang", EU + "language/"),
    ("licence", EU + "licence/"), ("eucountry", EU + "country/"), ("iana", IANA),
]

TITLES = {
    "all": "collabkg: research collaborations with OIC member states (CORDIS Horizon Europe and OpenAlex)",
    "cordis": "collabkg: Horizon Europe projects with participants from OIC member states (CORDIS)",
    "openalex": "collabkg: co-authored works with OIC-country institutions (OpenAlex)",
    "ontology": "collabkg ontology and reference data (countries, OIC membership)",
}
DESCRIPTION = (
    "A knowledge graph of international research collaborations involving member states of the "
    "Organisation of Islamic Cooperation (OIC): Horizon Europe projects from CORDIS with all their "
    "participating organisations, and OpenAlex works with their authorships and institutions, "
    "mapped to the collabkg ontology (aligned to EURIO, schema.org, W3C ORG, FOAF)."
)
KEYWORDS = ["research collaboration", "Horizon Europe", "CORDIS", "OpenAlex",
            "Organisation of Islamic Cooperation", "knowledge graph", "linked data"]


def description_path(dump: str | Path) -> Path:
    """Where the description of ``dump`` goes: ``<dump>.dcat.ttl`` in the same folder."""
    dump = Path(dump)
    return dump.with_name(dump.name + ".dcat.ttl")


@dataclass
class Options:
    which: str = "all"
    base: str | None = None
    download_base: str | None = None  # URL of the folder the dump is published in
    sparql_endpoint: str | None = None
    issued: str | None = None  # YYYY-MM-DD; default: the newest record update date
    publisher_name: str = "collabkg project"
    publisher_iri: str = PUBLISHER


class _Triples(list):
    def add(self, s: str, p: str, o) -> None:
        if o is None:
            return
        obj = o if isinstance(o, (ox.NamedNode, ox.Literal)) else ox.NamedNode(o)
        self.append(ox.Triple(ox.NamedNode(s), ox.NamedNode(p), obj))


def _lit(value, dt: str | None = None, lang: str | None = None) -> ox.Literal:
    if lang:
        return ox.Literal(str(value), language=lang)
    return ox.Literal(str(value), datatype=ox.NamedNode(dt)) if dt else ox.Literal(str(value))


def _graph_clause(which: str, base: str) -> str:
    if which == "all":
        return ""
    prefix = ONTOLOGY_GRAPH if which == "ontology" else f"{base}graph/{which}/"
    return f'FILTER(STRSTARTS(STR(?g), "{prefix}"))'


def _facts(store, which: str, base: str) -> dict:
    """Dates and countries of the selection, from the store (aggregates: bounded memory)."""
    flt = _graph_clause(which, base)
    def agg(fn: str, prop: str):
        # one aggregate per query: MIN/MAX over a UNION with unbound values gives no result
        q = f"PREFIX ckg: <{CKG}> SELECT ({fn}(STR(?v)) AS ?r) WHERE {{ GRAPH ?g {{ ?x ckg:{prop} ?v }} {flt} }}"
        r = next(iter(store.query(q)))["r"]
        return r.value if r is not None else None

    countries = [r["eu"].value for r in store.query(
        f"PREFIX ckg: <{CKG}> PREFIX skos: <{SKOS}> SELECT DISTINCT ?eu WHERE {{"
        f" GRAPH ?g {{ ?x ckg:country ?c }} {flt} ?c skos:exactMatch ?eu"
        f' FILTER(STRSTARTS(STR(?eu), "{EU}country/")) }} ORDER BY ?eu')]
    return {"modified": agg("MAX", "lastUpdateDate"), "start": agg("MIN", "startDate"),
            "end": agg("MAX", "endDate"), "countries": countries}


def _has_source(store, which: str, source: str, base: str) -> bool:
    if which not in ("all", source):
        return False
    prefix = f"{base}graph/{source}/"
    return any(g.startswith(prefix) for g in store.graph_names())


def describe(store, result: "ex.ExportResult", stats: "ex.Stats", opts: Options) -> list[ox.Triple]:
    """The DCAT-AP 3 + VoID description of one exported dump, as triples."""
    base = IRIs(opts.base).base
    t = _Triples()
    ds = f"{base}dataset/{opts.which}"
    cat = f"{base}catalog"
    name = result.path.name
    dist = f"{ds}/distribution/{quote(name, safe='.-_~')}"
    url = (opts.download_base.rstrip("/") + "/" if opts.download_base else default_download_base(opts.base)) + quote(name)
    facts = _facts(store, opts.which, base)
    modified = facts["modified"][:10] if facts["modified"] else None
    issued = opts.issued or modified

    a = RDF + "type"
    t.add(cat, a, DCAT + "Catalog")
    t.add(cat, DCT + "title", _lit("collabkg catalogue", lang="en"))
    t.add(cat, DCT + "description", _lit("Dumps of the collabkg knowledge graph of research collaborations.", lang="en"))
    t.add(cat, DCT + "publisher", opts.publisher_iri)
    t.add(cat, DCAT + "dataset", ds)
    t.add(cat, DCT + "language", LANGUAGE)
    t.add(cat, DCT + "license", CC_BY)
    t.add(cat, DCT + "issued", _lit(issued, XSD + "date") if issued else None)
    t.add(cat, DCT + "modified", _lit(modified, XSD + "date") if modified else None)
    t.add(cat, DCAT + "themeTaxonomy", EU + "data-theme")
    t.add(EU + "data-theme", a, SKOS + "ConceptScheme")
    t.add(EU + "data-theme", DCT + "title", _lit("Data theme", lang="en"))

    t.add(opts.publisher_iri, a, FOAF + "Agent")
    t.add(opts.publisher_iri, FOAF + "name", _lit(opts.publisher_name, lang="en"))
    t.add(opts.publisher_iri, DCT + "type", PUBLISHER_TYPE)
    # Values from EU authority tables carry the class DCAT-AP's range shapes expect of them.
    t.add(PUBLISHER_TYPE, a, SKOS + "Concept")
    t.add(PUBLISHER_TYPE, SKOS + "prefLabel", _lit("Academia/Scientific organisation", lang="en"))

    for cls in (DCAT + "Dataset", VOID + "Dataset"):
        t.add(ds, a, cls)
    t.add(ds, DCT + "title", _lit(TITLES[opts.which], lang="en"))
    t.add(ds, DCT + "description", _lit(DESCRIPTION, lang="en"))
    t.add(ds, DCT + "publisher", opts.publisher_iri)
    t.add(ds, DCT + "issued", _lit(issued, XSD + "date") if issued else None)
    t.add(ds, DCT + "modified", _lit(modified, XSD + "date") if modified else None)
    for k in KEYWORDS:
        t.add(ds, DCAT + "keyword", _lit(k, lang="en"))
    t.add(ds, DCAT + "theme", THEME)  # Science and technology
    t.add(THEME, a, SKOS + "Concept")
    t.add(THEME, SKOS + "prefLabel", _lit("Science and technology", lang="en"))
    t.add(ds, DCT + "language", LANGUAGE)
    t.add(LANGUAGE, a, DCT + "LinguisticSystem")
    for c in facts["countries"]:
        t.add(ds, DCT + "spatial", c)
        t.add(c, a, DCT + "Location")
    if facts["start"] or facts["end"]:
        period = f"{ds}/period"
        t.add(ds, DCT + "temporal", period)
        t.add(period, a, DCT + "PeriodOfTime")
        t.add(period, DCAT + "startDate", _lit(facts["start"], XSD + "date") if facts["start"] else None)
        t.add(period, DCAT + "endDate", _lit(facts["end"], XSD + "date") if facts["end"] else None)
    t.add(ds, DCT + "license", CC_BY)
    rights = f"{ds}/rights"
    t.add(ds, DCT + "rights", rights)
    t.add(rights, a, DCT + "RightsStatement")
    t.add(rights, RDFS + "label", _lit(CORDIS_ATTRIBUTION, lang="en"))
    t.add(CC_BY, a, DCT + "LicenseDocument")
    _licence_type(t, CC_BY, "Attribution")
    t.add(CC_BY, RDFS + "label", _lit("Creative Commons Attribution 4.0 International", lang="en"))
    t.add(CC_BY, RDFS + "seeAlso", CC_BY_DEED)
    if opts.which != "ontology":
        t.add(ds, DCT + "source", CORDIS_DATASET) if _has_source(store, opts.which, "cordis", base) else None
        _source_dataset(t, CORDIS_DATASET, "CORDIS - EU research projects under HORIZON EUROPE (2021-2027)",
                        CORDIS_ATTRIBUTION, CC_BY, PUBLICATIONS_OFFICE, "Publications Office of the European Union",
                        ("CORDIS", "Horizon Europe", "research projects"))
        if _has_source(store, opts.which, "openalex", base):
            t.add(ds, DCT + "source", OPENALEX_DATASET)
            _source_dataset(t, OPENALEX_DATASET, "OpenAlex", OPENALEX_NOTE, CC0, OURRESEARCH, "OurResearch",
                            ("OpenAlex", "scholarly works", "bibliographic data"))
            t.add(CC0, a, DCT + "LicenseDocument")
            _licence_type(t, CC0, "PublicDomain")
            t.add(rights, RDFS + "comment", _lit(OPENALEX_NOTE, lang="en"))

    # the distribution (the dump file)
    f = result.format
    t.add(ds, DCAT + "distribution", dist)
    t.add(dist, a, DCAT + "Distribution")
    t.add(dist, DCT + "title", _lit(f"{TITLES[opts.which]} ({f.w3c_format}{', gzip' if result.gzip else ''})", lang="en"))
    t.add(dist, DCAT + "accessURL", url)
    t.add(dist, DCAT + "downloadURL", url)
    t.add(dist, DCT + "format", EU + "file-type/" + f.file_type)
    t.add(EU + "file-type/" + f.file_type, a, DCT + "MediaTypeOrExtent")
    t.add(dist, DCAT + "mediaType", IANA + f.media_type)
    if result.gzip:
        t.add(dist, DCAT + "compressFormat", IANA + "application/gzip")
    t.add(dist, DCT + "license", CC_BY)
    t.add(dist, DCT + "description", _lit(f"The whole selection as one {f.w3c_format} file"
                                          f"{' (gzip)' if result.gzip else ''}, statements sorted.", lang="en"))
    t.add(dist, DCAT + "byteSize", _lit(result.path.stat().st_size, XSD + "nonNegativeInteger"))
    checksum = f"{dist}/checksum"
    t.add(dist, SPDX + "checksum", checksum)
    t.add(checksum, a, SPDX + "Checksum")
    t.add(checksum, SPDX + "algorithm", SPDX + "checksumAlgorithm_sha256")
    t.add(SPDX + "checksumAlgorithm_sha256", a, SPDX + "ChecksumAlgorithm")
    t.add(checksum, SPDX + "checksumValue", _lit(sha256(result.path), XSD + "hexBinary"))
    for mt in [IANA + f.media_type] + ([IANA + "application/gzip"] if result.gzip else []):
        t.add(mt, a, DCT + "MediaType")

    # VoID
    t.add(ds, VOID + "triples", _lit(stats.triples, XSD + "integer"))
    t.add(ds, VOID + "entities", _lit(stats.entities, XSD + "integer"))
    t.add(ds, VOID + "distinctSubjects", _lit(stats.distinct_subjects, XSD + "integer"))
    t.add(ds, VOID + "properties", _lit(len(stats.properties), XSD + "integer"))
    t.add(ds, VOID + "classes", _lit(len(stats.classes), XSD + "integer"))
    t.add(ds, VOID + "dataDump", url)
    t.add(ds, VOID + "feature", W3C_FORMATS + {"JSON-LD": "JSON-LD"}.get(f.w3c_format, f.w3c_format.replace("-", "_")))
    t.add(ds, VOID + "uriSpace", _lit(base))
    if opts.sparql_endpoint:
        t.add(ds, VOID + "sparqlEndpoint", opts.sparql_endpoint)
    vocabularies = set()
    for cls, n in sorted(stats.classes.items()):
        part = f"{ds}/class/{_slug(cls)}"
        t.add(ds, VOID + "classPartition", part)
        t.add(part, VOID + "class", cls)
        t.add(part, VOID + "entities", _lit(n, XSD + "integer"))
        vocabularies.add(ex._split_iri(cls)[0])
    for prop, n in sorted(stats.properties.items()):
        part = f"{ds}/property/{_slug(prop)}"
        t.add(ds, VOID + "propertyPartition", part)
        t.add(part, VOID + "property", prop)
        t.add(part, VOID + "triples", _lit(n, XSD + "integer"))
        vocabularies.add(ex._split_iri(prop)[0])
    for v in sorted(vocabularies):
        t.add(ds, VOID + "vocabulary", v)
    return t



def _source_dataset(t, iri: str, title: str, description: str, licence: str, publisher: str,
                    publisher_name: str, keywords: tuple[str, ...]) -> None:
    """A source's dataset as DCAT-AP wants it described: title, description, licence, publisher,
    theme, keywords."""
    a = RDF + "type"
    t.add(iri, a, DCAT + "Dataset")
    t.add(iri, DCT + "title", _lit(title, lang="en"))
    t.add(iri, DCT + "description", _lit(description, lang="en"))
    t.add(iri, DCT + "license", licence)
    t.add(iri, DCT + "publisher", publisher)
    t.add(publisher, a, FOAF + "Agent")
    t.add(publisher, FOAF + "name", _lit(publisher_name, lang="en"))
    t.add(iri, DCAT + "theme", THEME)
    for k in keywords:
        t.add(iri, DCAT + "keyword", _lit(k, lang="en"))

def _licence_type(t: _Triples, licence: str, kind: str) -> None:
    """``dct:type`` of a licence from the ADMS licence-type vocabulary (a ``skos:Concept``)."""
    concept = ADMS_LICENCE_TYPE + kind
    t.add(licence, DCT + "type", concept)
    t.add(concept, RDF + "type", SKOS + "Concept")
    t.add(concept, SKOS + "prefLabel", _lit({"Attribution": "Attribution", "PublicDomain": "Public domain"}[kind], lang="en"))


def _slug(iri: str) -> str:
    """A readable, stable IRI segment for a class or property: prefix-local, else a hash."""
    ns, local = ex._split_iri(iri)
    for p, n in ex.KNOWN_PREFIXES + DESCRIPTION_PREFIXES:
        if n == ns and ex._LOCAL.fullmatch(local):
            return f"{p}-{local}"
    return hashlib.sha1(iri.encode()).hexdigest()[:12]


def to_turtle(triples: list[ox.Triple], base: str | None = None) -> str:
    """Deterministic Turtle of a small set of triples (the dump writer, in memory)."""
    base = IRIs(base).base
    table = DESCRIPTION_PREFIXES + [(p, n) for p, n in ex.prefix_table(base) if p not in dict(DESCRIPTION_PREFIXES)]
    prefixes = {n: p for p, n in table}
    scan = ex.Scan()
    rec = ex._Records(prefixes, scan)
    records = sorted({rec.record(ox.Quad(t.subject, t.predicate, t.object))[:-1] for t in triples})
    used = [(p, n) for p, n in table if n in scan.namespaces]
    buf = io.StringIO()
    ex.write_turtle(buf, iter(records), used)
    return buf.getvalue()


def write_description(store, result: "ex.ExportResult", stats: "ex.Stats", opts: Options) -> Path:
    path = description_path(result.path)
    path.write_text(to_turtle(describe(store, result, stats, opts), opts.base), encoding="utf-8", newline="\n")
    return path
