"""The two engines. ``fast``: the compiled shapes (:mod:`collabkg.validation.compile`) evaluated set
at a time on an Oxigraph data graph: one SPARQL query per property shape fetches the value nodes of
all focus nodes (paths are SPARQL property paths), the constraints are then checked in Python, and
SPARQL-based constraints run with ``$this`` pre-bound (Oxigraph substitutions, SEP-0007). ``pyshacl``:
the reference, pySHACL on an rdflib copy of the data graph."""
from __future__ import annotations

import dataclasses
import datetime
import logging
import re
from functools import lru_cache
from collections import Counter
from decimal import Decimal

import pyoxigraph as ox

from collabkg.namespaces import RDF, RDFS, XSD
from collabkg.validation.compile import ShapesIndex, Unsupported
from collabkg.validation.prefilter import simple_path, suspects_query
from collabkg.validation.results import Result
from collabkg.validation.shapes import SH, nt, path_text

ENGINES = ("fast", "pyshacl")
_LANG_STRING = RDF + "langString"
_PLAIN = {XSD + "string", RDF + "langString"}
# Oxigraph stores these as xsd:integer: the data's own datatype is kept beside (Data.written).
NORMALISED = {XSD + t for t in ("int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger", "negativeInteger",
                                "nonPositiveInteger", "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte")}
_INT_RANGES = {"int": (-2**31, 2**31 - 1), "long": (-2**63, 2**63 - 1), "short": (-2**15, 2**15 - 1), "byte": (-128, 127),
               "nonNegativeInteger": (0, None), "positiveInteger": (1, None), "negativeInteger": (None, -1),
               "nonPositiveInteger": (None, 0), "unsignedInt": (0, 2**32 - 1), "unsignedLong": (0, 2**64 - 1),
               "unsignedShort": (0, 2**16 - 1), "unsignedByte": (0, 255), "integer": (None, None)}
_TZ = r"(Z|[+-]\d\d:\d\d)?"
_LEXICAL = {
    "date": re.compile(rf"-?\d{{4,}}-\d\d-\d\d{_TZ}"),
    "dateTime": re.compile(rf"-?\d{{4,}}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?{_TZ}"),
    "time": re.compile(rf"\d\d:\d\d:\d\d(\.\d+)?{_TZ}"),
    "decimal": re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)"),
    "boolean": re.compile(r"true|false|1|0"),
    "double": re.compile(r"[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|INF)|-INF|NaN"),
    "float": re.compile(r"[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|INF)|-INF|NaN"),
    "gYear": re.compile(rf"-?\d{{4,}}{_TZ}"),
    "string": re.compile(r"[^\x00-\x08\x0b\x0c\x0e-\x1f]*", re.DOTALL),
    "anyURI": re.compile(r"[^\x00-\x1f]*", re.DOTALL),
}


def engine_name(name: str | None = None) -> str:
    from collabkg.settings import Settings

    name = name or Settings.from_env().shacl_engine or "fast"
    if name not in ENGINES:
        raise ValueError(f"unknown validation engine {name!r}; allowed: {', '.join(ENGINES)}")
    return name


class Data:
    """The data graph as the fast engine reads it: ``query(sparql, bindings)`` on Oxigraph (a store
    whose default graph is the union, or an in-memory store), and the literals as written where
    Oxigraph stores them normalised (``"4.0"^^xsd:decimal`` as ``"4"``, ``xsd:int`` as ``xsd:integer``)."""

    def __init__(self, query, written: dict | None = None, shapes_graph: ox.NamedNode | None = None):
        self.query = query
        self.written = written or {}  # stored literal -> {literals as written}
        self.shapes_graph = shapes_graph  # the named graph holding the shapes ($shapesGraph), if any

    @classmethod
    def of_store(cls, store: ox.Store, written=None, shapes_graph=None) -> "Data":
        def query(sparql, bindings=None):
            subs = {ox.Variable(k): v for k, v in (bindings or {}).items()}
            return store.query(sparql, substitutions=subs) if subs else store.query(sparql)

        return cls(query, written, shapes_graph)

    @staticmethod
    def remember(triples, written: dict) -> None:
        """Record, for each typed literal Oxigraph would store in another form, the form written."""
        lits = {t.object for t in triples if isinstance(t.object, ox.Literal) and t.object.datatype.value not in _PLAIN}
        if not lits:
            return
        lits = list(lits)
        scratch = ox.Store()
        p = ox.NamedNode("urn:p")
        scratch.extend(ox.Quad(ox.NamedNode(f"urn:{i}"), p, lit) for i, lit in enumerate(lits))
        for q in scratch:
            orig = lits[int(q.subject.value[4:])]
            if q.object != orig:
                written.setdefault(q.object, set()).add(orig)
        for lit in lits:  # a stored form also written as such
            if lit in written:
                written[lit].add(lit)

    def original(self, term):
        """The term as written (when only one form was written), else as stored."""
        if isinstance(term, ox.Literal):
            forms = self.written.get(term)
            if forms and len(forms) == 1:
                return next(iter(forms))
        return term

    def datatypes(self, lit: ox.Literal) -> set[str]:
        return {f.datatype.value for f in self.written.get(lit, (lit,))}


