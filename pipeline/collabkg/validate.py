"""Validation of records against the SHACL shapes in ``shapes/``.

Two engines evaluate the same shapes and give the same results:

* ``pyshacl`` — the reference: the data graph is copied into rdflib and handed to pySHACL.
* ``fast`` (default) — every constraint of the shapes is compiled once into a SPARQL SELECT
  (:mod:`collabkg.shacl_sparql`) and run by Oxigraph: on an in-memory store holding a batch of
  records (import, ``collabkg validate``) or directly on the store (``collabkg audit``).

The data graph of a batch is: the ontology and reference data (countries), the records' triples and
shared vocabulary, and, with a store, *context* from the store: the types of nodes the batch points
to but does not describe (a participation may point to an organisation already in the graph), and
what other records already say about the nodes the batch describes (so a PIC whose legal name
differs from the stored one shows up as a second legal name). Only results about nodes the batch
describes are reported: the store itself is checked by ``collabkg audit``.
"""
from __future__ import annotations

import json
import os
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from collabkg.namespaces import CKG, COUNTRY, RDF, RDFS
from collabkg.resources import ontology_dir, shapes_dir

SH = "http://www.w3.org/ns/shacl#"
SEVERITIES = ("Violation", "Warning", "Info")
_A = ox.NamedNode(RDF + "type")
_ORGANISATION = ox.NamedNode(CKG + "Organisation")
_LEGAL_NAME = ox.NamedNode(CKG + "legalName")


@dataclass(frozen=True)
class Result:
    """One validation result. Terms are in N-Triples syntax (``<iri>``, ``"lit"^^<dt>``) so results of
    both engines compare as plain tuples."""

    focus: str
    path: str | None  # "<iri>" or "^<iri>" (inverse path)
    component: str  # local name in sh:, e.g. "MinCountConstraintComponent"
    severity: str  # Violation | Warning | Info
    value: str | None
    shape: str
    message: str

    def key(self) -> tuple:
        return (self.focus, self.path, self.component, self.severity, self.value, self.shape, self.message)

    def sort_key(self) -> tuple:
        return tuple("" if v is None else v for v in self.key())

    @property
    def field(self) -> str:
        """The property's label from the ontology (what a person calls the field)."""
        if not self.path:
            return "-"
        inverse = self.path.startswith("^")
        iri = self.path.lstrip("^")[1:-1]
        label = property_labels().get(iri) or iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        return f"inverse of {label}" if inverse else label

    @property
    def kind(self) -> str:
        """The message without its values: what the summary counts."""
        return re.sub(r"\{[?$]\w+\}", "…", shape_messages().get(self.shape, self.message))

    def as_dict(self) -> dict:
        return {
            "focus": _plain(self.focus),
            "path": _plain(self.path.lstrip("^")) if self.path else None,
            "inverse_path": bool(self.path and self.path.startswith("^")),
            "field": self.field,
            "value": self.value,
            "component": "sh:" + self.component,
            "severity": self.severity,
            "shape": _plain(self.shape),
            "message": self.message,
        }


def _plain(nt: str) -> str:
    return nt[1:-1] if nt.startswith("<") and nt.endswith(">") else nt


@dataclass
class RecordReport:
    """The results about one record (file, record id) of a batch."""

    file: str
    record: str
    graph: str | None = None
    results: list[Result] = field(default_factory=list)
    error: str | None = None  # the record could not be read or mapped (no SHACL results)
    error_field: str = "-"

    @property
    def violations(self) -> list[Result]:
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def conforms(self) -> bool:
        return self.error is None and not self.violations


