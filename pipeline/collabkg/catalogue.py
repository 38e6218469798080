"""The stored query catalogue: ``queries/*.rq``, one question per file.

A file is plain SPARQL with a grlc-style header of ``#+`` comment lines holding YAML::

    #+ summary: Partner countries of a country in CORDIS projects
    #+ params:
    #+   - name: country
    #+     type: country          # iri | literal | integer | decimal | date | country
    #+     required: true         # or: default: TN; optional: allowed: [...], min, max
    #+ columns:
    #+   - {name: country, meaning: ISO alpha-2 code of the partner country}
    #+ keywords: [cordis]

A parameter ``country`` appears in the query as the variable ``?_country``. It is bound as
an RDF term through a ``VALUES`` block that :func:`prepare` puts at the start of every
``WHERE {`` group that uses it (so it is in scope in sub-queries too); the user's text is never pasted
into the query. Every value is validated against its type first; a country code binds the
country IRI ``https://w3id.org/collabkg/country/XX``. The same text runs on any SPARQL 1.1
endpoint. (Oxigraph's own ``substitutions`` only bind projected variables and do not reach
sub-queries, hence one VALUES-based mechanism for every store.)

One exception: a parameter declared with ``clause: limit`` (type integer) becomes the
query's ``LIMIT``, serialised from the validated integer, as SPARQL has no variable LIMIT.

A broken header, a declared parameter the query does not use, a ``?_name`` the header does
not declare, or columns that differ from the query's projection are a :class:`CatalogueError`
naming the file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Mapping

import pyoxigraph as ox
import yaml

import collabkg.errors as errors
from collabkg.mapping.terms import plain_decimal
from collabkg.namespaces import COUNTRY, XSD
from collabkg.reference import to_iso
from collabkg.resources import queries_dir

TYPES = ("iri", "literal", "integer", "decimal", "date", "country")
MAX_VALUE_LENGTH = 1000  # longer parameter values are refused outright
_HEADER_KEYS = {"summary", "description", "params", "columns", "keywords"}
_PARAM_KEYS = {"name", "type", "description", "default", "allowed", "required", "min", "max", "clause"}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_QUERY_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# The parts of SPARQL text that are never code: comments, strings (all four quotings) and IRIs. Every
# tokeniser of query text (here and server/sparql.py) matches them first (a verbose pattern, re.X),
# so that a '#', '?_x', '{' or keyword inside them is not mistaken for code.
SPARQL_OPAQUE = r'''(?P<comment>\#[^\n]*)
      | (?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\'
                   |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
      | (?P<iri><[^<>"{}|^`\\\s]*>)'''
# Tokens of the query body that matter here.
_TOKENS = re.compile(
    SPARQL_OPAQUE + r'''
      | (?P<param>[?$]_(?P<pname>[A-Za-z0-9_]+))
      | (?P<where>\bWHERE\s*\{)
      | (?P<open>\{)
      | (?P<close>\})
      | (?P<limit>\bLIMIT\b)''',
    re.X | re.I,
)


# A stored query file that is not well-formed (the message starts with the file), and a wrong,
# unknown or missing parameter (the message says what is allowed): both exit 2, see errors.py.
CatalogueError = errors.CatalogueError
ParamError = errors.ParamError


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    description: str = ""
    default: Any = None
    allowed: tuple | None = None
    required: bool = False
    min: Any = None
    max: Any = None
    clause: str | None = None  # "limit": the value becomes the query's LIMIT

    def describe(self) -> str:
        s = f"{self.name} ({self.type}"
        if self.required:
            s += ", required"
        elif self.default is not None:
            s += f", default {self.default}"
        if self.allowed:
            s += ", one of " + "|".join(map(str, self.allowed))
        if self.min is not None or self.max is not None:
            s += f", {'' if self.min is None else self.min}..{'' if self.max is None else self.max}"
        return s + ")"


@dataclass(frozen=True)
class Column:
    name: str
    meaning: str


@dataclass(frozen=True)
class StoredQuery:
    name: str
    path: Path
    summary: str
    description: str
    params: tuple[Param, ...]
    columns: tuple[Column, ...]
    keywords: tuple[str, ...]
    text: str  # the whole file; the header lines are SPARQL comments

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise ParamError(f"{self.name}: unknown parameter {name!r} ({self._allowed_text()})")

    def _allowed_text(self) -> str:
        if not self.params:
            return "this query takes no parameters"
        return "allowed: " + "; ".join(p.describe() for p in self.params)


# --- loading -------------------------------------------------------------------

def _fail(path: Path, msg: str) -> CatalogueError:
    return CatalogueError(f"{path}: {msg}")


def _header(path: Path, text: str) -> dict:
    lines = []
    for line in text.splitlines():
        if line.startswith("#+"):
            lines.append(line[3:] if line.startswith("#+ ") else line[2:])
        elif line.strip() and not lines:
            break  # the header is the run of #+ lines at the top of the file
        elif lines and not line.startswith("#+"):
            break
    if not lines:
        raise _fail(path, "no '#+' header (summary, params, columns, ...)")
    try:
        header = yaml.safe_load("\n".join(lines))
    except yaml.YAMLError as e:
        raise _fail(path, f"header is not valid YAML: {e}") from None
    if not isinstance(header, dict):
        raise _fail(path, "header must be a YAML mapping of summary, description, params, columns, keywords")
    unknown = set(header) - _HEADER_KEYS
    if unknown:
        raise _fail(path, f"unknown header key(s) {sorted(unknown)} (allowed: {sorted(_HEADER_KEYS)})")
    return header


def _param(path: Path, i: int, d) -> Param:
    where = f"params[{i}]"
    if not isinstance(d, dict):
        raise _fail(path, f"{where}: must be a mapping with name and type")
    unknown = set(d) - _PARAM_KEYS
    if unknown:
        raise _fail(path, f"{where}: unknown key(s) {sorted(unknown)} (allowed: {sorted(_PARAM_KEYS)})")
    name, typ = d.get("name"), d.get("type")
    if not isinstance(name, str) or not _NAME.match(name):
        raise _fail(path, f"{where}.name: {name!r} is not a lower-case name ([a-z][a-z0-9_]*)")
    if typ not in TYPES:
        raise _fail(path, f"{where}.type: {typ!r} is not one of {', '.join(TYPES)}")
    if d.get("clause") not in (None, "limit") or (d.get("clause") == "limit" and typ != "integer"):
        raise _fail(path, f"{where}.clause: only 'limit' on an integer parameter is supported")
    allowed = d.get("allowed")
    if allowed is not None and (not isinstance(allowed, list) or not allowed):
        raise _fail(path, f"{where}.allowed: must be a non-empty list")
    p = Param(
        name=name,
        type=typ,
        description=str(d.get("description") or ""),
        default=d.get("default"),
        allowed=tuple(str(a) for a in allowed) if allowed else None,
        required=bool(d.get("required", False)),
        min=d.get("min"),
        max=d.get("max"),
        clause=d.get("clause"),
    )
    if p.required and p.default is not None:
        raise _fail(path, f"{where}: a required parameter cannot have a default")
    for key in ("default", "min", "max"):
        v = getattr(p, key)
        if v is None:
            continue
        if key != "default" and typ not in ("integer", "decimal"):
            raise _fail(path, f"{where}.{key}: only integer and decimal parameters have bounds")
        try:
            if key == "default":
                to_term(p, str(v))
            else:
                _number(p, str(v))
        except ParamError as e:
            raise _fail(path, f"{where}.{key}: {e}") from None
    if p.allowed:
        for a in p.allowed:
            try:
                _check_value(p, a)
            except ParamError as e:
                raise _fail(path, f"{where}.allowed: {e}") from None
    return p


def _column(path: Path, i: int, d) -> Column:
    if isinstance(d, dict) and set(d) <= {"name", "meaning"} and isinstance(d.get("name"), str) and d.get("meaning"):
        return Column(d["name"], str(d["meaning"]))
    raise _fail(path, f"columns[{i}]: must be a mapping with name and meaning")


def scan(text: str) -> tuple[set[str], list[tuple[int, set[str]]], bool]:
    """Parameter names used (``?_name``); for each ``WHERE {`` group, the offset just after
    its ``{`` and the parameters used inside it (sub-queries included); whether the query
    has a LIMIT clause. Comments, strings and IRIs are skipped."""
    used: set[str] = set()
    groups: list[tuple[int, set[str]]] = []
    stack: list[set[str] | None] = []  # one entry per open brace; a set for WHERE groups
    has_limit = False
    for m in _TOKENS.finditer(text):
        if m.group("param"):
            used.add(m.group("pname"))
            for g in stack:
                if g is not None:
                    g.add(m.group("pname"))
        elif m.group("where"):
            group: set[str] = set()
            groups.append((m.end(), group))
            stack.append(group)
        elif m.group("open"):
            stack.append(None)
        elif m.group("close"):
            if stack:
                stack.pop()
        elif m.group("limit"):
            has_limit = True
    return used, groups, has_limit


def load(path: str | Path) -> StoredQuery:
    """Read and check one ``.rq`` file (header, parameters used/declared, projection)."""
    path = Path(path)
    name = path.stem
    if not _QUERY_NAME.match(name):
        raise _fail(path, f"query name {name!r} must be lower-case words joined by '-'")
    text = path.read_text(encoding="utf-8")
    h = _header(path, text)
    if not isinstance(h.get("summary"), str) or not h["summary"].strip():
        raise _fail(path, "header: summary is missing")
    raw_params = h.get("params") or []
    if not isinstance(raw_params, list):
        raise _fail(path, "header: params must be a list")
    params = tuple(_param(path, i, d) for i, d in enumerate(raw_params))
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise _fail(path, f"header: a parameter is declared twice: {names}")
    raw_cols = h.get("columns")
    if not isinstance(raw_cols, list) or not raw_cols:
        raise _fail(path, "header: columns must be a non-empty list of {name, meaning}")
    columns = tuple(_column(path, i, d) for i, d in enumerate(raw_cols))
    keywords = h.get("keywords") or []
    if not isinstance(keywords, list):
        raise _fail(path, "header: keywords must be a list")
    used, wheres, has_limit = scan(text)
    bound = {p.name for p in params if p.clause != "limit"}
    if used - bound:
        raise _fail(path, f"parameter(s) used in the query but not declared: {', '.join('?_' + u for u in sorted(used - bound))}")
    if bound - used:
        raise _fail(path, f"parameter(s) declared but not used in the query: {', '.join(sorted(bound - used))} (write them as ?_name)")
    limits = [p for p in params if p.clause == "limit"]
    if len(limits) > 1 or (limits and has_limit):
        raise _fail(path, "a 'clause: limit' parameter needs a query without its own LIMIT, and only one such parameter")
    if bound - set().union(*(g for _, g in wheres)):
        raise _fail(path, "parameters must be used inside a 'WHERE { ... }' group (they are bound there; write the WHERE keyword)")
    q = StoredQuery(name, path, h["summary"].strip(), str(h.get("description") or "").strip(), params, columns,
                    tuple(str(k) for k in keywords), text)
    _check_parses(q)
    return q


def _check_parses(q: StoredQuery) -> None:
    """Parse and run the query on an empty store: syntax and projection = declared columns."""
    sample = {p.name: str(p.default if p.default is not None else _SAMPLE[p.type]) for p in q.params if p.default is not None or p.required}
    try:
        result = ox.Store().query(prepare(q, bind(q, sample)))
    except SyntaxError as e:
        raise _fail(q.path, f"SPARQL syntax error: {e}") from None
    if not isinstance(result, ox.QuerySolutions):
        raise _fail(q.path, "a stored query must be a SELECT query")
    got = [v.value for v in result.variables]
    if got != q.column_names:
        raise _fail(q.path, f"the query selects {got} but the header declares columns {q.column_names}")


_SAMPLE = {"iri": "https://example.org/x", "literal": "x", "integer": 1, "decimal": "1.0", "date": "2024-01-01", "country": "TN"}


def catalogue(folder: str | Path | None = None) -> dict[str, StoredQuery]:
    """Every stored query of ``folder`` (default: the packaged ``queries/``), by name."""
    if folder is None:
        folder = queries_dir()
    return {q.name: q for q in map(load, sorted(Path(folder).glob("*.rq")))}


def get(name: str, folder: str | Path | None = None) -> StoredQuery:
    folder_path = Path(folder) if folder else None
    if folder_path is None:
        folder_path = queries_dir()
    path = folder_path / f"{name}.rq"
    if not _QUERY_NAME.match(name) or not path.is_file():
        available = sorted(p.stem for p in folder_path.glob("*.rq"))
        raise ParamError(f"no stored query {name!r} (available: {', '.join(available)})")
    return load(path)


# --- parameters ----------------------------------------------------------------

def _number(p: Param, value: str):
    v = value.strip()
    if p.type == "integer":
        if not re.fullmatch(r"[+-]?\d{1,18}", v):
            raise ParamError(f"{p.name}: {value!r} is not an integer")
        return int(v)
    if not re.fullmatch(r"[+-]?(\d{1,30}(\.\d{0,30})?|\.\d{1,30})", v):
        raise ParamError(f"{p.name}: {value!r} is not a decimal number (digits with an optional '.')")
    try:
        return Decimal(v)
    except InvalidOperation:
        raise ParamError(f"{p.name}: {value!r} is not a decimal number") from None


def _check_value(p: Param, value: str) -> str:
    """Validate ``value`` for ``p``; return its normal form (the lexical form of the term)."""
    if not isinstance(value, str):
        value = str(value)
    if len(value) > MAX_VALUE_LENGTH:
        raise ParamError(f"{p.name}: value of {len(value)} characters is too long (at most {MAX_VALUE_LENGTH})")
    if p.type in ("integer", "decimal"):
        n = _number(p, value)
        lo = None if p.min is None else _number(p, str(p.min))
        hi = None if p.max is None else _number(p, str(p.max))
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            raise ParamError(f"{p.name}: {value!r} is outside {'' if lo is None else lo}..{'' if hi is None else hi}")
        return str(n)
    if p.type == "date":
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
                raise ValueError
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise ParamError(f"{p.name}: {value!r} is not a date (YYYY-MM-DD)") from None
    if p.type == "country":
        iso = to_iso(value) if re.fullmatch(r"\s*[A-Za-z]{2}\s*", value) else None
        if iso is None:
            raise ParamError(f"{p.name}: {value!r} is not a country code (ISO 3166-1 alpha-2 such as TN, TR, MA; or CORDIS EL/UK)")
        return iso
    if p.type == "iri":
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value):
            raise ParamError(f"{p.name}: {value!r} is not an absolute IRI (scheme:...)")
        try:
            ox.NamedNode(value)
        except ValueError as e:
            raise ParamError(f"{p.name}: {value!r} is not a valid IRI: {e}") from None
        return value
    return value  # literal: any text, bound as a string literal


def to_term(p: Param, value: str) -> ox.NamedNode | ox.Literal:
    """The RDF term a validated parameter value binds."""
    v = _check_value(p, value)
    if p.allowed and v not in p.allowed and value not in p.allowed:
        raise ParamError(f"{p.name}: {value!r} is not allowed (one of: {', '.join(p.allowed)})")
    if p.type == "country":
        return ox.NamedNode(COUNTRY + v)
    if p.type == "iri":
        return ox.NamedNode(v)
    if p.type == "literal":
        return ox.Literal(v)
    return ox.Literal(v, datatype=ox.NamedNode(XSD + p.type))


def bind(q: StoredQuery, params: Mapping[str, Any]) -> dict[str, ox.NamedNode | ox.Literal | None]:
    """Validate ``params`` (name → value as text) against ``q``; defaults fill the rest.

    Raises :class:`ParamError` naming what is allowed. An optional parameter without a
    default that is not given stays unbound (None)."""
    out: dict[str, ox.NamedNode | ox.Literal | None] = {}
    for name, value in params.items():
        p = q.param(name)
        if value is None:
            continue
        try:
            out[name] = to_term(p, value if isinstance(value, str) else str(value))
        except ParamError as e:
            raise ParamError(f"{q.name}: {e} ({q._allowed_text()})") from None
    for p in q.params:
        if p.name in out:
            continue
        if p.required:
            raise ParamError(f"{q.name}: missing parameter {p.name} ({q._allowed_text()})")
        out[p.name] = to_term(p, str(p.default)) if p.default is not None else None
    return out


def prepare(q: StoredQuery, terms: Mapping[str, ox.NamedNode | ox.Literal | None]) -> str:
    """The query text with the bound terms as a VALUES block in every ``WHERE {`` group
    that uses them, and the LIMIT of a ``clause: limit`` parameter.

    Terms are serialised by pyoxigraph (N-Triples syntax, quotes and newlines escaped), so
    no user text reaches the query unescaped."""
    bound = {p.name: p for p in q.params if p.clause != "limit"}
    text = q.text
    if bound:
        _, groups, _ = scan(text)
        # Into every WHERE group that uses a parameter (so sub-queries see it too), the
        # VALUES row of the parameters used there; working from the end so earlier offsets stay valid.
        for pos, names in reversed(groups):
            names = [n for n in bound if n in names]
            if not names:
                continue
            head = " ".join(f"?_{n}" for n in names)
            row = " ".join("UNDEF" if terms.get(n) is None else str(terms[n]) for n in names)
            text = text[:pos] + f" VALUES ({head}) {{ ({row}) }} " + text[pos:]
    for p in q.params:
        if p.clause == "limit" and terms.get(p.name) is not None:
            text = text.rstrip() + f"\nLIMIT {int(terms[p.name].value)}\n"
    return text


# --- running -------------------------------------------------------------------

@dataclass
class Result:
    """A stored query's answer: the declared columns and rows of RDF terms (None = unbound)."""

    query: StoredQuery
    columns: list[str]
    rows: list[list]

    def records(self) -> list[dict]:
        """Rows as dicts of plain Python values (int, Decimal, date, bool, str, None)."""
        return [dict(zip(self.columns, (to_python(t) for t in r))) for r in self.rows]

    def plain_rows(self) -> list[list[str]]:
        """Rows as plain text: codes, plain decimals, YYYY-MM-DD dates, '' for unbound."""
        return [[plain(to_python(t)) for t in r] for r in self.rows]


def run(q: StoredQuery | str, store, params: Mapping[str, Any] | None = None, folder=None) -> Result:
    """Run a stored query on ``store`` (anything with ``.query(sparql, bindings)`` returning
    solutions indexable by variable name, such as :class:`collabkg.store.EmbeddedStore`)."""
    if isinstance(q, str):
        q = get(q, folder)
    sparql = prepare(q, bind(q, params or {}))
    solutions = store.query(sparql, None)
    cols = q.column_names
    rows = [[_get(s, c) for c in cols] for s in solutions]
    return Result(q, cols, rows)


def _get(solution, column: str):
    try:
        return solution[column]
    except (KeyError, IndexError):
        return None


def query(name: str, store=None, **params) -> list[dict]:
    """Run the stored query ``name`` and return its rows as dicts of Python values.

    ``store`` is a store object, a store folder, or None for the default store
    (``$COLLABKG_STORE`` or ``./.collabkg/store``), opened read-only."""
    from collabkg.store import EmbeddedStore

    if store is None or isinstance(store, (str, Path)):
        with EmbeddedStore(store, read_only=True) as s:
            return run(name, s, params).records()
    return run(name, store, params).records()


_PY = {
    XSD + "integer": int, XSD + "int": int, XSD + "long": int,
    XSD + "decimal": Decimal, XSD + "double": float, XSD + "float": float,
    XSD + "date": date.fromisoformat, XSD + "boolean": lambda v: v == "true" or v == "1",
}


def to_python(term):
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        conv = _PY.get(term.datatype.value) if term.datatype is not None else None
        if conv is not None:
            try:
                return conv(term.value)
            except (ValueError, InvalidOperation):
                return term.value
        return term.value
    return term.value


def plain(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
