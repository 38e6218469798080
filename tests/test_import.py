"""Import behaviour: same triples from zip or single files, idempotence, replacement,
bad input (each rejected with file:record:field, the rest imported), exit codes."""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from conftest import CORDIS_ZIP, XML_SAMPLE, run_cli
from collabkg.importing import ingest
from collabkg.namespaces import CKG, IRIs
from collabkg.store import EmbeddedStore

SAMPLES = sorted(XML_SAMPLE.glob("*.xml"))


def _record_quads(store: EmbeddedStore) -> set[str]:
    """Record content as N-Quads lines, without the ontology graphs."""
    return {str(q) for q in store.quads() if "/graph/ontology/" not in q.graph_name.value}


def _graph_quads(store: EmbeddedStore, graph: str) -> set[str]:
    return {str(q) for q in store.quads(graph)}


@pytest.fixture
def store(tmp_path):
    with EmbeddedStore(tmp_path / "store") as s:
        yield s


def test_xml_sample_one_by_one_equals_zip(tmp_path):
    """The 14 untouched XML files, imported one by one, give the same record graphs as from the zip."""
    iris = IRIs()
    with EmbeddedStore(tmp_path / "a") as a:
        for p in SAMPLES:
            assert ingest(a, [p], progress=False, err=io.StringIO()).exit_code == 0
        grants = {re.search(r"<id>(\d+)</id>", p.read_text(encoding="utf-8")).group(1) for p in SAMPLES}
        one_by_one = {g: _graph_quads(a, iris.graph("cordis", g)) for g in grants}
    names = {p.name for p in SAMPLES}
    sub = tmp_path / "subset.zip"
    with zipfile.ZipFile(CORDIS_ZIP) as src, zipfile.ZipFile(sub, "w") as dst:
        for info in src.infolist():
            if info.filename in names:
                dst.writestr(info, src.read(info))
    with EmbeddedStore(tmp_path / "b") as b:
        assert ingest(b, [sub], progress=False, err=io.StringIO()).accepted == len(SAMPLES)
        from_zip = {g: _graph_quads(b, iris.graph("cordis", g)) for g in grants}
    assert len(grants) == 14
    assert all(one_by_one[g] for g in grants)
    assert one_by_one == from_zip
    # and the sample files are byte-identical to the zip's entries
    with zipfile.ZipFile(CORDIS_ZIP) as z:
        for p in SAMPLES:
            assert z.read(p.name) == p.read_bytes()


def test_import_twice_changes_nothing(store):
    ingest(store, SAMPLES, progress=False, err=io.StringIO())
    first = _record_quads(store)
    summary = ingest(store, SAMPLES, progress=False, err=io.StringIO())
    assert summary.exit_code == 0 and summary.accepted == len(SAMPLES)
    assert _record_quads(store) == first
    assert len(first) > 1000


def test_changed_record_replaces_old_facts(store, tmp_path):
    src = SAMPLES[0]
    text = src.read_text(encoding="utf-8")
    ingest(store, [src], progress=False, err=io.StringIO())
    title = re.search(r"<title>(.*?)</title>", text).group(1)
    acronym = re.search(r"<acronym>(.*?)</acronym>", text).group(1)
    edited = tmp_path / src.name
    edited.write_text(text.replace(f"<title>{title}</title>", "<title>A replaced title</title>", 1).replace(f"<acronym>{acronym}</acronym>", "", 1), encoding="utf-8")
    ingest(store, [edited], progress=False, err=io.StringIO())
    titles = [r["t"].value for r in store.query(f"SELECT ?t WHERE {{ ?p a <{CKG}Project> ; <{CKG}title> ?t }}")]
    assert titles == ["A replaced title"]
    assert not list(store.query(f"SELECT ?a WHERE {{ ?p <{CKG}acronym> ?a }}")), "stale acronym left behind"


def _corrupt_zip(tmp_path: Path, edits: dict[str, callable]) -> Path:
    """A copy of the sample files as a zip, with some entries corrupted on purpose."""
    out = tmp_path / "corrupt.zip"
    with zipfile.ZipFile(out, "w") as z:
        for p in SAMPLES:
            data = p.read_text(encoding="utf-8")
            if p.name in edits:
                data = edits[p.name](data)
            z.writestr(p.name, data)
    return out


