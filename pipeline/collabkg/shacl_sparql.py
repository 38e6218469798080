"""Compile the SHACL shapes of ``shapes/`` into SPARQL SELECT queries (the fast engine).

Each constraint of each shape becomes one query that returns the violating focus nodes (``?this``)
and, where the constraint is about values, the offending ``?value``. The supported subset is what
the shapes use: targets by ``sh:targetClass``; paths that are a property or ``sh:inversePath``;
``sh:minCount``/``sh:maxCount``, ``sh:datatype``, ``sh:class``, ``sh:nodeKind``, ``sh:pattern``,
``sh:in``, ``sh:hasValue``, ``sh:min/maxInclusive``, ``sh:min/maxExclusive``, ``sh:min/maxLength``,
``sh:qualifiedValueShape`` (a ``sh:path`` + ``sh:hasValue`` shape) and SPARQL-based constraints
(``sh:sparql`` with ``sh:select``). Anything else in a shape is an error, so the two engines can
never silently disagree (tests/test_shapes.py compares them on every case).
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from functools import lru_cache

from collabkg.namespaces import RDF, RDFS, XSD

SH = "http://www.w3.org/ns/shacl#"

# Datatypes whose lexical form must also be valid (an ill-typed "2024-13-45"^^xsd:date is a violation).
_CHECKED_DATATYPES = {XSD + t for t in ("date", "dateTime", "integer", "decimal", "boolean", "double", "float", "time")}
_SHAPE_KEYS = {  # predicates a node or property shape may carry, beyond constraints
    RDF + "type", SH + "targetClass", SH + "property", SH + "path", SH + "message", SH + "severity",
    SH + "sparql", RDFS + "label", RDFS + "comment", SH + "name", SH + "description",
}
_CONSTRAINTS = {
    "minCount", "maxCount", "datatype", "class", "nodeKind", "pattern", "flags", "in", "hasValue",
    "minInclusive", "maxInclusive", "minExclusive", "maxExclusive", "minLength", "maxLength",
    "qualifiedValueShape", "qualifiedMinCount", "qualifiedMaxCount",
}


@dataclass(frozen=True)
class Check:
    """One compiled constraint: a query and how to turn its rows into Results."""

    sparql: str
    shape: str  # N-Triples of the source shape
    component: str
    severity: str
    message: str  # sh:message (a template for SPARQL-based constraints)
    path: str | None
    sparql_based: bool = False
    counts: tuple = ()  # ((component, op, n), ...): a count query for sh:minCount/sh:maxCount
    flags: tuple = ()  # ((variable, component), ...): a value query with one flag per constraint
    targets: frozenset = frozenset()  # target class IRIs (a batch without instances skips the check)

    def results(self, rows):
        from collabkg.validate import Result

        out = []
        for row in rows:
            this = row["this"]
            if self.counts:
                n = int(row["n_"].value)
                for comp, op, bound in self.counts:
                    if (n < bound) if op == "<" else (n > bound):
                        out.append(Result(str(this), self.path, comp, self.severity, None, self.shape, self.message))
                continue
            value = _get(row, "value")
            if self.flags:
                for var, comp in self.flags:
                    if row[var].value == "true":
                        out.append(Result(str(this), self.path, comp, self.severity, str(value), self.shape, self.message))
                continue
            path = self.path
            msg = self.message
            if self.sparql_based:
                p = _get(row, "path")
                if p is not None:
                    path = str(p)
                msg = _substitute(msg, row)
                if value is None:  # SHACL: on a node shape, an unbound ?value is the focus node
                    value = this
            out.append(Result(str(this), path, self.component, self.severity, str(value) if value is not None else None, self.shape, msg))
        return out


def _get(row, var):
    try:
        return row[var]
    except (KeyError, IndexError):
        return None


def _substitute(msg: str, row) -> str:
    def repl(m):
        v = _get(row, m.group(1))
        return v.value if v is not None else m.group(0)

    return re.sub(r"\{[?$](\w+)\}", repl, msg)


@lru_cache(maxsize=2)
def compiled_checks(union: bool = True) -> tuple[Check, ...]:
    """The compiled shapes. ``union``: the data is a union of named graphs in which one triple may
    occur in many graphs (a store); else a plain set of triples (a batch in memory)."""
    from collabkg.validate import shapes_graph

    return tuple(compile_shapes(shapes_graph(), union))


def compile_shapes(g, union: bool = True) -> list[Check]:
    import rdflib

    sh = rdflib.Namespace(SH)
    checks: list[Check] = []
    for node in sorted(set(g.subjects(sh.targetClass, None)), key=str):
        if (node, sh.deactivated, rdflib.Literal(True)) in g:
            continue
        targets = sorted(g.objects(node, sh.targetClass), key=str)
        target = _target_pattern(targets, union)
        _check_keys(g, node)
        sev = _severity(g, node)
        found = []
        for ps in sorted(g.objects(node, sh.property), key=str):
            found.extend(_property_checks(g, ps, target, union))
        for c in g.objects(node, sh.sparql):
            found.append(_sparql_check(g, node, c, target, sev))
        tset = frozenset(str(t) for t in targets)
        checks.extend(dataclasses.replace(c, targets=tset) for c in found)
        for p in _constraint_preds(g, node):
            raise ValueError(f"shape {node}: node-level constraint sh:{p} is not supported by the fast engine")
    return checks


def _target_pattern(targets, union: bool = True) -> str:
    # A DISTINCT sub-select: with the union of named graphs as default graph, a node typed in many
    # record graphs (an organisation in 100 projects) would otherwise be joined 100 times.
    if not union:
        if len(targets) == 1:
            return f"?this <{RDF}type> <{targets[0]}> ."
        return "VALUES ?cls_ { %s } ?this <%stype> ?cls_ ." % (" ".join(f"<{t}>" for t in targets), RDF)
    if len(targets) == 1:
        return f"{{ SELECT DISTINCT ?this WHERE {{ ?this <{RDF}type> <{targets[0]}> }} }}"
    return "{ SELECT DISTINCT ?this WHERE { VALUES ?cls_ { %s } ?this <%stype> ?cls_ } }" % (" ".join(f"<{t}>" for t in targets), RDF)


def _severity(g, shape) -> str:
    import rdflib

    s = g.value(shape, rdflib.URIRef(SH + "severity"))
    return str(s).rsplit("#", 1)[-1] if s is not None else "Violation"


def _constraint_preds(g, shape) -> list[str]:
    return [str(p)[len(SH):] for p in set(g.predicates(shape, None)) if str(p).startswith(SH) and str(p)[len(SH):] in _CONSTRAINTS]


def _check_keys(g, shape) -> None:
    for p in set(g.predicates(shape, None)):
        p = str(p)
        if p not in _SHAPE_KEYS and not (p.startswith(SH) and p[len(SH):] in _CONSTRAINTS):
            raise ValueError(f"shape {shape}: {p} is not supported by the fast engine")


def _path(g, ps) -> tuple[str, str]:
    """(N-Triples form of the path, a triple pattern from ?this to ?value)."""
    import rdflib

    sh = rdflib.Namespace(SH)
    path = g.value(ps, sh.path)
    if isinstance(path, rdflib.URIRef):
        return f"<{path}>", f"?this <{path}> ?value ."
    inv = g.value(path, sh.inversePath)
    if isinstance(inv, rdflib.URIRef) and len(list(g.predicate_objects(path))) == 1:
        return f"^<{inv}>", f"?value <{inv}> ?this ."
    raise ValueError(f"shape {ps}: only a property or sh:inversePath of a property is supported as sh:path")


def _property_checks(g, ps, target: str, union: bool = True) -> list[Check]:
    import rdflib

    sh = rdflib.Namespace(SH)
    _check_keys(g, ps)
    if (ps, sh.deactivated, rdflib.Literal(True)) in g:
        return []
    path_nt, pattern = _path(g, ps)
    sev = _severity(g, ps)
    msgs = [str(m) for m in g.objects(ps, sh.message)]
    msg = msgs[0] if msgs else ""
    shape = f"<{ps}>" if isinstance(ps, rdflib.URIRef) else f"_:{ps}"
    out = []

    def add(component: str, query: str) -> None:
        out.append(Check(query, shape, component, sev, msg, path_nt))

    v = lambda p: g.value(ps, sh[p])  # noqa: E731
    # Counts: one query for sh:minCount and sh:maxCount together.
    lo, hi = v("minCount"), v("maxCount")
    bounds = []
    if lo is not None and int(lo) > 0:
        bounds.append(("MinCountConstraintComponent", "<", int(lo)))
    if hi is not None:
        bounds.append(("MaxCountConstraintComponent", ">", int(hi)))
    if bounds:
        cond = " || ".join(f"?n_ {op} {n}" for _, op, n in bounds)
        q = (f"SELECT ?this ?n_ WHERE {{ {{ SELECT ?this (COUNT(DISTINCT ?value) AS ?n_) WHERE {{ {target} OPTIONAL {{ {pattern} }} }} "
             f"GROUP BY ?this }} FILTER({cond}) }}")
        out.append(Check(q, shape, "", sev, msg, path_nt, counts=tuple(bounds)))
    # Value constraints: one query per property shape; a flag per constraint says which ones failed.
    conds: list[tuple[str, str]] = []
    if (dt := v("datatype")) is not None:
        conds.append(("DatatypeConstraintComponent", f"!({_datatype_ok(str(dt))})"))
    if (cls := v("class")) is not None:
        conds.append(("ClassConstraintComponent", f"NOT EXISTS {{ ?value <{RDF}type>/<{RDFS}subClassOf>* <{cls}> }}"))
    if (kind := v("nodeKind")) is not None:
        conds.append(("NodeKindConstraintComponent", f"!({_node_kind_ok(str(kind))})"))
    if (pat := v("pattern")) is not None:
        flags = v("flags")
        fl = f", {_lit(str(flags))}" if flags is not None else ""
        conds.append(("PatternConstraintComponent", f"isBlank(?value) || !REGEX(STR(?value), {_lit(str(pat))}{fl})"))
    if (lst := v("in")) is not None:
        members = list(rdflib.collection.Collection(g, lst))
        cond = " || ".join(f"sameTerm(?value, {m.n3()})" for m in members) or "false"
        conds.append(("InConstraintComponent", f"!({cond})"))
    for key, op in (("minInclusive", ">="), ("maxInclusive", "<="), ("minExclusive", ">"), ("maxExclusive", "<")):
        if (bound := v(key)) is not None:
            conds.append((key[0].upper() + key[1:] + "ConstraintComponent", f"!COALESCE(?value {op} {bound.n3()}, false)"))
    for key, op in (("minLength", "<"), ("maxLength", ">")):
        if (n := v(key)) is not None:
            conds.append((key[0].upper() + key[1:] + "ConstraintComponent", f"isBlank(?value) || STRLEN(STR(?value)) {op} {int(n)}"))
    if conds:
        pairs = f"{{ SELECT DISTINCT ?this ?value WHERE {{ {target} {pattern} }} }}" if union else f"{target} {pattern}"
        binds = " ".join(f"BIND(COALESCE({c}, true) AS ?k{i}_)" for i, (_, c) in enumerate(conds))
        flags_ = " ".join(f"?k{i}_" for i in range(len(conds)))
        q = f"SELECT ?this ?value {flags_} WHERE {{ {pairs} {binds} FILTER({' || '.join(f'?k{i}_' for i in range(len(conds)))}) }}"
        out.append(Check(q, shape, "", sev, msg, path_nt, flags=tuple((f"k{i}_", comp) for i, (comp, _) in enumerate(conds))))
    if (hv := v("hasValue")) is not None:
        inner = pattern.replace("?value", hv.n3())
        add("HasValueConstraintComponent", f"SELECT DISTINCT ?this WHERE {{ {target} FILTER NOT EXISTS {{ {inner} }} }}")
    if (q := v("qualifiedValueShape")) is not None:
        conform = _qualified_condition(g, q)
        counted = (f"SELECT ?this (COUNT(DISTINCT ?value) AS ?n_) WHERE {{ {target} OPTIONAL {{ {{ SELECT DISTINCT ?this ?value "
                   f"WHERE {{ {pattern} }} }} FILTER EXISTS {{ {conform} }} }} }} GROUP BY ?this")
        if (n := v("qualifiedMinCount")) is not None:
            add("QualifiedMinCountConstraintComponent", f"SELECT ?this WHERE {{ {{ {counted} }} FILTER(?n_ < {int(n)}) }}")
        if (n := v("qualifiedMaxCount")) is not None:
            add("QualifiedMaxCountConstraintComponent", f"SELECT ?this WHERE {{ {{ {counted} }} FILTER(?n_ > {int(n)}) }}")
    return out


def _qualified_condition(g, q) -> str:
    import rdflib

    sh = rdflib.Namespace(SH)
    preds = {str(p) for p in g.predicates(q, None)} - {RDF + "type"}
    path, hv = g.value(q, sh.path), g.value(q, sh.hasValue)
    if preds != {SH + "path", SH + "hasValue"} or not isinstance(path, rdflib.URIRef):
        raise ValueError(f"qualified value shape {q}: only [ sh:path <p> ; sh:hasValue <v> ] is supported")
    return f"?value <{path}> {hv.n3()} ."


def _datatype_ok(dt: str) -> str:
    if dt == RDF + "langString":
        return 'isLiteral(?value) && LANG(?value) != ""'
    ok = f"isLiteral(?value) && LANG(?value) = \"\" && sameTerm(DATATYPE(?value), <{dt}>)"
    if dt in _CHECKED_DATATYPES:
        ok += f" && COALESCE(sameTerm(DATATYPE(<{dt}>(STR(?value))), <{dt}>), false)"
    return ok


def _node_kind_ok(kind: str) -> str:
    k = kind.rsplit("#", 1)[-1]
    return {
        "IRI": "isIRI(?value)",
        "BlankNode": "isBlank(?value)",
        "Literal": "isLiteral(?value)",
        "BlankNodeOrIRI": "isBlank(?value) || isIRI(?value)",
        "BlankNodeOrLiteral": "isBlank(?value) || isLiteral(?value)",
        "IRIOrLiteral": "isIRI(?value) || isLiteral(?value)",
    }[k]


def _lit(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _sparql_check(g, node, c, target: str, severity: str) -> Check:
    import rdflib

    sh = rdflib.Namespace(SH)
    select = g.value(c, sh.select)
    if select is None:
        raise ValueError(f"shape {node}: SPARQL constraint without sh:select")
    prefixes = ""
    for decl_owner in g.objects(c, sh.prefixes):
        for d in g.objects(decl_owner, sh.declare):
            prefixes += f"PREFIX {g.value(d, sh.prefix)}: <{g.value(d, sh.namespace)}>\n"
    text = str(select).replace("$this", "?this")
    # Pre-binding $this to each focus node == joining the query body with the target pattern.
    m = re.search(r"\bWHERE\s*\{", text, re.IGNORECASE)
    if m is None:
        raise ValueError(f"shape {node}: sh:select needs a WHERE {{ ... }} clause")
    text = text[: m.end()] + f"\n  {target}\n" + text[m.end():]
    msgs = [str(m) for m in g.objects(c, sh.message)] or [str(m) for m in g.objects(node, sh.message)]
    shape = f"<{node}>" if isinstance(node, rdflib.URIRef) else f"_:{node}"
    return Check(prefixes + text, shape, "SPARQLConstraintComponent", severity, msgs[0] if msgs else "", None, sparql_based=True)
