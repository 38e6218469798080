"""Issue 13: a first build writes everything into the staging copy and validates once over it (on
every core); ``ingest`` validates each batch against the store. Both must give the same verdict and
the same store, on the bundled data plus real records corrupted on purpose (tests/test_validate.py)
and a record no reader can read (tests/test_import.py)."""
from __future__ import annotations

import io
import json
import shutil
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
from lxml import etree

from collabkg import validation
from collabkg.importing import build
from collabkg.resources import bundled_inputs
from collabkg.store import EmbeddedStore

from test_validate import CORRUPTIONS, SAMPLES, _grant


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[Path]:
    """The bundled data, then the sample records again, the first ones each broken by one rule
    (each is also in the bundled zip: the later, broken version of a record is rejected and the
    earlier one stands), and one that is not XML at all."""
    folder = tmp_path_factory.mktemp("corrupted")
    for i, src in enumerate(SAMPLES):
        dst = folder / src.name
        if i < len(CORRUPTIONS):
            tree = etree.parse(str(src))
            CORRUPTIONS[i][1](tree.getroot())
            tree.write(str(dst), xml_declaration=True, encoding="UTF-8")
        elif i == len(CORRUPTIONS):
            text = src.read_text(encoding="utf-8")
            dst.write_text(text[: len(text) // 2], encoding="utf-8")  # malformed XML
        else:
            shutil.copy(src, dst)
    return [*bundled_inputs(), folder]


def _build(inputs, path: Path, once: bool, jobs: int):
    err = io.StringIO()
    validator = validation.ImportValidator(quarantine=path.with_suffix(".jsonl"))
    with EmbeddedStore(path) as store:
        summary = build(store, inputs, validate_once=once, progress=False, err=err, validator=validator, jobs=jobs)
        # blank nodes (the ontology's OWL lists) get new labels in every store: counted, not compared
        quads = Counter(str(q) if not isinstance(q.subject, ox.BlankNode) and not isinstance(q.object, ox.BlankNode) else "_:"
                        for q in store.quads())
    quarantined = Counter(json.loads(line)["record"] for line in Path(summary.quarantine).read_text(encoding="utf-8").splitlines())
    return summary, quads, quarantined, err.getvalue()


@pytest.fixture(scope="module")
def both(inputs, tmp_path_factory):
    """A first build (its spool loaded in parts of 4 MB, not one: the cuts between parts and the
    superseded versions of the corrupted records left out are compared too) and a per-batch one."""
    from collabkg.importing import first_build

    root = tmp_path_factory.mktemp("builds")
    part = first_build.LOAD_PART_BYTES
    first_build.LOAD_PART_BYTES = 4 << 20
    try:
        once = _build(inputs, root / "once", True, 2)
    finally:
        first_build.LOAD_PART_BYTES = part
    return once, _build(inputs, root / "batch", False, 2)


def test_the_corrupted_records_are_rejected_and_their_earlier_versions_kept(both):
    (summary, quads, quarantined, err), _ = both
    assert summary.rejected_records == len(CORRUPTIONS) + 1  # the nine broken by a rule, one unreadable
    assert len(quarantined) == len(CORRUPTIONS) + 1
    assert summary.adds_up()
    # every sample project is in the store, in its bundled (valid) version
    projects = {q.split()[0] for q in quads if "/id/project/" in q.split()[0]}
    assert quads["_:"] > 0 and len(quads) > 400_000
    for src in SAMPLES:
        assert any(p.endswith(f"/project/{_grant(src)}>") for p in projects), src.name
    assert "malformed XML" in err


def test_first_build_and_per_batch_validation_give_the_same_verdict(both):
    (once, _, q_once, err_once), (batch, _, q_batch, err_batch) = both
    key = lambda r: (r.file, r.record, r.field, r.message)  # noqa: E731
    assert sorted(map(key, once.rejected)) == sorted(map(key, batch.rejected))
    assert once.rejected_records == batch.rejected_records
    assert once.accepted == batch.accepted and len(once.duplicates) == len(batch.duplicates)
    assert once.warnings == batch.warnings
    assert sum(once.warnings.values()) > 1000  # real data has warnings: the comparison compares something
    assert q_once == q_batch
    assert sorted(err_once.splitlines()) == sorted(err_batch.splitlines())


def test_first_build_and_per_batch_validation_give_the_same_store(both):
    (_, once, _, _), (_, batch, _, _) = both
    assert len(once) > 400_000
    assert once == batch


def test_validation_on_one_core_gives_the_same_as_on_two(both):
    """The store-wide checks shared out to two worker processes (each work unit, a shape's own
    constraints or one of its property shapes, on one of them) find exactly what one process finds."""
    from collabkg.validation.engines import work_units
    from collabkg.validation.service import record_shapes

    # the node shapes' property shapes are shared out one by one (not only whole shapes)
    assert sum(len(work_units(s)) for s in record_shapes().targeted()) > 2 * len(record_shapes().targeted())
    (summary, _, _, _), _ = both
    with EmbeddedStore(summary.store, read_only=True) as store:
        two = validation.store_results(store, jobs=2)
        one = validation.store_results(store, jobs=1)
    assert len(one) > 1000
    assert two == one


@pytest.mark.parametrize("rejected", [True, False], ids=["one rejected", "none rejected"])
def test_enrichment_during_validation_gives_what_enrichment_after_it_gives(tmp_path, rejected):
    """A first build enriches while it validates and keeps that enrichment only if validation took
    nothing out. The sample records, the bundled OpenAlex works, and (``rejected``) a project found nowhere else (a real sample
    record under a new grant number, with two coordinators), which is rejected: neither its record
    nor the derived graphs (project-country shortcuts, themes) may name it. Either way the derived
    graphs are those enrichment gives anew over the built store."""
    from collabkg.importing import stages

    folder = tmp_path / "in"
    folder.mkdir()
    for src in SAMPLES:
        shutil.copy(src, folder / src.name)
    tree = etree.parse(str(SAMPLES[0]))
    root = tree.getroot()
    root.find("id").text = "999999901"
    CORRUPTIONS[0][1](root)  # two coordinators
    if rejected:
        tree.write(str(folder / "project-rejected.xml"), xml_declaration=True, encoding="UTF-8")
    err = io.StringIO()
    with EmbeddedStore(tmp_path / "store") as store:
        summary = build(store, [folder, *bundled_inputs()[1:]], progress=False, err=err, validator=validation.ImportValidator(quarantine=tmp_path / "q.jsonl"))
        assert summary.rejected_records == rejected and ("999999901" in err.getvalue()) == rejected
        named = [q for q in store.quads() if any(isinstance(t, ox.NamedNode) and t.value.endswith("/999999901")
                                                  for t in (q.subject, q.object))]
        assert not named, named[:3]
        derived = {g for g in store.graph_names() if any(f"/graph/{k}/" in g for k in ("derived", "themes", "links"))}
        before = {g: sorted(map(str, store.raw.quads_for_pattern(None, None, None, ox.NamedNode(g)))) for g in derived}
        assert len(before) == 5 and all(before.values()), {g: len(q) for g, q in before.items()}  # links, themes, shortcuts
        stages.enrich(store)
        assert before == {g: sorted(map(str, store.raw.quads_for_pattern(None, None, None, ox.NamedNode(g)))) for g in derived}


def test_enrichment_ahead_stops_at_its_next_read_once_cancelled(tmp_path):
    """Ctrl-C or a failure while a first build validates cancels the enrichment computed meanwhile:
    it stops at its next read, holding nothing, instead of running to its end (~9 s at x16) before
    the import can stop. The real store, whose first read waits until the test has cancelled."""
    import threading

    from collabkg.importing import stages

    folder = tmp_path / "in"
    folder.mkdir()
    for src in SAMPLES:
        shutil.copy(src, folder / src.name)

    class FirstReadWaits:
        def __init__(self, store):
            self.store, self.location, self.reads, self.go = store, store.location, 0, threading.Event()

        def query(self, *args, **kwargs):
            self.reads += 1
            if self.reads == 1:
                self.go.wait(600)
            return self.store.query(*args, **kwargs)

        def has_graph(self, graph):
            return self.store.has_graph(graph)

    with EmbeddedStore(tmp_path / "store") as store:
        build(store, [folder], progress=False, err=io.StringIO(), validator=validation.ImportValidator(quarantine=tmp_path / "q.jsonl"))
        slow = FirstReadWaits(store)
        ahead = stages.EnrichAhead(slow)
        ahead.cancel()
        slow.go.set()
        ahead.wait()
        assert isinstance(ahead._error, stages.Cancelled)
        assert slow.reads <= 1 and ahead._held._writes == []
        # Not cancelled, the same enrichment runs to its end and holds its writes.
        whole = stages.EnrichAhead(store)
        whole.wait()
        assert whole._error is None and whole._held._writes
