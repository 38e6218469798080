"""The OpenAlex source and mapper on the real sample: layouts, quirks, bad input, fuzzing.

The oracle is always the raw JSON of data/openalex-works-sample, read here with plain ``json``.
Store-level parity (all works and authorships in the built graph) is in test_openalex_graph.py.
"""
from __future__ import annotations

import copy
import gzip
import html
import io
import json
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import OPENALEX_DIR, run_cli
from collabkg.mapping import map_record
from collabkg.namespaces import CKG, IRIs
from collabkg.records import RecordError, SourceRecord
from collabkg.sources import detect, openalex_json

FILES = sorted(OPENALEX_DIR.glob("*.json"))


def _works_by_file() -> dict[Path, list[dict]]:
    return {f: json.loads(f.read_text(encoding="utf-8"))["works"] for f in FILES}


def _distinct_works() -> dict[str, dict]:
    out = {}
    for works in _works_by_file().values():
        for w in works:
            out.setdefault(w["id"].rsplit("/", 1)[1], w)
    return out


WORKS = _distinct_works()
WORK_LIST = [WORKS[k] for k in sorted(WORKS)]


def _ids(items) -> list[str]:
    return [i.record_id for i in items if isinstance(i, SourceRecord)]


def _errors(items) -> list[RecordError]:
    return [i for i in items if isinstance(i, RecordError)]


def _triples(rec) -> list[ox.Triple]:
    t = map_record(rec, IRIs())
    return list(t) + list(t.vocab)


# ------------------------------------------------------------------ layouts ----------------------


def test_the_sample_is_what_the_readme_says():
    assert len(FILES) == 6 and len(WORKS) == 144
    assert sum(len(w["authorships"]) for w in WORKS.values()) == 1004


def test_author_files_give_every_work_once():
    items = list(openalex_json.read(OPENALEX_DIR))
    assert _errors(items) == []
    assert sorted(_ids(items)) == sorted(WORKS)
    assert all(detect(f) == "openalex-json" for f in FILES)


@pytest.mark.parametrize("layout", ["single", "list", "page", "jsonl", "jsonl.gz", "json.gz", "lines-named-json"])
def test_every_openalex_layout_gives_the_same_records(tmp_path, layout):
    works = WORK_LIST[:7]
    want = [w["id"].rsplit("/", 1)[1] for w in works]
    if layout == "single":
        paths = []
        for i, w in enumerate(works):
            p = tmp_path / f"w{i}.json"
            p.write_text(json.dumps(w), encoding="utf-8")
            paths.append(p)
    else:
        text = {
            "list": json.dumps(works),
            "page": json.dumps({"meta": {"count": len(works), "page": 1}, "results": works}),
            "json.gz": json.dumps({"details": {"id": "https://openalex.org/A1"}, "works": works}),
        }.get(layout) or "\n".join(json.dumps(w) for w in works) + "\n"
        name = {"list": "l.json", "page": "p.json", "jsonl": "s.jsonl", "jsonl.gz": "part_000.jsonl.gz",
                "json.gz": "a.json.gz", "lines-named-json": "lines.json"}[layout]
        p = tmp_path / name
        if name.endswith(".gz"):
            p.write_bytes(gzip.compress(text.encode("utf-8")))
        else:
            p.write_text(text, encoding="utf-8")
        paths = [p]
    items = [i for p in paths for i in openalex_json.read(p)]
    assert _errors(items) == []
    assert _ids(items) == want
    direct = {r.record_id: r.record for r in openalex_json.read_document("x", works) if isinstance(r, SourceRecord)}
    assert [i.record for i in items] == [direct[k] for k in want]


