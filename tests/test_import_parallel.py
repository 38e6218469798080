"""The import on worker processes (issue 13): a zip of >= 400 real entries with one territory code
(XH), one mistyped grant DOI and one truly broken record goes in whole but the broken one, through
the worker processes and with ``--jobs 1``, and both give the same store (same quads).

Real data: the first 420 project files of the bundled CORDIS zip; three of them edited as the
whole CORDIS dump has them (project 101184736: an associated partner in ``XH``; project 101086202:
grant DOI ``10.3030/10186202``) and one truncated.
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from collections import Counter
from lxml import etree

from conftest import CORDIS_ZIP, run_cli
from collabkg.importing import ingest
from collabkg.namespaces import CKG
from collabkg.store import EmbeddedStore

N = 420


def _entries() -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(CORDIS_ZIP) as z:
        names = sorted(i.filename for i in z.infolist() if i.filename.endswith(".xml"))[:N]
        return [(n, z.read(n)) for n in names]


def _pics(data: bytes) -> list[str]:
    root = etree.fromstring(data)
    return [o.findtext("id").strip() for o in root.iterfind("relations/associations/organization")]


def _grant(data: bytes) -> str:
    return re.search(rb"<id>(\d+)</id>", data).group(1).decode()


@pytest.fixture(scope="module")
def quirky_zip(tmp_path_factory) -> tuple[Path, dict]:
    """The zip, and what was done to which entry (entry name, grant)."""
    entries = _entries()
    # XH (the CORDIS code for Kashmir, outside ISO 3166-1) as the country of an organisation that
    # no other entry describes (an entity graph holds the latest record's description).
    pics = Counter(pic for _, d in entries for pic in set(_pics(d)))
    k = next(k for k in range(5, N) if any(pics[p] == 1 for p in _pics(entries[k][1])))
    n_xh, d = entries[k]
    root = etree.fromstring(d)
    org = next(o for o in root.iterfind("relations/associations/organization") if pics[o.findtext("id").strip()] == 1 and o.find("address/country") is not None)
    org.find("address/country").text = "XH"
    entries[k] = (n_xh, etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    # A grant DOI that does not match the grant (as CORDIS has for 101086202).
    n_doi, d = entries[20]
    assert b"<grantDoi>" in d
    entries[20] = (n_doi, re.sub(rb"<grantDoi>[^<]*</grantDoi>", b"<grantDoi>10.3030/10186202</grantDoi>", d))
    # Truly broken: cut in half.
    n_bad, d = entries[30]
    entries[30] = (n_bad, d[: len(d) // 2])
    out = tmp_path_factory.mktemp("quirky") / "quirky.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, data in entries:
            z.writestr(name, data)
    return out, {"xh": (n_xh, _grant(entries[k][1]), org.findtext("id").strip()), "doi": (n_doi, _grant(entries[20][1])), "bad": (n_bad, None)}


def _quads(path: Path) -> list[str]:
    import pyoxigraph as ox

    s = EmbeddedStore(path, read_only=True)
    try:
        return sorted(
            " ".join("_:b" if isinstance(t, ox.BlankNode) else str(t) for t in (q.subject, q.predicate, q.object, q.graph_name))
            for q in s.raw.quads_for_pattern(None, None, None)
        )
    finally:
        s.close()


@pytest.fixture(scope="module")
def runs(quirky_zip, tmp_path_factory):
    """``collabkg ingest`` of the zip with two worker processes and with --jobs 1."""
    zpath, _ = quirky_zip
    out = {}
    for jobs in (2, 1):
        store = tmp_path_factory.mktemp(f"jobs{jobs}") / "store"
        p = run_cli("ingest", str(zpath), "--store", str(store), "--no-progress", "--jobs", str(jobs))
        out[jobs] = (p, store)
    return out


@pytest.mark.parametrize("jobs", [2, 1])
def test_broken_record_reported_rest_in(runs, quirky_zip, jobs):
    zpath, what = quirky_zip
    p, store = runs[jobs]
    assert p.returncode == 1, p.stderr[-2000:]
    bad = what["bad"][0]
    assert re.search(rf"^{re.escape(str(zpath))}:{re.escape(bad)}:-: malformed XML", p.stderr, re.M), p.stderr[-2000:]
    assert re.search(r"^records read\s+420$", p.stdout, re.M), p.stdout
    assert re.search(r"^records accepted\s+419$", p.stdout, re.M), p.stdout
    assert re.search(r"^records rejected\s+1$", p.stdout, re.M), p.stdout
    s = EmbeddedStore(store, read_only=True)
    try:
        n = int(next(iter(s.query(f"SELECT (COUNT(?p) AS ?n) WHERE {{ ?p a <{CKG}Project> }}")))["n"].value)
        assert n == N - 1
        # The XH organisation is in, with its source code and without an ISO country link.
        grant, pic = what["xh"][1], what["xh"][2]
        rows = list(s.query(
            f"SELECT ?o ?c WHERE {{ ?x <{CKG}project> ?p ; <{CKG}organisation> ?o . ?p <{CKG}grantNumber> \"{grant}\" . "
            f"?o <{CKG}pic> \"{pic}\" ; <{CKG}sourceCountryCode> \"XH\" OPTIONAL {{ ?o <{CKG}country> ?c }} }}"))
        assert len(rows) >= 1 and all(r["c"] is None for r in rows), rows
        # The mistyped grant DOI is kept as stated.
        doi_grant = what["doi"][1]
        assert s.query(f'ASK {{ ?p <{CKG}grantNumber> "{doi_grant}" ; <{CKG}grantDoi> "10.3030/10186202" }}')
    finally:
        s.close()
    # Both warnings name file, record and field.
    assert re.search(rf"^{re.escape(str(zpath))}:{what['xh'][1]}:organization\[\d+\]/address/country: warning: country code 'XH'",
                     p.stderr, re.M), p.stderr[-2000:]
    assert re.search(rf"^{re.escape(str(zpath))}:{doi_grant}:identifiers/grantDoi: warning: grant DOI '10.3030/10186202'", p.stderr, re.M)


def test_parallel_and_one_job_give_the_same_store(runs):
    a, b = _quads(runs[2][1]), _quads(runs[1][1])
    assert len(a) > 100_000
    assert a == b


def test_worker_processes_in_process_api(quirky_zip, tmp_path):
    """Through the Python API with worker processes: the rejected record is a plain value and the
    summary adds up."""
    zpath, what = quirky_zip
    err = io.StringIO()
    with EmbeddedStore(tmp_path / "store") as store:
        summary = ingest(store, [zpath], progress=False, err=err, jobs=2, enrich=False)
    assert summary.jobs == 2
    assert summary.exit_code == 1
    assert [(r.record, r.field) for r in summary.rejected] == [(what["bad"][0], "-")]
    assert summary.adds_up() and summary.accepted == N - 1
    assert {w.field.rsplit("/", 1)[-1] for w in summary.record_warnings} >= {"country", "grantDoi"}
    assert summary.stages["read"] > 0 and summary.stages["map"] > 0 and summary.stages["write"] > 0
