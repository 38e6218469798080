"""Suspects first: for a property shape over a whole store, one SPARQL query finds the focus nodes
that *might* violate it, so that only their values cross into Python, where the fast engine's
evaluators decide exactly as before.

Why: on a store of millions of triples the cost of validation is the rows handed to Python (each
focus node's every value, ~5 µs a row), not the checks. Most values conform; a filter in the
query lets them stay in Oxigraph.

Each constraint gives a condition that holds for every value that violates it (a superset: an
expression that cannot be evaluated counts as suspect), and counts are compared in the query.
A shape with a constraint that has no such condition here (SPARQL, logical, sh:node, qualified,
pairs, closed, language ...) gets no suspects query: every focus node is checked as before.
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
    condition here; "": the constraint is not about single values)."""
    k, a = c.kind, c.args
    if k in ("minCount", "maxCount"):
        return ""
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
    if k == "class":
        return f"EXISTS {{ ?value <{RDF}type>/<{RDFS}subClassOf>* {a['value']} }}"
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


def suspects_query(shape, pattern: str) -> str | None:
    """A query for the focus nodes (of ``pattern``) that might violate the property shape, or None
    when a constraint of the shape has no condition here. One pass: each focus node with its values,
    grouped, kept when a count is off or a value fails a condition."""
    if shape.path is None or shape.properties:
        return None
    oks, having = [], []
    for c in shape.constraints:
        if c.kind == "hasValue":
            having.append(f"SUM(IF(BOUND(?value) && sameTerm(?value, {c.args['value']}), 1, 0)) = 0")
            continue
        ok = _value_ok(c)
        if ok is None:
            return None
        if c.kind == "minCount":
            having.append(f"COUNT(DISTINCT ?value) < {int(c.args['value'])}")
        elif c.kind == "maxCount":
            having.append(f"COUNT(DISTINCT ?value) > {int(c.args['value'])}")
        elif ok:
            oks.append(ok)
    if oks:
        # COALESCE: a condition that cannot be evaluated (a type error) makes the value a suspect.
        bad = " || ".join(f"COALESCE(!({ok}), true)" for ok in oks)
        having.append(f"SUM(IF(BOUND(?value) && ({bad}), 1, 0)) > 0")
    if not having:
        return "SELECT ?this WHERE { FILTER(false) }"
    return (f"SELECT ?this WHERE {{ {{ SELECT DISTINCT ?this WHERE {{ {pattern} }} }} OPTIONAL {{ ?this {shape.path} ?value }} }} "
            f"GROUP BY ?this HAVING ({' || '.join(having)})")