def work_units(shape) -> list[str]:
    """The parts of a targeted shape that can be checked apart (in different processes): its own
    constraints, and each of its property shapes named by an IRI (a blank node's label differs
    from one parse of the shapes to the next); or the whole shape."""
    if not shape.id.startswith("<") or not shape.properties or any(not p.id.startswith("<") for p in shape.properties):
        return [shape.id]
    return [f"{shape.id} own"] + [f"{shape.id} {p.id}" for p in shape.properties]


def part_of(shape, only: set[str]):
    """The part of ``shape`` that the units in ``only`` select (None: nothing of it)."""
    if shape.id in only:
        return shape
    own = f"{shape.id} own" in only
    props = [p for p in shape.properties if f"{shape.id} {p.id}" in only]
    if not own and not props:
        return None
    return dataclasses.replace(shape, constraints=shape.constraints if own else [], properties=props)


SCAN_FROM = 2000  # focus nodes from which a predicate's scan may replace their lookups


class FastEngine:
    """Validate a data graph against a ShapesIndex (set at a time)."""

    def __init__(self, index: ShapesIndex, data: Data, prefilter: str | None = "auto"):
        self.ix = index
        self.data = data
        self.prefilter = prefilter  # suspects first over a whole store: a plan of prefilter.PLANS, or None
        self._instances: dict = {}
        self._counts: dict = {}
        self._found: dict = {}
        self._itselves: dict = {}
        self._single: dict = {}
        self._conf: dict = {}
        self._active: set = set()
        self.shapes = index.targeted()  # compiles every shape reachable from a target (or refuses)

    def run(self, classes: set[str] | None = None, only: set[str] | None = None) -> list[Result]:
        """Every targeted shape (or the :func:`work_units` in ``only``); with ``classes``, shapes
        whose targets are only classes none of which has an instance are skipped (a batch of
        projects needs no publication checks)."""
        out = []
        for shape in self.shapes:
            if shape.deactivated or (only is not None and (shape := part_of(shape, only)) is None):
                continue
            if classes is not None and shape.targets and all(k == "class" for k, _ in shape.targets) \
                    and not any(t.value in classes for _, t in shape.targets) and not self._has_subclasses(shape):
                continue
            pattern = self._target_pattern(shape)
            foci = set(self._answers(pattern))
            for k, t in shape.targets:
                if k == "node":
                    foci.add(t)
            out.extend(self._check(shape, foci, pattern)[0])
        return sorted(set(out), key=Result.sort_key)

    def _answers(self, pattern: str) -> frozenset:
        """The nodes a target pattern finds (asked once per pattern: shapes share targets)."""
        found = self._found.get(pattern)
        if found is None:
            found = self._found[pattern] = frozenset(r["this"] for r in self.data.query(f"SELECT DISTINCT ?this WHERE {{ {pattern} }}"))
        return found

    def _has_subclasses(self, shape) -> bool:
        vals = " ".join(str(t) for _, t in shape.targets)
        return bool(self.data.query(f"ASK {{ VALUES ?c {{ {vals} }} ?sub <{RDFS}subClassOf>+ ?c }}"))

    @staticmethod
    def _target_pattern(shape) -> str:
        parts = []
        for kind, t in shape.targets:
            if kind == "class":
                parts.append(f"?this <{RDF}type>/<{RDFS}subClassOf>* {t} .")
            elif kind == "node":
                if isinstance(t, ox.NamedNode):
                    parts.append(f"VALUES ?this {{ {t} }}")
            elif kind == "subjectsOf":
                parts.append(f"?this {t} ?o_ .")
            else:
                parts.append(f"?s_ {t} ?this .")
        if not parts:
            return "FILTER(false)"
        return " UNION ".join(f"{{ {p} }}" for p in parts)

    # --- value nodes -------------------------------------------------------------------------

    def values(self, path: str, foci, pattern: str | None = None) -> dict:
        out = {f: [] for f in foci}
        if pattern is not None:
            q = f"SELECT DISTINCT ?this ?value WHERE {{ {{ SELECT DISTINCT ?this WHERE {{ {pattern} }} }} ?this {path} ?value }}"
            orig = self.data.original
            for r in self.data.query(q):
                if r["this"] in out:
                    out[r["this"]].append(orig(r["value"]))
            rest = [f for f in foci if isinstance(f, (ox.Literal, ox.BlankNode)) or not out[f]]
            rest = [f for f in rest if not out[f]]
            # targetNode literals/blank nodes are not in the pattern's answers
            return self._values_of(path, rest, out) if rest and any(not isinstance(f, ox.NamedNode) for f in rest) else out
        if len(foci) > SCAN_FROM and not self.data.written and simple_path(path) \
                and self._triples_of(path.lstrip("^")) <= 8 * len(foci):
            # Many focus nodes (a shape reached through another, over a whole store): one scan of the
            # predicate costs less than a lookup per focus node (~20 µs each on RocksDB).
            for r in self.data.query(f"SELECT DISTINCT ?this ?value WHERE {{ ?this {path} ?value }}"):
                vs = out.get(r["this"])
                if vs is not None:
                    vs.append(r["value"])
            return out
        return self._values_of(path, list(foci), out)

    def _values_of(self, path, foci, out):
        plain = [f for f in foci if not isinstance(f, ox.BlankNode)]
        for i in range(0, len(plain), 500):
            chunk = plain[i:i + 500]
            q = f"SELECT DISTINCT ?this ?value WHERE {{ VALUES ?this {{ {' '.join(map(str, chunk))} }} ?this {path} ?value }}"
            back = {self._stored(f): f for f in chunk}  # a literal focus comes back as stored
            orig = self.data.original
            for r in self.data.query(q):
                f = back.get(r["this"], r["this"])
                if f in out:
                    out[f].append(orig(r["value"]))
        for b in foci:
            if isinstance(b, ox.BlankNode):
                q = f"SELECT DISTINCT ?this ?value WHERE {{ ?this {path} ?value }}"
                out[b] = [self.data.original(r["value"]) for r in self.data.query(q, {"this": b})]
        return out

    def _stored(self, term):
        if isinstance(term, ox.Literal):
            for stored, forms in self.data.written.items():
                if term in forms:
                    return stored
        return term

    def _triples_of(self, predicate: str) -> int:
        """How many triples have this predicate (N-Triples IRI); asked once per predicate."""
        n = self._counts.get(predicate)
        if n is None:
            rows = list(self.data.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s {predicate} ?o }}"))
            n = self._counts[predicate] = int(rows[0]["n"].value)
        return n

    def _itself(self, foci, pattern: str | None) -> FocusValues:
        """{focus node: [itself]}: a node shape's value nodes. Made once per target pattern when the
        focus nodes are all its answers (node shapes share targets; every term hashed again costs
        ~1 s for the 276,000 participations at x16). Evaluators only read it."""
        cached = pattern is not None and len(foci) == len(self._found.get(pattern, ()))
        fv = self._itselves.get(pattern) if cached else None
        if fv is None:
            fv = FocusValues({f: [f] for f in foci})
            fv.pattern = pattern
            if cached:
                self._itselves[pattern] = fv
        return fv

    def _single_valued(self, path: str) -> bool:
        """Whether no node has two values on ``path`` (a simple path; asked once per path): as many
        (node, value) pairs as nodes, counted in Oxigraph (~3 x cheaper than grouping them)."""
        ok = self._single.get(path)
        if ok is None:
            row = next(iter(self.data.query(f"SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?this) AS ?d) WHERE {{ ?this {path} ?value }}")))
            ok = self._single[path] = row["n"].value == row["d"].value
        return ok

    def instances(self, cls) -> set:
        s = self._instances.get(cls)
        if s is None:
            q = f"SELECT DISTINCT ?v WHERE {{ ?v <{RDF}type>/<{RDFS}subClassOf>* {cls} }}"
            s = self._instances[cls] = {r["v"] for r in self.data.query(q)}
        return s

    def conforming(self, shape, nodes) -> set:
        """The nodes that conform to ``shape`` (no result of any severity)."""
        nodes = set(nodes)
        todo = {n for n in nodes if (shape.id, n) not in self._conf}
        if todo:
            key = shape.id
            if key in self._active:
                raise Unsupported(f"shape {shape.name}: recursive shapes are not supported by the fast engine")
            self._active.add(key)
            try:
                _, failed = self._check(shape, todo, None)
            finally:
                self._active.discard(key)
            for n in todo:
                self._conf[(shape.id, n)] = n not in failed
        return {n for n in nodes if self._conf[(shape.id, n)]}

    # --- one shape on a set of focus nodes ---------------------------------------------------

    def _check(self, shape, foci, pattern):
        """(results, the focus nodes that do not conform)."""
        if shape.deactivated or not foci:
            return [], set()
        if self.prefilter and pattern is not None and not self.data.written \
                and (q := suspects_query(shape, pattern, len(foci), self._triples_of, self.prefilter,
                                         self._single_valued)) is not None:
            # Over a whole store: only the focus nodes that might violate the shape are checked.
            suspects = {r["this"] for r in self.data.query(q)}
            if suspects:
                foci = {f for f in foci if f in suspects or not isinstance(f, ox.NamedNode)}
            else:  # the common case: no term hashed (276,000 participations at x16)
                foci = {f for f in foci if not isinstance(f, ox.NamedNode)}
            pattern = None
            if not foci:
                return [], set()
        results: list[Result] = []
        failed: set = set()
        if shape.constraints or shape.path is not None:
            if shape.path is None:
                fv = self._itself(foci, pattern)
            else:
                fv = FocusValues(self.values(shape.path, foci, pattern))
                fv.pattern = pattern
        for c in shape.constraints:
            for f, v, path, msg in EVALUATORS[c.kind](self, shape, c, fv):
                failed.add(f)
                results.append(Result(str(self.data.original(f)), path or shape.path, c.component, shape.severity,
                                      str(v) if v is not None else None, shape.id, msg if msg is not None else shape.message))
        for ps in shape.properties:
            if ps.deactivated:
                continue
            if shape.path is None:  # a node shape's value nodes are its focus nodes (no map built: 276,000 at x16)
                res, bad = self._check(ps, foci, pattern)
                failed |= bad
            else:
                res, bad = self._check(ps, {v for vs in fv.values() for v in vs}, None)
                if bad:
                    failed |= {f for f, vs in fv.items() if any(v in bad for v in vs)}
            results.extend(res)
        return results, failed


