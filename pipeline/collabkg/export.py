"""Streaming, deterministic RDF dumps of the store (Turtle, N-Triples, N-Quads, TriG, JSON-LD).

How it stays deterministic with bounded memory:

1. **Scan**: every quad of the selected graphs becomes one record of canonical N-Triples terms
   (``s \\t p \\t o \\t g``; tab never occurs unescaped inside a term). Records are sorted in
   chunks of at most :data:`CHUNK_CHARS` characters, spilled to temporary files (an external
   merge sort), so memory does not grow with the store.
2. **Merge**: the sorted chunks are merged (``heapq.merge``) and duplicates dropped. Triple
   formats (Turtle, N-Triples) drop the graph, so a triple that is in several graphs is written
   once; N-Quads lines are in plain ``LC_ALL=C sort`` order; TriG and JSON-LD are ordered by graph,
   then subject, predicate, object.
3. **Write**: each writer consumes the sorted records. Turtle/TriG group by subject (``rdf:type``
   first) with a prefix block of exactly the namespaces used, in a fixed order.

Blank nodes: the mapper emits none, but the ontology has a few (``owl:unionOf`` lists). Their
store labels are random, so the quads that mention a blank node are held back during the scan
(they are few: memory is bounded by their number, not by the store) and relabelled with the
standard RDF canonicalisation RDFC-1.0 (``_:c14n0``, ``_:c14n1``, ...) before sorting.

Gzip output has a fixed header (no file name, mtime 0), so compressed dumps are byte-identical too.
"""
from __future__ import annotations

import gzip
import heapq
import io
import json
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pyoxigraph as ox

import collabkg.errors as errors
from collabkg.namespaces import (
    CKG, COUNTRY, DCAT, DCT, EU_AUTHORITY, EURIO, FABIO, FOAF, FRAPO, GEO, INSTANCE_SEGMENTS, ONTOLOGY_GRAPH, ORG, ORG_NS,
    OWL, PRISM, PRO, PROV, RDF, RDFS, SCHEMA, SKOS, VANN, VOID, XSD, IRIs,
)

CHUNK_CHARS = 48_000_000  # characters of records held before a sorted chunk is spilled to disk
SEEN_IRIS = 1_000_000  # IRIs remembered as checked / abbreviated (then forgotten: memory stays flat)
RDF_TYPE = f"<{RDF}type>"
GRAPH_SELECTIONS = ("all", "cordis", "openalex", "ontology")


# The store holds something that cannot be written as valid RDF (e.g. a broken IRI): exit 2.
ExportError = errors.ExportError


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    media_type: str  # IANA media type
    file_type: str  # EU Publications Office file-type authority code
    quads: bool  # keeps named graphs
    graph_first: bool  # records ordered by graph first (TriG, JSON-LD)
    w3c_format: str  # http://www.w3.org/ns/formats/...


FORMATS: dict[str, Format] = {
    "turtle": Format("turtle", ".ttl", "text/turtle", "RDF_TURTLE", False, False, "Turtle"),
    "ntriples": Format("ntriples", ".nt", "application/n-triples", "RDF_N_TRIPLES", False, False, "N-Triples"),
    "nquads": Format("nquads", ".nq", "application/n-quads", "RDF_N_QUADS", True, False, "N-Quads"),
    "trig": Format("trig", ".trig", "application/trig", "RDF_TRIG", True, True, "TriG"),
    "jsonld": Format("jsonld", ".jsonld", "application/ld+json", "JSON_LD", True, True, "JSON-LD"),
}

# Well-known namespaces, in the order of the prefix block (those used are written).
KNOWN_PREFIXES: list[tuple[str, str]] = [
    ("rdf", RDF), ("rdfs", RDFS), ("xsd", XSD), ("owl", OWL), ("skos", SKOS), ("dct", DCT),
    ("schema", SCHEMA), ("foaf", FOAF), ("org", ORG), ("prov", PROV),
    ("vann", VANN), ("eurio", EURIO), ("fabio", FABIO), ("frapo", FRAPO), ("geo", GEO), ("prism", PRISM),
    ("pro", PRO), ("dcat", DCAT), ("void", VOID),
    ("eucountry", EU_AUTHORITY + "country/"),
    ("ckg", CKG), ("ckgc", COUNTRY), ("ckgorg", ORG_NS),
]