CASES = {
    "malformed": (lambda t: t[: len(t) // 2], "-", "malformed XML"),
    "no-grant": (lambda t: re.sub(r"<id>\d+</id>", "", t, count=1), "id", "no grant agreement number"),
    "impossible-date": (lambda t: re.sub(r"<startDate>[^<]*</startDate>", "<startDate>2023-02-30</startDate>", t), "startDate", "not a valid date"),
    "non-numeric-amount": (lambda t: re.sub(r"<ecMaxContribution>[^<]*</ecMaxContribution>", "<ecMaxContribution>12,5 EUR</ecMaxContribution>", t), "ecMaxContribution", "not a number"),
    # A malformed code is an error; a well-formed code outside ISO 3166-1 (XH) is kept with a warning
    # (tests/test_import_territories.py).
    "malformed-country": (lambda t: re.sub(r"<country>[A-Z]{2}</country>", "<country>Turkey</country>", t, count=1), "address/country", "unknown country code 'Turkey'"),
    "duplicate-id": (lambda t: re.sub(r"(<id>\d+</id>)", r"\1<id>101000000</id>", t, count=1), "id", "2 <id> elements"),
    "bad-contribution": (lambda t: re.sub(r'ecContribution="[^"]*"', 'ecContribution="lots"', t, count=1), "@ecContribution", "not a number"),
    "entity-expansion": (lambda t: t.replace('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE project [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>', 1).replace("<acronym>", "<acronym>&b;", 1), "-", ""),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_record_rejected_rest_imported(tmp_path, case):
    edit, field, message = CASES[case]
    victim = SAMPLES[3]
    bad_zip = _corrupt_zip(tmp_path, {victim.name: edit})
    err = io.StringIO()
    with EmbeddedStore(tmp_path / "store") as store:
        summary = ingest(store, [bad_zip], progress=False, err=err)
        assert summary.exit_code == 1
        assert summary.accepted == len(SAMPLES) - 1
        assert len(summary.rejected) == 1
        n_projects = int(next(iter(store.query(f"SELECT (COUNT(?p) AS ?n) WHERE {{ ?p a <{CKG}Project> }}")))["n"].value)
        assert n_projects == len(SAMPLES) - 1
    line = err.getvalue().strip()
    grant = re.search(r"<id>(\d+)</id>", victim.read_text(encoding="utf-8")).group(1)
    # file:record:field: message
    assert line.startswith(f"{bad_zip}:"), line
    assert (grant in line) or (victim.name in line), line
    assert re.search(rf":[^:]*{re.escape(field)}: ", line), line
    assert message in line


def test_cli_exit_codes(tmp_path):
    good = run_cli("ingest", str(SAMPLES[0]), "--store", str(tmp_path / "s"))
    assert good.returncode == 0, good.stderr
    assert "records accepted  1" in good.stdout
    bad = tmp_path / "bad.xml"
    bad.write_text(SAMPLES[1].read_text(encoding="utf-8").replace("<endDate>", "<endDate>x", 1), encoding="utf-8")
    rejected = run_cli("ingest", str(bad), str(SAMPLES[2]), "--store", str(tmp_path / "s"))
    assert rejected.returncode == 1
    assert f"{bad}:" in rejected.stderr and ":endDate: " in rejected.stderr
    assert "records rejected  1" in rejected.stdout
    usage = run_cli("ingest", "--store", str(tmp_path / "s"))
    assert usage.returncode == 2


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", b"this is not a zip at all\n"])
def test_unreadable_zip_is_one_clear_line(tmp_path, content):
    z = tmp_path / "broken.zip"
    z.write_bytes(content)
    r = run_cli("ingest", str(z), "--store", str(tmp_path / "s"))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and str(z) in lines[0] and "zip" in lines[0]


def test_truncated_real_zip(tmp_path):
    data = CORDIS_ZIP.read_bytes()
    z = tmp_path / "truncated.zip"
    z.write_bytes(data[: len(data) // 3])
    r = run_cli("ingest", str(z), "--store", str(tmp_path / "s"))
    assert r.returncode == 2 and "Traceback" not in r.stderr and str(z) in r.stderr


def test_store_location_precedence(tmp_path):
    env_store = tmp_path / "from-env"
    r = run_cli("ingest", str(SAMPLES[0]), env={"COLLABKG_STORE": str(env_store)}, cwd=tmp_path)
    assert r.returncode == 0 and env_store.exists() and str(env_store) in r.stdout
    flag_store = tmp_path / "from-flag"
    r = run_cli("ingest", str(SAMPLES[0]), "--store", str(flag_store), env={"COLLABKG_STORE": str(env_store)}, cwd=tmp_path)
    assert r.returncode == 0 and flag_store.exists()
    clean_env = {"COLLABKG_STORE": ""}
    r = run_cli("ingest", str(SAMPLES[0]), env=clean_env, cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / ".collabkg" / "store").exists()


def test_sparql_command_formats(tmp_path):
    store = tmp_path / "s"
    assert run_cli("ingest", *map(str, SAMPLES), "--store", str(store)).returncode == 0
    q = "SELECT ?g WHERE { ?p a ckg:Project ; ckg:grantNumber ?g } ORDER BY ?g"
    r = run_cli("sparql", q, "--store", str(store), "--format", "csv")
    assert r.returncode == 0, r.stderr
    grants = sorted(re.search(r"<id>(\d+)</id>", p.read_text(encoding="utf-8")).group(1) for p in SAMPLES)
    assert r.stdout.splitlines() == ["g", *grants]
    r = run_cli("sparql", "ASK { ?p a ckg:Project }", "--store", str(store), "--format", "json")
    assert '"boolean": true' in r.stdout
    qf = tmp_path / "q.rq"
    qf.write_text("CONSTRUCT { ?p ckg:acronym ?a } WHERE { ?p ckg:acronym ?a }")
    r = run_cli("sparql", str(qf), "--store", str(store))
    assert r.returncode == 0 and r.stdout.count(" .\n") == len(SAMPLES)
    r = run_cli("sparql", "SELECT WHERE {", "--store", str(store))
    assert r.returncode == 2 and "syntax" in r.stderr.lower()