class FocusValues(dict):
    """{focus node: [value nodes]}, and the target ``pattern`` whose answers the focus nodes are
    (None when they are a subset: after the suspects query, or a shape reached through another)."""

    pattern: str | None = None


# --- evaluators: (engine, shape, constraint, FocusValues) -> [(focus, value, path, message)] ---------

def _each(test):
    def ev(e, shape, c, fv):
        return [(f, v, None, None) for f, vs in fv.items() for v in vs if not test(e, c, v)]

    return ev


def _ev_class(e, shape, c, fv):
    inst = e.instances(c.args["value"])
    return [(f, v, None, None) for f, vs in fv.items() for v in vs if v not in inst]


def _datatype_ok(e, c, v) -> bool:
    dt = c.args["value"].value
    if not isinstance(v, ox.Literal):
        return False
    if dt == _LANG_STRING:
        return bool(v.language)
    if v.language or dt not in e.data.datatypes(v):
        return False
    return well_formed(v.value, dt)


@lru_cache(maxsize=65536)
def well_formed(lexical: str, dt: str) -> bool:
    """The lexical form is valid for the (XSD) datatype; unknown datatypes are taken as valid."""
    if not dt.startswith(XSD):
        return True
    local = dt[len(XSD):]
    if local in _INT_RANGES:
        if not re.fullmatch(r"[+-]?\d+", lexical):
            return False
        lo, hi = _INT_RANGES[local]
        n = int(lexical)
        return (lo is None or n >= lo) and (hi is None or n <= hi)
    rx = _LEXICAL.get(local)
    if rx is not None:
        if not rx.fullmatch(lexical):
            return False
        if local in ("date", "dateTime"):
            try:
                datetime.date.fromisoformat(lexical.lstrip("-")[:10])
            except ValueError:
                return False
        return True
    import rdflib

    logging.getLogger("rdflib.term").setLevel(logging.ERROR)
    return not rdflib.Literal(lexical, datatype=rdflib.URIRef(dt)).ill_typed


