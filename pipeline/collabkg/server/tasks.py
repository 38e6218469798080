"""What a worker process of ``collabkg serve`` does: every piece of work that touches the store
(SPARQL queries, stored queries, resource pages, record validation) runs here, in a process the
server can kill when a request passes its time or memory limit (:mod:`collabkg.server.workers`).

A worker opens the store read-only and reopens it when the store's files change, so that the
served view follows what ``collabkg ingest`` (or ``build``) commits while the server runs.
Answers go back to the server as bytes or plain values, never as store objects.
"""
from __future__ import annotations

import io
import os
import signal
import tempfile
from pathlib import Path

import pyoxigraph as ox

import collabkg.server.resources as resources
from collabkg.server.sparql import GRAPH_TYPES, SELECT_TYPES, Limits, ProtocolError, negotiate, run_query, serialize

FORMAT_PARAM = {
    "json": "application/sparql-results+json", "xml": "application/sparql-results+xml", "csv": "text/csv",
    "tsv": "text/tab-separated-values", "ttl": "text/turtle", "turtle": "text/turtle", "nt": "application/n-triples",
    "jsonld": "application/ld+json", "rdfxml": "application/rdf+xml", "html": "text/html",
}
# A graph answer (CONSTRUCT, DESCRIBE) asked for with a JSON Accept (rdflib's SPARQLStore with
# returnFormat="json", many JavaScript clients) gets JSON-LD instead of a 406.
GRAPH_OFFERS = {**GRAPH_TYPES, "application/json": ox.RdfFormat.JSON_LD, "application/sparql-results+json": ox.RdfFormat.JSON_LD}


def store_signature(path: str | os.PathLike) -> tuple | None:
    """What changes when a writer commits to an embedded store: the folder's identity (a staged
    build swaps it) and its files' names, sizes and times. None while it is being swapped."""
    try:
        st = os.stat(path)
        files = []
        for e in os.scandir(path):
            if e.name.startswith("LOG"):  # RocksDB's own diagnostic log
                continue
            s = e.stat()
            files.append((e.name, s.st_size, s.st_mtime_ns))
    except OSError:
        return None
    return (st.st_dev, st.st_ino, tuple(sorted(files)))


class StoreView:
    """The store of a worker: ("embedded", path) reopened read-only when it changed, or
    ("remote", options) for a SPARQL endpoint (always current)."""

    def __init__(self, spec):
        self.spec, self.store, self.signature = spec, None, None

    def current(self):
        kind, where = self.spec
        if kind == "remote":
            if self.store is None:
                from collabkg.remote_store import RemoteStore

                self.store = RemoteStore(**where, read_only=True)
            return self.store
        sig = store_signature(where)
        if self.store is None or (sig is not None and sig != self.signature):
            from collabkg.store import EmbeddedStore, StoreError

            try:
                fresh = EmbeddedStore(where, read_only=True)
            except StoreError:
                if self.store is None:
                    raise
                fresh = None  # mid-swap or mid-compaction: keep the view we have, retry next time
            if fresh is not None:
                old, self.store, self.signature = self.store, fresh, sig
                if old is not None:
                    old.close()
        return self.store


def sparql(store, text, accept, fmt, default_graphs, named_graphs, limits: Limits):
    """One SPARQL Protocol query: (status, media type, body)."""
    out = run_query(store, text, limits, default_graphs, named_graphs, prefixes=True)
    if out[0] == "triples":
        offers, default = GRAPH_OFFERS, "text/turtle"
    else:
        offers, default = SELECT_TYPES, "application/sparql-results+json"
    media = FORMAT_PARAM.get(fmt) if fmt else None
    if media not in offers:
        media = negotiate(accept, offers, default)
    if media is None:
        if out[0] != "triples":
            raise ProtocolError(406, f"cannot answer in {accept}; available: {', '.join(offers)}")
        media = default  # a graph in the default syntax rather than no answer
    if out[0] == "triples" and media in ("application/json", "application/sparql-results+json"):
        media = "application/ld+json"
    body = serialize(out, media) if out[0] != "triples" else (ox.serialize(out[1], format=GRAPH_OFFERS[media]) or b"")
    return 200, ("application/n-triples" if media == "text/plain" else media), body


class _LimitedStore:
    """The store as the catalogue sees it, with the server's row limit on every query."""

    def __init__(self, store, limits: Limits):
        self.store, self.limits = store, limits

    def query(self, text, bindings=None):
        out = run_query(self.store, text, self.limits)
        return out[2] if out[0] == "solutions" else out[1]


_CATALOGUE: dict = {}


def stored(store, name, params, fmt, limits: Limits, folder=None) -> str:
    """A stored query's answer as ``collabkg query --format fmt`` writes it."""
    import collabkg.catalogue as catalogue
    from collabkg.commands.queries import write

    if folder not in _CATALOGUE:
        _CATALOGUE[folder] = catalogue.catalogue(folder)
    q = _CATALOGUE[folder][name]
    try:
        result = catalogue.run(q, _LimitedStore(store, limits), params)
    except catalogue.ParamError as e:
        raise ProtocolError(400, str(e)) from None
    out = io.StringIO()
    write(result, fmt, out)
    return out.getvalue()


def resource(store, iri, media) -> tuple[int, str, bytes]:
    """One resource (or a named graph's content) as ``media`` (text/html or a graph syntax)."""
    try:
        triples = resources.describe(store, iri)
    except (ValueError, SyntaxError):
        raise ProtocolError(400, f"not an IRI: {iri!r}") from None
    if not triples:
        raise ProtocolError(404, f"nothing is known about <{iri}> here")
    if media == "text/html":
        return 200, media, resources.html_page(iri, triples, resources.incoming(store, iri)).encode("utf-8")
    return 200, ("application/n-triples" if media == "text/plain" else media), serialize(("triples", triples), media)


def validate(store, body: bytes, suffix: str, fmt: str, base: str | None = None) -> tuple[int, str]:
    """What ``collabkg validate`` does for one file, its instance IRIs minted under ``base``:
    (HTTP status, report text)."""
    import collabkg.sources as sources
    import collabkg.validation as v
    from collabkg.namespaces import IRIs

    iris = IRIs(base)
    with tempfile.TemporaryDirectory(prefix="collabkg-validate-") as tmp:
        path = Path(tmp) / f"request-body{suffix}"
        path.write_bytes(body)
        try:
            reports = list(v.validate(sources.read(path), store, iris=iris))
        except sources.InputError as e:
            raise ProtocolError(400, str(e).replace(str(path), path.name)) from None
        unreadable = any(r.error is not None for r in reports)
        out = io.StringIO()
        v.FORMATTERS[fmt](reports, out)
    text = out.getvalue().replace(str(path), path.name)
    ok = not unreadable and v.conforms(reports)
    return (200 if ok else 422), text


TASKS = {"sparql": sparql, "stored": stored, "resource": resource, "validate": validate}


def worker_main(conn, spec) -> None:
    """The loop of one worker process: (task, args) in, ("ok", value) or ("err", status, message) out."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops its workers itself
    view = StoreView(spec)
    while True:
        try:
            task, args = conn.recv()
        except (EOFError, OSError):
            return  # the server has gone
        try:
            reply = ("ok", TASKS[task](view.current(), *args))
        except ProtocolError as e:
            reply = ("err", e.status, str(e))
        except Exception as e:  # noqa: BLE001 - reported to the client as a 500 with its reason
            reply = ("err", 500, f"{task} failed: {type(e).__name__}: {e}")
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return