def map_for_validation(items, iris):
    """Map what a source yielded, for validation without storing: yields ``(record, graph IRI,
    triples)`` for each mapped record, and a RecordReport (with ``error``) for one that cannot be
    read or mapped."""
    from collabkg.mapping import map_record
    from collabkg.records import RecordError

    for item in items:
        if isinstance(item, RecordError):
            yield RecordReport(item.file, item.record, error=item.message, error_field=item.field)
            continue
        try:
            triples = map_record(item, iris)
        except (ValueError, TypeError) as e:  # a value that cannot become a valid RDF term
            yield RecordReport(item.file, item.record_id, error=f"cannot map record: {e}")
            continue
        yield item, iris.graph(item.source, item.record_id), triples


# --- shapes, labels ------------------------------------------------------------------------------


# The shapes files for records (one per class family); other files of shapes/ (dcat-ap.ttl) check
# the export's metadata, not records.
RECORD_SHAPES = ("_prefixes", "project", "participation", "organisation", "vocabulary", "publication")


def shape_files() -> list[Path]:
    return [shapes_dir() / f"{name}.ttl" for name in RECORD_SHAPES]


@lru_cache(maxsize=1)
def shapes_graph():
    """The shapes as an rdflib graph (for pySHACL)."""
    import rdflib

    g = rdflib.Graph()
    for f in shape_files():
        g.parse(f, format="turtle")
    return g


@lru_cache(maxsize=1)
def shape_messages() -> dict[str, str]:
    """sh:message templates by shape (property shapes) and by SPARQL-constraint owner shape."""
    g = shapes_graph()
    import rdflib

    sh = rdflib.Namespace(SH)
    out = {}
    for s, m in g.subject_objects(sh.message):
        out[_nt(s)] = str(m)
        for owner in g.subjects(sh.sparql, s):
            out[_nt(owner)] = str(m)
    return out


@lru_cache(maxsize=1)
def ontology_quads() -> tuple[ox.Quad, ...]:
    """The ontology and reference data (countries), as the store holds them."""
    from collabkg.importer import ONTOLOGY_GRAPH

    quads = []
    for ttl in sorted(ontology_dir().glob("*.ttl")):
        g = ox.NamedNode(ONTOLOGY_GRAPH + ttl.stem)
        quads.extend(ox.Quad(q.subject, q.predicate, q.object, g) for q in ox.parse(path=str(ttl), format=ox.RdfFormat.TURTLE))
    return tuple(quads)


@lru_cache(maxsize=1)
def reference_triples() -> tuple[ox.Triple, ...]:
    """The part of the reference data the shapes read: each country's type and ISO code (the shapes
    target no ontology term, so the rest of the ontology cannot change a result)."""
    keep = {RDF + "type", CKG + "iso2"}
    return tuple(
        ox.Triple(q.subject, q.predicate, q.object)
        for q in ontology_quads()
        if q.subject.value.startswith(COUNTRY) and q.predicate.value in keep
    )


@lru_cache(maxsize=1)
def property_labels() -> dict[str, str]:
    labels = {}
    label = RDFS + "label"
    for q in ontology_quads():
        if q.predicate.value == label and isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(CKG):
            if getattr(q.object, "language", None) in (None, "en"):
                labels[q.subject.value] = q.object.value
    labels.setdefault(RDFS + "label", "label")
    return labels


def _nt(term) -> str:
    """An rdflib or pyoxigraph term in N-Triples syntax."""
    import rdflib

    if isinstance(term, rdflib.URIRef):
        return f"<{term}>"
    if isinstance(term, rdflib.BNode):
        return f"_:{term}"
    if isinstance(term, rdflib.Literal):
        if term.language:
            return str(ox.Literal(str(term), language=term.language))
        if term.datatype:
            return str(ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype))))
        return str(ox.Literal(str(term)))
    return str(term)


# --- the data graph of a batch -------------------------------------------------------------------


