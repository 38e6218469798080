"""An organisation element is read once per distinct description in a process
(``_ProjectReader.described_organisation``): partners recur across projects. The value must be
what reading it afresh gives, a description that differs in anything must be read anew, and a
warning about it is said for every participation, under that participation's own field path.

Real data: two projects of the bundled CORDIS zip that share a partner.
"""
from __future__ import annotations

import re
import zipfile
from collections import defaultdict

import pytest
from lxml import etree

from conftest import CORDIS_ZIP
from collabkg.sources import cordis_xml
from collabkg.sources.cordis_xml import parse_file


def _orgs(root):
    return list(root.iterfind("relations/associations/organization"))


@pytest.fixture(scope="module")
def shared_partner():
    """(entry A, bytes, entry B, bytes, PIC): a partner at different positions in A and B."""
    where = defaultdict(list)
    with zipfile.ZipFile(CORDIS_ZIP) as z:
        names = sorted(n for n in z.namelist() if n.endswith(".xml"))[:300]
        data = {n: z.read(n) for n in names}
    for n in names:
        for i, o in enumerate(_orgs(etree.fromstring(data[n])), start=1):
            where[o.findtext("id").strip()].append((n, i))
    for pic, seen in where.items():
        if len(seen) >= 2 and seen[0][1] != seen[1][1] and seen[0][0] != seen[1][0]:
            (a, _), (b, _) = seen[:2]
            return a, data[a], b, data[b], pic
    pytest.fail("no partner shared by two projects at different positions in the first 300 entries")


def _with(data: bytes, pic: str, edit) -> bytes:
    root = etree.fromstring(data)
    for o in _orgs(root):
        if o.findtext("id").strip() == pic:
            edit(o)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _org(rec, pic):
    return next(p.organisation for p in rec.record.participations if p.organisation.pic == pic)


def _fresh(name, data):
    cordis_xml._DESCRIBED.clear()
    return parse_file("cordis.zip", name, data)


def test_a_shared_partner_is_read_once_and_as_read_afresh(shared_partner):
    a, da, b, db, pic = shared_partner
    expected_b = _fresh(b, db)
    cordis_xml._DESCRIBED.clear()
    ra, rb = parse_file("cordis.zip", a, da), parse_file("cordis.zip", b, db)
    same = _org(ra, pic) == _org(expected_b, pic)
    # Read once when the two descriptions are the same; the value is the one read afresh either way.
    assert (_org(rb, pic) is _org(ra, pic)) == same
    assert rb.record == expected_b.record


def test_a_description_that_differs_is_read_anew(shared_partner):
    a, da, b, db, pic = shared_partner

    def rename(o):
        o.find("legalName").text = "A DIFFERENT LEGAL NAME"

    db2 = _with(db, pic, rename)
    cordis_xml._DESCRIBED.clear()
    parse_file("cordis.zip", a, da)
    rb = parse_file("cordis.zip", b, db2)
    assert _org(rb, pic).legal_name == "A DIFFERENT LEGAL NAME"
    assert rb.record == _fresh(b, db2).record


def test_a_warning_is_said_for_each_participation_under_its_own_field(shared_partner):
    a, da, b, db, pic = shared_partner
    desc_a = etree.tostring(next(o for o in _orgs(etree.fromstring(da)) if o.findtext("id").strip() == pic))

    def territory(o):  # the same description in both: A's, with a country outside ISO 3166-1
        new = etree.fromstring(desc_a)
        for k, v in o.attrib.items():  # the participation's own attributes stay B's
            new.set(k, v)
        new.find("address/country").text = "XH"
        o.getparent().replace(o, new)

    da2, db2 = _with(da, pic, territory), _with(db, pic, territory)
    cordis_xml._DESCRIBED.clear()
    ra, rb = parse_file("cordis.zip", a, da2), parse_file("cordis.zip", b, db2)
    assert _org(rb, pic) is _org(ra, pic)  # read once
    for rec, data in ((ra, da2), (rb, db2)):
        i = next(i for i, o in enumerate(_orgs(etree.fromstring(data)), start=1) if o.findtext("id").strip() == pic)
        said = [str(w) for w in rec.warnings if "XH" in w.message]
        assert said == [s for s in said if re.match(rf"cordis\.zip:{rec.record_id}:organization\[{i}\]/address/country: warning:", s)]
        assert len(said) == 1
        assert [str(w) for w in rec.warnings] == [str(w) for w in _fresh(rec.extra["entry"], data).warnings]
