"""The routes of ``collabkg serve`` (see the package docstring)."""
from __future__ import annotations

import io
import tempfile
import threading
from pathlib import Path
from urllib.parse import parse_qsl

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from collabkg.server import resources
from collabkg.server.sparql import GRAPH_TYPES, SELECT_TYPES, Limits, ProtocolError, negotiate, run_query, serialize

STATIC = Path(__file__).parent / "static"
MAX_BODY = 50 * 1024 * 1024  # bytes: a query or a posted record
FORMAT_PARAM = {
    "json": "application/sparql-results+json", "xml": "application/sparql-results+xml", "csv": "text/csv",
    "tsv": "text/tab-separated-values", "ttl": "text/turtle", "turtle": "text/turtle", "nt": "application/n-triples",
    "jsonld": "application/ld+json", "rdfxml": "application/rdf+xml", "html": "text/html",
}
RECORD_SUFFIX = {  # POST /validate body type → the suffix the record sources recognise
    "application/xml": ".xml", "text/xml": ".xml", "application/zip": ".zip",
    "application/json": ".json", "application/x-ndjson": ".jsonl", "application/jsonl": ".jsonl",
    "text/turtle": ".ttl", "application/ld+json": ".jsonld", "application/n-triples": ".nt", "application/trig": ".trig",
}
READ_ONLY = "this server is read-only: SPARQL UPDATE and Graph Store writes are refused"


def _error(status: int, message: str) -> Response:
    return PlainTextResponse(message + "\n", status_code=status)


class _LimitedStore:
    """The store as the catalogue sees it, with the server's time and row limits on every query."""

    def __init__(self, store, limits: Limits):
        self.store, self.limits = store, limits

    def query(self, sparql, bindings=None):
        out = run_query(self.store, sparql, self.limits)
        return out[2] if out[0] == "solutions" else out[1]


class _AnswerCache:
    """Stored-query answers by (name, parameters, format), least recently used out first.

    Sound only while the data cannot change under the server: a read-only embedded store
    reads the snapshot it opened, so ``collabkg serve`` enables it there and not on --endpoint."""

    def __init__(self, size: int):
        from collections import OrderedDict

        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return None

    def put(self, key, value) -> None:
        if self.size <= 0:
            return
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


