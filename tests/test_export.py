"""`collabkg export`: valid, deterministic dumps with a DCAT-AP 3 / VoID description.

Most tests use a small store built from real CORDIS XML files chosen because they hold hostile
values (double-escaped ``&amp;amp;``, U+00A0, U+2010, backslashes, quotes, newlines, the longest
objective); one test exports the full ``built_store``.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import subprocess
import zipfile
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from lxml import etree

from conftest import CORDIS_ZIP, ROOT, XML_SAMPLE, require_tool, run_cli

from collabkg import export as ex
from collabkg.dataset_description import description_path

HOSTILE = {  # kind → (raw bytes in the source XML, character(s) in the parsed text)
    # (a double-escaped "&amp;amp;" is decoded to "&" on import since issue 14: test_fidelity_graphs)
    "ampersand": (b"&amp;", "&"),
    "no-break space": ("\u00a0".encode(), "\u00a0"),
    "hyphen U+2010": ("\u2010".encode(), "\u2010"),
    "backslash": (b"\\", "\\"),
    "quote": (b'"', '"'),
    "newline": (b"\n", "\n"),
}
OX_FORMAT = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES, "nquads": ox.RdfFormat.N_QUADS,
             "trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD}
RDFLIB_FORMAT = {"turtle": "turtle", "ntriples": "nt", "nquads": "nquads", "trig": "trig", "jsonld": "json-ld"}
RAPPER_FORMAT = {"turtle": "turtle", "ntriples": "ntriples", "nquads": "nquads", "trig": "trig"}


def _hostile_files() -> dict[str, bytes]:
    """Real XML files: two per hostile kind (the raw bytes decide), plus the longest objective."""
    picked: dict[str, bytes] = {}
    longest = (0, None, None)
    with zipfile.ZipFile(CORDIS_ZIP) as z:
        names = sorted(n for n in z.namelist() if n.endswith(".xml"))
        counts = {k: 0 for k in HOSTILE}
        for n in names:
            data = z.read(n)
            obj = etree.fromstring(data).findtext("objective") or ""
            if len(obj) > longest[0]:
                longest = (len(obj), n, data)
            for kind, (raw, _) in HOSTILE.items():
                if kind in ("quote", "newline"):
                    raw = b"&quot;" if kind == "quote" else raw
                if raw in data and counts[kind] < 2:
                    counts[kind] += 1
                    picked[n] = data
    picked[longest[1]] = longest[2]
    return picked


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("hostile-xml")
    for name, data in _hostile_files().items():
        (d / name).write_bytes(data)
    for p in sorted(XML_SAMPLE.glob("*.xml"))[:4]:
        (d / p.name).write_bytes(p.read_bytes())
    return d


@pytest.fixture(scope="module")
def store(tmp_path_factory, hostile_dir):
    from collabkg.importing import build
    from collabkg.store import EmbeddedStore

    path = tmp_path_factory.mktemp("export-store") / "store"
    with EmbeddedStore(path) as s:
        summary = build(s, [hostile_dir], progress=False, err=io.StringIO())
        assert summary.accepted >= 10 and not summary.rejected
    s = EmbeddedStore(path, read_only=True)
    yield s
    s.close()


def _nquad_lines(quads) -> tuple[set[str], list]:
    """Statements without blank nodes as N-Quads lines; the blank-node statements apart."""
    lines, blank = set(), []
    for q in quads:
        if any(isinstance(t, ox.BlankNode) for t in (q.subject, q.object)):
            blank.append(q)
        else:
            g = "" if isinstance(q.graph_name, ox.DefaultGraph) else f" {q.graph_name}"
            lines.add(f"{q.subject} {q.predicate} {q.object}{g} .")
    return lines, blank


def _store_content(store, quads: bool, which="all"):
    qs = list(ex.selected_quads(store, which))
    if not quads:
        qs = [ox.Quad(q.subject, q.predicate, q.object) for q in qs]
    return _nquad_lines(qs)


def _parse_ox(path: Path, fmt: str, quads: bool):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        qs = list(ox.parse(f, format=OX_FORMAT[fmt]))
    if not quads:
        qs = [ox.Quad(q.subject, q.predicate, q.object) for q in qs]
    return _nquad_lines(qs)


def _rdflib_lines(path: Path, fmt: str) -> set[str]:
    """Parse with rdflib (an independent parser) and give the blank-node-free statements as N-Quads lines."""
    f = ex.FORMATS[fmt]
    if f.quads:
        ds = rdflib.Dataset()
        ds.parse(path, format=RDFLIB_FORMAT[fmt])
        quads = ds.quads((None, None, None, None))
    else:
        g = rdflib.Graph()
        g.parse(path, format=RDFLIB_FORMAT[fmt])
        quads = ((s, p, o, None) for s, p, o in g)
    out = set()
    for s, p, o, c in quads:
        if isinstance(s, rdflib.BNode) or isinstance(o, rdflib.BNode):
            continue
        gname = getattr(c, "identifier", c)
        g = "" if gname is None or gname == rdflib.graph.DATASET_DEFAULT_GRAPH_ID else f" <{gname}>"
        out.add(f"{s.n3()} {p.n3()} {_ox_literal(o)}{g} .")
    return out


def _ox_literal(o) -> str:
    """An rdflib term in the canonical N-Triples form pyoxigraph writes (so the sets compare)."""
    if isinstance(o, rdflib.URIRef):
        return f"<{o}>"
    lit = ox.Literal(str(o), language=o.language) if o.language else (
        ox.Literal(str(o), datatype=ox.NamedNode(str(o.datatype))) if o.datatype else ox.Literal(str(o)))
    return str(lit)


def _rapper(path: Path, fmt: str) -> None:
    rapper = require_tool("rapper", "raptor2-utils")
    r = subprocess.run([rapper, "-i", RAPPER_FORMAT[fmt], "-c", str(path)], capture_output=True, text=True)
    problems = [l for l in r.stderr.splitlines() if "error" in l.lower() or "warning" in l.lower()]
    assert r.returncode == 0 and not problems, r.stderr[-2000:]


@pytest.mark.parametrize("fmt", list(ex.FORMATS))
def test_every_format_parses_back_to_the_store_content(store, tmp_path, fmt):
    path = tmp_path / f"dump{ex.FORMATS[fmt].extension}"
    result = ex.export(store, path, fmt)
    quads = ex.FORMATS[fmt].quads
    want, want_blank = _store_content(store, quads)
    got, got_blank = _parse_ox(path, fmt, quads)
    assert got == want
    assert len(got_blank) == len(set(map(str, _canonical(want_blank)))) and want_blank
    assert _rdflib_lines(path, fmt) == want  # a second, independent parser
    if fmt in RAPPER_FORMAT:
        _rapper(path, fmt)
    assert result.statements == len(want) + len(got_blank)


def _canonical(quads):
    ds = ox.Dataset(quads)
    ds.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return list(ds)


def test_blank_node_statements_are_isomorphic(store, tmp_path):
    path = tmp_path / "dump.nq"
    ex.export(store, path, "nquads")
    _, got_blank = _parse_ox(path, "nquads", True)
    _, want_blank = _store_content(store, True)
    assert sorted(map(str, _canonical(got_blank))) == sorted(map(str, _canonical(want_blank)))


@pytest.mark.parametrize("fmt", list(ex.FORMATS))
def test_two_exports_are_byte_identical_and_survive_a_round_trip(store, tmp_path, fmt):
    ext = ex.FORMATS[fmt].extension
    a, b, c = (tmp_path / f"{n}{ext}" for n in "abc")
    ex.export(store, a, fmt)
    ex.export(store, b, fmt, chunk_chars=20_000)  # many spilled chunks: the merge path
    assert a.read_bytes() == b.read_bytes()
    from collabkg.store import EmbeddedStore

    with EmbeddedStore(tmp_path / "fresh") as fresh:
        fresh.raw.bulk_load(path=str(a), format=OX_FORMAT[fmt])
        ex.export(fresh, c, fmt)
    assert a.read_bytes() == c.read_bytes()


def test_gzip_is_reproducible_and_holds_the_plain_dump(store, tmp_path):
    ex.export(store, tmp_path / "a.ttl.gz", "turtle", compress=True)
    ex.export(store, tmp_path / "b.ttl.gz", "turtle", compress=True)
    ex.export(store, tmp_path / "c.ttl", "turtle")
    assert (tmp_path / "a.ttl.gz").read_bytes() == (tmp_path / "b.ttl.gz").read_bytes()
    assert gzip.decompress((tmp_path / "a.ttl.gz").read_bytes()) == (tmp_path / "c.ttl").read_bytes()


@pytest.mark.parametrize("fmt", ["ntriples", "nquads"])
def test_line_formats_are_sorted_and_unique(store, tmp_path, fmt):
    path = tmp_path / "dump"
    ex.export(store, path, fmt)
    lines = path.read_bytes().split(b"\n")[:-1]
    assert lines == sorted(set(lines))  # byte order, as `LC_ALL=C sort -u`


def test_turtle_prefix_block_is_exactly_the_namespaces_used(store, tmp_path):
    path = tmp_path / "dump.ttl"
    ex.export(store, path, "turtle")
    text = path.read_text(encoding="utf-8")
    head, body = text.split("\n\n", 1)
    declared = [l.split()[1][:-1] for l in head.splitlines()]
    assert declared and all(l.startswith("@prefix ") for l in head.splitlines())
    for p in declared:
        assert f"{p}:" in body, f"prefix {p} declared but not used"
    table = dict(ex.prefix_table(ex.IRIs().base))
    assert set(declared) <= set(table)
    # no IRI left in full whose namespace is declared and whose local name could be abbreviated
    import re

    ns = {table[p] for p in declared}
    for iri in re.findall(r"<([^>]+)>", body):
        n, local = ex._split_iri(iri)
        assert not (n in ns and ex._LOCAL.fullmatch(local)), iri


def test_hostile_values_from_real_data_survive(store, tmp_path, hostile_dir):
    path = tmp_path / "dump.ttl"
    ex.export(store, path, "turtle")
    g = rdflib.Graph()
    g.parse(path, format="turtle")
    exported = {str(o) for o in g.objects() if isinstance(o, rdflib.Literal)}
    # independent source: the element texts of the XML files, read with lxml
    source_texts: set[str] = set()
    for f in hostile_dir.glob("*.xml"):
        for el in etree.parse(str(f)).iter():
            if isinstance(el.tag, str) and el.text and el.text.strip():
                source_texts.add(el.text)
    for kind, (_, char) in HOSTILE.items():
        survivors = {t for t in source_texts if char in t} & exported
        assert survivors, f"no {kind} value from the source XML survived export"
    longest = max((t for t in source_texts if t in exported), key=len)
    assert len(longest) > 3000
    # and every store literal with such a character is in the dump unchanged
    for q in ex.selected_quads(store):
        if isinstance(q.object, ox.Literal) and any(c in q.object.value for _, c in HOSTILE.values()):
            assert q.object.value in exported


def test_graph_selection(store, tmp_path):
    base = ex.IRIs().base
    for which, prefix in (("cordis", f"{base}graph/cordis/"), ("ontology", "https://w3id.org/collabkg/graph/ontology/")):
        path = tmp_path / f"{which}.nq"
        ex.export(store, path, "nquads", which=which)
        got, _ = _parse_ox(path, "nquads", True)
        want = {f"{q.subject} {q.predicate} {q.object} {q.graph_name} ." for q in store.raw
                if q.graph_name.value.startswith(prefix) and not isinstance(q.subject, ox.BlankNode)
                and not isinstance(q.object, ox.BlankNode)}
        assert got == want and want


def test_broken_iri_is_refused_not_written(tmp_path):
    s = ox.Store()
    # pyoxigraph refuses such IRIs itself; a lenient loader could still let one in, so simulate it
    rec = ex._Records({}, ex.Scan())
    with pytest.raises(ex.ExportError):
        rec._iri(type("N", (), {"value": "https://x.org/a b"})())
    assert len(s) == 0


# --------------------------------------------------------------------------- the command + description


def _description(path: Path) -> rdflib.Graph:
    g = rdflib.Graph()
    g.parse(description_path(path), format="turtle")
    return g


def test_cli_export_writes_dump_and_conforming_description(store, tmp_path):
    import pyshacl

    store_path = store.location
    out = tmp_path / "collabkg.ttl.gz"
    r = run_cli("export", "--store", store_path, "--out", str(out), "--gzip",
                "--sparql-endpoint", "https://example.org/sparql", "--download-base", "https://example.org/dumps/")
    assert r.returncode == 0, r.stderr
    desc = description_path(out)
    assert desc.exists()
    _rapper(desc, "turtle")
    g = _description(out)
    shapes = rdflib.Graph().parse(ROOT / "shapes" / "dcat-ap.ttl", format="turtle")
    conforms, _, text = pyshacl.validate(g, shacl_graph=shapes)
    assert conforms, text

    DCAT, VOID, SPDX, DCT = (rdflib.Namespace(n) for n in
                            ("http://www.w3.org/ns/dcat#", "http://rdfs.org/ns/void#", "http://spdx.org/rdf/terms#", "http://purl.org/dc/terms/"))
    dist = g.value(predicate=rdflib.RDF.type, object=DCAT.Distribution)
    data = out.read_bytes()
    assert int(g.value(dist, DCAT.byteSize)) == len(data)
    assert str(g.value(g.value(dist, SPDX.checksum), SPDX.checksumValue)) == hashlib.sha256(data).hexdigest()
    assert str(g.value(dist, DCAT.downloadURL)) == "https://example.org/dumps/collabkg.ttl.gz"
    assert str(g.value(dist, DCT["format"])).endswith("/file-type/RDF_TURTLE")
    assert str(g.value(dist, DCAT.mediaType)) == "https://www.iana.org/assignments/media-types/text/turtle"
    ds = g.value(predicate=DCAT.distribution, object=dist)
    assert str(g.value(ds, VOID.sparqlEndpoint)) == "https://example.org/sparql"
    assert "CORDIS" in str(g.value(g.value(ds, DCT.rights), rdflib.RDFS.label))

    # the VoID figures against counts from an independent parse of the dump
    dump = rdflib.Graph().parse(data=gzip.decompress(data).decode("utf-8"), format="turtle")
    assert int(g.value(ds, VOID.triples)) == len(dump)
    assert int(g.value(ds, VOID.entities)) == len({s for s in dump.subjects() if isinstance(s, rdflib.URIRef)})
    for part in g.objects(ds, VOID.classPartition):
        cls = g.value(part, VOID["class"])
        assert int(g.value(part, VOID.entities)) == len(set(dump.subjects(rdflib.RDF.type, cls)))
    for part in g.objects(ds, VOID.propertyPartition):
        prop = g.value(part, VOID.property)
        assert int(g.value(part, VOID.triples)) == len(list(dump.triples((None, prop, None))))
    modified = str(g.value(ds, DCT.modified))
    newest = max(str(o)[:10] for o in dump.objects(None, rdflib.URIRef("https://w3id.org/collabkg/ontology#lastUpdateDate")))
    assert modified == newest


def test_description_is_reproducible_and_shapes_catch_a_missing_title(store, tmp_path):
    import pyshacl

    for name in ("a", "b"):
        d = tmp_path / name
        d.mkdir()
        assert run_cli("export", "--store", store.location, "--out", str(d / "dump.nq"), "--format", "nquads").returncode == 0
    a, b = (description_path(tmp_path / n / "dump.nq") for n in "ab")
    assert a.read_bytes() == b.read_bytes()
    g = _description(tmp_path / "a" / "dump.nq")
    ds = g.value(predicate=rdflib.RDF.type, object=rdflib.URIRef("http://rdfs.org/ns/void#Dataset"))
    g.remove((ds, rdflib.URIRef("http://purl.org/dc/terms/title"), None))
    shapes = rdflib.Graph().parse(ROOT / "shapes" / "dcat-ap.ttl", format="turtle")
    conforms, _, text = pyshacl.validate(g, shacl_graph=shapes)
    assert not conforms and "title" in text


def test_cli_creates_the_out_folder_and_usage_errors_exit_2(store, tmp_path):
    """`export --out dump/x.ttl` creates dump/ (as docs and report do; issue 18 item 7)."""
    r = run_cli("export", "--store", store.location, "--out", "dump/x.ttl", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "dump" / "x.ttl").is_file() and (tmp_path / "dump" / "x.ttl.dcat.ttl").is_file()
    (tmp_path / "file").write_text("")
    r = run_cli("export", "--store", store.location, "--out", str(tmp_path / "file" / "x.ttl"))
    assert r.returncode == 2 and "is not a folder" in r.stderr and r.stderr.count("\n") == 1
    r = run_cli("export", "--store", store.location, "--out", str(tmp_path / "x.ttl"), "--sparql-endpoint", "not an iri")
    assert r.returncode == 2 and "--sparql-endpoint" in r.stderr


@pytest.mark.slow
def test_full_store_ntriples_export(built_store, tmp_path):
    path = tmp_path / "all.nt"
    ex.export(built_store, path, "ntriples")
    _rapper(path, "ntriples")
    got, got_blank = _parse_ox(path, "ntriples", False)
    want, _ = _store_content(built_store, False)
    assert got == want and got_blank