def test_a_work_in_several_files_is_one_work(tmp_path):
    """The same work in two author files (and twice in one run) is one record graph, one Work."""
    from collabkg.importing import ingest
    from collabkg.store import EmbeddedStore

    shared = WORK_LIST[0]
    (tmp_path / "A1.json").write_text(json.dumps({"details": {}, "works": [shared, WORK_LIST[1]]}), encoding="utf-8")
    (tmp_path / "A2.json").write_text(json.dumps({"details": {}, "works": [WORK_LIST[2], shared]}), encoding="utf-8")
    with EmbeddedStore(tmp_path / "store") as store:
        summary = ingest(store, [tmp_path / "A1.json", tmp_path / "A2.json"], progress=False, err=io.StringIO())
        assert summary.rejected == []
        rows = list(store.query(f"SELECT (COUNT(DISTINCT ?w) AS ?n) WHERE {{ ?w <{CKG}openalexId> ?id ; a <{CKG}Work> }}"))
        assert int(rows[0]["n"].value) == 3
        wid = shared["id"].rsplit("/", 1)[1]
        rows = list(store.query(
            f"SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE {{ ?w <{CKG}openalexId> '{wid}' ; <{CKG}authorship> ?a }}"))
        assert int(rows[0]["n"].value) == len(shared["authorships"])
        graphs = {g for g in store.graph_names() if g.endswith("/graph/openalex/" + wid)}
        assert len(graphs) == 1


# ------------------------------------------------------------------ quirks -----------------------


def _record(work: dict):
    (rec,) = openalex_json.read_document("x.json", [work])
    assert isinstance(rec, SourceRecord), rec
    return rec


def _objects(triples, s, p) -> set:
    return {t.object for t in triples if t.subject == s and t.predicate.value == CKG + p}


def test_authorships_with_a_null_author_id_are_kept_with_what_is_known():
    cases = [(w, i, a) for w in WORK_LIST for i, a in enumerate(w["authorships"]) if a["author"].get("id") is None]
    assert cases, "the sample has authorships with a null author id"
    for w, i, a in cases:
        triples = _triples(_record(w))
        s = ox.NamedNode(IRIs().authorship(w["id"].rsplit("/", 1)[1], i + 1))
        assert _objects(triples, s, "author") == set()
        assert _objects(triples, s, "authorName") == {ox.Literal(a["author"]["display_name"])}
        assert _objects(triples, s, "order") == {ox.Literal(str(i + 1), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))}
        assert _objects(triples, s, "authorPosition") == {ox.Literal(a["author_position"])}


def test_authorships_without_institution_are_kept_with_their_raw_affiliation():
    cases = [(w, i, a) for w in WORK_LIST for i, a in enumerate(w["authorships"]) if not a["institutions"]]
    assert len(cases) == 420  # the README's figure, checked from the JSON
    with_raw = 0
    for w, i, a in cases:
        triples = _triples(_record(w))
        s = ox.NamedNode(IRIs().authorship(w["id"].rsplit("/", 1)[1], i + 1))
        assert _objects(triples, s, "affiliation") == set()
        assert any(t.subject == s for t in triples)
        raws = {r.strip() for r in a["raw_affiliation_strings"] if r.strip()}
        assert {o.value for o in _objects(triples, s, "rawAffiliation")} == raws
        with_raw += bool(raws)
    assert with_raw == 37


def test_an_institution_without_country_has_no_country_triple():
    cases = [(w, inst) for w in WORK_LIST for a in w["authorships"] for inst in a["institutions"] if not inst.get("country_code")]
    assert len({inst["id"] for _, inst in cases}) == 1
    for w, inst in cases:
        triples = _triples(_record(w))
        s = ox.NamedNode(IRIs().institution(inst["id"].rsplit("/", 1)[1]))
        assert _objects(triples, s, "country") == set()
        assert _objects(triples, s, "displayName") == {ox.Literal(inst["display_name"])}


def test_u2010_hyphens_in_names_are_kept_verbatim():
    named = {a["author"]["display_name"] for w in WORK_LIST for a in w["authorships"] if "\u2010" in (a["author"]["display_name"] or "")}
    assert len(named) > 10
    emitted = set()
    for w in WORK_LIST:
        for t in _triples(_record(w)):
            if t.predicate.value in (CKG + "displayName", CKG + "authorName") and "\u2010" in t.object.value:
                emitted.add(t.object.value)
    assert named <= emitted  # not folded to ASCII '-' (the linker normalises names, the graph does not)


def test_works_without_doi_are_keyed_by_openalex_id():
    no_doi = [w for w in WORK_LIST if not w["doi"]]
    assert len(no_doi) == 5
    for w in no_doi:
        wid = w["id"].rsplit("/", 1)[1]
        triples = _triples(_record(w))
        s = ox.NamedNode(IRIs().work(openalex_id=wid))
        assert _objects(triples, s, "doi") == set()
        assert _objects(triples, s, "openalexId") == {ox.Literal(wid)}


