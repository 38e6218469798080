"""Dereferencing the graph's own IRIs: ``/<path>`` is ``https://w3id.org/collabkg/<path>``.

One resource is its outgoing triples (and, on the HTML page, up to ``INCOMING`` incoming
links). Formats by content negotiation: Turtle, N-Triples, JSON-LD, or an HTML page whose
IRI values link to their own pages.
"""
from __future__ import annotations

from html import escape
from urllib.parse import quote

import pyoxigraph as ox

from collabkg.namespaces import PREFIXES, RDF, W3ID as ROOT

INCOMING = 200
MAX_TRIPLES = 20_000  # one resource page; the graph has no resource near this size


def describe(store, iri: str) -> list[ox.Triple]:
    """The outgoing triples of ``iri``; for a named graph's IRI with none, the graph's content."""
    node = ox.NamedNode(iri)
    rows = store.query(f"SELECT DISTINCT ?p ?o WHERE {{ {node} ?p ?o }} LIMIT {MAX_TRIPLES}")
    triples = [ox.Triple(node, r["p"], r["o"]) for r in rows]
    if not triples:
        rows = store.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH {node} {{ ?s ?p ?o }} }} LIMIT {MAX_TRIPLES}")
        triples = [ox.Triple(r["s"], r["p"], r["o"]) for r in rows]
    return triples


def incoming(store, iri: str) -> list[tuple]:
    node = ox.NamedNode(iri)
    rows = store.query(f"SELECT DISTINCT ?s ?p WHERE {{ ?s ?p {node} }} ORDER BY ?p ?s LIMIT {INCOMING}")
    return [(r["s"], r["p"]) for r in rows]


def local_link(iri: str) -> str:
    """The address on this server of an IRI (own IRIs by path; others through /resource)."""
    if iri.startswith(ROOT):
        return "/" + iri[len(ROOT):]
    return "/resource?iri=" + quote(iri, safe="")


def _curie(iri: str) -> str:
    for prefix, ns in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def _term_html(t) -> str:
    if isinstance(t, ox.NamedNode):
        return f'<a href="{escape(local_link(t.value))}">{escape(_curie(t.value))}</a>'
    if isinstance(t, ox.BlankNode):
        return f"<span class=bnode>_:{escape(t.value)}</span>"
    extra = f' <span class=dt>@{escape(t.language)}</span>' if t.language else (
        "" if t.datatype.value.endswith("#string") else f' <span class=dt>^^{escape(_curie(t.datatype.value))}</span>'
    )
    return f"{escape(t.value)}{extra}"


def html_page(iri: str, triples: list[ox.Triple], inc: list[tuple]) -> str:
    label = next((t.object.value for t in triples if t.predicate.value.endswith(("#label", "/name", "#legalName", "/title"))
                  and isinstance(t.object, ox.Literal)), _curie(iri))
    rows = "\n".join(
        f"<tr><td>{_term_html(t.predicate)}</td><td>{_term_html(t.object)}</td></tr>"
        for t in sorted(triples, key=lambda t: (t.predicate.value != RDF + "type", t.predicate.value, str(t.object)))
    )
    back = "\n".join(f"<tr><td>{_term_html(s)}</td><td>{_term_html(p)}</td></tr>" for s, p in inc)
    me = escape(local_link(iri))
    alt = " ".join(f'<a href="{me}{"&" if "?" in me else "?"}format={f}">{f}</a>' for f in ("ttl", "nt", "jsonld"))
    return f"""<!doctype html>
<html lang=en><head><meta charset=utf-8><title>{escape(label)} · collabkg</title>
<link rel=stylesheet href="/static/style.css"></head>
<body><header><a href="/">collabkg</a> · <a href="/queries">stored queries</a></header>
<h1>{escape(label)}</h1>
<p class=iri><code>{escape(iri)}</code> · also as {alt}</p>
<table class=props><thead><tr><th>property</th><th>value</th></tr></thead><tbody>
{rows}
</tbody></table>
<h2>Pointed to by</h2>
<table class=props><thead><tr><th>resource</th><th>property</th></tr></thead><tbody>
{back or '<tr><td colspan=2>nothing</td></tr>'}
</tbody></table>
</body></html>
"""