_KINDS = {
    "IRI": (ox.NamedNode,), "BlankNode": (ox.BlankNode,), "Literal": (ox.Literal,),
    "BlankNodeOrIRI": (ox.BlankNode, ox.NamedNode), "BlankNodeOrLiteral": (ox.BlankNode, ox.Literal),
    "IRIOrLiteral": (ox.NamedNode, ox.Literal),
}


def _ev_count(op):
    def ev(e, shape, c, fv):
        n = c.args["value"]
        return [(f, None, None, None) for f, vs in fv.items() if (len(set(vs)) < n if op == "min" else len(set(vs)) > n)]

    return ev


def _py(term):
    """A comparable Python value of a literal, or None."""
    if not isinstance(term, ox.Literal):
        return None
    dt = term.datatype.value
    local = dt[len(XSD):] if dt.startswith(XSD) else None
    try:
        if local in _INT_RANGES:
            return ("n", int(term.value))
        if local == "decimal":
            return ("n", Decimal(term.value))
        if local in ("double", "float"):
            return ("n", float(term.value))
        if local == "date":
            return ("date", datetime.date.fromisoformat(term.value))
        if local == "dateTime":
            v = datetime.datetime.fromisoformat(term.value.replace("Z", "+00:00"))
            return ("dtz" if v.tzinfo else "dt", v)
        if local == "string" and not term.language:
            return ("s", term.value)
    except ValueError:
        return None
    return None