def test_a_doi_known_to_both_sources_is_one_work():
    """CORDIS project publications and OpenAlex works with one DOI (any case) meet on one node."""
    from collabkg.mapping import cordis
    from collabkg.records.cordis import Publication

    w = next(w for w in WORK_LIST if w["doi"])
    doi = w["doi"].replace("https://doi.org/", "")
    t = map_record(_record(w), IRIs())
    openalex_work = next(x.subject for x in t if x.predicate.value == CKG + "openalexId" and x.subject.value.startswith(IRIs().base + "work/"))
    from collabkg.mapping.terms import Triples

    ct = Triples()
    assert cordis.publication(ct, Publication(doi.upper()), IRIs()) == openalex_work


def test_abstracts_are_rebuilt_from_the_inverted_index():
    with_index = [w for w in WORK_LIST if w["abstract_inverted_index"]]
    assert len(with_index) == 74
    for w in with_index:
        words = {p: word for word, ps in w["abstract_inverted_index"].items() for p in ps}
        rec = _record(w)
        expected = " ".join(words[p] for p in sorted(words)).strip()
        # HTML character references (escaped once or twice) decoded, inline markup dropped
        expected = html.unescape(html.unescape(expected))
        expected = re.sub(r"\s{2,}", " ", re.sub(r"</?(p|i|b|br|sup|sub)>", " ", expected)).strip()
        assert rec.record.abstract == expected
        assert "&gt;" not in rec.record.abstract and "&amp;" not in rec.record.abstract


def test_the_mapper_emits_what_the_ontology_declares_on_every_real_work():
    from test_ontology import _check_emitted, rdflib, ONTOLOGY_FILE

    onto = rdflib.Graph().parse(ONTOLOGY_FILE, format="turtle")
    triples = [t for w in WORK_LIST for t in _triples(_record(w))]
    assert _check_emitted(onto, triples) == []


# ------------------------------------------------------------------ bad input --------------------


def test_bad_documents_are_reported_by_file_record_and_field(tmp_path):
    good = WORK_LIST[:3]
    bad_null_authorship = copy.deepcopy(WORK_LIST[3])
    bad_null_authorship["authorships"][0] = None
    bad_type = copy.deepcopy(WORK_LIST[4])
    bad_type["publication_year"] = "2020"
    no_id = copy.deepcopy(WORK_LIST[5])
    del no_id["id"]
    bad_inst = copy.deepcopy(next(w for w in WORK_LIST if any(a["institutions"] for a in w["authorships"])))
    k = next(i for i, a in enumerate(bad_inst["authorships"]) if a["institutions"])
    bad_inst["authorships"][k]["institutions"][0]["country_code"] = 7
    p = tmp_path / "mixed.json"
    p.write_text(json.dumps({"details": {}, "works": [good[0], bad_null_authorship, good[1], bad_type, no_id, bad_inst, good[2]]}))
    items = list(openalex_json.read(p))
    assert _ids(items) == [w["id"].rsplit("/", 1)[1] for w in good]
    msgs = [str(e) for e in _errors(items)]
    wid = lambda w: w["id"].rsplit("/", 1)[1]  # noqa: E731
    assert msgs[0].startswith(f"{p}:{wid(bad_null_authorship)}:authorships[0]: expected an object, got null")
    assert msgs[1].startswith(f"{p}:{wid(bad_type)}:publication_year: expected an integer or null, got a string")
    assert msgs[2].startswith(f"{p}:works[4]:id: missing OpenAlex id")
    assert msgs[3].startswith(f"{p}:{wid(bad_inst)}:authorships[{k}].institutions[0].country_code: expected a string")

    (tmp_path / "broken.json").write_text('{"works": [ {"id": "W1"', encoding="utf-8")
    (e,) = list(openalex_json.read(tmp_path / "broken.json"))
    assert str(e).startswith(f"{tmp_path / 'broken.json'}:-:-: invalid JSON at line 1")
    (tmp_path / "shape.json").write_text('{"hello": 1}', encoding="utf-8")
    (e,) = list(openalex_json.read(tmp_path / "shape.json"))
    assert "not an OpenAlex document" in str(e) and "author file" in str(e)
    (tmp_path / "num.json").write_text("42", encoding="utf-8")
    (e,) = list(openalex_json.read(tmp_path / "num.json"))
    assert "got an integer" in str(e)


