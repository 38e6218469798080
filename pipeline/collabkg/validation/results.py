"""The report model: one Result per SHACL validation result, grouped per record, and the report
formats (text for a person, JSON, the standard SHACL report graph in Turtle)."""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field

from collabkg.namespaces import CKG, SH
from collabkg.validation.shapes import path_rdf, property_labels, shape_messages, shape_names

SEVERITIES = ("Violation", "Warning", "Info")


@dataclass(frozen=True)
class Result:
    """One validation result. Terms are in N-Triples syntax (``<iri>``, ``"lit"^^<dt>``) and the path
    in SPARQL property path syntax (``<p>``, ``^<p>``, ``<p>/<q>``), so results of both engines compare
    as plain tuples."""

    focus: str
    path: str | None
    component: str  # local name in sh:, e.g. "MinCountConstraintComponent" (or "<iri>" of a custom one)
    severity: str  # Violation | Warning | Info (or "<iri>" of a custom severity)
    value: str | None
    shape: str
    message: str

    def key(self) -> tuple:
        return (self.focus, self.path, self.component, self.severity, self.value, self.shape, self.message)

    def sort_key(self) -> tuple:
        return tuple("" if v is None else v for v in self.key())

    @property
    def field(self) -> str:
        """What a person calls the field: the property's label from the ontology for a plain
        property, else the shape's ``sh:name`` (e.g. "coordinator" for the participations read
        backwards), else the path itself; "record" for a result about the whole record."""
        m = re.fullmatch(r"(\^?)<([^>]*)>", self.path or "")
        label = m and (property_labels().get(m.group(2)) or m.group(2).rsplit("#", 1)[-1].rsplit("/", 1)[-1])
        if m and not m.group(1):
            return label
        if self.shape in shape_names():
            return shape_names()[self.shape]
        return f"inverse of {label}" if m else (self.path or "record")

    @property
    def kind(self) -> str:
        """The message without its values: what the summary counts."""
        return re.sub(r"\{[?$]\w+\}", "…", shape_messages().get(self.shape, self.message))

    def as_dict(self) -> dict:
        simple = self.path is not None and re.fullmatch(r"\^?<[^>]*>", self.path)
        return {
            "focus": _plain(self.focus),
            "path": (_plain(self.path.lstrip("^")) if simple else self.path) if self.path else None,
            "inverse_path": bool(self.path and self.path.startswith("^")),
            "field": self.field,
            "value": self.value,
            "component": "sh:" + self.component if not self.component.startswith("<") else self.component,
            "severity": self.severity,
            "shape": _plain(self.shape),
            "message": self.message,
        }


def _plain(nt: str) -> str:
    return nt[1:-1] if nt.startswith("<") and nt.endswith(">") else nt


@dataclass
class RecordReport:
    """The results about one record (file, record id) of a batch (or one graph of a store)."""

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


def conforms(reports: list[RecordReport]) -> bool:
    return all(r.conforms for r in reports)


def _severity_rank(s: str) -> int:
    return SEVERITIES.index(s) if s in SEVERITIES else len(SEVERITIES)


def format_text(reports: list[RecordReport], out, checked: int | None = None) -> None:
    """Results grouped per record: file, record id, then one line per result. ``checked``: how many
    records were validated (default: the number of reports)."""
    n = Counter()
    for rep in reports:
        if not rep.results and rep.error is None:
            continue
        out.write(f"{rep.file}  record {rep.record}\n")
        if rep.error is not None:
            out.write(f"  Violation  {rep.error_field}: {rep.error}\n")
            n["Violation"] += 1
        for r in sorted(rep.results, key=lambda r: (_severity_rank(r.severity), r.field, r.focus)):
            n[r.severity] += 1
            value = f" = {_short(r.value)}" if r.value is not None else ""
            out.write(f"  {r.severity:<9}  {r.field}{value}\n             {r.message}\n             (node {_plain(r.focus)}, sh:{r.component})\n")
    checked = len(reports) if checked is None else checked
    verdict = "conforms" if conforms(reports) else "does not conform"
    out.write(
        f"{checked} record(s) checked: {verdict}; {n['Violation']} violation(s), {n['Warning']} warning(s), {n['Info']} info\n"
    )


def _short(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def format_json(reports: list[RecordReport], out, checked: int | None = None) -> None:
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
    g.add((rep, sh.conforms, rdflib.Literal(all(r.conforms for r in reports))))
    seen = set()
    for record in reports:
        for r in record.results:
            if r.key() in seen:
                continue
            seen.add(r.key())
            node = rdflib.BNode()
            g.add((rep, sh.result, node))
            g.add((node, rdflib.RDF.type, sh.ValidationResult))
            g.add((node, sh.focusNode, rdflib_term(r.focus)))
            if r.path:
                g.add((node, sh.resultPath, path_rdf(r.path, g)))
            if r.value is not None:
                g.add((node, sh.value, rdflib_term(r.value)))
            g.add((node, sh.resultSeverity, rdflib_term(r.severity) if r.severity.startswith("<") else sh[r.severity]))
            g.add((node, sh.sourceConstraintComponent, rdflib_term(r.component) if r.component.startswith("<") else sh[r.component]))
            g.add((node, sh.sourceShape, rdflib_term(r.shape)))
            if r.message:
                g.add((node, sh.resultMessage, rdflib.Literal(r.message)))
    return g


def rdflib_term(nt: str):
    import rdflib
    from rdflib.util import from_n3

    if nt.startswith("_:"):
        return rdflib.BNode(nt[2:])
    return from_n3(nt)


def format_turtle(reports: list[RecordReport], out, checked: int | None = None) -> None:
    out.write(report_graph(reports).serialize(format="turtle"))


FORMATTERS = {"text": format_text, "json": format_json, "turtle": format_turtle}
