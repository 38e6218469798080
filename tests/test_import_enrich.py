"""``ingest`` enriches what it adds (issue 14 item 10): projects ingested into a store that already
holds records get their themes, like the same projects imported first."""
from __future__ import annotations

import io
import re
import zipfile

from conftest import CORDIS_ZIP
from collabkg.importing import ingest
from collabkg.namespaces import CKG
from collabkg.store import EmbeddedStore

OFFSET = 7_000_000_000


def _zip(path, n0, n1, offset=0):
    with zipfile.ZipFile(CORDIS_ZIP) as src, zipfile.ZipFile(path, "w") as dst:
        for name in sorted(i.filename for i in src.infolist() if i.filename.endswith(".xml"))[n0:n1]:
            d = src.read(name)
            if offset:
                d = re.sub(rb"<id>(\d+)</id>", lambda m: b"<id>%d</id>" % (int(m.group(1)) + offset), d, count=1)
                d = re.sub(rb"<grantDoi>10\.3030/(\d+)</grantDoi>", lambda m: b"<grantDoi>10.3030/%d</grantDoi>" % (int(m.group(1)) + offset), d, count=1)
            dst.writestr(name, d)
    return path


def _themes(store) -> dict[int, int]:
    rows = store.query(f"SELECT ?g (COUNT(?t) AS ?n) WHERE {{ ?p <{CKG}grantNumber> ?g ; <{CKG}theme> ?t }} GROUP BY ?g")
    return {int(r["g"].value): int(r["n"].value) for r in rows}


def test_ingested_projects_get_their_themes(tmp_path):
    with EmbeddedStore(tmp_path / "store") as store:
        first = ingest(store, [_zip(tmp_path / "a.zip", 0, 40)], progress=False, err=io.StringIO(), jobs=1)
        before = _themes(store)
        assert first.accepted == 40 and sum(before.values()) > 10  # real projects, themed
        # The same projects again, under new grant numbers: ingested into a store that holds records.
        ingest(store, [_zip(tmp_path / "b.zip", 0, 40, OFFSET)], progress=False, err=io.StringIO(), jobs=1)
        after = _themes(store)
    added = {g - OFFSET: n for g, n in after.items() if g > OFFSET}
    assert added == before
    assert {g: n for g, n in after.items() if g < OFFSET} == before
