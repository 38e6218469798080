"""Hostile and malformed input, fuzzed from real records, for every source (CORDIS XML, OpenAlex
JSON, Turtle/JSON-LD records).

For every input: the source yields records or RecordErrors and never raises (no traceback), an
error names what is wrong, what the parser refuses (DOCTYPE/entities, remote JSON-LD contexts) never
reaches a record, content-preserving re-encodings give the same record as the original (no valid
record lost), and through the CLI: exit code 1 with ``file:record:field: message`` lines, the other
records imported, and the store unchanged by what was rejected.

The tallies (inputs tried / rejected per class) are written to ``$COLLABKG_FUZZ_TALLY`` when set
(RELIABILITY.md quotes them).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CORDIS_ZIP, OPENALEX_DIR, XML_SAMPLE
from collabkg import sources
from collabkg.mapping import map_record
from collabkg.namespaces import IRIs
from collabkg.records import RecordError, SourceRecord
from collabkg.sources.cordis_xml import parse_file

FUZZ = settings(max_examples=int(os.environ.get("COLLABKG_FUZZ_EXAMPLES", "60")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
EXE = str(Path(sys.executable).parent / "collabkg")
PASSWD_MARK = "root:x:0:0"  # a line of /etc/passwd: must never reach a record
TALLY: Counter = Counter()

XML_FILES = sorted(XML_SAMPLE.glob("*.xml"))
XML_DATA = [p.read_bytes() for p in XML_FILES]
WORKS = [w for p in sorted(OPENALEX_DIR.glob("*.json")) for w in json.loads(p.read_text(encoding="utf-8"))["works"]][:40]


@pytest.fixture(scope="module", autouse=True)
def tally():
    yield
    if out := os.environ.get("COLLABKG_FUZZ_TALLY"):
        old = json.loads(Path(out).read_text()) if Path(out).exists() else {}
        for k, v in TALLY.items():
            old[k] = old.get(k, 0) + v
        Path(out).write_text(json.dumps(old, indent=1, sort_keys=True))


def count(kind: str, result) -> None:
    TALLY[f"{kind} tried"] += 1
    if isinstance(result, RecordError) or (isinstance(result, list) and any(isinstance(r, RecordError) for r in result)):
        TALLY[f"{kind} rejected"] += 1


def check_outcome(items) -> None:
    """Records or RecordErrors only; errors say where and what; records map (or fail as the
    importer reports: ValueError/TypeError); nothing from /etc/passwd got in."""
    iris = IRIs()
    for it in items:
        assert isinstance(it, (SourceRecord, RecordError)), type(it)
        assert PASSWD_MARK not in repr(it)
        if isinstance(it, RecordError):
            assert it.file and it.record and it.field and it.message.strip()
            assert "Traceback" not in it.message
        else:
            try:
                map_record(it, iris)
            except (ValueError, TypeError):
                pass


# ------------------------------------------------------------------------------- CORDIS XML

DOCTYPES = [
    b'<!DOCTYPE project [<!ENTITY x SYSTEM "file:///etc/passwd">]>',  # XXE
    b'<!DOCTYPE project [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY x "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>',  # billion laughs
    b'<!DOCTYPE project [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',  # parameter entity
    b'<!DOCTYPE project SYSTEM "file:///etc/passwd">',  # external DTD
]
TYPED_ELEMENTS = [b"totalCost", b"ecMaxContribution", b"startDate", b"endDate", b"duration", b"id", b"status", b"contentUpdateDate"]


def _body(data: bytes) -> bytes:
    return data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data


@st.composite
def hostile_xml(draw):
    i = draw(st.integers(0, len(XML_DATA) - 1))
    data = XML_DATA[i]
    kind = draw(st.sampled_from(["truncate", "utf16", "bom", "latin1-undeclared", "control", "entity", "deep",
                                 "huge", "wrong-type", "bytes"]))
    pos = draw(st.integers(0, len(data)))
    if kind == "truncate":
        return kind, i, data[:pos]
    if kind == "utf16":  # declared and encoded as UTF-16: the same record
        return kind, i, ('<?xml version="1.0" encoding="UTF-16"?>' + _body(data).decode("utf-8")).encode("utf-16")
    if kind == "bom":  # UTF-8 with a byte order mark: the same record
        return kind, i, b"\xef\xbb\xbf" + data
    if kind == "latin1-undeclared":  # Latin-1 bytes under a UTF-8 declaration
        return kind, i, data.decode("utf-8").encode("latin-1", "replace")
    if kind == "control":
        c = draw(st.sampled_from([b"\x00", b"\x01", b"\x08", b"\x0b", b"\x1b", b"\x7f", b"&#1;", b"\xff\xfe"]))
        at = data.find(b"<title>") + 7
        return kind, i, data[:at] + c + data[at:]
    if kind == "entity":
        doctype = draw(st.sampled_from(DOCTYPES))
        doc = b'<?xml version="1.0"?>' + doctype + _body(data).replace(b"<title>", b"<title>&x;", 1)
        return kind, i, doc
    if kind == "deep":
        n = draw(st.sampled_from([50, 300, 3000, 30000]))
        return kind, i, data.replace(b"<title>", b"<title>" + b"<a>" * n + b"x" + b"</a>" * n, 1)
    if kind == "huge":
        n = draw(st.sampled_from([1 << 20, 11 << 20]))
        return kind, i, data.replace(b"<objective>", b"<objective>" + b"x" * n, 1)
    if kind == "wrong-type":
        el = draw(st.sampled_from(TYPED_ELEMENTS))
        junk = draw(st.text(min_size=0, max_size=12)).encode("utf-8").replace(b"<", b"").replace(b"&", b"")
        start, end = data.find(b"<" + el + b">"), data.find(b"</" + el + b">")
        if start < 0:
            return kind, i, data
        return kind, i, data[:start + len(el) + 2] + junk + data[end:]
    return kind, i, draw(st.binary(max_size=200))


@FUZZ
@given(case=hostile_xml())
def test_hostile_cordis_xml_never_crashes_nor_lets_entities_in(case):
    kind, i, data = case
    result = parse_file("fuzz.zip", "entry.xml", data)
    count(f"cordis-xml {kind}", result)
    check_outcome([result])
    if kind == "entity":
        assert isinstance(result, RecordError) and "DOCTYPE" in result.message
    if kind in ("utf16", "bom"):  # the same content in another encoding: nothing lost
        assert result == parse_file("fuzz.zip", "entry.xml", XML_DATA[i])
    if kind in ("control", "latin1-undeclared") and isinstance(result, RecordError):
        assert "XML" in result.message


# ------------------------------------------------------------------------------ OpenAlex JSON


@st.composite
def hostile_json(draw):
    w = WORKS[draw(st.integers(0, len(WORKS) - 1))]
    text = json.dumps({"results": [w]}, ensure_ascii=False)
    kind = draw(st.sampled_from(["truncate", "utf16", "bom", "latin1", "control", "deep", "huge", "wrong-type"]))
    if kind == "truncate":
        return kind, w, text.encode()[:draw(st.integers(0, len(text.encode()) - 1))]
    if kind == "utf16":
        return kind, w, text.encode("utf-16")
    if kind == "bom":
        return kind, w, b"\xef\xbb\xbf" + text.encode()
    if kind == "latin1":
        return kind, w, text.encode("latin-1", "replace")
    if kind == "control":  # a raw control character inside a string: not valid JSON
        c = draw(st.sampled_from(["\x00", "\x01", "\x1b", "\n"]))
        at = text.find('"title": "') + 10
        return kind, w, (text[:at] + c + text[at:]).encode()
    if kind == "deep":
        n = draw(st.sampled_from([100, 2000, 100000]))
        nested = "[" * n + "]" * n
        return kind, w, text.replace('"title": ', f'"deep": {nested}, "title": ', 1).encode()
    if kind == "huge":
        return kind, w, text.replace('"title": "', '"title": "' + "x" * (4 << 20), 1).encode()
    key = draw(st.sampled_from(["id", "doi", "title", "publication_year", "publication_date", "authorships", "type"]))
    value = draw(st.one_of(st.none(), st.integers(), st.floats(allow_nan=True), st.text(max_size=8), st.lists(st.integers(), max_size=3),
                           st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)))
    return kind, w, json.dumps({"results": [{**w, key: value}]}).encode()


@FUZZ
@given(case=hostile_json())
def test_hostile_openalex_json_never_crashes(case, tmp_path):
    kind, w, data = case
    for suffix in (".json", ".jsonl"):
        p = tmp_path / f"fuzz{suffix}"
        p.write_bytes(data if suffix == ".json" else data.replace(b"\n", b" ") + b"\n")
        items = list(sources.read(p))
        if suffix == ".json":  # (a page on one JSON line is not a work: the .jsonl run checks crashes only)
            count(f"openalex-json {kind}", items)
        check_outcome(items)
        if kind == "bom" and suffix == ".json":  # a BOM before valid JSON loses nothing
            assert [type(x) for x in items] == [SourceRecord] and items[0].record_id == list(sources.read(_one(tmp_path, w)))[0].record_id


def _one(tmp_path: Path, w: dict) -> Path:
    p = tmp_path / "plain.json"
    p.write_text(json.dumps(w), encoding="utf-8")
    return p


# --------------------------------------------------------------------------- Turtle / JSON-LD


def _real_turtle() -> list[str]:
    """Real CORDIS records, mapped and written as Turtle records."""
    out = []
    for data in XML_DATA[:4]:
        rec = parse_file("x", "x", data)
        triples = list(map_record(rec, IRIs()))
        out.append(ox.serialize(triples, format=ox.RdfFormat.TURTLE).decode("utf-8"))
    return out


TURTLE = _real_turtle()


@st.composite
def hostile_rdf(draw):
    ttl = TURTLE[draw(st.integers(0, len(TURTLE) - 1))]
    kind = draw(st.sampled_from(["truncate", "utf16", "bom", "latin1", "control", "deep-turtle", "jsonld-deep",
                                 "jsonld-remote-context", "huge", "wrong-type"]))
    if kind == "truncate":
        return kind, ".ttl", ttl.encode()[:draw(st.integers(0, len(ttl.encode()) - 1))]
    if kind == "utf16":
        return kind, ".ttl", ttl.encode("utf-16")
    if kind == "bom":
        return kind, ".ttl", b"\xef\xbb\xbf" + ttl.encode()
    if kind == "latin1":
        return kind, ".ttl", ttl.encode("latin-1", "replace")
    if kind == "control":
        c = draw(st.sampled_from(["\x00", "\x01", "\x1b", "\x7f"]))
        at = draw(st.integers(0, len(ttl)))
        return kind, ".ttl", (ttl[:at] + c + ttl[at:]).encode()
    if kind == "deep-turtle":
        n = draw(st.sampled_from([100, 10000, 100000]))
        return kind, ".ttl", (ttl + "\n<http://example.org/s> <http://example.org/p> " + "[ <http://example.org/p> " * n + "1" + " ]" * n + " .\n").encode()
    if kind == "jsonld-deep":
        n = draw(st.sampled_from([10, 1000, 20000]))
        return kind, ".jsonld", ('{"@id": "http://example.org/s", "http://example.org/p": ' + '{"http://example.org/p": ' * n + '"x"' + "}" * n + "}").encode()
    if kind == "jsonld-remote-context":
        ctx = draw(st.sampled_from(["file:///etc/passwd", "http://127.0.0.1:9/context.jsonld", "https://schema.org/"]))
        return kind, ".jsonld", json.dumps({"@context": ctx, "@id": "http://example.org/s", "name": "x"}).encode()
    if kind == "huge":
        return kind, ".ttl", (ttl + '\n<http://example.org/s> <http://example.org/p> "' + "x" * (4 << 20) + '" .\n').encode()
    bad = draw(st.sampled_from(['"not a date"^^<http://www.w3.org/2001/XMLSchema#date>', '"x"^^<http://www.w3.org/2001/XMLSchema#integer>',
                                "<not an iri>", '"\\uD800"', "_:", "<http://e/ spaced>"]))
    return kind, ".ttl", (ttl + f"\n<http://example.org/s> <http://example.org/p> {bad} .\n").encode()


@FUZZ
@given(case=hostile_rdf())
def test_hostile_turtle_records_never_crash_nor_fetch(case, tmp_path):
    kind, suffix, data = case
    p = tmp_path / f"record{suffix}"
    p.write_bytes(data)
    # A child process: a parser crash (stack overflow) must show as a failure, not end pytest.
    code = ("import sys, pathlib; from collabkg import sources; "
            "items = list(sources.read(pathlib.Path(sys.argv[1]))); "
            "print(repr([(type(i).__name__, getattr(i, 'message', '')) for i in items]))") if kind.startswith("jsonld-deep") else None
    if code:
        r = subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"the reader died ({r.returncode}) on {kind}: {r.stderr[-500:]}"
    items = list(sources.read(p))
    count(f"turtle {kind}", items)
    check_outcome(items)
    if kind == "jsonld-remote-context":
        assert all(isinstance(i, RecordError) for i in items), "a remote JSON-LD context was loaded"
    if kind == "bom":  # a byte order mark loses nothing: the same records as without it
        plain = tmp_path / "plain.ttl"
        plain.write_bytes(data[3:])
        assert [(type(i), i.record_id) for i in items] == [(SourceRecord, i.record_id) for i in sources.read(plain)]


# ------------------------------------------------------------------- through the CLI and store


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for n, d in entries.items():
            z.writestr(n, d)
    return path


def _graphs(store: Path) -> dict[str, list[str]]:
    from collabkg.store import EmbeddedStore

    s = EmbeddedStore(store, read_only=True)
    try:
        out: dict[str, list[str]] = {}
        for q in s.raw.quads_for_pattern(None, None, None):
            if not isinstance(q.subject, ox.BlankNode) and not isinstance(q.object, ox.BlankNode):
                out.setdefault(q.graph_name.value, []).append(str(q))
        return {g: sorted(v) for g, v in out.items()}
    finally:
        s.close()


def test_hostile_entries_are_rejected_valid_ones_kept_and_the_store_unchanged(tmp_path):
    """A zip of hostile versions of records already in the store, beside new valid records:
    exit 1, one ``file:record:field: message`` line per hostile entry, the valid records in,
    and the graphs of the records already there exactly as they were."""
    with zipfile.ZipFile(CORDIS_ZIP) as z:
        names = sorted(i.filename for i in z.infolist() if i.filename.endswith(".xml"))[:12]
        real = {n: z.read(n) for n in names}
    first, second = dict(list(real.items())[:6]), dict(list(real.items())[6:])
    store = tmp_path / "store"
    r = subprocess.run([EXE, "build", str(_zip(tmp_path / "first.zip", first)), "--store", str(store), "--no-progress"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode in (0, 1), r.stderr[-2000:]
    before = _graphs(store)
    # Hostile versions of the records already in the store (same grant numbers).
    hostile = {}
    for k, (n, d) in enumerate(first.items()):
        body = _body(d)
        hostile[f"bad-{n}"] = [
            d[: len(d) // 2],  # truncated
            b'<?xml version="1.0"?>' + DOCTYPES[0] + body.replace(b"<title>", b"<title>&x;", 1),  # XXE
            b'<?xml version="1.0"?>' + DOCTYPES[1] + body.replace(b"<title>", b"<title>&x;", 1),  # billion laughs
            d.replace(b"<totalCost>", b"<totalCost>lots", 1),  # wrong type
            d.replace(b"<title>", b"<title>\x01", 1),  # control character
            d.replace(b"<title>", b"<title>" + b"<a>" * 400 + b"</a>" * 400, 1),  # deep nesting
        ][k]
    entries = {**hostile, **second}
    r = subprocess.run([EXE, "ingest", str(_zip(tmp_path / "mixed.zip", entries)), "--store", str(store), "--no-progress"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 1, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    mixed = str(tmp_path / "mixed.zip")
    bad_lines = [line for line in r.stderr.splitlines() if line.startswith(mixed + ":")]
    named = {line[len(mixed) + 1:].split(":")[0] for line in bad_lines}
    for n, d in hostile.items():  # named by entry, or by grant number once the parser got that far
        assert n in named or parse_file("x", n, first[n[4:]]).record_id in named, (n, r.stderr[-2000:])
    assert all(len(line[len(mixed) + 1:].split(":", 2)) == 3 for line in bad_lines)
    assert PASSWD_MARK not in r.stdout + r.stderr
    after = _graphs(store)
    # every record graph as it was (the shared vocabulary graph is add-only: the new records add to it)
    unchanged = {g: v for g, v in before.items() if "/graph/cordis/" in g and not g.endswith("/vocabulary")}
    assert {g: after.get(g) for g in unchanged} == unchanged, "a rejected record changed the store"
    grants = {parse_file("x", n, d).record_id for n, d in second.items()}
    assert {g.rsplit("/", 1)[1] for g in after if "/graph/cordis/" in g} >= grants, "a valid record was lost"
    TALLY["cli mixed zip tried"] += len(entries)
    TALLY["cli mixed zip rejected"] += len(bad_lines)


def test_a_crash_prone_jsonld_file_does_not_end_the_import(tmp_path):
    """A JSON-LD record nested 20,000 levels (enough to overflow the parser's stack) is refused
    with a message, and the records beside it are imported."""
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "a-deep.jsonld").write_text('{"@id": "http://example.org/s", "http://example.org/p": '
                                          + '{"http://example.org/p": ' * 20000 + '"x"' + "}" * 20000 + "}")
    (folder / "b-real.jsonld").write_bytes(ox.serialize(list(map_record(parse_file("x", "x", XML_DATA[0]), IRIs())),
                                                        format=ox.RdfFormat.JSON_LD))
    r = subprocess.run([EXE, "ingest", str(folder), "--store", str(tmp_path / "store"), "--no-progress"],
                       capture_output=True, text=True, timeout=900, env={**os.environ, "COLLABKG_VALIDATE": "0"})
    assert r.returncode == 1, (r.returncode, r.stderr[-2000:])
    assert "a-deep.jsonld:a-deep.jsonld:-: JSON nested more than" in r.stderr
    assert "records accepted  1" in r.stdout
