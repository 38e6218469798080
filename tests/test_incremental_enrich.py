"""``ingest`` into a store that holds records enriches incrementally (stages.enrich with ``changed``):
the derived graphs (themes, project-country pairs, the three link graphs) are exactly those of a
full recompute and of one import of everything, and only what the written graphs can change is
re-derived. Real data: slices of the bundled CORDIS zip (some under shifted grant numbers, one
entry with an organisation's country edited) and the bundled OpenAlex works."""
from __future__ import annotations

import io
import re
import zipfile

import pytest

from conftest import CORDIS_ZIP, OPENALEX_DIR
import collabkg.importing.stages as stages
from collabkg.importing import ingest
from collabkg.namespaces import CKG, COUNTRY, IRIs
from collabkg.store import EmbeddedStore
from test_import_enrich import OFFSET, _zip

IRI = IRIs()
PAIRS = IRI.graph("derived", "project-countries")
THEMES = IRI.graph("themes", "assignments")
ORG_LINKS = IRI.graph("links", "cordis-openalex")
CANDIDATES = IRI.graph("links", "cordis-openalex-candidates")
PERSONS = IRI.graph("links", "openalex-persons")
DERIVED = (PAIRS, THEMES, ORG_LINKS, CANDIDATES, PERSONS)
WORKS = sorted(OPENALEX_DIR.glob("*.json"))
N_ENTRIES = 1027


def derived(store) -> dict[str, set[tuple[str, str, str]]]:
    """The triples of each derived graph."""
    return {g: {(str(r["s"]), str(r["p"]), str(r["o"])) for r in store.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}")}
            for g in DERIVED}


def fully_recomputed(store) -> dict[str, set[tuple[str, str, str]]]:
    """The derived graphs after a full recompute (``enrich`` without ``changed``) on the same store."""
    stages.enrich(store, None)
    return derived(store)


@pytest.fixture
def enrich_stats(monkeypatch) -> list[dict]:
    """What each ``stages.enrich`` call of an ingest returned, and whether it was incremental."""
    calls: list[dict] = []
    real = stages.enrich

    def spy(store, base=None, changed=None):
        stats = real(store, base, changed)
        calls.append({"incremental": changed is not None, **stats})
        return stats

    monkeypatch.setattr(stages, "enrich", spy)
    return calls


def _ingest(store, paths):
    return ingest(store, paths, progress=False, err=io.StringIO(), jobs=1)


def test_ingest_after_a_build_equals_full_recompute_and_one_import(tmp_path, enrich_stats):
    # Half the projects first, then the rest with the OpenAlex works (institutions, persons: every
    # derivation has something new), versus everything in one import.
    with EmbeddedStore(tmp_path / "a") as store:
        _ingest(store, [_zip(tmp_path / "first.zip", 0, 500)])
        _ingest(store, [_zip(tmp_path / "rest.zip", 500, N_ENTRIES)] + WORKS)
        incremental = derived(store)
        full = fully_recomputed(store)
    with EmbeddedStore(tmp_path / "b") as store:
        _ingest(store, [_zip(tmp_path / "all.zip", 0, N_ENTRIES)] + WORKS)
        at_once = derived(store)
    assert [c["incremental"] for c in enrich_stats] == [False, True, False, False]  # 3rd: fully_recomputed
    for g in DERIVED:
        assert incremental[g] == full[g], g
        assert incremental[g] == at_once[g], g
    assert all(incremental[g] for g in DERIVED)  # real data: every graph holds something
    # The second ingest re-derived the pairs of its own projects (and of the first half's projects
    # sharing an organisation restated differently), not nothing.
    assert enrich_stats[1]["projects re-derived"] >= N_ENTRIES - 500 - 5


def _busiest_organisation(store) -> tuple[str, list[str]]:
    """The organisation with the most projects, and its projects."""
    rows = store.query(f"""SELECT ?o (GROUP_CONCAT(DISTINCT STR(?p); separator=" ") AS ?ps) WHERE {{
        ?x <{CKG}organisation> ?o ; <{CKG}project> ?p . ?o <{CKG}country> ?c }} GROUP BY ?o""")
    best = max(rows, key=lambda r: (len(r["ps"].value.split()), r["o"].value))
    return best["o"].value, sorted(best["ps"].value.split())


def _countries(store, project: str) -> set[str]:
    return {r["c"].value for r in store.query(f"SELECT ?c WHERE {{ GRAPH <{PAIRS}> {{ <{project}> <{CKG}participantCountry> ?c }} }}")}


def _edited_entry(tmp_path, pic: str, country: str) -> tuple[object, str]:
    """A zip of one bundled entry in which organisation ``pic``'s country is ``country``; and its grant."""
    with zipfile.ZipFile(CORDIS_ZIP) as src:
        for name in sorted(i.filename for i in src.infolist() if i.filename.endswith(".xml"))[:300]:
            d = src.read(name).decode("utf-8")
            at = d.find(f"<id>{pic}</id>")
            if at < 0:
                continue
            m = re.compile(r"<country>[^<]*</country>").search(d, at)
            d = d[: m.start()] + f"<country>{country}</country>" + d[m.end():]
            path = tmp_path / "edited.zip"
            with zipfile.ZipFile(path, "w") as dst:
                dst.writestr(name, d)
            return path, re.search(r"<id>(\d+)</id>", d).group(1)
    raise AssertionError(f"no entry names organisation {pic}")


