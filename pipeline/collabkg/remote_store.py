"""A :class:`~collabkg.store.Store` on a remote SPARQL 1.1 server (Oxigraph server, Virtuoso, Fuseki, ...).

Queries go through SPARQLWrapper to the query endpoint; the answers are parsed by pyoxigraph,
so callers get the same objects (``QuerySolutions``, ``QueryBoolean``, ``QueryTriples``) as
from the embedded store. Loading uses the SPARQL 1.1 Graph Store HTTP Protocol: one ``PUT``
per replaced named graph, one ``POST`` per add-only graph. Without a Graph Store URL, a
batch goes as one SPARQL UPDATE request to the update endpoint instead.

The server must use the union of its named graphs as the default graph, as the embedded
store does (Virtuoso does; Oxigraph server with ``--union-default-graph``; Fuseki with
``unionDefaultGraph``).

Atomic batches, as far as the server allows: an UPDATE request is one transaction on
Oxigraph. The Graph Store Protocol has no multi-graph transaction, so before a batch the
current content of its graphs is read in one query, and if any request of the batch fails
the graphs already written are put back; the error names the batch and the server's
answer, and says if the restore failed too.

Bulk path: with ``bulk_dir``, each batch is written as one N-Quads file (renamed into place
only when complete) for a server's own bulk loader, e.g. Virtuoso's ``ld_dir``/``rdf_loader_run``.

Credentials come from ``$COLLABKG_ENDPOINT_USER`` / ``$COLLABKG_ENDPOINT_PASSWORD``
(``$COLLABKG_ENDPOINT_AUTH`` = ``basic``, the default, or ``digest``, as Virtuoso's
``/sparql-graph-crud-auth`` needs). They are sent with writes; with queries only when
``$COLLABKG_ENDPOINT_QUERY_AUTH=1``.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable, Sequence

import pyoxigraph as ox

from collabkg.settings import Settings
from collabkg.store import Store, StoreError

_KIND = re.compile(r"(?is)^(?:\s|#[^\n]*\n|(?:PREFIX|BASE)\s+[^\n]*?>\s*)*\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b")
SNAPSHOT_CHUNK = 200  # graphs per snapshot query (keeps the VALUES block short)


class RemoteStore(Store):
    """A SPARQL endpoint used as the store; see the module docstring for the write paths."""

    def __init__(
        self,
        endpoint: str,
        update_endpoint: str | None = None,
        graph_store: str | None = None,
        *,
        read_only: bool = False,
        bulk_dir: str | os.PathLike | None = None,
        user: str | None = None,
        password: str | None = None,
        auth: str | None = None,
        timeout: float = 300.0,
    ):
        self.location = endpoint
        self.endpoint = endpoint
        self.update_endpoint = update_endpoint
        self.graph_store = graph_store
        self.read_only = read_only
        self.bulk_dir = Path(bulk_dir) if bulk_dir else None
        self._bulk_graphs: dict[str, Path] = {}  # graph -> the batch file that holds it
        self._superseded: dict[Path, set[str]] = {}  # batch file -> graphs a later file replaces
        env = Settings.from_env()  # defaults for Python callers; the CLI passes its settings in
        self.user = user if user is not None else env.endpoint_user
        self.password = password if password is not None else env.endpoint_password
        self.auth = (auth or env.endpoint_auth).lower()
        self.query_auth = env.endpoint_query_auth
        if self.auth not in ("basic", "digest"):
            raise StoreError(f"$COLLABKG_ENDPOINT_AUTH={self.auth!r}: allowed: basic, digest")
        self.timeout = timeout
        self._http = None
        self._batches = 0
        if self.bulk_dir is not None:
            self.bulk_dir.mkdir(parents=True, exist_ok=True)

    # --- reading ---------------------------------------------------------------------------

    def query(self, sparql: str, bindings: dict | None = None, default_graphs=(), named_graphs=()):
        """Run a query on the endpoint; ``default_graphs``/``named_graphs`` go as the protocol's
        ``default-graph-uri``/``named-graph-uri`` (they replace the query's own dataset)."""
        from SPARQLWrapper import BASIC, DIGEST, JSON, POST, TURTLE, SPARQLWrapper
        from SPARQLWrapper.SPARQLExceptions import QueryBadFormed, SPARQLWrapperException

        if bindings:
            # A trailing VALUES clause binds the terms (serialised by pyoxigraph, never pasted text).
            names = list(bindings)
            row = " ".join(str(bindings[n]) if bindings[n] is not None else "UNDEF" for n in names)
            sparql = f"{sparql}\nVALUES ({' '.join('?' + n for n in names)}) {{ ({row}) }}"
        m = _KIND.search(sparql)
        kind = m.group(1).upper() if m else "SELECT"
        sw = SPARQLWrapper(self.endpoint)
        sw.setMethod(POST)
        # POST, URL-encoded (no URL length limit; Virtuoso 7 does not answer application/sparql-query bodies)
        sw.setTimeout(int(self.timeout))
        sw.setQuery(sparql)
        for g in default_graphs:
            sw.addDefaultGraph(g)
        for g in named_graphs:
            sw.addNamedGraph(g)
        # Our own reading of the query form: SPARQLWrapper's guess is fooled by words such as
        # "copy" in comments and would send the query as an update.
        sw.queryType = kind
        if self.user and self.query_auth:
            # Credentials are for writes; queries send them only when asked (Virtuoso's public
            # /sparql answers 406 to an authenticated request).
            sw.setHTTPAuth(DIGEST if self.auth == "digest" else BASIC)
            sw.setCredentials(self.user, self.password or "")
        graph = kind in ("CONSTRUCT", "DESCRIBE")
        sw.setOnlyConneg(True)  # content negotiation only: no format=... parameters servers disagree on
        sw.setReturnFormat(TURTLE if graph else JSON)
        try:
            response = sw.query().response
            body = response.read()
            ctype = (response.headers.get("Content-Type") or "").split(";")[0].strip()
        except QueryBadFormed as e:
            raise SyntaxError(f"{self.endpoint}: {_short(e)}") from None
        except SPARQLWrapperException as e:
            raise StoreError(f"{self.endpoint}: query failed: {_short(e)}") from None
        except OSError as e:
            raise StoreError(f"{self.endpoint}: cannot reach the SPARQL endpoint: {e}") from None
        if graph:
            fmt = ox.RdfFormat.N_TRIPLES if ctype in ("application/n-triples", "text/plain") else ox.RdfFormat.TURTLE
            mem = ox.Store()
            mem.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for t in ox.parse(body, format=fmt))
            # A real QueryTriples, so callers treat the answer as they do the embedded store's.
            return mem.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
        if b'"bnode"' in body:
            body = _portable_bnodes(body)
        try:
            return ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        except (SyntaxError, ValueError) as e:
            raise StoreError(f"{self.endpoint}: unreadable answer ({ctype or 'no content type'}): {e}") from None

    def graph_names(self) -> set[str]:
        rows = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return {r["g"].value for r in rows if isinstance(r["g"], ox.NamedNode)}

    def named_graphs(self):
        """pyoxigraph-style, for code that walks a store graph by graph (export)."""
        return [ox.NamedNode(g) for g in sorted(self.graph_names())]

    def quads_for_pattern(self, s=None, p=None, o=None, g=None):
        """pyoxigraph-style quad pattern (export, audit); ``DefaultGraph`` matches nothing,
        as every triple here lives in a named graph."""
        if isinstance(g, ox.DefaultGraph):
            return iter(())
        terms = {"s": s, "p": p, "o": o, "g": g}
        pattern = " ".join(str(t) if t is not None else f"?{k}" for k, t in terms.items() if k != "g")
        gname = str(g) if g is not None else "?g"
        rows = self.query(f"SELECT * WHERE {{ GRAPH {gname} {{ {pattern} }} }}")
        return (
            ox.Quad(*(terms[k] if terms[k] is not None else r[k] for k in ("s", "p", "o", "g")))
            for r in rows
        )

    def quads(self, graph: str | None = None):
        return self.quads_for_pattern(g=ox.NamedNode(graph) if graph else None)

    # --- writing ---------------------------------------------------------------------------

    def replace_graphs(self, graphs: Sequence[tuple[str, Iterable[ox.Triple]]], add=()) -> int:
        if self.read_only:
            raise StoreError(f"{self.location}: opened read-only")
        graphs = [(g, list(ts)) for g, ts in graphs]
        add = [(g, list(ts)) for g, ts in add if ts]
        n = sum(len(ts) for _, ts in graphs) + sum(len(ts) for _, ts in add)
        self._batches += 1
        if self.bulk_dir is not None:
            self._write_nquads(graphs, add)
        elif self.graph_store:
            self._load_gsp(graphs, add)
        elif self.update_endpoint:
            self._update(_update_text(graphs, add), graphs)
        else:
            raise StoreError(
                f"{self.endpoint}: writing needs --graph-store URL (Graph Store Protocol) or --update-endpoint URL"
            )
        return n

    def _client(self):
        if self._http is None:
            import httpx

            auth = None
            if self.user:
                auth = (httpx.DigestAuth if self.auth == "digest" else httpx.BasicAuth)(self.user, self.password or "")
            self._http = httpx.Client(auth=auth, timeout=self.timeout, trust_env=False)
        return self._http

    def _batch_name(self, graphs) -> str:
        names = [g for g, _ in graphs]
        span = f"{names[0]} .. {names[-1]}" if len(names) > 1 else (names[0] if names else "-")
        return f"batch {self._batches} ({len(names)} graph(s): {span})"

    def _gsp(self, method: str, graph: str, body: bytes | None = None):
        import httpx

        headers = {"Content-Type": "application/n-triples"} if body is not None else {}
        try:
            r = self._client().request(method, self.graph_store, params={"graph": graph}, content=body, headers=headers)
        except httpx.HTTPError as e:
            raise StoreError(f"{self.graph_store}: {method} graph <{graph}>: {e}") from None
        if r.status_code == 404 and method == "DELETE":
            return
        if r.status_code >= 300:
            raise StoreError(f"{self.graph_store}: {method} graph <{graph}>: HTTP {r.status_code}: {_short(r.text)}")

    def _snapshot(self, names: list[str]) -> dict[str, list[ox.Triple]]:
        """The current content of ``names`` (graphs that do not exist are absent)."""
        old: dict[str, list[ox.Triple]] = {}
        names = [g for g in names if _is_iri(g)]  # anything else cannot be on the server (its PUT will fail)
        for i in range(0, len(names), SNAPSHOT_CHUNK):
            values = " ".join(f"<{g}>" for g in names[i : i + SNAPSHOT_CHUNK])
            for r in self.query(f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}"):
                old.setdefault(r["g"].value, []).append(ox.Triple(r["s"], r["p"], r["o"]))
        return old

    def _load_gsp(self, graphs, add) -> None:
        old = self._snapshot([g for g, _ in graphs])
        written: list[str] = []
        try:
            for g, ts in graphs:
                self._gsp("PUT", g, _ntriples(ts))
                written.append(g)
            # Add-only graphs last: if one fails, only replaced graphs need putting back.
            for g, ts in add:
                self._gsp("POST", g, _ntriples(ts))
        except StoreError as e:
            problem = f"{self._batch_name(graphs)} not applied: {e}"
            try:
                for g in written:
                    if g in old:
                        self._gsp("PUT", g, _ntriples(old[g]))
                    else:
                        self._gsp("DELETE", g)
            except StoreError as e2:
                raise StoreError(f"{problem}; restoring the {len(written)} graph(s) already written failed too: {e2}") from None
            raise StoreError(problem) from None

    def _update(self, text: str, graphs) -> None:
        import httpx

        if not text:
            return
        try:
            r = self._client().post(
                self.update_endpoint, content=text.encode("utf-8"), headers={"Content-Type": "application/sparql-update"}
            )
        except httpx.HTTPError as e:
            raise StoreError(f"{self.update_endpoint}: {self._batch_name(graphs)} not applied: {e}") from None
        if r.status_code >= 300:
            raise StoreError(
                f"{self.update_endpoint}: {self._batch_name(graphs)} not applied: HTTP {r.status_code}: {_short(r.text)}"
            )

    def _write_nquads(self, graphs, add) -> None:
        path = self.bulk_dir / f"batch-{self._batches:06d}.nq"
        tmp = path.with_suffix(".nq.part")
        try:
            with open(tmp, "wb") as f:
                for g, ts in list(graphs) + list(add):
                    ox.serialize((ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g)) for t in ts), f, ox.RdfFormat.N_QUADS)
            os.replace(tmp, path)  # a batch file exists only when complete
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise StoreError(f"{path}: {self._batch_name(graphs)} not written: {e}") from None
        # A bulk loader adds, it never replaces: a graph that a later batch writes again (a shared
        # entity, the latest record wins) must leave the earlier file, or both versions would load.
        for g, _ in graphs:
            earlier = self._bulk_graphs.get(g)
            if earlier is not None and earlier != path:
                self._superseded.setdefault(earlier, set()).add(g)
            self._bulk_graphs[g] = path

    def _drop_superseded(self) -> None:
        """Rewrite the batch files that hold graphs a later batch replaced, without those graphs."""
        for path, gone in sorted(self._superseded.items()):
            marks = {f"<{g}>".encode() for g in gone}
            tmp = path.with_suffix(".nq.part")
            with open(path, "rb") as src, open(tmp, "wb") as dst:
                for line in src:  # N-Quads: the graph is the last term before the final " ."
                    parts = line.rstrip(b"\r\n").rsplit(b" ", 2)
                    if len(parts) < 3 or parts[-2] not in marks:
                        dst.write(line)
            os.replace(tmp, path)
        self._superseded.clear()

    def close(self) -> None:
        if self._superseded:
            self._drop_superseded()
        if self._http is not None:
            self._http.close()
            self._http = None


