"""The shapes: the record shapes of ``shapes/`` (by glob, so a new file is used without a code
change), shapes files a user names, property paths between RDF and SPARQL syntax, and the ontology's
labels the reports use."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from collabkg.namespaces import CKG, COUNTRY, ONTOLOGY_GRAPH, RDF, RDFS, SH
from collabkg.resources import ontology_dir, shapes_dir

# Files of shapes/ that check the export's dataset description, not records.
EXPORT_SHAPES = ("dcat-ap.ttl",)
RDF_FORMATS = {  # file suffix -> (rdflib format, pyoxigraph format)
    ".ttl": ("turtle", ox.RdfFormat.TURTLE), ".nt": ("nt", ox.RdfFormat.N_TRIPLES), ".n3": ("n3", ox.RdfFormat.N3),
    ".trig": ("trig", ox.RdfFormat.TRIG), ".nq": ("nquads", ox.RdfFormat.N_QUADS), ".jsonld": ("json-ld", ox.RdfFormat.JSON_LD),
    ".json": ("json-ld", ox.RdfFormat.JSON_LD), ".rdf": ("xml", ox.RdfFormat.RDF_XML), ".owl": ("xml", ox.RdfFormat.RDF_XML),
}


def shape_files() -> list[Path]:
    """The record shapes: every ``shapes/*.ttl`` but the export's."""
    return [p for p in sorted(shapes_dir().glob("*.ttl")) if p.name not in EXPORT_SHAPES]


@lru_cache(maxsize=1)
def shapes_graph():
    """The record shapes as an rdflib graph."""
    return load_shapes(shape_files())


def load_shapes(paths):
    """Shapes files (any RDF syntax rdflib reads) as one rdflib graph; ValueError names a bad file."""
    import rdflib

    g = rdflib.Graph()
    # Literals as written: "1"^^xsd:boolean is not "true" (W3C core/property/uniqueLang-002).
    normalize, rdflib.NORMALIZE_LITERALS = rdflib.NORMALIZE_LITERALS, False
    try:
        _parse_all(g, paths)
    finally:
        rdflib.NORMALIZE_LITERALS = normalize
    return g


def _parse_all(g, paths) -> None:
    for p in paths:
        p = Path(p)
        fmt = RDF_FORMATS.get(p.suffix.lower(), ("turtle", None))[0]
        try:
            g.parse(p, format=fmt)
        except OSError as e:
            raise ValueError(f"{p}: cannot read shapes: {e.strerror or e}") from None
        except Exception as e:  # rdflib raises many parser-specific types
            raise ValueError(f"{p}: not valid {fmt}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None


@lru_cache(maxsize=1)
def shape_messages() -> dict[str, str]:
    """sh:message templates by shape (property shapes) and by SPARQL-constraint owner shape."""
    import rdflib

    g = shapes_graph()
    sh = rdflib.Namespace(SH)
    out = {}
    for s, m in g.subject_objects(sh.message):
        out[nt(s)] = str(m)
        for owner in g.subjects(sh.sparql, s):
            out[nt(owner)] = str(m)
    return out


@lru_cache(maxsize=1)
def shape_names() -> dict[str, str]:
    """The ``sh:name`` of each shape (what a report calls the field a shape checks)."""
    import rdflib

    return {nt(s): str(n) for s, n in shapes_graph().subject_objects(rdflib.URIRef(SH + "name"))}


@lru_cache(maxsize=1)
def ontology_quads() -> tuple[ox.Quad, ...]:
    """The ontology and reference data (countries), as the store holds them."""
    quads = []
    for ttl in sorted(ontology_dir().glob("*.ttl")):
        g = ox.NamedNode(ONTOLOGY_GRAPH + ttl.stem)
        quads.extend(ox.Quad(q.subject, q.predicate, q.object, g) for q in ox.parse(path=str(ttl), format=ox.RdfFormat.TURTLE))
    return tuple(quads)


@lru_cache(maxsize=1)
def reference_triples() -> tuple[ox.Triple, ...]:
    """The part of the reference data the shapes read: each country's type and ISO code."""
    keep = {RDF + "type", CKG + "iso2"}
    return tuple(
        ox.Triple(q.subject, q.predicate, q.object)
        for q in ontology_quads()
        if q.subject.value.startswith(COUNTRY) and q.predicate.value in keep
    )


@lru_cache(maxsize=1)
def property_labels() -> dict[str, str]:
    labels = {}
    label = RDFS + "label"
    for q in ontology_quads():
        if q.predicate.value == label and isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(CKG):
            if getattr(q.object, "language", None) in (None, "en"):
                labels[q.subject.value] = q.object.value
    labels.setdefault(RDFS + "label", "label")
    return labels


def nt(term) -> str:
    """An rdflib or pyoxigraph term in N-Triples syntax."""
    import rdflib

    if isinstance(term, rdflib.URIRef):
        return f"<{term}>"
    if isinstance(term, rdflib.BNode):
        return f"_:{term}"
    if isinstance(term, rdflib.Literal):
        return str(to_ox(term))
    return str(term)


def to_ox(term):
    """An rdflib term as a pyoxigraph term."""
    import rdflib

    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(re.sub(r"[^A-Za-z0-9]", "x", str(term)))
    if term.language:
        return ox.Literal(str(term), language=term.language)
    if term.datatype:
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    return ox.Literal(str(term))


# --- property paths ------------------------------------------------------------------------------


class PathError(ValueError):
    pass


def path_text(g, node) -> str:
    """A SHACL property path (a node of the shapes graph ``g``) in SPARQL property path syntax."""
    import rdflib
    from rdflib.collection import Collection

    sh = rdflib.Namespace(SH)

    def wrap(t: str) -> str:
        return t if re.fullmatch(r"<[^>]*>", t) else f"({t})"

    if isinstance(node, rdflib.URIRef):
        return f"<{node}>"
    if isinstance(node, rdflib.Literal):
        raise PathError(f"a literal {node!r} is not a path")
    if (node, rdflib.RDF.first, None) in g:
        items = list(Collection(g, node))
        if len(items) < 2:
            raise PathError("a sequence path needs two members or more")
        return "/".join(wrap(path_text(g, i)) for i in items)
    preds = {p for p in g.predicates(node, None)}
    for key, fmt in ((sh.inversePath, "^{}"), (sh.zeroOrMorePath, "{}*"), (sh.oneOrMorePath, "{}+"), (sh.zeroOrOnePath, "{}?")):
        if key in preds:
            return fmt.format(wrap(path_text(g, g.value(node, key))))
    if sh.alternativePath in preds:
        items = list(Collection(g, g.value(node, sh.alternativePath)))
        if len(items) < 2:
            raise PathError("an alternative path needs two members or more")
        return "|".join(wrap(path_text(g, i)) for i in items)
    raise PathError(f"{nt(node)} is not a SHACL property path")


def path_rdf(text: str, g):
    """The SHACL path node for a SPARQL path text (written into ``g`` when it is not an IRI)."""
    import rdflib
    from rdflib.collection import Collection

    sh = rdflib.Namespace(SH)
    tokens = re.findall(r"<[^>]*>|[\^/|()*+?]", text)
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take():
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def alt():
        items = [seq()]
        while peek() == "|":
            take()
            items.append(seq())
        return items[0] if len(items) == 1 else _node(sh.alternativePath, _list(items))

    def seq():
        items = [unary()]
        while peek() == "/":
            take()
            items.append(unary())
        return items[0] if len(items) == 1 else _list(items)

    def unary():
        if peek() == "^":
            take()
            return _node(sh.inversePath, unary())
        t = take()
        x = alt() if t == "(" else rdflib.URIRef(t[1:-1])
        if t == "(":
            take()  # ")"
        mod = peek()
        if mod in ("*", "+", "?"):
            take()
            x = _node({"*": sh.zeroOrMorePath, "+": sh.oneOrMorePath, "?": sh.zeroOrOnePath}[mod], x)
        return x

    def _node(p, o):
        b = rdflib.BNode()
        g.add((b, p, o))
        return b

    def _list(items):
        b = rdflib.BNode()
        Collection(g, b, items)
        return b

    return alt()
