"""Inputs with quirks (issue 18 items 3, 4, 5; issue 14 item 5), on real records from the bundled zip:
the same grant twice in one zip, a duplicate <id> element, UTF-8 declared ISO-8859-1, a zip inside a
zip. The summary adds up: read = accepted + rejected + duplicates."""
from __future__ import annotations

import io
import re
import zipfile

from conftest import CORDIS_ZIP, run_cli
from collabkg.importing import ingest
from collabkg.store import EmbeddedStore


def _real(n: int) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(CORDIS_ZIP) as z:
        names = sorted(i.filename for i in z.infolist() if i.filename.endswith(".xml"))[:n]
        return [(x, z.read(x)) for x in names]


def _zip(path, entries):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries:
            z.writestr(name, data)
    return path


def test_same_grant_twice_in_one_zip_reported_counted_later_wins(tmp_path):
    entries = _real(5)
    name, data = entries[1]
    later = data.replace(b"<title>", b"<title>[second copy] ", 1)
    entries.append(("copy-" + name, later))
    zpath = _zip(tmp_path / "dup.zip", entries)
    err = io.StringIO()
    with EmbeddedStore(tmp_path / "store") as store:
        s = ingest(store, [zpath], progress=False, err=err, jobs=1, enrich=False)
        grant = re.search(rb"<id>(\d+)</id>", data).group(1).decode()
        titles = [r["t"].value for r in store.query(f'SELECT ?t WHERE {{ ?p <https://w3id.org/collabkg/ontology#grantNumber> "{grant}" ; <https://w3id.org/collabkg/ontology#title> ?t }}')]
    assert (s.read, s.accepted, s.rejected_records, len(s.duplicates)) == (6, 5, 0, 1)
    assert s.adds_up()
    line = str(s.duplicates[0])
    # file, grant, both entry names, the winner
    assert line.startswith(f"{zpath}:{grant}:id:") and name in line and "copy-" + name in line and "wins" in line
    assert line in err.getvalue()
    assert titles == [titles[0]] and titles[0].startswith("[second copy]")


def test_utf8_declared_latin1_is_warned_with_the_field(tmp_path):
    name, data = next((n, d) for n, d in _real(200) if re.search(rb"<city>[^<]*[\xc3\xc5][^<]*</city>", d))
    bad = data.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"', 1)
    assert bad != data
    err = io.StringIO()
    with EmbeddedStore(tmp_path / "store") as store:
        s = ingest(store, [_zip(tmp_path / "enc.zip", [(name, bad)])], progress=False, err=err, jobs=1, enrich=False)
    assert s.accepted == 1
    fields = [w.field for w in s.record_warnings]
    assert any(re.fullmatch(r".*organization(\[\d+\])?/address/city", f) for f in fields), fields
    assert "looks like UTF-8 read as iso-8859-1" in err.getvalue()
    # The same record correctly declared: no such warning.
    with EmbeddedStore(tmp_path / "store2") as store:
        s2 = ingest(store, [_zip(tmp_path / "ok.zip", [(name, data)])], progress=False, err=io.StringIO(), jobs=1, enrich=False)
    assert not [w for w in s2.record_warnings if "UTF-8" in w.message]


def test_zip_inside_zip_is_exit_2_naming_what_was_skipped(tmp_path):
    inner = _zip(tmp_path / "inner.zip", _real(2))
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as z:
        z.write(inner, "inner.zip")
    p = run_cli("ingest", str(outer), "--store", str(tmp_path / "s"), "--no-progress")
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert "inner.zip" in p.stderr and "zip inside a zip" in p.stderr
    assert "Traceback" not in p.stderr