class Batch:
    """The data graph for validating a batch of mapped records, and which record each node is in."""

    def __init__(self, items, store=None):
        # items: [(SourceRecord, graph IRI, triples)] as the importer builds them
        self.items = list(items)
        # The records' own triple objects (no copies: building Python objects is what costs here).
        self.triples: list[ox.Triple] = []
        self.owner: dict[ox.Term, set[int]] = defaultdict(set)  # subject -> indexes of the records describing it
        # Shared entities (organisations, persons, ...) are stored as the latest record describing
        # them states them: the batch's data graph holds that description only, like the store will.
        latest = {}
        for i, (_, _, triples) in enumerate(self.items):
            for key in set(getattr(triples, "entities", {}).values()):
                latest[key] = i
        for i, (rec, g, triples) in enumerate(self.items):
            entities = getattr(triples, "entities", None)
            if entities:
                own = [t for j, t in enumerate(triples) if (k := entities.get(j)) is None or latest[k] == i]
            else:
                own = triples
            for part in (own, getattr(triples, "vocab", ())):
                self.triples.extend(part)
                for t in part:
                    self.owner[t.subject].add(i)
        # The data graph in memory: reference data + the records, then the context from the store.
        self.mem = ox.Store()
        self.mem.load(ox.serialize([*reference_triples(), *self.triples], format=ox.RdfFormat.N_TRIPLES), format=ox.RdfFormat.N_TRIPLES)
        self.context: list[ox.Triple] = self._context(store) if store is not None else []
        if self.context:
            self.mem.extend(ox.Quad(t.subject, t.predicate, t.object) for t in self.context)

    def _context(self, store) -> list[ox.Triple]:
        """What the store already holds about the nodes this batch points to or describes."""
        own = {g for _, g, _ in self.items}
        out: list[ox.Triple] = []
        # What other records say about the batch's organisations' legal names (one PIC, one name).
        orgs = [r["s"] for r in self.mem.query("SELECT DISTINCT ?s WHERE { ?s a <%s> }" % _ORGANISATION.value)]
        seen = set()
        for chunk in _chunks(orgs, 2000):
            rows = store.query("SELECT ?s ?o ?g WHERE { VALUES ?s { %s } GRAPH ?g { ?s <%s> ?o } }" % (" ".join(map(str, chunk)), _LEGAL_NAME.value))
            for r in rows:
                if r["g"].value in own:  # this batch replaces those graphs
                    continue
                t = (r["s"], _LEGAL_NAME, r["o"])
                if t not in seen:
                    seen.add(t)
                    out.append(ox.Triple(*t))
        # The types of the nodes the batch points to but does not describe (e.g. an organisation in the store).
        pointed = [r["o"] for r in self.mem.query(
            "SELECT DISTINCT ?o WHERE { ?s ?p ?o FILTER(isIRI(?o) && ?p != <%s>) FILTER NOT EXISTS { ?o a ?t } }" % _A.value
        )]
        for chunk in _chunks(pointed, 2000):
            rows = store.query("SELECT DISTINCT ?s ?c WHERE { VALUES ?s { %s } ?s a ?c }" % " ".join(map(str, chunk)))
            out.extend(ox.Triple(r["s"], _A, r["c"]) for r in rows)
        return out

    def classes(self) -> set[str]:
        return {r["c"].value for r in self.mem.query("SELECT DISTINCT ?c WHERE { ?s a ?c }")}

    def ntriples(self) -> bytes:
        return ox.serialize([*reference_triples(), *self.triples, *self.context], format=ox.RdfFormat.N_TRIPLES)

    def rdflib(self):
        import rdflib

        data = self.ntriples()
        g = rdflib.Graph()
        g.parse(data=data.decode("utf-8"), format="nt")
        return g

    def reports(self, results: list[Result]) -> list[RecordReport]:
        """Share the results out to the records whose nodes they are about; drop results about nodes
        the batch does not describe (store context, reference data)."""
        reports = [RecordReport(rec.file, rec.record_id, g) for rec, g, _ in self.items]
        by_str = {str(s): idx for s, idx in self.owner.items()}
        own_values: dict[tuple, set[int]] | None = None
        for r in results:
            idx = by_str.get(r.focus)
            if not idx:
                continue
            if len(idx) > 1 and r.value is not None and r.path and not r.path.startswith("^"):
                # A node described by several records: blame those whose own triples hold the value.
                if own_values is None:
                    own_values = self._own_values()
                idx = own_values.get((r.focus, r.path, r.value)) or idx
            for i in idx:
                reports[i].results.append(r)
        return reports

    def _own_values(self) -> dict[tuple, set[int]]:
        out: dict[tuple, set[int]] = defaultdict(set)
        for i, (_, _, triples) in enumerate(self.items):
            for t in (*triples, *getattr(triples, "vocab", ())):
                if len(self.owner[t.subject]) > 1:
                    out[(str(t.subject), str(t.predicate), str(t.object))].add(i)
        return out