def test_ingest_rederives_only_what_changed(tmp_path, enrich_stats):
    with EmbeddedStore(tmp_path / "s") as store:
        _ingest(store, [_zip(tmp_path / "base.zip", 0, 300)] + WORKS)
        n_projects = len(list(store.query(f"SELECT ?p WHERE {{ ?p a <{CKG}Project> }}")))
        before = derived(store)

        # New projects (shifted grant numbers), CORDIS only: their pairs and themes appear; the
        # organisation links are re-derived for the organisations restated differently only.
        _ingest(store, [_zip(tmp_path / "new.zip", 0, 60, OFFSET)])
        stats = enrich_stats[-1]
        assert stats["incremental"]
        assert 60 <= stats["projects re-derived"] < n_projects / 2
        assert 0 <= stats["organisations re-linked"] < 60
        after = derived(store)
        new = {s for s, _, _ in after[PAIRS] - before[PAIRS]}
        assert len({p for p in new if int(p.rstrip(">").rsplit("/", 1)[1]) > OFFSET}) == 60  # every new project has pairs
        assert {s for s, _, _ in after[THEMES]} > {s for s, _, _ in before[THEMES]}  # and the new ones themes
        assert after == fully_recomputed(store)

        # One entry again with an organisation's country edited: the pairs of every project of that
        # organisation move, though only that one record was written.
        org, projects = _busiest_organisation(store)
        assert len(projects) >= 3
        pic = org.rsplit("/", 1)[1]
        old = {c for p in projects for c in _countries(store, p)}
        country = next(c for c in ("IS", "MT", "CY", "LU", "NZ") if COUNTRY + c not in old)
        path, grant = _edited_entry(tmp_path, pic, country)
        _ingest(store, [path])
        stats = enrich_stats[-1]
        assert stats["incremental"]
        assert len(projects) <= stats["projects re-derived"] < n_projects / 2  # not everything
        assert 1 <= stats["organisations re-linked"] < 60
        others = [p for p in projects if not p.endswith("/" + grant)]
        assert others and all(COUNTRY + country in _countries(store, p) for p in others)
        assert derived(store) == fully_recomputed(store)


def test_an_ingest_that_did_not_enrich_leaves_the_next_one_deriving_everything(tmp_path, enrich_stats):
    """An ingest stopped after its writes (as by kill -9; here: run without enrichment) leaves the
    derived graphs stale. Its re-run writes nothing new (every graph is as stored), so only the
    marker beside the store can tell the next ingest to derive them whole."""
    with EmbeddedStore(tmp_path / "store") as store:
        _ingest(store, [_zip(tmp_path / "first.zip", 0, 100)])
        new = _zip(tmp_path / "new.zip", 0, 40, OFFSET)
        ingest(store, [new], progress=False, err=io.StringIO(), jobs=1, enrich=False)
        assert stages.stale_marker(store).exists()
        stale = derived(store)
        _ingest(store, [new])  # the same records again: their graphs are unchanged
        again = derived(store)
        assert not stages.stale_marker(store).exists()
        full = fully_recomputed(store)
    assert [c["incremental"] for c in enrich_stats] == [False, False, False]  # the re-run derived whole
    assert stale[PAIRS] != full[PAIRS]  # the 40 new projects had no pairs before the re-run
    for g in DERIVED:
        assert again[g] == full[g], g


def test_an_organisation_changed_and_restated_as_before_in_one_ingest_is_no_change(tmp_path, monkeypatch):
    """Three new projects in one ingest, written one batch each, describe an organisation as the
    store holds it, then with another country, then as the store holds it again: its graph ends as
    it was, so enrichment does not count it as changed (Writer.settle), and the derived graphs still
    equal a full recompute."""
    import collabkg.importing.run as run

    with EmbeddedStore(tmp_path / "s") as store:
        _ingest(store, [_zip(tmp_path / "base.zip", 0, 300)])
        org, _ = _busiest_organisation(store)
        pic = org.rsplit("/", 1)[1]
        graph = IRI.entity_graph("cordis", "organisation", pic)
        with zipfile.ZipFile(CORDIS_ZIP) as src:  # the last entry naming it: its description is the stored one
            entry = [d for d in (src.read(n).decode("utf-8") for n in sorted(i.filename for i in src.infolist()
                     if i.filename.endswith(".xml"))[:300]) if f"<id>{pic}</id>" in d][-1]
        at = entry.find(f"<id>{pic}</id>")
        m = re.compile(r"<country>([^<]*)</country>").search(entry, at)
        other = next(c for c in ("IS", "MT", "CY", "LU") if c != m.group(1))
        edited = entry[: m.start()] + f"<country>{other}</country>" + entry[m.end():]
        path = tmp_path / "again.zip"
        with zipfile.ZipFile(path, "w") as dst:
            for k, d in enumerate((entry, edited, entry), start=1):
                shifted = re.sub(r"<id>(\d+)</id>", lambda g: f"<id>{int(g.group(1)) + k * OFFSET}</id>", d, count=1)
                dst.writestr(f"{k}.xml", shifted)
        seen: list[set[str] | None] = []
        real = stages.enrich

        def spy(store, base=None, changed=None):
            seen.append(set(changed.graphs) if changed is not None else None)
            return real(store, base, changed)

        monkeypatch.setattr(stages, "enrich", spy)
        monkeypatch.setattr(run, "BATCH_RECORDS", 1)
        summary = _ingest(store, [path])
        assert summary.accepted == 3 and seen[-1] is not None
        assert graph not in seen[-1]
        grant = int(re.search(r"<id>(\d+)</id>", entry).group(1))
        assert {IRI.graph("cordis", str(grant + k * OFFSET)) for k in (1, 2, 3)} <= seen[-1]  # the new projects are changes
        assert derived(store) == fully_recomputed(store)