def compare(a, b):
    """-1/0/1 as SPARQL compares the two terms, or None when they are not comparable."""
    x, y = _py(a), _py(b)
    if x is None or y is None or x[0] != y[0]:
        return None
    return (x[1] > y[1]) - (x[1] < y[1])


def _ev_range(ok):
    def ev(e, shape, c, fv):
        out = []
        for f, vs in fv.items():
            for v in vs:
                r = compare(v, c.args["value"])
                if r is None or not ok(r):
                    out.append((f, v, None, None))
        return out

    return ev


def _length_ok(op):
    def test(e, c, v):
        if isinstance(v, ox.BlankNode):
            return False
        n = len(v.value)
        return n >= c.args["value"] if op == "min" else n <= c.args["value"]

    return test


def _lang_ok(e, c, v) -> bool:
    if not isinstance(v, ox.Literal) or not v.language:
        return False
    tag = v.language.lower()
    return any(r == "*" or tag == r.lower() or tag.startswith(r.lower() + "-") for r in c.args["value"])


def _ev_unique_lang(e, shape, c, fv):
    out = []
    for f, vs in fv.items():
        langs = Counter(v.language.lower() for v in set(vs) if isinstance(v, ox.Literal) and v.language)
        out.extend((f, None, None, None) for lang, n in sorted(langs.items()) if n > 1)
    return out


def _other(e, c, fv):
    return e.values(c.args["value"], list(fv))


def _ev_equals(e, shape, c, fv):
    other = _other(e, c, fv)
    out = []
    for f, vs in fv.items():
        a, b = set(vs), set(other[f])
        out.extend((f, v, None, None) for v in (a - b) | (b - a))
    return out


def _ev_disjoint(e, shape, c, fv):
    other = _other(e, c, fv)
    return [(f, v, None, None) for f, vs in fv.items() for v in set(vs) & set(other[f])]


def _ev_less(strict):
    def ev(e, shape, c, fv):
        other = _other(e, c, fv)
        out = []
        for f, vs in fv.items():
            for v in set(vs):
                for w in set(other[f]):
                    r = compare(v, w)
                    if r is None or (r >= 0 if strict else r > 0):
                        out.append((f, v, None, None))
                        break
        return out

    return ev


def _ev_has_value(e, shape, c, fv):
    return [(f, None, None, None) for f, vs in fv.items() if c.args["value"] not in vs]


def _ev_in(e, shape, c, fv):
    allowed = set(c.args["value"])
    return [(f, v, None, None) for f, vs in fv.items() for v in vs if v not in allowed]


def _all_values(fv):
    return {v for vs in fv.values() for v in vs}


def _ev_node(e, shape, c, fv):
    conf = e.conforming(c.args["shape"], _all_values(fv))
    return [(f, v, None, None) for f, vs in fv.items() for v in vs if v not in conf]


def _ev_logical(kind):
    def ev(e, shape, c, fv):
        vals = _all_values(fv)
        confs = [e.conforming(s, vals) for s in c.args["shapes"]]
        out = []
        for f, vs in fv.items():
            for v in vs:
                n = sum(v in s for s in confs)
                bad = {"not": n > 0, "and": n < len(confs), "or": n == 0, "xone": n != 1}[kind]
                if bad:
                    out.append((f, v, None, None))
        return out

    return ev