# A local name written as a prefixed name only when it needs no escaping in Turtle and SPARQL.
_LOCAL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?")
# Characters that RFC 3987 / Turtle IRIREF never allow inside an IRI.
_BAD_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def prefix_table(base: str) -> list[tuple[str, str]]:
    """The prefixes (name, namespace) an export may use, in block order."""
    names = {p for p, _ in KNOWN_PREFIXES}
    table = list(KNOWN_PREFIXES)
    for seg in INSTANCE_SEGMENTS:
        table.append((seg if seg not in names else f"id-{seg}", f"{base}{seg}/"))
    return table


def graph_filter(which: str, base: str) -> Callable[[str | None], bool]:
    """Graph IRI (None = default graph) → selected? for ``--graph all|cordis|openalex|ontology``."""
    if which == "all":
        return lambda g: True
    if which == "ontology":
        prefix = ONTOLOGY_GRAPH
    elif which in ("cordis", "openalex"):
        prefix = f"{base}graph/{which}/"
    else:
        raise ValueError(f"unknown graph selection {which!r}; allowed: {', '.join(GRAPH_SELECTIONS)}")
    return lambda g: g is not None and g.startswith(prefix)


# --------------------------------------------------------------------------- scan and sort


@dataclass
class Scan:
    """What the scan saw: used namespaces (for the prefix block) and counts."""

    namespaces: set = field(default_factory=set)
    quads: int = 0


def _remember(memo: dict[str, str], key: str, value: str) -> str:
    """``memo[key] = value``, forgetting everything first once it holds SEEN_IRIS entries."""
    if len(memo) >= SEEN_IRIS:
        memo.clear()
    memo[key] = value
    return value


def _split_iri(iri: str) -> tuple[str, str]:
    cut = max(iri.rfind("/"), iri.rfind("#")) + 1
    return iri[:cut], iri[cut:]


class _Records:
    """Turns quads into sortable records and notes the namespaces that will be abbreviated."""

    def __init__(self, prefixes: dict[str, str], scan: Scan):
        self.prefixes = prefixes
        self.scan = scan
        self._seen: dict[str, str] = {}  # IRIs already checked (subjects, predicates, classes recur)
        self._datatypes: set[str] = set()

    def _iri(self, node: ox.NamedNode) -> str:
        v = node.value
        out = self._seen.get(v)
        if out is not None:
            return out
        if _BAD_IRI.search(v):
            raise ExportError(f"invalid IRI in the store: <{v}> (percent-encode it at import)")
        ns, local = _split_iri(v)
        if ns in self.prefixes and _LOCAL.fullmatch(local):
            self.scan.namespaces.add(ns)
        return _remember(self._seen, v, f"<{v}>")

    def term(self, t) -> str:
        if isinstance(t, ox.NamedNode):
            return self._iri(t)
        if isinstance(t, ox.Literal):
            dt = t.datatype.value
            if dt not in self._datatypes:
                self._datatypes.add(dt)
                ns, _ = _split_iri(dt)
                if ns in self.prefixes:  # abbreviated as ^^xsd:date etc.
                    self.scan.namespaces.add(ns)
            return str(t)
        return str(t)  # blank node (already canonical here)

    def record(self, q: ox.Quad) -> str:
        g = q.graph_name
        gs = "" if isinstance(g, ox.DefaultGraph) else self.term(g)
        return f"{self.term(q.subject)}\t{self._iri(q.predicate)}\t{self.term(q.object)}\t{gs}"


def _has_blank(q: ox.Quad) -> bool:
    return isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode) or isinstance(q.graph_name, ox.BlankNode)


def selected_quads(store, which: str = "all", base: str | None = None) -> Iterator[ox.Quad]:
    """Quads of the selected graphs, straight from the store (no order)."""
    base = IRIs(base).base
    keep = graph_filter(which, base)
    if which == "all":  # one pass over every quad (the order does not matter: records are sorted)
        yield from (q for q in store.quads() if not isinstance(q.graph_name, ox.BlankNode))
        return
    for g in store.graph_names():
        if keep(g):
            yield from store.quads(g)


def _canonical_blank_quads(quads: list[ox.Quad], keep_graphs: bool) -> Iterator[ox.Quad]:
    """Relabel blank nodes with RDFC-1.0 so that labels do not depend on the store.

    For triple formats the graph names are dropped first: the labels then depend only on the
    triples written, so a re-imported Turtle dump (default graph only) gets the same labels."""
    if not quads:
        return iter(())
    if not keep_graphs:
        quads = [ox.Quad(q.subject, q.predicate, q.object) for q in quads]
    ds = ox.Dataset(quads)
    ds.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return iter(list(ds))