def _is_iri(g: str) -> bool:
    try:
        ox.NamedNode(g)
        return True
    except ValueError:
        return False


def _ntriples(ts) -> bytes:
    return ox.serialize(ts, format=ox.RdfFormat.N_TRIPLES) or b""


def _update_text(graphs, add) -> str:
    """One SPARQL UPDATE request: drop and refill each replaced graph, add to the others."""
    parts = [f"DROP SILENT GRAPH <{g}>" for g, _ in graphs]
    body = [f"GRAPH <{g}> {{\n{_ntriples(ts).decode('utf-8')}}}" for g, ts in list(graphs) + list(add) if ts]
    if body:
        parts.append("INSERT DATA {\n" + "\n".join(body) + "\n}")
    return " ;\n".join(parts)


def _portable_bnodes(body: bytes) -> bytes:
    """Blank node labels as N-Triples allows them (Virtuoso answers ``nodeID://b10001``)."""
    import json

    data = json.loads(body)
    for row in data.get("results", {}).get("bindings", []):
        for term in row.values():
            if term.get("type") == "bnode":
                term["value"] = "b" + re.sub(r"[^A-Za-z0-9]", "_", term["value"])
    return json.dumps(data).encode("utf-8")


def _short(e, limit: int = 500) -> str:
    s = " ".join(str(e).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def open_remote(args, read_only: bool = False) -> RemoteStore:
    """A :class:`RemoteStore` from the ``--endpoint``/``--update-endpoint``/``--graph-store``/``--bulk-dir`` options."""
    return RemoteStore(
        args.endpoint,
        getattr(args, "update_endpoint", None),
        getattr(args, "graph_store", None),
        read_only=read_only,
        bulk_dir=getattr(args, "bulk_dir", None),
    )
