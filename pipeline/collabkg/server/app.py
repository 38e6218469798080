"""The routes of ``collabkg serve`` (see the package docstring). Everything that touches the store
runs in the worker pool (:mod:`collabkg.server.workers`); this process parses requests, keeps the
stored-query answer cache and writes responses."""
from __future__ import annotations

import threading
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qsl

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import collabkg.server.resources as resources
from collabkg.server.sparql import GRAPH_TYPES, Limits, ProtocolError, negotiate
from collabkg.server.tasks import FORMAT_PARAM, store_signature
from collabkg.server.workers import Pool

STATIC = Path(__file__).parent / "static"
MAX_BODY = 50 * 1024 * 1024  # bytes: a query or a posted record
RECORD_SUFFIX = {  # POST /validate body type → the suffix the record sources recognise
    "application/xml": ".xml", "text/xml": ".xml", "application/zip": ".zip",
    "application/json": ".json", "application/x-ndjson": ".jsonl", "application/jsonl": ".jsonl",
    "text/turtle": ".ttl", "application/ld+json": ".jsonld", "application/n-triples": ".nt", "application/trig": ".trig",
}
READ_ONLY = "this server is read-only: SPARQL UPDATE and Graph Store writes are refused"


def _error(status: int, message: str, headers: dict | None = None) -> Response:
    return PlainTextResponse(message + "\n", status_code=status, headers=headers)


class _AnswerCache:
    """Stored-query answers by (name, parameters, format), least recently used out first.

    The key includes the store's file signature, so answers computed before a write committed
    by ``collabkg ingest`` are not served after it; ``collabkg serve`` disables it on --endpoint,
    whose data may change without a trace here."""

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


def store_spec(store) -> tuple:
    """How a worker process opens ``store`` itself: ("embedded", path) or ("remote", options)."""
    from collabkg.store import EmbeddedStore

    if isinstance(store, EmbeddedStore):
        return ("embedded", store.location)
    return ("remote", {"endpoint": store.endpoint, "user": store.user, "password": store.password,
                       "auth": store.auth, "timeout": store.timeout})