def _ev_closed(e, shape, c, fv):
    allowed = c.args["allowed"]
    out = []
    for f, vs in fv.items():
        for v in set(vs):
            if isinstance(v, ox.Literal):
                continue
            rows = e.data.query("SELECT ?v ?p ?o WHERE { ?v ?p ?o }", {"v": v}) if isinstance(v, ox.BlankNode) \
                else e.data.query(f"SELECT ?p ?o WHERE {{ {v} ?p ?o }}")
            for r in rows:
                if r["p"].value not in allowed:
                    out.append((f, r["o"], f"<{r['p'].value}>", None))
    return out


def _ev_qualified(op):
    def ev(e, shape, c, fv):
        vals = _all_values(fv)
        conf = e.conforming(c.args["shape"], vals)
        for s in c.args["siblings"]:
            conf = conf - e.conforming(s, vals)
        n = c.args["n"]
        out = []
        for f, vs in fv.items():
            k = sum(1 for v in set(vs) if v in conf)
            if (k < n) if op == "min" else (k > n):
                out.append((f, None, None, None))
        return out

    return ev


_NESTED = re.compile(r"\{")


def _close(text: str, start: int) -> int:
    """The index of the brace closing the one at ``start``."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return i
    return len(text)


def _without_filters(text: str) -> str:
    out, i = [], 0
    for m in re.finditer(r"\bFILTER\b", text, re.IGNORECASE):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        j = m.end()
        while j < len(text) and text[j].isspace():
            j += 1
        depth = 0
        while j < len(text):
            depth += {"(": 1, ")": -1}.get(text[j], 0)
            j += 1
            if depth == 0 and text[j - 1] == ")":
                break
        i = j
    out.append(text[i:])
    return "".join(out)


def _join_safe(body: str) -> bool:
    """Joining the focus nodes into the query equals pre-binding $this when every group but the
    WHERE clause's own is an OPTIONAL or (NOT) EXISTS (their filters see the joined ?this)."""
    from collabkg.validation.compile import _STRINGS

    text = _STRINGS.sub(" ", body)
    m = re.search(r"\bWHERE\s*\{", text, re.IGNORECASE)
    if m is None or not re.search(r"SELECT\s+(\*|[^{]*[?$]this\b)", text[: m.start()], re.IGNORECASE):
        return False
    inner_select = False
    for b in _NESTED.finditer(text, m.end()):
        if inner_select:  # the WHERE of a sub-SELECT that projects ?this
            inner_select = False
            continue
        if re.match(r"\{\s*SELECT\s+(DISTINCT\s+)?[^{*]*?[?$]this\b", text[b.start():], re.IGNORECASE):
            # joining equals pre-binding only if the sub-SELECT binds ?this in a triple pattern
            # (a FILTER on an unbound ?this differs: W3C sparql/pre-binding/pre-binding-007)
            body = text[text.index("{", b.start() + 1): _close(text, b.start())]
            if not re.search(r"[?$]this\b", _without_filters(body)) and re.search(r"[?$]this\b", body):
                return False
            # Not in the body at all: the projected ?this stays unbound there and joins with every
            # focus node, as the pre-bound one would (a way to scan a pattern joined by hashing).
            inner_select = True
            continue
        if re.search(r"\b(OPTIONAL|EXISTS)\s*$", text[: b.start()], re.IGNORECASE):
            continue
        # A plain group (a UNION branch) in which ?this occurs only in triple patterns: the join
        # binds it there exactly as pre-binding does.
        group = text[b.start() + 1: _close(text, b.start())]
        mentions = len(re.findall(r"[?$]this\b", group))
        if "{" in group or mentions == 0 or len(re.findall(r"[?$]this\b", _without_parens(group))) != mentions:
            return False
    return True


def _without_parens(text: str) -> str:
    out, depth = [], 0
    for ch in text:
        depth += ch == "("
        if depth == 0:
            out.append(ch)
        depth -= ch == ")" and depth > 0
    return "".join(out)


