"""Compile a shapes graph into Shapes whose constraints the fast engine evaluates on Oxigraph.

``COMPILERS`` is a table keyed by SHACL parameter (local name in ``sh:``): the parameters the fast
engine supports are exactly its keys. Each compiler turns the parameter's value(s) on one shape into
Constraint objects (one per value: a parameter written twice is two constraints). A shape holding an
``sh:`` parameter that is not a key (nor a known non-validating property) is refused with one line
naming the shape and the parameter (:class:`Unsupported`), and so is a shape with constraints that
compiles to no check: the fast engine never answers "conforms" for a shape it did not evaluate.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from collabkg.validation.shapes import SH, PathError, nt, path_text, to_ox


class Unsupported(ValueError):
    """A shape the fast engine cannot evaluate faithfully (one line: the shape and the feature)."""


# Properties of a shape that validate nothing.
NON_VALIDATING = {"targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "path", "severity", "message",
                  "deactivated", "name", "description", "order", "group", "defaultValue", "labelTemplate",
                  "declare", "prefixes", "shapesGraph", "entailment", "suggestedShapesGraph", "target",
                  "select", "ask", "parameter", "validator", "nodeValidator", "propertyValidator", "optional"}
# Parameters read together with another one (the key compiler reads them).
AUXILIARY = {"flags": "pattern", "ignoredProperties": "closed", "qualifiedMinCount": "qualifiedValueShape",
             "qualifiedMaxCount": "qualifiedValueShape", "qualifiedValueShapesDisjoint": "qualifiedValueShape"}


@dataclass
class Constraint:
    """One constraint: its component, its parameter value(s); ``kind`` selects the evaluator."""

    component: str
    kind: str
    args: dict = field(default_factory=dict)


@dataclass
class Shape:
    node: object  # the rdflib term in the shapes graph
    id: str  # N-Triples of the shape
    path: str | None  # SPARQL path text (property shapes)
    severity: str
    message: str
    deactivated: bool
    targets: list = field(default_factory=list)  # (kind, pyoxigraph term)
    constraints: list[Constraint] = field(default_factory=list)
    properties: list["Shape"] = field(default_factory=list)  # sh:property (their results are theirs)

    @property
    def name(self) -> str:
        """How a message names the shape (a blank node shape by its path too)."""
        return f"{self.id} (sh:path {self.path})" if self.id.startswith("_:") and self.path else self.id


class ShapesIndex:
    """Every shape of a shapes graph, compiled on first use (shapes refer to each other)."""

    def __init__(self, g):
        import rdflib

        self.g = g
        self.sh = rdflib.Namespace(SH)
        self.shapes: dict = {}
        self.components = _custom_components(g)

    def shape(self, node) -> Shape:
        s = self.shapes.get(node)
        if s is None:
            s = self.shapes[node] = self._compile(node)
        return s

    def targeted(self) -> list[Shape]:
        """The shapes with a target (incl. implicit class targets), in a stable order."""
        if getattr(self, "_targeted", None) is None:
            self._targeted = self._find_targeted()
        return self._targeted

    def _find_targeted(self) -> list[Shape]:
        import rdflib

        g, sh = self.g, self.sh
        nodes = set()
        for p in (sh.targetClass, sh.targetNode, sh.targetSubjectsOf, sh.targetObjectsOf, sh.target):
            nodes |= set(g.subjects(p, None))
        for kind in (sh.NodeShape, sh.PropertyShape):
            for s in g.subjects(rdflib.RDF.type, kind):
                if (s, rdflib.RDF.type, rdflib.RDFS.Class) in g or (s, rdflib.RDF.type, rdflib.OWL.Class) in g:
                    nodes.add(s)
        return [self.shape(n) for n in sorted(nodes, key=str)]

    def _compile(self, node) -> Shape:
        import rdflib

        g, sh = self.g, self.sh
        sev = g.value(node, sh.severity)
        severity = "Violation" if sev is None else (str(sev)[len(SH):] if str(sev).startswith(SH) else f"<{sev}>")
        msgs = list(g.objects(node, sh.message))
        path = g.value(node, sh.path)
        try:
            ptext = path_text(g, path) if path is not None else None
        except PathError as e:
            raise Unsupported(f"shape {nt(node)}: sh:path: {e}") from None
        deact = any(o.toPython() is True for o in g.objects(node, sh.deactivated) if isinstance(o, rdflib.Literal))
        shape = Shape(node, nt(node), ptext, severity, _pick(msgs), deact)
        self.shapes[node] = shape  # before the parameters: a shape may refer to itself
        if deact:
            return shape
        if (node, sh.target, None) in g:
            raise Unsupported(f"shape {nt(node)}: sh:target (SHACL-AF custom targets) is not supported")
        for p, kind in ((sh.targetClass, "class"), (sh.targetNode, "node"), (sh.targetSubjectsOf, "subjectsOf"), (sh.targetObjectsOf, "objectsOf")):
            shape.targets.extend((kind, to_ox(o)) for o in sorted(g.objects(node, p), key=str))
        if any(g.objects(node, rdflib.RDF.type)) and ((node, rdflib.RDF.type, rdflib.RDFS.Class) in g or (node, rdflib.RDF.type, rdflib.OWL.Class) in g):
            if (node, rdflib.RDF.type, sh.NodeShape) in g or (node, rdflib.RDF.type, sh.PropertyShape) in g:
                shape.targets.append(("class", to_ox(node)))
        has_constraints = False
        for p in sorted({p for p in g.predicates(node, None)}, key=str):
            ps = str(p)
            if not ps.startswith(SH):  # custom components apply only with their required parameters
                continue
            local = ps[len(SH):]
            if local in NON_VALIDATING:
                continue
            if local in AUXILIARY:  # without its main parameter, the component does not apply
                continue
            compiler = COMPILERS.get(local)
            if compiler is None:
                raise Unsupported(f"shape {shape.name}: sh:{local} is not supported by the fast engine")
            for value in sorted(g.objects(node, p), key=str):
                # a compiler returns False where the value switches the constraint off (sh:closed false)
                if compiler(self, shape, value) is not False:
                    has_constraints = True
        for comp in self.components.used_by(node):
            comp.compile(self, shape)
        if has_constraints and not shape.constraints and not shape.properties:
            raise Unsupported(f"shape {shape.name}: has constraints but none compiled to a check")
        return shape

    def members(self, shape: Shape, lst) -> list[Shape]:
        from rdflib.collection import Collection

        try:
            return [self.shape(m) for m in Collection(self.g, lst)]
        except Exception as e:  # a malformed list
            raise Unsupported(f"shape {shape.name}: malformed list: {e}") from None


def _pick(literals) -> str:
    if not literals:
        return ""
    for m in literals:
        if getattr(m, "language", None) in (None, "en"):
            return str(m)
    return str(literals[0])


# --- the compilers ---------------------------------------------------------------------------------

def _simple(kind: str, conv=lambda ix, v: v):
    component = kind[0].upper() + kind[1:] + "ConstraintComponent"

    def compile_(ix: ShapesIndex, shape: Shape, value) -> None:
        shape.constraints.append(Constraint(component, kind, {"value": conv(ix, value), "raw": value}))

    return compile_


def _int(ix, v):
    try:
        return int(v)
    except (TypeError, ValueError):
        raise Unsupported(f"sh: parameter value {v!r} is not an integer") from None


def _term(ix, v):
    return to_ox(v)


def _in(ix, v):
    from rdflib.collection import Collection

    return [to_ox(m) for m in Collection(ix.g, v)]


def _pattern(ix: ShapesIndex, shape: Shape, value) -> None:
    flags = [str(f) for f in ix.g.objects(shape.node, ix.sh.flags)]
    fl = 0
    for ch in "".join(flags):
        fl |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE, "q": 0}.get(ch, 0)
    try:
        rx = re.compile(str(value) if "q" not in "".join(flags) else re.escape(str(value)), fl)
    except re.error as e:
        raise Unsupported(f"shape {shape.name}: sh:pattern {str(value)!r} is not a regular expression Python reads: {e}") from None
    shape.constraints.append(Constraint("PatternConstraintComponent", "pattern", {"value": rx}))


def _node(ix: ShapesIndex, shape: Shape, value) -> None:
    shape.constraints.append(Constraint("NodeConstraintComponent", "node", {"shape": ix.shape(value)}))


def _property(ix: ShapesIndex, shape: Shape, value) -> None:
    ps = ix.shape(value)
    if ps.path is None:
        raise Unsupported(f"shape {shape.name}: sh:property {ps.id} has no sh:path")
    shape.properties.append(ps)


def _logical(kind: str):
    def compile_(ix: ShapesIndex, shape: Shape, value) -> None:
        comp = kind[0].upper() + kind[1:] + "ConstraintComponent"
        if kind == "not":
            shape.constraints.append(Constraint(comp, kind, {"shapes": [ix.shape(value)]}))
        else:
            shape.constraints.append(Constraint(comp, kind, {"shapes": ix.members(shape, value)}))

    return compile_


def _closed(ix: ShapesIndex, shape: Shape, value) -> None:
    import rdflib
    from rdflib.collection import Collection

    if not (isinstance(value, rdflib.Literal) and value.toPython() is True):
        return False
    allowed = set()
    for ps in ix.g.objects(shape.node, ix.sh.property):
        p = ix.g.value(ps, ix.sh.path)
        if isinstance(p, rdflib.URIRef):
            allowed.add(str(p))
    for lst in ix.g.objects(shape.node, ix.sh.ignoredProperties):
        allowed |= {str(m) for m in Collection(ix.g, lst)}
    shape.constraints.append(Constraint("ClosedConstraintComponent", "closed", {"allowed": allowed}))


def _qualified(ix: ShapesIndex, shape: Shape, value) -> None:
    import rdflib

    g, sh = ix.g, ix.sh
    if shape.path is None:
        raise Unsupported(f"shape {shape.name}: sh:qualifiedValueShape on a node shape")
    disjoint = any(o.toPython() is True for o in g.objects(shape.node, sh.qualifiedValueShapesDisjoint) if isinstance(o, rdflib.Literal))
    siblings = []
    if disjoint:  # the qualified value shapes of the other property shapes of the same parents
        for parent in g.subjects(sh.property, shape.node):
            for ps in g.objects(parent, sh.property):
                if ps == shape.node:
                    continue
                siblings.extend(ix.shape(q) for q in g.objects(ps, sh.qualifiedValueShape))
    args = {"shape": ix.shape(value), "siblings": siblings}
    lo, hi = g.value(shape.node, sh.qualifiedMinCount), g.value(shape.node, sh.qualifiedMaxCount)
    if lo is None and hi is None:
        raise Unsupported(f"shape {shape.name}: sh:qualifiedValueShape without sh:qualifiedMinCount or sh:qualifiedMaxCount")
    if lo is not None:
        shape.constraints.append(Constraint("QualifiedMinCountConstraintComponent", "qualifiedMin", {**args, "n": int(lo)}))
    if hi is not None:
        shape.constraints.append(Constraint("QualifiedMaxCountConstraintComponent", "qualifiedMax", {**args, "n": int(hi)}))


def _pair(kind: str):
    comp = kind[0].upper() + kind[1:] + "ConstraintComponent"

    def compile_(ix: ShapesIndex, shape: Shape, value) -> None:
        if kind in ("lessThan", "lessThanOrEquals") and shape.path is None:
            raise Unsupported(f"shape {shape.name}: sh:{kind} on a node shape")
        shape.constraints.append(Constraint(comp, kind, {"value": f"<{value}>"}))

    return compile_


def _unique_lang(ix: ShapesIndex, shape: Shape, value) -> None:
    import rdflib

    if shape.path is None:
        raise Unsupported(f"shape {shape.name}: sh:uniqueLang on a node shape")
    # Only the literal true activates it ("1"^^xsd:boolean does not: W3C core/property/uniqueLang-002).
    if isinstance(value, rdflib.Literal) and str(value) == "true":
        shape.constraints.append(Constraint("UniqueLangConstraintComponent", "uniqueLang"))
        return None
    return False


def _sparql(ix: ShapesIndex, shape: Shape, value) -> None:
    import rdflib

    g, sh = ix.g, ix.sh
    if any(o.toPython() is True for o in g.objects(value, sh.deactivated) if isinstance(o, rdflib.Literal)):
        return False
    select = g.value(value, sh.select)
    if select is None:
        raise Unsupported(f"shape {shape.name}: a SPARQL constraint without sh:select")
    text = prefixes(g, value) + str(select)
    refuse_sparql(text, shape)
    if shape.path is not None:
        text = re.sub(r"\$PATH\b", shape.path.replace("\\", "\\\\"), text)
    elif re.search(r"\$PATH\b", text):
        raise Unsupported(f"shape {shape.name}: $PATH in a SPARQL constraint of a node shape")
    msgs = list(g.objects(value, sh.message)) or list(g.objects(shape.node, sh.message))
    shape.constraints.append(Constraint("SPARQLConstraintComponent", "sparql", {"query": text, "message": _pick(msgs), "constraint": nt(value)}))


def prefixes(g, owner) -> str:
    """The PREFIX lines of the sh:prefixes of ``owner`` (following owl:imports of those nodes)."""
    import rdflib

    out, seen = "", set()
    todo = list(g.objects(owner, _sh(g, "prefixes")))
    while todo:
        decl_owner = todo.pop()
        if decl_owner in seen:
            continue
        seen.add(decl_owner)
        todo.extend(g.objects(decl_owner, rdflib.OWL.imports))
        for d in g.objects(decl_owner, _sh(g, "declare")):
            out += f"PREFIX {g.value(d, _sh(g, 'prefix'))}: <{g.value(d, _sh(g, 'namespace'))}>\n"
    return out


def _sh(g, local):
    import rdflib

    return rdflib.URIRef(SH + local)


_STRINGS = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*')


def refuse_sparql(text: str, shape: Shape, bound=("this",)) -> None:
    """SHACL 5.2.1: pre-binding is undefined with MINUS, VALUES, sub-SELECT, SERVICE, and ``AS`` of a
    pre-bound variable; such a query is refused (and SERVICE would reach the network)."""
    body = _STRINGS.sub(" ", text)
    for word in ("MINUS", "VALUES", "SERVICE"):
        if re.search(rf"\b{word}\b", body, re.IGNORECASE):
            raise Unsupported(f"shape {shape.name}: {word} in a SPARQL constraint is not allowed with pre-binding (SHACL 5.2.1)")
    subs = [m.start() for m in re.finditer(r"\bSELECT\b", body, re.IGNORECASE)][1:]
    if any(not re.match(r"SELECT\s+(DISTINCT\s+|REDUCED\s+)?[^{*]*?[?$]this\b", body[i:], re.IGNORECASE) for i in subs):
        raise Unsupported(f"shape {shape.name}: a sub-SELECT that does not project $this is not allowed with pre-binding (SHACL 5.2.1)")
    for var in (*bound, "currentShape", "shapesGraph", "value"):
        if re.search(rf"\bAS\s*[?$]{var}\b", body, re.IGNORECASE):
            raise Unsupported(f"shape {shape.name}: AS ?{var} of a pre-bound variable in a SPARQL constraint (SHACL 5.2.1)")


COMPILERS = {
    "class": _simple("class", _term),
    "datatype": _simple("datatype", _term),
    "nodeKind": _simple("nodeKind", lambda ix, v: str(v)[len(SH):]),
    "minCount": _simple("minCount", _int),
    "maxCount": _simple("maxCount", _int),
    "minExclusive": _simple("minExclusive", _term),
    "minInclusive": _simple("minInclusive", _term),
    "maxExclusive": _simple("maxExclusive", _term),
    "maxInclusive": _simple("maxInclusive", _term),
    "minLength": _simple("minLength", _int),
    "maxLength": _simple("maxLength", _int),
    "pattern": _pattern,
    "languageIn": _simple("languageIn", lambda ix, v: [m.value for m in _in(ix, v)]),
    "uniqueLang": _unique_lang,
    "equals": _pair("equals"),
    "disjoint": _pair("disjoint"),
    "lessThan": _pair("lessThan"),
    "lessThanOrEquals": _pair("lessThanOrEquals"),
    "not": _logical("not"),
    "and": _logical("and"),
    "or": _logical("or"),
    "xone": _logical("xone"),
    "node": _node,
    "property": _property,
    "qualifiedValueShape": _qualified,
    "closed": _closed,
    "hasValue": _simple("hasValue", _term),
    "in": _simple("in", _in),
    "sparql": _sparql,
}
SUPPORTED = frozenset(COMPILERS)


# --- SPARQL-based constraint components --------------------------------------------------------------

class _Components:
    def __init__(self):
        self.params: set = set()
        self.items: list = []

    def used_by(self, node):
        return [c for c in self.items if c.applies(node)]


@dataclass
class _Component:
    ix_g: object
    iri: object
    params: list  # [(predicate, optional)]
    validators: dict  # "node" | "property" | "any" -> (kind "select"|"ask", text, message)

    def applies(self, node) -> bool:
        g = self.ix_g
        required = [p for p, opt in self.params if not opt]
        return bool(required) and all((node, p, None) in g for p in required)

    def compile(self, ix: ShapesIndex, shape: Shape) -> None:
        g = ix.g
        key = "property" if shape.path is not None else "node"
        v = self.validators.get(key) or self.validators.get("any")
        if v is None:
            raise Unsupported(f"shape {shape.name}: constraint component {nt(self.iri)} has no validator for {key} shapes")
        kind, text, message = v
        if kind == "select" and key == "property" and shape.path is None:
            return
        values = {}
        for p, opt in self.params:
            objs = list(g.objects(shape.node, p))
            if len(objs) > 1:
                raise Unsupported(f"shape {shape.name}: parameter {nt(p)} of {nt(self.iri)} has several values")
            if objs:
                values[str(p).rsplit("#", 1)[-1].rsplit("/", 1)[-1]] = to_ox(objs[0])
        if shape.path is not None:
            text = re.sub(r"\$PATH\b", shape.path, text)
        refuse_sparql(text, shape, bound=("this", *values))
        msg = message or shape.message
        shape.constraints.append(Constraint(nt(self.iri), "component", {"kind": kind, "query": text, "bindings": values,
                                                                         "message": msg, "ask": kind == "ask"}))


def _custom_components(g) -> _Components:
    import rdflib

    sh = rdflib.Namespace(SH)
    out = _Components()
    kinds = set(g.transitive_subjects(rdflib.RDFS.subClassOf, sh.ConstraintComponent))
    for comp in {c for k in kinds for c in g.subjects(rdflib.RDF.type, k)}:
        params = []
        for prm in g.objects(comp, sh.parameter):
            p = g.value(prm, sh.path)
            opt = any(o.toPython() is True for o in g.objects(prm, sh.optional) if isinstance(o, rdflib.Literal))
            params.append((p, opt))
            out.params.add(p)
        validators = {}
        for pred, key in ((sh.validator, "any"), (sh.nodeValidator, "node"), (sh.propertyValidator, "property")):
            for val in g.objects(comp, pred):
                pre = prefixes(g, val)
                msgs = list(g.objects(val, sh.message)) or list(g.objects(comp, sh.message))
                if (val, sh.ask, None) in g:
                    validators[key] = ("ask", pre + str(g.value(val, sh.ask)), _pick(msgs))
                elif (val, sh.select, None) in g:
                    validators[key] = ("select", pre + str(g.value(val, sh.select)), _pick(msgs))
        if key_ok := validators:
            out.items.append(_Component(g, comp, params, key_ok))
    return out


__all__ = ["COMPILERS", "SUPPORTED", "Constraint", "Shape", "ShapesIndex", "Unsupported"]
