"""The read-only SPARQL 1.1 Protocol part of ``collabkg serve``: guards, limits, result formats."""
from __future__ import annotations

import csv
import io
import json
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import pyoxigraph as ox

from collabkg.catalogue import SPARQL_OPAQUE
from collabkg.namespaces import PREFIXES, SPARQL_RESULTS, XSD
from collabkg.results import json_term

# Tokens that matter for the guards (comments, strings and IRIs first: see SPARQL_OPAQUE).
_TOKENS = re.compile(
    SPARQL_OPAQUE + r'''
      | (?P<word>[A-Za-z_][\w-]*)''',
    re.X,
)
_UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD"}

SELECT_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "text/plain": ox.RdfFormat.N_TRIPLES,
}


class ProtocolError(Exception):
    """A request the endpoint refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


@dataclass
class Limits:
    timeout: float = 30.0          # seconds per query
    max_rows: int = 10_000         # solutions (or triples) per answer
    allow_service: tuple[str, ...] = field(default_factory=tuple)  # hosts SERVICE may call
    workers: int = 2               # worker processes running queries and validations
    queue: int = 8                 # requests waiting for a worker before 503 + Retry-After
    max_memory_mb: int = 1024      # resident memory of one worker process (store caches included)


_DECLARED = re.compile(r"(?i)\bPREFIX\s+([\w.-]*):")
_POSITION = re.compile(r"\b(at |line )1:(\d+)")


def with_prefixes(text: str) -> tuple[str, int]:
    """The query with the project's predeclared prefixes it does not declare itself, and the
    number of characters added. They go on the user's first line, so that line numbers in
    error messages stay the user's own; :func:`user_message` corrects the column on line 1."""
    declared = set(_DECLARED.findall(text))
    extra = "".join(f"PREFIX {p}: <{iri}> " for p, iri in PREFIXES.items() if p not in declared)
    return extra + text, len(extra)


def user_message(message: str, added: int) -> str:
    """A syntax error message with positions in the user's text (before :func:`with_prefixes`)."""
    if not added:
        return message
    return _POSITION.sub(lambda m: f"{m.group(1)}1:{max(1, int(m.group(2)) - added)}", message)


def check_query(text: str, limits: Limits) -> None:
    """Refuse updates and SERVICE calls to hosts not explicitly allowed (before running anything)."""
    words = [(m.group("word"), m) for m in _TOKENS.finditer(text) if m.group("word")]
    first = next((w.upper() for w, _ in words if w.upper() not in ("PREFIX", "BASE")), "")
    if first in _UPDATE_WORDS or first == "WITH":
        raise ProtocolError(403, "this endpoint is read-only: SPARQL UPDATE is refused")
    tokens = [m for m in _TOKENS.finditer(text) if not m.group("comment") and not m.group("string")]
    for i, m in enumerate(tokens):
        if (m.group("word") or "").upper() != "SERVICE":
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if nxt is not None and (nxt.group("word") or "").upper() == "SILENT":
            nxt = tokens[i + 2] if i + 2 < len(tokens) else None
        host = urlsplit(nxt.group("iri")[1:-1]).hostname if nxt is not None and nxt.group("iri") else None
        if host is None or host not in limits.allow_service:
            allowed = ", ".join(limits.allow_service) or "none (serve --allow-service HOST)"
            raise ProtocolError(403, f"SERVICE to {host or 'a computed endpoint'} is refused; allowed hosts: {allowed}")


def negotiate(accept: str, offers: dict, default: str) -> str | None:
    """The media type of ``offers`` the Accept header prefers (q-values honoured), None if none fits."""
    if not accept.strip():
        return default
    best, best_q = None, 0.0
    for i, part in enumerate(accept.split(",")):
        bits = [b.strip() for b in part.split(";")]
        mt, q = bits[0].lower(), 1.0
        for b in bits[1:]:
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        if mt in ("*/*", "application/*", "text/*"):
            cand = default if mt == "*/*" or default.startswith(mt[:-1]) else next((o for o in offers if o.startswith(mt[:-1])), None)
        else:
            cand = mt if mt in offers else None
        if cand and q > best_q - 1e-9 * i and q > best_q:
            best, best_q = cand, q
    return best


