"""``collabkg docs --out DIR``: the ontology's HTML documentation and the ontology in Turtle,
N-Triples and JSON-LD, ready for publication (e.g. behind the w3id.org namespace).

The HTML comes from pyLODE when it is installed and works; otherwise (pyLODE 3.4 fails on a
missing ``pyproject.toml`` when installed from a wheel) from the small generator below, which
needs nothing online: one self-contained page with inline CSS, a section per class and property
(label, IRI, comment, super-classes/-properties, domain, range, alignments).
The serialisations use the deterministic export writers, so they are byte-reproducible.
"""
from __future__ import annotations

import html
import sys
from pathlib import Path

from collabkg.namespaces import VANN

ALIGNMENTS = ("subClassOf", "subPropertyOf", "equivalentClass", "equivalentProperty", "inverseOf",
              "exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch", "seeAlso")


def register(sub) -> None:
    p = sub.add_parser("docs", help="write the ontology's HTML documentation and Turtle/N-Triples/JSON-LD serialisations")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write (created if missing)")
    p.add_argument("--ontology", metavar="FILE", help="ontology file (default: the bundled ontology/collabkg.ttl)")
    p.add_argument("--engine", choices=("auto", "pylode", "builtin"), default="auto",
                   help="HTML generator: pyLODE if it works (auto), or the built-in one")
    p.set_defaults(func=cmd_docs)


def cmd_docs(args) -> int:
    from collabkg.errors import EXIT_OK, UsageError
    from collabkg.resources import ontology_dir

    src = Path(args.ontology) if args.ontology else ontology_dir() / "collabkg.ttl"
    if not src.is_file():
        raise UsageError(f"{src}: no such ontology file")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        written = write_serialisations(src, out)
    except SyntaxError as e:
        raise UsageError(f"{src}: not valid Turtle: {e}") from None
    page = None
    if args.engine in ("auto", "pylode"):
        page = _pylode_html(src)
        if page is None and args.engine == "pylode":
            raise UsageError("pyLODE is not installed or fails here; use --engine builtin")
    engine = "pyLODE" if page is not None else "built-in generator"
    if page is None:
        page = ontology_html(src)
    (out / "index.html").write_text(page, encoding="utf-8", newline="\n")
    for p in [out / "index.html", *written]:
        print(p)
    print(f"HTML by the {engine}", file=sys.stderr)
    return EXIT_OK


def write_serialisations(src: Path, out: Path) -> list[Path]:
    """The ontology as collabkg.ttl / .nt / .jsonld through the deterministic writers."""
    import pyoxigraph as ox

    import collabkg.export as ex
    from collabkg.store import MemoryStore

    store = MemoryStore()
    store.raw.load(path=str(src), format=ox.RdfFormat.TURTLE)  # default graph: no named-graph wrapper in JSON-LD
    paths = []
    for fmt in ("turtle", "ntriples", "jsonld"):
        p = out / f"{src.stem}{ex.FORMATS[fmt].extension}"
        ex.export(store, p, fmt)
        paths.append(p)
    return paths


def _pylode_html(src: Path) -> str | None:
    try:
        from pylode import OntDoc  # type: ignore
    except Exception:
        return None
    try:
        return OntDoc(ontology=str(src)).make_html()
    except Exception:  # pyLODE fails on some installs (e.g. 3.4.1 from a wheel): fall back
        return None


# --------------------------------------------------------------------------- built-in HTML


