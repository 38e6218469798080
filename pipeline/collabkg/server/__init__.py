"""``collabkg serve``: a read-only SPARQL endpoint and linked-data server in front of a store.

A small Starlette (ASGI) app, run by uvicorn:

- ``GET/POST /sparql``: SPARQL 1.1 Protocol queries (results as JSON, XML, CSV, TSV; graphs as
  Turtle, N-Triples, JSON-LD, RDF/XML), the project's prefixes predeclared. UPDATE and Graph
  Store writes are refused (403/405). Every query has a time, row and memory limit, with a clear
  error when exceeded; SERVICE is refused unless its host is allowed. Without a query: the
  SPARQL 1.1 Service Description (``/dataset``: the dataset's VoID/DCAT description).
- Everything that touches the store runs in a bounded pool of killable worker processes
  (:mod:`collabkg.server.workers`, :mod:`collabkg.server.tasks`), which reopen the store when a
  writer commits; CORS for browser apps on other origins.
- ``GET /``: the query page (static HTML and JavaScript served here, no CDN).
- ``GET /queries``, ``GET /queries/<name>?param=value``: the stored query catalogue, with the
  same rows as ``collabkg query``.
- ``POST /validate``: a record (CORDIS XML, OpenAlex JSON, Turtle/JSON-LD) in the body; the
  same report as ``collabkg validate``.
- ``GET /<path>``: the resource ``https://w3id.org/collabkg/<path>`` (``/resource?iri=`` for
  any other IRI), as Turtle, N-Triples, JSON-LD or an HTML page by content negotiation.
"""
from __future__ import annotations

from collabkg.server.app import create_app
from collabkg.server.sparql import Limits

__all__ = ["create_app", "Limits"]