def run_query(store, text: str, limits: Limits, default_graphs=(), named_graphs=(), prefixes: bool = False):
    """Run ``text`` with the row limit; return ("solutions", variables, rows), ("boolean", value)
    or ("triples", list). Raises ProtocolError for refused, too-large or malformed queries.

    Runs in a worker process (:mod:`collabkg.server.workers`): the server kills the worker when
    the time or memory limit is passed, so nothing here has to stop a running query. The
    deadline is still checked per row, which ends a streaming query early without a kill.
    ``prefixes`` adds the project's predeclared prefixes (as ``collabkg sparql`` does)."""
    check_query(text, limits)
    deadline = time.monotonic() + limits.timeout
    added = 0
    if prefixes:
        text, added = with_prefixes(text)
    try:
        # The protocol's dataset, if any, replaces the query's own (FROM): see Store.query.
        result = store.query(text, default_graphs=list(default_graphs), named_graphs=list(named_graphs))
        if isinstance(result, (ox.QueryBoolean, bool)):
            return ("boolean", bool(result))
        rows = []
        for item in result:
            if time.monotonic() > deadline:
                raise ProtocolError(503, f"query timed out after {limits.timeout:g} s (the server's --query-timeout)")
            rows.append(item)
            if len(rows) > limits.max_rows:
                raise ProtocolError(
                    413, f"the answer has more than {limits.max_rows} rows (the server's --max-rows); add a LIMIT or narrow the query"
                )
        if isinstance(result, ox.QuerySolutions):
            return ("solutions", list(result.variables), rows)
        return ("triples", rows)
    except ProtocolError:
        raise
    except SyntaxError as e:
        raise ProtocolError(400, f"SPARQL syntax error: {user_message(str(e), added)}") from None
    except ValueError as e:  # e.g. a graph parameter that is not an IRI
        raise ProtocolError(400, f"bad request: {e}") from None
    except Exception as e:  # noqa: BLE001 - any store failure becomes a clear 500 message
        raise ProtocolError(500, f"query failed: {e}") from None


def serialize(out, media_type: str) -> bytes:
    """The answer in ``media_type`` (one of SELECT_TYPES for solutions and booleans, GRAPH_TYPES for triples)."""
    kind = out[0]
    if kind == "triples":
        return ox.serialize(out[1], format=GRAPH_TYPES[media_type]) or b""
    fmt = SELECT_TYPES[media_type]
    if kind == "boolean":
        value = "true" if out[1] else "false"
        if fmt == ox.QueryResultsFormat.JSON:
            return json.dumps({"head": {}, "boolean": out[1]}).encode()
        if fmt == ox.QueryResultsFormat.XML:
            return (f'<?xml version="1.0"?>\n<sparql xmlns="{_SR}"><head/><boolean>{value}</boolean></sparql>\n').encode()
        return f"{value}\n".encode()
    _, variables, rows = out
    names = [v.value for v in variables]
    cells = [[r[n] for n in names] for r in rows]
    if fmt == ox.QueryResultsFormat.JSON:
        bindings = [{n: json_term(t) for n, t in zip(names, row) if t is not None} for row in cells]
        return json.dumps({"head": {"vars": names}, "results": {"bindings": bindings}}, ensure_ascii=False).encode("utf-8")
    if fmt == ox.QueryResultsFormat.TSV:
        lines = ["\t".join("?" + n for n in names)] + ["\t".join("" if t is None else str(t) for t in row) for row in cells]
        return ("\n".join(lines) + "\n").encode("utf-8")
    if fmt == ox.QueryResultsFormat.CSV:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(names)
        w.writerows([["" if t is None else t.value for t in row] for row in cells])
        return buf.getvalue().encode("utf-8")
    parts = [f'<?xml version="1.0"?>\n<sparql xmlns="{_SR}"><head>']
    parts += [f'<variable name="{n}"/>' for n in names]
    parts.append("</head><results>")
    for row in cells:
        parts.append("<result>")
        for n, t in zip(names, row):
            if t is not None:
                parts.append(f'<binding name="{n}">{_xml_term(t)}</binding>')
        parts.append("</result>")
    parts.append("</results></sparql>\n")
    return "".join(parts).encode("utf-8")


_SR = SPARQL_RESULTS
_Q = {'"': "&quot;"}


def _xml_term(t) -> str:
    if isinstance(t, ox.NamedNode):
        return f"<uri>{escape(t.value)}</uri>"
    if isinstance(t, ox.BlankNode):
        return f"<bnode>{escape(t.value)}</bnode>"
    if t.language:
        return f'<literal xml:lang="{escape(t.language, _Q)}">{escape(t.value)}</literal>'
    if t.datatype.value != XSD + "string":
        return f'<literal datatype="{escape(t.datatype.value, _Q)}">{escape(t.value)}</literal>'
    return f"<literal>{escape(t.value)}</literal>"