def _chunks(seq, n):
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


# --- engines -------------------------------------------------------------------------------------


def engine_name(name: str | None = None) -> str:
    name = name or os.environ.get("COLLABKG_SHACL_ENGINE") or "fast"
    if name not in ("fast", "pyshacl"):
        raise ValueError(f"unknown validation engine {name!r}; allowed: fast, pyshacl")
    return name


def run_fast(query, union: bool = True, classes: set[str] | None = None) -> list[Result]:
    """Run every compiled constraint with ``query(sparql) -> solutions``; with ``classes``, only
    the checks whose target classes have instances."""
    from collabkg.shacl_sparql import compiled_checks

    out = []
    for check in compiled_checks(union):
        if classes is not None and not (check.targets & classes):
            continue
        out.extend(check.results(query(check.sparql)))
    return sorted(set(out), key=Result.sort_key)


def run_pyshacl(data_graph) -> list[Result]:
    """Validate an rdflib graph with pySHACL and read its report graph back as Results."""
    import pyshacl
    import rdflib

    _, report, text = pyshacl.validate(data_graph, shacl_graph=shapes_graph(), inference="none", advanced=False, allow_warnings=True)
    if not isinstance(report, rdflib.Graph):  # pySHACL refused the shapes
        raise RuntimeError(f"pySHACL: {text}")
    sh = rdflib.Namespace(SH)
    out = set()
    for node in report.subjects(rdflib.RDF.type, sh.ValidationResult):
        path = report.value(node, sh.resultPath)
        if isinstance(path, rdflib.BNode):
            inv = report.value(path, sh.inversePath)
            path_s = f"^<{inv}>" if inv is not None else None
        else:
            path_s = f"<{path}>" if path is not None else None
        value = report.value(node, sh.value)
        out.add(
            Result(
                focus=_nt(report.value(node, sh.focusNode)),
                path=path_s,
                component=str(report.value(node, sh.sourceConstraintComponent)).rsplit("#", 1)[-1],
                severity=str(report.value(node, sh.resultSeverity)).rsplit("#", 1)[-1],
                value=_nt(value) if value is not None else None,
                shape=_nt(report.value(node, sh.sourceShape)),
                message=str(report.value(node, sh.resultMessage) or ""),
            )
        )
    return sorted(out, key=Result.sort_key)


def validate_batch(items, store=None, engine: str | None = None) -> list[RecordReport]:
    """Validate mapped records ``[(SourceRecord, graph IRI, triples)]``; with ``store``, against it."""
    if not items:
        return []
    batch = Batch(items, store)
    if engine_name(engine) == "pyshacl":
        results = run_pyshacl(batch.rdflib())
    else:
        results = run_fast(batch.mem.query, union=False, classes=batch.classes())
    return batch.reports(results)


def audit(store, engine: str | None = None) -> list[RecordReport]:
    """Validate everything in the store; results are grouped by the named graph(s) of their focus node."""
    if engine_name(engine) == "pyshacl":
        import rdflib

        data = ox.serialize(
            [ox.Triple(q.subject, q.predicate, q.object) for q in store.quads()], format=ox.RdfFormat.N_TRIPLES
        )
        g = rdflib.Graph()
        g.parse(data=data.decode("utf-8"), format="nt")
        results = run_pyshacl(g)
    else:
        results = run_fast(store.query)
    return _group_by_graph(store, results)