def ontology_html(src: Path) -> str:
    import rdflib
    from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

    g = rdflib.Graph().parse(src, format="turtle")
    onto = next(iter(g.subjects(RDF.type, OWL.Ontology)), None)
    nm = g.namespace_manager

    def q(term) -> str:
        if isinstance(term, rdflib.BNode):  # owl:unionOf lists
            members = g.value(term, OWL.unionOf)
            if members is not None:
                return " or ".join(q(m) for m in rdflib.collection.Collection(g, members))
            return "(anonymous)"
        if isinstance(term, rdflib.Literal):
            return html.escape(str(term))
        try:
            name = nm.normalizeUri(term)
        except Exception:
            name = str(term)
        local = _local(term)
        if (term, None, None) in g and str(term).startswith(str(onto or "")) and local:
            return f'<a href="#{html.escape(local)}"><code>{html.escape(name)}</code></a>'
        return f'<a href="{html.escape(str(term))}"><code>{html.escape(name)}</code></a>'

    def text(s, p) -> str:
        vals = sorted(g.objects(s, p), key=lambda o: (getattr(o, "language", "") != "en", str(o)))
        return html.escape(str(vals[0])) if vals else ""

    def kinds(*types):
        items = set()
        for t in types:
            items.update(s for s in g.subjects(RDF.type, t) if isinstance(s, rdflib.URIRef))
        return sorted(items, key=lambda s: (text(s, RDFS.label) or _local(s)).lower())

    sections = [("Classes", kinds(OWL.Class, RDFS.Class)),
                ("Object properties", kinds(OWL.ObjectProperty)),
                ("Datatype properties", kinds(OWL.DatatypeProperty)),
                ("Annotation properties", kinds(OWL.AnnotationProperty)),
                ("Named individuals", kinds(OWL.NamedIndividual))]
    title = (text(onto, DCTERMS.title) or text(onto, RDFS.label) or "collabkg ontology") if onto else "Ontology"
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"]
    parts.append(f"<h1>{title}</h1>\n<dl class=\"meta\">\n")
    if onto is not None:
        parts.append(f"<dt>IRI</dt><dd><code>{html.escape(str(onto))}</code></dd>\n")
        for label, p in (("Version", OWL.versionInfo), ("Licence", DCTERMS.license), ("Creator", DCTERMS.creator),
                         ("Preferred prefix", rdflib.URIRef(VANN + "preferredNamespacePrefix")),
                         ("Namespace", rdflib.URIRef(VANN + "preferredNamespaceUri"))):
            for o in sorted(g.objects(onto, p)):
                parts.append(f"<dt>{label}</dt><dd>{q(o)}</dd>\n")
    parts.append("<dt>Serialisations</dt><dd>" + " · ".join(
        f'<a href="{src.stem}{ext}">{name}</a>' for name, ext in (("Turtle", ".ttl"), ("N-Triples", ".nt"), ("JSON-LD", ".jsonld"))) + "</dd>\n</dl>\n")
    if onto is not None and text(onto, DCTERMS.description):
        parts.append(f"<p>{text(onto, DCTERMS.description)}</p>\n")
    parts.append("<nav><h2>Contents</h2>\n")
    for name, items in sections:
        if items:
            parts.append(f"<h3>{name}</h3><p>" + " · ".join(
                f'<a href="#{html.escape(_local(s))}">{text(s, RDFS.label) or html.escape(_local(s))}</a>' for s in items) + "</p>\n")
    parts.append("</nav>\n")
    for name, items in sections:
        if not items:
            continue
        parts.append(f"<h2>{name}</h2>\n")
        for s in items:
            parts.append(f'<section id="{html.escape(_local(s))}">\n<h3>{text(s, RDFS.label) or html.escape(_local(s))}</h3>\n<table>\n')
            parts.append(f"<tr><th>IRI</th><td><code>{html.escape(str(s))}</code></td></tr>\n")
            if text(s, RDFS.comment):
                parts.append(f"<tr><th>Description</th><td>{text(s, RDFS.comment)}</td></tr>\n")
            for label, p in (("Domain", RDFS.domain), ("Range", RDFS.range)):
                vals = list(g.objects(s, p))
                if vals:
                    parts.append(f"<tr><th>{label}</th><td>{', '.join(sorted(q(v) for v in vals))}</td></tr>\n")
            if name == "Classes":
                used = sorted(q(p) for p in g.subjects(RDFS.domain, s))
                if used:
                    parts.append(f"<tr><th>Properties</th><td>{', '.join(used)}</td></tr>\n")
                subs = sorted(q(c) for c in g.subjects(RDFS.subClassOf, s) if isinstance(c, rdflib.URIRef))
                if subs:
                    parts.append(f"<tr><th>Sub-classes</th><td>{', '.join(subs)}</td></tr>\n")
            for a in ALIGNMENTS:
                ns = RDFS if a in ("subClassOf", "subPropertyOf", "seeAlso") else (SKOS if a.endswith("Match") else OWL)
                vals = list(g.objects(s, ns[a]))
                if vals:
                    parts.append(f"<tr><th>{a}</th><td>{', '.join(sorted(q(v) for v in vals))}</td></tr>\n")
            parts.append("</table>\n</section>\n")
    parts.append("</body>\n</html>\n")
    return "".join(parts)


def _local(term) -> str:
    s = str(term)
    return s[max(s.rfind("#"), s.rfind("/")) + 1:]


CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#222}
h1{border-bottom:2px solid #1a5276}h2{margin-top:2.5rem;border-bottom:1px solid #ccc;color:#1a5276}
section{margin:1.2rem 0;padding:.6rem 1rem;border-left:4px solid #aed6f1;background:#f8fbfd}
table{border-collapse:collapse}th{text-align:left;vertical-align:top;padding:.15rem 1rem .15rem 0;white-space:nowrap;color:#555}
td{padding:.15rem 0}code{font-size:.9em}dl.meta dt{font-weight:bold;float:left;clear:left;width:10rem}dl.meta dd{margin-left:10.5rem}
nav p{margin:.3rem 0 1rem}a{color:#1a5276}
"""