class _Sorter:
    """External merge sort of text records (one per line), with duplicates dropped."""

    def __init__(self, key: Callable[[str], str], tmpdir: str | None = None, chunk_chars: int = CHUNK_CHARS):
        self.key = key
        self.chunk: list[str] = []
        self.size = 0
        self.files: list[str] = []
        self.chunk_chars = chunk_chars
        self._tmp = tempfile.TemporaryDirectory(prefix="collabkg-export-", dir=tmpdir)

    def add(self, rec: str) -> None:
        rec = self.key(rec)
        self.chunk.append(rec)
        self.size += len(rec) + 64
        if self.size >= self.chunk_chars:
            self._spill()

    def _spill(self) -> None:
        self.chunk.sort()
        path = os.path.join(self._tmp.name, f"chunk{len(self.files):05d}")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.writelines(r + "\n" for r in self.chunk)
        self.files.append(path)
        self.chunk = []
        self.size = 0

    def __iter__(self) -> Iterator[str]:
        try:
            if self.files:
                if self.chunk:
                    self._spill()
                handles = [open(p, encoding="utf-8", newline="\n") for p in self.files]
                try:
                    merged = heapq.merge(*(( line[:-1] for line in h) for h in handles))
                    yield from _unique(merged)
                finally:
                    for h in handles:
                        h.close()
            else:
                self.chunk.sort()
                yield from _unique(self.chunk)
                self.chunk = []
        finally:
            self._tmp.cleanup()


def _unique(it: Iterable[str]) -> Iterator[str]:
    last = None
    for x in it:
        if x != last:
            yield x
            last = x


def _key_for(fmt: Format) -> Callable[[str], str]:
    if not fmt.quads:  # drop the graph: the union of triples
        return lambda r: r[: r.rfind("\t")]
    if fmt.graph_first:  # g \t s \t p \t o
        def gfirst(r: str) -> str:
            i = r.rfind("\t")
            return r[i + 1:] + "\t" + r[:i]
        return gfirst
    return lambda r: r  # s p o g: the N-Quads line order


def sorted_records(store, fmt: Format, which: str, base: str, scan: Scan, tmpdir: str | None = None,
                   chunk_chars: int = CHUNK_CHARS) -> Iterator[str]:
    """Sorted, duplicate-free records of the selection, in the order ``fmt`` writes them."""
    prefixes = {ns: p for p, ns in prefix_table(base)}
    rec = _Records(prefixes, scan)
    sorter = _Sorter(_key_for(fmt), tmpdir, chunk_chars)
    held: list[ox.Quad] = []
    for q in selected_quads(store, which, base):
        scan.quads += 1
        if _has_blank(q):
            held.append(q)
        else:
            sorter.add(rec.record(q))
    for q in _canonical_blank_quads(held, fmt.quads):
        sorter.add(rec.record(q))
    return iter(sorter)


# --------------------------------------------------------------------------- writers


class _Abbrev:
    """Turtle/TriG term abbreviation against the prefixes actually used."""

    def __init__(self, used: list[tuple[str, str]]):
        self.ns = {ns: p for p, ns in used}
        self._done: dict[str, str] = {}

    def iri(self, term: str) -> str:
        out = self._done.get(term)
        if out is None:
            ns, local = _split_iri(term[1:-1])
            p = self.ns.get(ns)
            out = _remember(self._done, term, f"{p}:{local}" if p is not None and _LOCAL.fullmatch(local) else term)
        return out

    def term(self, term: str) -> str:
        c = term[0]
        if c == "<":
            return self.iri(term)
        if c == '"' and term.endswith(">"):
            i = term.rfind('"^^<')
            return term[: i + 3] + self.iri(term[i + 3:])
        return term


def _used_prefixes(base: str, scan: Scan) -> list[tuple[str, str]]:
    return [(p, ns) for p, ns in prefix_table(base) if ns in scan.namespaces]


def _subject_blocks(records: Iterator[str], fields: int = 3) -> Iterator[tuple[str, str, list[tuple[str, str]]]]:
    """Group sorted records into (graph, subject, [(p, o), ...]); records are s\\tp\\to or g\\ts\\tp\\to."""
    cur = None
    po: list[tuple[str, str]] = []
    for r in records:
        if fields == 4:
            g, s, p, o = r.split("\t", 3)
        else:
            s, p, o = r.split("\t", 2)
            g = None
        if (g, s) != cur:
            if cur is not None:
                yield cur[0], cur[1], po
            cur, po = (g, s), []
        po.append((p, o))
    if cur is not None:
        yield cur[0], cur[1], po