def create_app(store, limits: Limits | None = None, queries_folder=None, cache_size: int = 0) -> Starlette:
    """The ASGI app serving ``store`` (opened read-only by the caller) with ``limits``;
    ``cache_size`` stored-query answers are kept (0: none)."""
    from collabkg import catalogue

    limits = limits or Limits()
    stored = catalogue.catalogue(queries_folder)  # loaded and checked once, at start-up
    limited = _LimitedStore(store, limits)
    cache = _AnswerCache(cache_size)

    async def sparql(request: Request) -> Response:
        params = dict(parse_qsl(request.url.query, keep_blank_values=True))
        multi = parse_qsl(request.url.query, keep_blank_values=True)
        text = params.get("query")
        if "update" in params:
            return _error(403, READ_ONLY)
        if request.method == "POST":
            ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
            body = await _body(request)
            if ctype == "application/sparql-update":
                return _error(403, READ_ONLY)
            if ctype == "application/sparql-query":
                text = body.decode("utf-8", "replace")
            elif ctype == "application/x-www-form-urlencoded":
                form = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
                fields = dict(form)
                if "update" in fields:
                    return _error(403, READ_ONLY)
                text = fields.get("query", text)
                multi += form
            else:
                return _error(415, f"POST a query as application/sparql-query or application/x-www-form-urlencoded, not {ctype or 'no content type'}")
        if not text:
            if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
                return FileResponse(STATIC / "index.html")
            return _error(400, "no query: give ?query=... (SPARQL 1.1 Protocol)")
        default_graphs = [v for k, v in multi if k == "default-graph-uri"]
        named_graphs = [v for k, v in multi if k == "named-graph-uri"]
        try:
            out = await anyio.to_thread.run_sync(run_query, store, text, limits, default_graphs, named_graphs)
        except ProtocolError as e:
            return _error(e.status, str(e))
        offers = GRAPH_TYPES if out[0] == "triples" else SELECT_TYPES
        default = "text/turtle" if out[0] == "triples" else "application/sparql-results+json"
        media = FORMAT_PARAM.get(params.get("format", "")) if params.get("format") else None
        if media not in offers:
            media = negotiate(request.headers.get("accept", ""), offers, default)
        if media is None:
            return _error(406, f"cannot answer in {request.headers.get('accept')}; available: {', '.join(offers)}")
        body = await anyio.to_thread.run_sync(serialize, out, media)
        return Response(body, media_type=media if media != "text/plain" else "application/n-triples")

    def refuse_write(request: Request) -> Response:
        return _error(405, READ_ONLY)

    def list_queries(request: Request) -> Response:
        return JSONResponse([
            {"name": q.name, "summary": q.summary, "description": q.description,
             "params": [{"name": p.name, "type": p.type, "required": p.required, "default": p.default,
                         "allowed": list(p.allowed) if p.allowed else None, "description": p.description} for p in q.params],
             "columns": [{"name": c.name, "meaning": c.meaning} for c in q.columns], "keywords": list(q.keywords)}
            for q in stored.values()
        ])

    async def stored_query(request: Request) -> Response:
        from collabkg.commands.queries import write

        name = request.path_params["name"]
        q = stored.get(name)
        if q is None:
            return _error(404, f"no stored query {name!r} (available: {', '.join(stored)})")
        params = dict(request.query_params)
        fmt = params.pop("format", None) or {"text/csv": "csv", "text/tab-separated-values": "tsv"}.get(
            negotiate(request.headers.get("accept", ""), {"application/json": 1, "text/csv": 1, "text/tab-separated-values": 1}, "application/json") or "", "json")
        if fmt not in ("json", "csv", "tsv"):
            return _error(400, f"format={fmt!r}: allowed: json, csv, tsv")
        media = {"json": "application/json", "csv": "text/csv", "tsv": "text/tab-separated-values"}[fmt]
        key = (name, tuple(sorted(params.items())), fmt)
        body = cache.get(key)
        if body is None:
            try:
                result = await anyio.to_thread.run_sync(catalogue.run, q, limited, params)
            except catalogue.ParamError as e:
                return _error(400, str(e))
            except ProtocolError as e:
                return _error(e.status, str(e))
            out = io.StringIO()
            write(result, fmt, out)
            body = out.getvalue()
            cache.put(key, body)
        return Response(body, media_type=f"{media}; charset=utf-8")

    async def validate(request: Request) -> Response:
        ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
        suffix = RECORD_SUFFIX.get(ctype)
        if suffix is None:
            return _error(415, f"POST a record as one of {', '.join(sorted(RECORD_SUFFIX))}, not {ctype or 'no content type'}")
        body = await _body(request)
        fmt = request.query_params.get("format") or {"application/json": "json", "text/turtle": "turtle"}.get(
            negotiate(request.headers.get("accept", ""), {"text/plain": 1, "application/json": 1, "text/turtle": 1}, "text/plain") or "", "text")
        if fmt not in ("text", "json", "turtle"):
            return _error(400, f"format={fmt!r}: allowed: text, json, turtle")
        try:
            status, text = await anyio.to_thread.run_sync(_validate_body, store, body, suffix, fmt)
        except ProtocolError as e:
            return _error(e.status, str(e))
        media = {"text": "text/plain", "json": "application/json", "turtle": "text/turtle"}[fmt]
        return Response(text, status_code=status, media_type=f"{media}; charset=utf-8",
                        headers={"X-Conforms": "true" if status == 200 else "false"})

    def resource(request: Request) -> Response:
        if "path" in request.path_params:
            path = request.path_params["path"]
            if not path:
                return FileResponse(STATIC / "index.html")
            iri = resources.ROOT + path
        else:
            iri = request.query_params.get("iri", "")
        try:
            triples = resources.describe(store, iri)
        except (ValueError, SyntaxError):
            return _error(400, f"not an IRI: {iri!r}")
        if not triples:
            return _error(404, f"nothing is known about <{iri}> here")
        offers = {"text/html": 1, **GRAPH_TYPES}
        fmt = request.query_params.get("format")
        media = FORMAT_PARAM.get(fmt) if fmt else negotiate(request.headers.get("accept", ""), offers, "text/html")
        if media not in offers:
            return _error(406, f"available: {', '.join(offers)}")
        headers = {"Vary": "Accept"}
        if media == "text/html":
            return HTMLResponse(resources.html_page(iri, triples, resources.incoming(store, iri)), headers=headers)
        return Response(serialize(("triples", triples), media), media_type=media if media != "text/plain" else "application/n-triples", headers=headers)

    routes = [
        Route("/sparql", sparql, methods=["GET", "POST"]),
        Route("/sparql", refuse_write, methods=["PUT", "DELETE", "PATCH"]),
        *(Route(p, refuse_write, methods=["PUT", "POST", "DELETE", "PATCH"]) for p in ("/store", "/rdf-graph-store", "/update")),
        Route("/queries", list_queries, methods=["GET"]),
        Route("/queries/{name}", stored_query, methods=["GET"]),
        Route("/validate", validate, methods=["POST"]),
        Route("/resource", resource, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
        Route("/{path:path}", resource, methods=["GET"]),
        Route("/{path:path}", refuse_write, methods=["PUT", "POST", "DELETE", "PATCH"]),
    ]

    async def protocol_error(request: Request, exc: ProtocolError) -> Response:
        return _error(exc.status, str(exc))

    return Starlette(routes=routes, exception_handlers={ProtocolError: protocol_error})


async def _body(request: Request) -> bytes:
    size = int(request.headers.get("content-length") or 0)
    if size > MAX_BODY:
        raise ProtocolError(413, f"request body of {size} bytes is over the limit of {MAX_BODY}")
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_BODY:
            raise ProtocolError(413, f"request body is over the limit of {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _validate_body(store, body: bytes, suffix: str, fmt: str) -> tuple[int, str]:
    """What ``collabkg validate`` does for one file: (HTTP status, report text)."""
    from collabkg import sources, validation as validate
    from collabkg.namespaces import IRIs

    iris = IRIs(None)
    with tempfile.TemporaryDirectory(prefix="collabkg-validate-") as tmp:
        path = Path(tmp) / f"request-body{suffix}"
        path.write_bytes(body)
        try:
            reports = list(validate.validate(sources.read(path), store, iris=iris))
        except sources.InputError as e:
            raise ProtocolError(400, str(e).replace(str(path), path.name)) from None
        unreadable = any(r.error is not None for r in reports)
        out = io.StringIO()
        validate.FORMATTERS[fmt](reports, out)
    text = out.getvalue().replace(str(path), path.name)
    ok = not unreadable and validate.conforms(reports)
    return (200 if ok else 422), text
