"""Suspects first: for a property shape over a whole store, one SPARQL query finds the focus nodes
that *might* violate it, so that only their values cross into Python, where the fast engine's
evaluators decide exactly as before.

Why: on a store of millions of triples the cost of validation is the rows handed to Python (each
focus node's every value, ~5 µs a row), not the checks. Most values conform; a filter in the
query lets them stay in Oxigraph.

Each constraint gives a condition that holds for every value that violates it (a superset: an
expression that cannot be evaluated counts as suspect), and counts are compared in the query.
The plan (focus nodes first, or scans joined by hashing) is chosen by size: see ``suspects_query``.
Qualified counts are compared in the query when the qualified value shape is a plain
sh:hasValue / sh:class test (exactly its conforming values: a project's one coordinator).
A shape with a constraint that has no such condition here (SPARQL, logical, sh:node, other
qualified shapes, pairs, closed, language ...) gets no suspects query: every focus node is
checked as before.
"""
from __future__ import annotations

import re

import pyoxigraph as ox

from collabkg.namespaces import RDF, RDFS, XSD

_LANG_STRING = RDF + "langString"
# Lexical forms the query can check (the Python side checks the same and more: a superset is enough).
_LEXICAL = {
    "string": None,
    "integer": r"^[+-]?[0-9]+$",
    "decimal": r"^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)$",
    "boolean": r"^(true|false|1|0)$",
    "date": r"^-?[0-9]{4,}-[0-9]{2}-[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})?$",
    "dateTime": r"^-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?$",
    "gYear": r"^-?[0-9]{4,}(Z|[+-][0-9]{2}:[0-9]{2})?$",
}
_CONTROL = r"[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F]"  # characters no xsd:string may hold
_NUMERIC = {XSD + t for t in ("integer", "decimal", "double", "float", "int", "long", "short", "byte",
                              "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger",
                              "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte")}
_KIND_OK = {
    "IRI": "isIRI(?value)", "BlankNode": "isBlank(?value)", "Literal": "isLiteral(?value)",
    "BlankNodeOrIRI": "!isLiteral(?value)", "BlankNodeOrLiteral": "!isIRI(?value)", "IRIOrLiteral": "!isBlank(?value)",
}
_RANGE_OP = {"minInclusive": ">=", "minExclusive": ">", "maxInclusive": "<=", "maxExclusive": "<"}
# Regular expressions whose meaning is the same in Python and in Oxigraph (Rust): no classes whose
# Unicode extent differs (\w \s \b), no look-around or back-references.
_PORTABLE_REGEX = re.compile(r"(?:[^\\(\[]|\[(?!:)|\\[dD.\-/+*?()\[\]{}|^$]|\((?!\?))*")


def _value_ok(c) -> str | None:
    """A SPARQL condition on ?value that every value conforming to ``c`` meets (None: no such
    condition here)."""
    k, a = c.kind, c.args
    if k == "datatype":
        dt = a["value"].value
        if dt == _LANG_STRING:
            return 'isLiteral(?value) && lang(?value) != ""'
        local = dt[len(XSD):] if dt.startswith(XSD) else None
        if local not in _LEXICAL:
            return None
        ok = f"isLiteral(?value) && datatype(?value) = <{dt}>"
        if local == "string":
            return ok + f' && !REGEX(STR(?value), "{_CONTROL}")'
        ok += f' && REGEX(STR(?value), "{_LEXICAL[local]}")'
        if local in ("date", "dateTime"):  # a real day (not 30 February)
            ok += f" && isLiteral(<{dt}>(STR(?value)))"  # a failed cast is an error: suspect
        return ok
    if k == "nodeKind":
        return _KIND_OK.get(a["value"])
    if k in _RANGE_OP:
        bound = a["value"]
        if not isinstance(bound, ox.Literal):
            return None
        dt = bound.datatype.value
        if dt in _NUMERIC:
            return f"isNumeric(?value) && ?value {_RANGE_OP[k]} {bound}"
        if dt in (XSD + "date", XSD + "string"):
            return f"datatype(?value) = <{dt}> && ?value {_RANGE_OP[k]} {bound}"
        return None
    if k in ("minLength", "maxLength"):
        return f"!isBlank(?value) && STRLEN(STR(?value)) {'>=' if k == 'minLength' else '<='} {int(a['value'])}"
    if k == "in":
        return "(" + " || ".join(f"sameTerm(?value, {t})" for t in a["value"]) + ")" if a["value"] else "false"
    if k == "pattern":
        rx = a["value"]
        if rx.flags & ~(re.IGNORECASE | re.UNICODE) or not _PORTABLE_REGEX.fullmatch(rx.pattern):
            return None
        flags = ', "i"' if rx.flags & re.IGNORECASE else ""
        return f"!isBlank(?value) && REGEX(STR(?value), {_sparql_string(rx.pattern)}{flags})"
    return None


def _sparql_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


_SIMPLE_PATH = re.compile(r"\^?<[^<>\s]*>")


def simple_path(path: str) -> bool:
    """One predicate, or its inverse (a path Oxigraph can scan by its predicate)."""
    return _SIMPLE_PATH.fullmatch(path) is not None


PLANS = ("auto", "scans", "focus-first")