def _group_by_graph(store, results: list[Result]) -> list[RecordReport]:
    from collabkg.importer import ONTOLOGY_GRAPH

    graphs: dict[str, list[str]] = defaultdict(list)
    foci = sorted({r.focus for r in results if r.focus.startswith("<")})
    for chunk in _chunks(foci, 1000):
        rows = store.query("SELECT DISTINCT ?s ?g WHERE { VALUES ?s { %s } GRAPH ?g { ?s ?p ?o } }" % " ".join(chunk))
        for row in rows:
            graphs[str(row["s"])].append(row["g"].value)
    reports: dict[str, RecordReport] = {}
    for r in results:
        for g in sorted(graphs.get(r.focus) or ["-"]):
            if g.startswith(ONTOLOGY_GRAPH):
                continue
            rep = reports.get(g)
            if rep is None:
                rep = reports[g] = RecordReport(file=store.location, record=_record_id(g), graph=g)
            rep.results.append(r)
    return sorted(reports.values(), key=lambda rep: rep.graph or "")


def _record_id(graph: str) -> str:
    from urllib.parse import unquote

    m = re.search(r"/graph/([^/]+)/(.+)$", graph)
    return unquote(m.group(2)) if m else graph


# --- reports -------------------------------------------------------------------------------------


def conforms(reports: list[RecordReport]) -> bool:
    return all(r.conforms for r in reports)


def format_text(reports: list[RecordReport], out) -> None:
    """Results grouped per record: file, record id, then one line per result."""
    n = Counter()
    for rep in reports:
        if not rep.results and rep.error is None:
            continue
        out.write(f"{rep.file}  record {rep.record}\n")
        if rep.error is not None:
            out.write(f"  Violation  {rep.error_field}: {rep.error}\n")
            n["Violation"] += 1
        for r in sorted(rep.results, key=lambda r: (SEVERITIES.index(r.severity), r.field, r.focus)):
            n[r.severity] += 1
            value = f" = {_short(r.value)}" if r.value is not None else ""
            out.write(f"  {r.severity:<9}  {r.field}{value}\n             {r.message}\n             (node {_plain(r.focus)}, sh:{r.component})\n")
    checked = len(reports)
    verdict = "conforms" if conforms(reports) else "does not conform"
    out.write(
        f"{checked} record(s) checked: {verdict}; {n['Violation']} violation(s), {n['Warning']} warning(s), {n['Info']} info\n"
    )