def _prebound(e, text: str, bindings: dict):
    """Run ``text`` with variables pre-bound (SHACL 5.2.1): IRIs and literals are written into the
    query (a projected variable becomes ``(term AS ?var)``), so that they are bound inside every group;
    blank nodes go through Oxigraph's substitutions."""
    subs = {}
    for var, term in bindings.items():
        if isinstance(term, ox.BlankNode):
            subs[var] = term
            continue
        lit = str(term).replace("\\", "\\\\")
        text = re.sub(rf"\bbound\s*\(\s*[?$]{var}\s*\)", "(true)", text, flags=re.IGNORECASE)

        def group_by(m, var=var):  # grouping by a constant is grouping by nothing
            rest = re.sub(rf"[?$]{var}\b", "", m.group(2))
            return m.group(1) + (rest if rest.strip() else " (1) ")

        if len(re.findall(r"\bSELECT\b", text, re.IGNORECASE)) == 1:  # else a sub-SELECT binds it
            text = re.sub(r"(\bGROUP\s+BY\b)(.*?)(?=\bHAVING\b|\bORDER\b|\bLIMIT\b|\bOFFSET\b|\}|$)", group_by, text,
                          flags=re.IGNORECASE | re.DOTALL)
        out, pos = [], 0
        selects = list(re.finditer(r"\b(SELECT)\b(.*?)(\bWHERE\b|\{)", text, re.IGNORECASE | re.DOTALL))
        for i, m in enumerate(selects):
            # the innermost projections bind the variable; an outer one then just projects it
            proj = m.group(2) if (i == 0 and len(selects) > 1) else re.sub(rf"(?<![(\w])[?$]{var}\b", f"({lit} AS ?{var})", m.group(2))
            out.append(re.sub(rf"[?$]{var}\b", lit, text[pos:m.start()]) + m.group(1) + proj + m.group(3))
            pos = m.end()
        out.append(re.sub(rf"[?$]{var}\b", lit, text[pos:]))
        text = "".join(out)
    return e.data.query(text, subs or None)


def _substitute(msg: str, row) -> str:
    def repl(m):
        try:
            v = row[m.group(1)]
        except (KeyError, IndexError, TypeError):
            v = None
        return v.value if v is not None else m.group(0)

    return re.sub(r"\{[?$](\w+)\}", repl, msg)


def _get(row, var):
    try:
        return row[var]
    except (KeyError, IndexError):
        return None


def _shapes_graph(e, shape, text: str) -> str:
    text = re.sub(r"\bbound\s*\(\s*\?(shapesGraph|currentShape)\s*\)", "(true)", text, flags=re.IGNORECASE)
    if re.search(r"\?shapesGraph\b", text):
        if e.data.shapes_graph is None:
            raise Unsupported(f"shape {shape.name}: $shapesGraph is only available when validating files (--shapes)")
        text = re.sub(r"\?shapesGraph\b", str(e.data.shapes_graph), text)
    return text


def _ev_sparql(e, shape, c, fv):
    text = _shapes_graph(e, shape, re.sub(r"\$(\w+)", r"?\1", c.args["query"]))
    if shape.id.startswith("<"):
        text = re.sub(r"\?currentShape\b", shape.id, text)
    elif "?currentShape" in text:
        raise Unsupported(f"shape {shape.name}: $currentShape of a blank node shape")
    foci = list(fv)
    rows = []
    plain = [f for f in foci if not isinstance(f, ox.BlankNode)]
    if _join_safe(text) and fv.pattern is not None and all(isinstance(f, (ox.NamedNode, ox.BlankNode)) for f in foci):
        # Every answer of the target pattern is a focus node: one query joined with the pattern
        # (Oxigraph joins it by hashing; VALUES chunks cost a lookup per focus node).
        m = re.search(r"\bWHERE\s*\{", text, re.IGNORECASE)
        q = text[: m.end()] + f"\n {{ SELECT DISTINCT ?this WHERE {{ {fv.pattern} }} }}\n" + text[m.end():]
        rows.extend((r["this"], r) for r in e.data.query(q) if r["this"] in fv)
        rest = []
    elif _join_safe(text) and plain:
        m = re.search(r"\bWHERE\s*\{", text, re.IGNORECASE)
        for i in range(0, len(plain), 500):
            values = f"VALUES ?this {{ {' '.join(map(str, plain[i:i + 500]))} }}"
            q = text[: m.end()] + f"\n {values}\n" + text[m.end():]
            rows.extend((r["this"], r) for r in e.data.query(q))
        rest = [f for f in foci if isinstance(f, ox.BlankNode)]
    else:
        rest = foci
    for f in rest:
        rows.extend((f, r) for r in _prebound(e, text, {"this": f}))
    out = []
    for f, r in rows:
        if _get(r, "failure") is not None and _get(r, "failure").value == "true":
            raise Unsupported(f"shape {shape.name}: SPARQL constraint {c.args['constraint']} reported a failure")
        v = _get(r, "value")
        p = _get(r, "path")
        out.append((f, v if v is not None else f, f"<{p.value}>" if isinstance(p, ox.NamedNode) else None,
                    _substitute(c.args["message"], r) if c.args["message"] else shape.message))
    return out