def create_app(store, limits: Limits | None = None, queries_folder=None, cache_size: int = 0,
               cors_origins: tuple[str, ...] = ("*",), uri_space: str | None = None) -> Starlette:
    """The ASGI app serving ``store`` (opened read-only by the caller) with ``limits``;
    ``cache_size`` stored-query answers are kept (0: none); CORS for ``cors_origins`` (none: no CORS);
    ``uri_space``: the base of the store's instance IRIs, as built (the dataset description says it,
    posted records are mapped under it; default: $COLLABKG_BASE, else the default base).
    The store's work runs in ``limits.workers`` worker processes, started here and stopped at shutdown."""
    import collabkg.catalogue as catalogue
    import collabkg.server.service as service

    limits = limits or Limits()
    stored = catalogue.catalogue(queries_folder)  # loaded and checked once, at start-up
    cache = _AnswerCache(cache_size)
    spec = store_spec(store)
    pool = Pool(spec, limits.workers, limits.queue, limits.timeout, limits.max_memory_mb)

    def signature():
        return store_signature(spec[1]) if spec[0] == "embedded" else None

    async def work(task: str, *args, reserved: bool = False):
        """Run a task in the pool from the event loop (a place is taken unless ``reserved``)."""
        if not reserved:
            pool.reserve()
        try:
            return await anyio.to_thread.run_sync(lambda: pool.call(task, *args))
        finally:
            if not reserved:
                pool.release()

    async def sparql(request: Request) -> Response:
        params = dict(parse_qsl(request.url.query, keep_blank_values=True))
        multi = parse_qsl(request.url.query, keep_blank_values=True)
        text = params.get("query")
        if "update" in params:
            return _error(403, READ_ONLY)
        if request.method == "GET" and not text:
            return service_description(request)  # answered here, even when every worker is busy
        pool.reserve()  # before reading a body: bodies in memory are bounded too
        try:
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
                return _error(400, "no query: give ?query=... (SPARQL 1.1 Protocol)")
            default_graphs = [v for k, v in multi if k == "default-graph-uri"]
            named_graphs = [v for k, v in multi if k == "named-graph-uri"]
            status, media, body = await work("sparql", text, request.headers.get("accept", ""), params.get("format"),
                                             default_graphs, named_graphs, limits, reserved=True)
        finally:
            pool.release()
        return Response(body, status_code=status, media_type=media)

    def service_description(request: Request) -> Response:
        accept = request.headers.get("accept", "")
        offers = {"text/html": 1, **service.MEDIA}
        media = FORMAT_PARAM.get(request.query_params.get("format", "")) or negotiate(accept, offers, "text/turtle")
        if media == "text/html":
            return FileResponse(STATIC / "index.html")
        if media not in service.MEDIA:
            media = "text/turtle"
        base = str(request.base_url).rstrip("/")
        return Response(service.describe(base, limits, media), media_type=media, headers={"Vary": "Accept"})

    def dataset_description(request: Request) -> Response:
        media = negotiate(request.headers.get("accept", ""), service.MEDIA, "text/turtle") or "text/turtle"
        base = str(request.base_url).rstrip("/")
        return Response(service.dataset(base, media, uri_space), media_type=media, headers={"Vary": "Accept"})

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
        key = (signature(), name, tuple(sorted(params.items())), fmt)
        body = cache.get(key)
        if body is None:
            body = await work("stored", name, params, fmt, limits, queries_folder)
            cache.put(key, body)
        return Response(body, media_type=f"{media}; charset=utf-8")

    async def validate(request: Request) -> Response:
        ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
        suffix = RECORD_SUFFIX.get(ctype)
        if suffix is None:
            return _error(415, f"POST a record as one of {', '.join(sorted(RECORD_SUFFIX))}, not {ctype or 'no content type'}")
        fmt = request.query_params.get("format") or {"application/json": "json", "text/turtle": "turtle"}.get(
            negotiate(request.headers.get("accept", ""), {"text/plain": 1, "application/json": 1, "text/turtle": 1}, "text/plain") or "", "text")
        if fmt not in ("text", "json", "turtle"):
            return _error(400, f"format={fmt!r}: allowed: text, json, turtle")
        pool.reserve()  # before reading the body: at most workers + queue bodies in memory
        try:
            body = await _body(request)
            status, text = await work("validate", body, suffix, fmt, uri_space, reserved=True)
        finally:
            pool.release()
        media = {"text": "text/plain", "json": "application/json", "turtle": "text/turtle"}[fmt]
        return Response(text, status_code=status, media_type=f"{media}; charset=utf-8",
                        headers={"X-Conforms": "true" if status == 200 else "false"})

    async def resource(request: Request) -> Response:
        if "path" in request.path_params:
            # The raw path: IRIs minted with %2F (DOIs) must not be decoded before the lookup.
            raw = request.scope.get("raw_path") or request.url.path.encode()
            path = raw.decode("latin-1").split("?", 1)[0].lstrip("/")
            if not path:
                return FileResponse(STATIC / "index.html")
            iri = resources.ROOT + path
        else:
            iri = request.query_params.get("iri", "")
        offers = {"text/html": 1, **GRAPH_TYPES}
        fmt = request.query_params.get("format")
        media = FORMAT_PARAM.get(fmt) if fmt else negotiate(request.headers.get("accept", ""), offers, "text/html")
        if media not in offers:
            return _error(406, f"available: {', '.join(offers)}")
        status, media, body = await work("resource", iri, media)
        return Response(body, status_code=status, media_type=media, headers={"Vary": "Accept"})

    routes = [
        Route("/sparql", sparql, methods=["GET", "POST"]),
        Route("/sparql", refuse_write, methods=["PUT", "DELETE", "PATCH"]),
        Route("/dataset", dataset_description, methods=["GET"]),
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
        return _error(exc.status, str(exc), exc.headers)

    middleware = []
    if cors_origins:
        # Read-only endpoints for browser apps on other origins (YASGUI, notebooks, ...): GET and
        # POST queries with the Accept/Content-Type headers a SPARQL client sends, and their preflight.
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST", "OPTIONS"],
                                     allow_headers=["Accept", "Content-Type"], expose_headers=["Retry-After", "X-Conforms"], max_age=600))
    @asynccontextmanager
    async def lifespan(app):
        yield
        pool.close()

    return Starlette(routes=routes, middleware=middleware, exception_handlers={ProtocolError: protocol_error}, lifespan=lifespan)


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