def _short(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def format_json(reports: list[RecordReport], out) -> None:
    rows = []
    for rep in reports:
        if rep.error is not None:
            rows.append({"file": rep.file, "record": rep.record, "field": rep.error_field, "severity": "Violation", "message": rep.error, "component": None})
        for r in rep.results:
            rows.append({"file": rep.file, "record": rep.record, **r.as_dict()})
    json.dump(rows, out, ensure_ascii=False, indent=1)
    out.write("\n")


def report_graph(reports: list[RecordReport]):
    """The standard SHACL validation report (an rdflib graph)."""
    import rdflib

    sh = rdflib.Namespace(SH)
    g = rdflib.Graph()
    g.bind("sh", sh)
    g.bind("ckg", CKG)
    rep = rdflib.BNode()
    g.add((rep, rdflib.RDF.type, sh.ValidationReport))
    g.add((rep, sh.conforms, rdflib.Literal(all(not r.violations for r in reports))))
    seen = set()
    for record in reports:
        for r in record.results:
            if r.key() in seen:
                continue
            seen.add(r.key())
            node = rdflib.BNode()
            g.add((rep, sh.result, node))
            g.add((node, rdflib.RDF.type, sh.ValidationResult))
            g.add((node, sh.focusNode, _rdflib_term(r.focus)))
            if r.path:
                if r.path.startswith("^"):
                    p = rdflib.BNode()
                    g.add((p, sh.inversePath, rdflib.URIRef(r.path[2:-1])))
                    g.add((node, sh.resultPath, p))
                else:
                    g.add((node, sh.resultPath, rdflib.URIRef(r.path[1:-1])))
            if r.value is not None:
                g.add((node, sh.value, _rdflib_term(r.value)))
            g.add((node, sh.resultSeverity, sh[r.severity]))
            g.add((node, sh.sourceConstraintComponent, sh[r.component]))
            g.add((node, sh.sourceShape, _rdflib_term(r.shape)))
            g.add((node, sh.resultMessage, rdflib.Literal(r.message)))
    return g


def _rdflib_term(nt: str):
    import rdflib
    from rdflib.util import from_n3

    if nt.startswith("_:"):
        return rdflib.BNode(nt[2:])
    return from_n3(nt)


def format_turtle(reports: list[RecordReport], out) -> None:
    out.write(report_graph(reports).serialize(format="turtle"))


FORMATTERS = {"text": format_text, "json": format_json, "turtle": format_turtle}


# --- the importer's validator --------------------------------------------------------------------


class ImportValidator:
    """The importer's Validator: rejects records with a violation, counts warnings, and writes the
    rejected records with their results to a quarantine file (JSON Lines)."""

    def __init__(self, engine: str | None = None, quarantine: str | Path | None = None):
        self.engine = engine_name(engine)
        self._quarantine = Path(quarantine) if quarantine else None
        self.quarantine_path: str | None = None
        self.seconds = 0.0

    def __call__(self, items, store):
        from collabkg.importer import Rejection

        t0 = time.perf_counter()
        rejected: dict[str, list] = {}
        warnings: Counter = Counter()
        for rep in validate_batch(items, store, self.engine):
            for r in rep.results:
                if r.severity != "Violation":
                    warnings[f"{r.severity.lower()}: {r.kind}"] += 1
            if rep.violations:
                rejected[rep.record] = [
                    Rejection(rep.file, rep.record, r.field, f"{r.message}" + (f" (value {_short(r.value, 60)})" if r.value else ""))
                    for r in rep.violations
                ]
                self._write(store, {"file": rep.file, "record": rep.record, "graph": rep.graph, "results": [r.as_dict() for r in rep.results]})
        self.seconds += time.perf_counter() - t0
        return rejected, warnings

    def quarantine_rejection(self, store, rejection) -> None:
        """A record the source or the mapper could not read goes to the quarantine file too."""
        self._write(store, {"file": rejection.file, "record": rejection.record, "graph": None,
                            "results": [{"field": rejection.field, "severity": "Violation", "message": rejection.message, "component": None}]})

    def _write(self, store, line: dict) -> None:
        if self.quarantine_path is None:
            path = self._quarantine or _default_quarantine(store)
            path.parent.mkdir(parents=True, exist_ok=True)
            self.quarantine_path = str(path)
        with open(self.quarantine_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")


def _default_quarantine(store) -> Path:
    """Beside an embedded store; for a remote store (a URL), under ./.collabkg/quarantine."""
    location = str(getattr(store, "location", ".collabkg/store"))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    if "://" in location:
        return Path(".collabkg") / "quarantine" / f"remote-{stamp}.jsonl"
    loc = Path(location)
    return loc.parent / "quarantine" / f"{loc.name}-{stamp}.jsonl"


def import_validator(args=None) -> ImportValidator | None:
    """The validator ``collabkg build``/``ingest`` use (``$COLLABKG_VALIDATE=0`` turns it off)."""
    if os.environ.get("COLLABKG_VALIDATE", "1") == "0":
        return None
    return ImportValidator(engine=getattr(args, "engine", None), quarantine=getattr(args, "quarantine", None))