def _turtle_block(ab: _Abbrev, s: str, po: list[tuple[str, str]], indent: str = "") -> str:
    # rdf:type first, as "a"; then predicates in sorted order, objects of one predicate joined by ","
    po = sorted(po, key=lambda x: (x[0] != RDF_TYPE, x[0], x[1]))
    lines = [indent + ab.term(s)]
    i = 0
    while i < len(po):
        p = po[i][0]
        objs = []
        while i < len(po) and po[i][0] == p:
            objs.append(ab.term(po[i][1]))
            i += 1
        pred = "a" if p == RDF_TYPE else ab.iri(p)
        lines.append(f"{indent}    {pred} " + (" ,\n" + indent + "        ").join(objs) + " ;")
    lines[-1] = lines[-1][:-2] + " ."
    return "\n".join(lines) + "\n\n"


def write_turtle(out: io.TextIOBase, records: Iterator[str], used: list[tuple[str, str]]) -> int:
    ab = _Abbrev(used)
    out.writelines(f"@prefix {p}: <{ns}> .\n" for p, ns in used)
    out.write("\n")
    n = 0
    for _, s, po in _subject_blocks(records):
        out.write(_turtle_block(ab, s, po))
        n += len(po)
    return n


def write_trig(out: io.TextIOBase, records: Iterator[str], used: list[tuple[str, str]]) -> int:
    ab = _Abbrev(used)
    out.writelines(f"@prefix {p}: <{ns}> .\n" for p, ns in used)
    out.write("\n")
    n = 0
    graph = None
    for g, s, po in _subject_blocks(records, fields=4):
        if g != graph:
            if graph is not None:
                out.write("}\n\n")
            out.write(("{" if g == "" else f"{ab.iri(g) if g.startswith('<') else g} {{") + "\n\n")
            graph = g
        out.write(_turtle_block(ab, s, po, indent="    "))
        n += len(po)
    if graph is not None:
        out.write("}\n")
    return n


def write_lines(out: io.TextIOBase, records: Iterator[str]) -> int:
    """N-Triples / N-Quads: one canonical statement per line, in sorted order."""
    n = 0
    for r in records:
        out.write(r.rstrip("\t").replace("\t", " ") + " .\n")
        n += 1
    return n


_ESC = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))")
_ESC_CHARS = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unescape(s: str) -> str:
    def rep(m: re.Match) -> str:
        if m.group(1) or m.group(2):
            return chr(int(m.group(1) or m.group(2), 16))
        return _ESC_CHARS[m.group(3)]

    return _ESC.sub(rep, s) if "\\" in s else s


def _jsonld_object(o: str, ab: _Abbrev):
    if o[0] in "<_":
        return {"@id": _jsonld_id(o, ab)}
    end = o.rfind('"')
    value = _unescape(o[1:end])
    tail = o[end + 1:]
    if tail.startswith("@"):
        return {"@value": value, "@language": tail[1:]}
    if tail.startswith("^^"):
        return {"@value": value, "@type": _jsonld_id(tail[2:], ab)}
    return value


def _jsonld_id(t: str, ab: _Abbrev) -> str:
    if t[0] == "<":
        a = ab.iri(t)
        return a if a != t else t[1:-1]
    return t


def write_jsonld(out: io.TextIOBase, records: Iterator[str], used: list[tuple[str, str]]) -> int:
    """JSON-LD 1.1 with a prefix context; named graphs as ``{"@id": g, "@graph": [...]}``."""
    ab = _Abbrev(used)
    ctx = {p: ns for p, ns in used}
    out.write('{\n  "@context": ' + json.dumps(ctx, ensure_ascii=False, indent=None) + ',\n  "@graph": [')
    n = 0
    graph = None
    first_graph = True
    first_node = True
    for g, s, po in _subject_blocks(records, fields=4):
        if g != graph:
            if graph is not None:
                out.write("\n    ]}" if graph != "" else "")
            if g != "":
                out.write(("" if first_graph else ",") + "\n    {\"@id\": " + json.dumps(_jsonld_id(g, ab)) + ', "@graph": [')
                first_node = True
            first_graph = False
            graph = g
        node: dict = {"@id": _jsonld_id(s, ab)}
        types = [_jsonld_id(o, ab) for p, o in po if p == RDF_TYPE and o[0] in "<_"]
        if types:
            node["@type"] = types
        for p, o in po:
            if p == RDF_TYPE and o[0] in "<_":
                continue
            node.setdefault(_jsonld_id(p, ab), []).append(_jsonld_object(o, ab))
        sep = "" if first_node else ","
        indent = "\n      " if g != "" else "\n    "
        out.write(sep + indent + json.dumps(node, ensure_ascii=False))
        first_node = False
        n += len(po)
    if graph not in (None, ""):
        out.write("\n    ]}")
    out.write("\n  ]\n}\n")
    return n