def _ev_component(e, shape, c, fv):
    text = _shapes_graph(e, shape, re.sub(r"\$(\w+)", r"?\1", c.args["query"]))
    for name, term in c.args["bindings"].items():
        if isinstance(term, ox.BlankNode):
            raise Unsupported(f"shape {shape.name}: a blank node as parameter {name} of {c.component}")
        text = re.sub(rf"\?{name}\b", str(term).replace("\\", "\\\\"), text)
    if "?currentShape" in text:
        if not shape.id.startswith("<"):
            raise Unsupported(f"shape {shape.name}: $currentShape of a blank node shape")
        text = re.sub(r"\?currentShape\b", shape.id, text)
    out = []
    msg = c.args["message"]
    for f, vs in fv.items():
        if c.args["ask"]:
            for v in vs:
                if not bool(_prebound(e, text, {"this": f, "value": v})):
                    out.append((f, v, None, _substitute(msg, c.args["bindings"]) if msg else shape.message))
        else:
            for r in _prebound(e, text, {"this": f}):
                v = _get(r, "value")
                out.append((f, v if v is not None else f, None, _substitute(msg, {**c.args["bindings"]}) if msg else shape.message))
    return out


EVALUATORS = {
    "class": _ev_class,
    "datatype": _each(_datatype_ok),
    "nodeKind": _each(lambda e, c, v: isinstance(v, _KINDS[c.args["value"]])),
    "minCount": _ev_count("min"),
    "maxCount": _ev_count("max"),
    "minExclusive": _ev_range(lambda r: r > 0),
    "minInclusive": _ev_range(lambda r: r >= 0),
    "maxExclusive": _ev_range(lambda r: r < 0),
    "maxInclusive": _ev_range(lambda r: r <= 0),
    "minLength": _each(_length_ok("min")),
    "maxLength": _each(_length_ok("max")),
    "pattern": _each(lambda e, c, v: not isinstance(v, ox.BlankNode) and c.args["value"].search(v.value) is not None),
    "languageIn": _each(_lang_ok),
    "uniqueLang": _ev_unique_lang,
    "equals": _ev_equals,
    "disjoint": _ev_disjoint,
    "lessThan": _ev_less(True),
    "lessThanOrEquals": _ev_less(False),
    "hasValue": _ev_has_value,
    "in": _ev_in,
    "node": _ev_node,
    "not": _ev_logical("not"),
    "and": _ev_logical("and"),
    "or": _ev_logical("or"),
    "xone": _ev_logical("xone"),
    "closed": _ev_closed,
    "qualifiedMin": _ev_qualified("min"),
    "qualifiedMax": _ev_qualified("max"),
    "sparql": _ev_sparql,
    "component": _ev_component,
}


# --- the reference engine ------------------------------------------------------------------------

def run_pyshacl(data_graph, shapes) -> list[Result]:
    """Validate an rdflib graph with pySHACL and read its report graph back as Results; a refusal
    raises Unsupported."""
    import pyshacl
    import rdflib

    try:
        _, report, text = pyshacl.validate(data_graph, shacl_graph=shapes, inference="none", advanced=False, allow_warnings=True)
    except Exception as e:  # pySHACL refuses shapes with its own exception types
        raise Unsupported(f"pySHACL: {str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}") from None
    if not isinstance(report, rdflib.Graph):
        raise Unsupported(f"pySHACL: {text}")
    sh = rdflib.Namespace(SH)
    out = set()
    for node in report.subjects(rdflib.RDF.type, sh.ValidationResult):
        path = report.value(node, sh.resultPath)
        value = report.value(node, sh.value)
        comp = str(report.value(node, sh.sourceConstraintComponent))
        sev = str(report.value(node, sh.resultSeverity))
        out.add(Result(
            focus=nt(report.value(node, sh.focusNode)),
            path=path_text(report, path) if path is not None else None,
            component=comp[len(SH):] if comp.startswith(SH) else f"<{comp}>",
            severity=sev[len(SH):] if sev.startswith(SH) else f"<{sev}>",
            value=nt(value) if value is not None else None,
            shape=nt(report.value(node, sh.sourceShape)),
            message=str(report.value(node, sh.resultMessage) or ""),
        ))
    return sorted(out, key=Result.sort_key)