def suspects_query(shape, pattern: str, foci: int, triples_of=None, plan: str = "auto", single_valued=None) -> str | None:
    """A query for the focus nodes (of ``pattern``, ``foci`` of them) that might violate the
    property shape, or None when a constraint of the shape has no condition here. Its answers may
    include nodes that are not focus nodes: the caller keeps the focus nodes among them.

    Two plans, because a lookup per focus node costs ~20 µs on RocksDB while a scan costs ~1 µs a
    triple: focus nodes first (one lookup each, grouped), or, when the path is one predicate and
    ``triples_of(predicate)`` (a count) is not much larger than the focus nodes, scans that
    Oxigraph joins by hashing (the predicate's pairs filtered by the value conditions, grouped for
    counts, or the focus nodes MINUS those with a value). ``plan`` forces one (for tests).
    ``single_valued(path)``, when given, says whether no node has two values on the path (then no
    sh:maxCount of 1 or more can be violated, and its grouped scan is left out)."""
    if shape.path is None or shape.properties:
        return None
    oks, classes, counts, has, qualified = [], [], [], [], []
    for c in shape.constraints:
        if c.kind in ("qualifiedMin", "qualifiedMax"):
            if (cond := _conforms(c)) is None or not simple_path(shape.path) or plan == "focus-first":
                return None
            qualified.append((c.kind, c.args["n"], cond))
        elif c.kind == "hasValue":
            has.append(c.args["value"])
        elif c.kind in ("minCount", "maxCount"):
            counts.append((c.kind, int(c.args["value"])))
        elif c.kind == "class":
            classes.append(c.args["value"])
        elif (ok := _value_ok(c)) is not None:
            oks.append(ok)
        else:
            return None
    # COALESCE: a condition that cannot be evaluated (a type error) makes the value a suspect.
    bad = [f"COALESCE(!({ok}), true)" for ok in oks]
    # Qualified counts are only compared by scans (the loop above gave up on them otherwise).
    if simple_path(shape.path) and plan != "focus-first" and (plan == "scans" or qualified or (
            triples_of is not None and triples_of(shape.path.lstrip("^")) <= 8 * foci)):
        if single_valued is not None and any(k == "maxCount" and n >= 1 for k, n in counts) and single_valued(shape.path):
            counts = [(k, n) for k, n in counts if not (k == "maxCount" and n >= 1)]
        return _by_scans(shape.path, pattern, bad, classes, counts, has, qualified)
    return _focus_first(shape.path, pattern, bad, classes, counts, has)


def _conforms(c) -> str | None:
    """A graph pattern that matches ?value exactly when it conforms to the qualified value shape of
    ``c`` (qualified counts are compared both ways, so a superset would not do); None when the
    shape is not a plain sh:hasValue / sh:class test here."""
    q = c.args["shape"]
    if c.args["siblings"] or q.properties or q.deactivated or not q.constraints:
        return None
    parts = []
    for k in q.constraints:
        v = k.args.get("value")
        if q.path is None and k.kind == "hasValue":
            parts.append(f"FILTER(sameTerm(?value, {v}))")
        elif q.path is None and k.kind == "class":
            parts.append(f"?value <{RDF}type>/<{RDFS}subClassOf>* {v} .")
        elif q.path is not None and simple_path(q.path) and k.kind == "hasValue":
            parts.append(f"?value {q.path} {v} .")
        else:
            return None
    return " ".join(parts)


def _by_scans(path, pattern, bad, classes, counts, has, qualified=()) -> str:
    parts = [f"{{ {pattern} }} MINUS {{ ?this {path} {v} }}" for v in has]
    for kind, n, cond in qualified:  # foci with too few / too many values that conform
        def grouped(op, cond=cond, n=n):
            return f"SELECT ?this WHERE {{ ?this {path} ?value . {cond} }} GROUP BY ?this HAVING (COUNT(DISTINCT ?value) {op} {n})"

        if kind == "qualifiedMax":
            parts.append(grouped(">"))
        elif n >= 1:
            parts.append(f"{{ {pattern} }} MINUS {{ {grouped('>=')} }}")
    for kind, n in counts:
        if kind == "minCount" and n >= 1:
            parts.append(f"{{ {pattern} }} MINUS {{ ?this {path} ?value }}")
        if kind == "maxCount" or n > 1:
            op = ">" if kind == "maxCount" else "<"
            parts.append(f"SELECT ?this WHERE {{ ?this {path} ?value }} GROUP BY ?this HAVING (COUNT(DISTINCT ?value) {op} {n})")
    parts += [f"?this {path} ?value MINUS {{ ?value <{RDF}type>/<{RDFS}subClassOf>* {c} }}" for c in classes]
    if bad:
        parts.append(f"?this {path} ?value FILTER({' || '.join(bad)})")
    if not parts:
        return "SELECT ?this WHERE { FILTER(false) }"
    return "SELECT DISTINCT ?this WHERE { " + " UNION ".join(f"{{ {p} }}" for p in parts) + " }"


def _focus_first(path, pattern, bad, classes, counts, has) -> str:
    having = [f"SUM(IF(BOUND(?value) && sameTerm(?value, {v}), 1, 0)) = 0" for v in has]
    having += [f"COUNT(DISTINCT ?value) {'<' if kind == 'minCount' else '>'} {n}" for kind, n in counts]
    bad = bad + [f"COALESCE(!EXISTS {{ ?value <{RDF}type>/<{RDFS}subClassOf>* {c} }}, true)" for c in classes]
    if bad:
        having.append(f"SUM(IF(BOUND(?value) && ({' || '.join(bad)}), 1, 0)) > 0")
    if not having:
        return "SELECT ?this WHERE { FILTER(false) }"
    return (f"SELECT ?this WHERE {{ {{ SELECT DISTINCT ?this WHERE {{ {pattern} }} }} OPTIONAL {{ ?this {path} ?value }} }} "
            f"GROUP BY ?this HAVING ({' || '.join(having)})")