# --------------------------------------------------------------------------- statistics


@dataclass
class Stats:
    """VoID figures of the union of triples, counted from a subject-sorted record stream."""

    triples: int = 0
    entities: int = 0  # distinct IRI subjects
    distinct_subjects: int = 0
    properties: Counter = field(default_factory=Counter)  # predicate IRI → triples
    classes: Counter = field(default_factory=Counter)  # class IRI → entities typed with it

    def observe(self, records: Iterator[str], with_graph: bool) -> Iterator[str]:
        """Pass ``records`` (s\tp\to[\tg], sorted by s, p, o) through while counting."""
        last_s = last_t = None
        for r in records:
            t = r[: r.rfind("\t")] if with_graph else r
            if t != last_t:  # the same triple in several graphs counts once
                last_t = t
                s, p, o = t.split("\t", 2)
                self.triples += 1
                self.properties[p[1:-1]] += 1
                if s != last_s:
                    last_s = s
                    self.distinct_subjects += 1
                    if s[0] == "<":
                        self.entities += 1
                if p == RDF_TYPE and o[0] == "<":
                    self.classes[o[1:-1]] += 1
            yield r


def void_statistics(store, which: str = "all", base: str | None = None, tmpdir: str | None = None) -> Stats:
    """Statistics of the selection's union of triples (one more sorted pass over the store)."""
    base = IRIs(base).base
    stats = Stats()
    for _ in stats.observe(sorted_records(store, FORMATS["ntriples"], which, base, Scan(), tmpdir), False):
        pass
    return stats


# --------------------------------------------------------------------------- entry point


@dataclass
class ExportResult:
    path: Path
    format: Format
    gzip: bool
    statements: int  # lines/statements written (triples, or quads for quad formats)
    quads_scanned: int
    prefixes: list[tuple[str, str]]
    stats: Stats | None  # None for graph-first formats (see void_statistics)


def open_output(path: Path, compress: bool):
    """A text stream to ``path``; gzip with a fixed header so the bytes are reproducible."""
    raw = open(path, "wb")
    if not compress:
        return io.TextIOWrapper(raw, encoding="utf-8", newline="\n", write_through=False), raw
    gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6)
    return io.TextIOWrapper(gz, encoding="utf-8", newline="\n"), raw


def export(store, out: str | os.PathLike, fmt: str = "turtle", *, which: str = "all", base: str | None = None,
           compress: bool = False, tmpdir: str | None = None, chunk_chars: int = CHUNK_CHARS) -> ExportResult:
    """Write the selected graphs of ``store`` to ``out`` in ``fmt``; return what was written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")
    f = FORMATS[fmt]
    base = IRIs(base).base
    out = Path(out)
    scan = Scan()
    # The scan runs to the end before anything is written (the sort needs all records),
    # so the prefix block knows every namespace the body uses.
    records = sorted_records(store, f, which, base, scan, tmpdir or str(out.parent), chunk_chars)
    stats = None
    body = records
    if not f.graph_first:  # subject-sorted: the VoID figures come for free
        stats = Stats()
        body = stats.observe(records, f.quads)
    used = _used_prefixes(base, scan)
    tmp_out = out.with_name(out.name + ".part")
    text, raw = open_output(tmp_out, compress)
    try:
        with text:
            if fmt == "turtle":
                n = write_turtle(text, body, used)
            elif fmt == "trig":
                n = write_trig(text, body, used)
            elif fmt == "jsonld":
                n = write_jsonld(text, body, used)
            else:
                n = write_lines(text, body)
        raw.close()
        os.replace(tmp_out, out)
    except BaseException:
        raw.close()
        tmp_out.unlink(missing_ok=True)
        raise
    return ExportResult(out, f, compress, n, scan.quads, used, stats)