def test_bad_lines_of_a_snapshot_do_not_stop_the_rest(tmp_path):
    lines = [json.dumps(w) for w in WORK_LIST[:4]]
    lines.insert(2, '{"id": "https://openalex.org/W1", "title": ')
    lines.insert(4, '"just a string"')
    p = tmp_path / "part.jsonl.gz"
    p.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    items = list(openalex_json.read(p))
    assert _ids(items) == [w["id"].rsplit("/", 1)[1] for w in WORK_LIST[:4]]
    assert [(e.record, e.field) for e in _errors(items)] == [("line 3", "-"), ("line 5", "-")]


def test_the_cli_reports_bad_records_and_exits_1_and_imports_the_rest(tmp_path):
    bad = copy.deepcopy(WORK_LIST[1])
    bad["cited_by_count"] = {"n": 3}
    p = tmp_path / "page.json"
    p.write_text(json.dumps({"meta": {}, "results": [WORK_LIST[0], bad, WORK_LIST[2]]}), encoding="utf-8")
    store = tmp_path / "store"
    r = run_cli("ingest", "--store", str(store), str(p))
    assert r.returncode == 1, r.stderr
    wid = bad["id"].rsplit("/", 1)[1]
    assert f"{p}:{wid}:cited_by_count: expected an integer or null, got an object" in r.stderr
    assert "Traceback" not in r.stderr
    r = run_cli("ingest", "--store", str(store), str(tmp_path / "missing.json"))
    assert r.returncode == 2


# ------------------------------------------------------------------ fuzzing ----------------------

_VALUES = [None, True, 0, 1.5, "x", [], {}, ["x"], {"x": 1}]


def _kind(v):
    return "bool" if isinstance(v, bool) else type(v).__name__


def _paths(node, prefix=()):
    """Every key/index path inside a JSON value."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


def _dotted(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(index=st.integers(0, len(WORK_LIST) - 1), data=st.data())
def test_fuzzed_works_never_crash_and_never_lose_a_valid_work(index, data):
    work = copy.deepcopy(WORK_LIST[index])
    path = data.draw(st.sampled_from(sorted(_paths(work), key=repr)))
    parent = work
    for p in path[:-1]:
        parent = parent[p]
    op = data.draw(st.sampled_from(["delete", "retype"]))
    if op == "delete":
        del parent[path[-1]]
    else:
        old = parent[path[-1]]
        parent[path[-1]] = copy.deepcopy(data.draw(st.sampled_from([v for v in _VALUES if _kind(v) != _kind(old)])))
    neighbours = [WORK_LIST[(index + 1) % len(WORK_LIST)], WORK_LIST[(index + 2) % len(WORK_LIST)]]
    out = list(openalex_json.read_document("f.json", {"details": {}, "works": [neighbours[0], work, neighbours[1]]}))
    assert len(out) == 3
    assert isinstance(out[0], SourceRecord) and isinstance(out[2], SourceRecord), "a neighbour was lost"
    got = out[1]
    if isinstance(got, RecordError):
        # only a deleted id may reject the work on deletion; the error names the changed field
        assert op == "retype" or path[-1] == "id", f"valid work lost after deleting {_dotted(path)}: {got}"
        assert got.file == "f.json"
        assert got.field == _dotted(path) or (op == "retype" and _dotted(path).startswith(got.field)), (path, str(got))
    else:
        assert isinstance(got, SourceRecord)
        _triples(got)  # maps without error


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(1, 40_000))
def test_truncated_snapshot_files_keep_every_complete_line(tmp_path_factory, cut):
    text = "".join(json.dumps(w) + "\n" for w in WORK_LIST[:12])
    cut = min(cut, len(text) - 1)
    p = tmp_path_factory.mktemp("trunc") / "part.jsonl"
    p.write_text(text[:cut], encoding="utf-8")
    items = list(openalex_json.read(p))
    complete = text[:cut].count("\n")
    assert _ids(items)[:complete] == [w["id"].rsplit("/", 1)[1] for w in WORK_LIST[:complete]]
    assert len(items) == complete + (0 if text[:cut].endswith("\n") else 1)
