"""The collaboration report: built from the bundled data; every table equals its stored query's
answer; headless Chromium opens it from disk without console errors or broken images, and takes
a screenshot (build/test-artifacts/report-screenshot.png) for a person to look at."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from collabkg import catalogue
from collabkg.commands.report import chromium_flags
from collabkg.report import build_report
from conftest import ROOT, require_tool

ARTIFACTS = Path(os.environ.get("COLLABKG_TEST_ARTIFACTS", ROOT / "build" / "test-artifacts"))


class Page(HTMLParser):
    """Tables (attributes, rows of cell texts), images, figure captions, external references."""

    def __init__(self):
        super().__init__()
        self.tables, self.images, self.captions, self.refs = [], [], [], []
        self._row = self._cell = self._cap = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables.append({"attrs": a, "rows": []})
        elif tag == "tr" and self.tables:
            self._row = []
        elif tag == "td":
            self._cell = []
        elif tag == "img":
            self.images.append(a)
        elif tag == "figcaption":
            self._cap = []
        for key in ("src", "href"):
            if key in a and not a[key].startswith("#"):
                self.refs.append(a[key])

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row:
            self.tables[-1]["rows"].append(self._row)
            self._row = None
        elif tag == "figcaption":
            self.captions.append("".join(self._cap))
            self._cap = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._cap is not None:
            self._cap.append(data)


@pytest.fixture(scope="module")
def report(built_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    index = build_report(built_store, out)
    page = Page()
    page.feed(index.read_text(encoding="utf-8"))
    return index, page


def _oic(store) -> set[str]:
    rows = store.query("SELECT ?c WHERE { ?x <https://w3id.org/collabkg/ontology#memberOf> "
                       "<https://w3id.org/collabkg/org/OIC> ; <https://w3id.org/collabkg/ontology#iso2> ?c }")
    return {r["c"].value for r in rows}


def _shown_equals(shown: str, plain: str) -> bool:
    """A cell shows the plain value; numbers with thousands separators, codes with a name after."""
    shown = shown.strip()
    return shown == plain or shown.replace(",", "") == plain or shown.startswith(plain + " (")


def test_every_table_equals_its_stored_query(report, built_store):
    _, page = report
    oic = _oic(built_store)
    assert len(page.tables) > 20
    for t in page.tables:
        name, params, mode = t["attrs"]["data-query"], json.loads(t["attrs"]["data-params"]), t["attrs"]["data-rows"]
        result = catalogue.run(name, built_store, {k: str(v) for k, v in params.items()})
        answer, records = result.plain_rows(), result.records()
        if mode.startswith("oic"):
            answer = [a for a, r in zip(answer, records) if {r.get("country"), r.get("country_a"), r.get("country_b")} & oic]
        m = re.search(r"first (\d+)$", mode)
        if m:
            answer = answer[: int(m.group(1))]
        assert len(t["rows"]) == len(answer), (name, params, mode)
        for shown, want in zip(t["rows"], answer):
            assert len(shown) == len(want)
            assert all(_shown_equals(s, w) for s, w in zip(shown, want)), (name, params, shown, want)


def test_every_figure_names_its_query_and_every_image_exists(report):
    index, page = report
    assert len(page.images) >= 15
    assert len(page.captions) == len(page.images)
    names = set(catalogue.catalogue())
    for cap in page.captions:
        m = re.match(r"stored query (\S+) \(", cap.strip())
        assert m and m.group(1) in names, cap
    for img in page.images:
        png = index.parent / img["src"]
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", img["src"]
        assert img.get("alt")
    # Opens from disk: every reference is a relative file of the report folder.
    for ref in page.refs:
        assert "://" not in ref and not ref.startswith("//"), ref
        assert (index.parent / ref).is_file(), ref


def test_data_date_and_licences_are_stated(report):
    text = report[0].read_text(encoding="utf-8")
    assert "CC BY 4.0" in text and "CC0" in text and "2025-12-06" in text


# Appended to a copy of the page: records load errors (a broken image fires 'error') and
# script errors, then writes the verdict into the DOM that --dump-dom prints.
_CHECK = """<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(e.target && e.target.src ? 'load ' + e.target.src : String(e.message)), true);
window.addEventListener('load', () => {
  for (const img of document.images) if (!(img.complete && img.naturalWidth > 0)) window.__errors.push('broken ' + img.src);
  const p = document.createElement('pre'); p.id = 'check-result';
  p.textContent = JSON.stringify({images: document.images.length, errors: window.__errors});
  document.body.appendChild(p);
});
</script>"""


def test_chromium_loads_the_page_without_errors_and_takes_a_screenshot(report, tmp_path):
    chromium = require_tool("chromium", "chromium")
    index, page = report
    copy = tmp_path / "copy"
    shutil.copytree(index.parent, copy)
    checked = copy / "checked.html"
    checked.write_text(index.read_text(encoding="utf-8").replace("</body>", _CHECK + "</body>"), encoding="utf-8")
    flags = chromium_flags(str(tmp_path / "profile"))
    dom = subprocess.run([chromium, *flags, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
                          "--dump-dom", checked.as_uri()], capture_output=True, text=True, timeout=180)
    m = re.search(r'<pre id="check-result">(.*?)</pre>', dom.stdout)
    assert m, dom.stderr[-2000:]
    result = json.loads(m.group(1).replace("&quot;", '"'))
    assert result == {"images": len(page.images), "errors": []}
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line]
    assert console == []
    # The screenshot of the untouched page, kept for a person to look at.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report-screenshot.png"
    shot.unlink(missing_ok=True)
    proc = subprocess.run([chromium, *chromium_flags(str(tmp_path / "profile2")), "--window-size=1280,6000",
                           f"--screenshot={shot}", index.as_uri()], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", proc.stderr[-2000:]
    print(f"\nscreenshot of the report: {shot}")


def test_report_command_writes_the_page(built_store_path, tmp_path):
    from conftest import run_cli

    proc = run_cli("report", "--store", str(built_store_path), "--out", str(tmp_path / "r"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "r" / "index.html").is_file()
    bad = run_cli("report", "--store", str(built_store_path), "--out", str(tmp_path / "r"), "--format", "docx")
    assert bad.returncode == 2
