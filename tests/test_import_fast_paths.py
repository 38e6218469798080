"""The importer's byte paths give what the term-object paths give: validation of the workers'
N-Triples bytes reports what validation of the mapper's triples reports, and a write into a store
that already holds some of the graphs leaves exactly the new content (both on real records)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from lxml import etree

from collabkg.importing import stages
from collabkg.namespaces import CKG, IRIs
from collabkg.records import SourceRecord
from collabkg.store import EmbeddedStore
from collabkg.validation import validate_batch
from collabkg.validation.results import Result
from collabkg.validation.service import map_for_validation

from conftest import XML_SAMPLE

SAMPLES = sorted(XML_SAMPLE.glob("*.xml"))
NT = ox.RdfFormat.N_TRIPLES


def _corrupt(folder: Path) -> Path:
    """The sample files, one with a negative total cost (a violation), one naming a stored
    organisation by another legal name (a warning from the store's context), one twice in a row
    (an organisation described by two records of the batch)."""
    for i, src in enumerate(SAMPLES):
        tree = etree.parse(str(src))
        root = tree.getroot()
        if i == 0:
            root.find("totalCost").text = "-1"
        if i == 1:
            name = root.find("relations/associations/organization/legalName")
            name.text = name.text + " RENAMED"
        tree.write(str(folder / src.name), xml_declaration=True, encoding="UTF-8")
    shutil.copy(SAMPLES[2], folder / ("z-again-" + SAMPLES[2].name))
    return folder


def _by_record(reports):
    return [(r.record, sorted(r.results, key=Result.sort_key)) for r in reports]


def test_worker_bytes_validate_as_the_mappers_triples(tmp_path, built_store):
    folder = _corrupt(tmp_path)
    jobs = list(stages.plan([folder]))
    records: list[SourceRecord] = [r for j in jobs for r in stages.read(j)]
    mapped = [m for j in jobs for m in stages.read_and_map(j).items]
    assert len(records) == len(mapped) == len(SAMPLES) + 1
    assert all(isinstance(m, stages.Mapped) for m in mapped)

    from_bytes = validate_batch([stages.validation_item(m) for m in mapped], built_store)
    from_triples = validate_batch(list(map_for_validation(records, IRIs())), built_store)

    assert _by_record(from_bytes) == _by_record(from_triples)
    violations = {r.record for r in from_bytes if r.violations}
    assert violations == {records[0].record_id}
    renamed = next(r for r in from_bytes if r.record == records[1].record_id)  # its name and the store's: two
    assert any(x.path == f"<{CKG}legalName>" and x.component == "MaxCountConstraintComponent" for x in renamed.results)


def _quads(store: EmbeddedStore) -> set[str]:
    return {str(q) for q in store.quads()}


def _graph_lines(store: EmbeddedStore, graph: str) -> list[bytes]:
    return store.raw.dump(format=NT, from_graph=ox.NamedNode(graph)).splitlines(keepends=True)


@pytest.mark.parametrize("path", ["ntriples", "terms"])
def test_a_write_over_stored_graphs_leaves_exactly_the_new_content(tmp_path, built_store_path, path):
    shutil.copytree(built_store_path, tmp_path / "store")
    with EmbeddedStore(tmp_path / "store") as store:
        orgs = sorted(g for g in store.graph_names() if "/graph/cordis/organisation/" in g)[:3]
        same, changed, emptied = orgs
        old_changed = _graph_lines(store, changed)
        city = next(line for line in old_changed if b"#city>" in line)
        new_changed = [line for line in old_changed if line != city][1:] + [city.replace(b'" .', b' (renamed)" .')]
        fresh = IRIs().entity_graph("cordis", "organisation", "000000001")
        fresh_lines = [line.replace(b"\n", b"") for line in old_changed[:2]]
        vocab = IRIs().graph("cordis", "vocabulary")
        graphs = {
            same: b"".join(reversed(_graph_lines(store, same))),  # the same triples in another order
            changed: b"".join(new_changed),
            emptied: b"",
            fresh: b"".join(line + b"\n" for line in fresh_lines),
        }
        add = {vocab: old_changed[-1]}
        before = _quads(store)

        if path == "ntriples":
            written = store.replace_graphs_ntriples(graphs, add)
        else:
            parsed = lambda nt: [q.triple for q in ox.parse(nt, format=NT)]  # noqa: E731
            written = store.replace_graphs([(g, parsed(nt)) for g, nt in graphs.items()], [(g, parsed(nt)) for g, nt in add.items()])
        after = _quads(store)

    def as_quads(graph: str, nt: bytes) -> set[str]:
        return {str(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(graph))) for t in (q.triple for q in ox.parse(nt, format=NT))}

    replaced = {q for q in before if any(q.endswith(f"<{g}>") for g in (changed, emptied))}
    expected = (before - replaced) | as_quads(changed, graphs[changed]) | as_quads(fresh, graphs[fresh]) | as_quads(vocab, add[vocab])
    assert written == sum(nt.count(b"\n") for nt in [*graphs.values(), *add.values()])
    assert after == expected
    assert after != before and not any(q.endswith(f"<{emptied}>") for q in after)
    assert any(q.endswith(f"<{fresh}>") for q in after)


def test_the_triple_count_is_the_named_graphs_count(tmp_path, built_store_path):
    shutil.copytree(built_store_path, tmp_path / "store")
    count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    with EmbeddedStore(tmp_path / "store") as store:
        n = store.count_triples()
        assert n == int(next(iter(store.query(count)))["n"].value) > 1000
        first = next(iter(store.quads()))
        store.raw.add(ox.Quad(first.subject, first.predicate, first.object))  # the default graph counts not
        assert store.count_triples() == n


@pytest.mark.parametrize("ontology_first", [True, False])
def test_a_bulk_load_in_pieces_side_by_side_gives_the_same_dataset(tmp_path, built_store, ontology_first):
    """A first build loads each part in one piece per core. Oxigraph renames blank nodes per load,
    so the ontology's OWL lists (blank nodes) must stay in one piece: the same quads and the
    same blank nodes as one load of everything."""
    from collabkg.store import ONTOLOGY_GRAPH, _line_pieces

    nq = built_store.raw.dump(format=ox.RdfFormat.N_QUADS)
    lines = nq.splitlines(keepends=True)
    ontology = b"".join(line for line in lines if f"<{ONTOLOGY_GRAPH}".encode() in line.rsplit(b" ", 2)[-2])
    records = b"".join(line for line in lines if f"<{ONTOLOGY_GRAPH}".encode() not in line.rsplit(b" ", 2)[-2])
    assert b"_:" in ontology and b"_:" not in records
    data = ontology + records if ontology_first else records + ontology
    pieces = _line_pieces(data, 3)
    assert b"".join(pieces) == data and b"_:" not in b"".join(pieces[1:])
    assert len(pieces) == 3 if ontology_first else len(pieces) < 3

    one = ox.Store()
    one.load(data, format=ox.RdfFormat.N_QUADS)
    with EmbeddedStore(tmp_path / "store") as store:
        with store.staged():
            store.bulk_load_nquads(data, threads=3)
        quads = list(store.raw)

    def blank_nodes(qs) -> int:
        return len({t for q in qs for t in (q.subject, q.object) if isinstance(t, ox.BlankNode)})

    assert len(quads) == len(one) > 400_000
    assert blank_nodes(quads) == blank_nodes(one) > 0
    lists = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?l <http://www.w3.org/1999/02/22-rdf-syntax-ns#rest>* ?r } }"
    with EmbeddedStore(tmp_path / "store", read_only=True) as store:
        assert int(next(iter(store.query(lists)))["n"].value) == int(next(iter(one.query(lists, use_default_graph_as_union=True)))["n"].value)


def test_a_graph_named_twice_in_one_write_gets_both_contents(tmp_path, built_store_path):
    """replace_graphs with one graph twice (as two records describing one entity in one batch
    could): the graph ends with the union of both, the triples it held and neither names gone."""
    shutil.copytree(built_store_path, tmp_path / "store")
    with EmbeddedStore(tmp_path / "store") as store:
        g = sorted(gr for gr in store.graph_names() if "/graph/cordis/organisation/" in gr)[0]
        old = [q.triple for q in store.quads(g)]
        assert len(old) > 4
        first, second = old[: len(old) // 2], old[len(old) // 2 : -1]  # the last triple in neither
        store.replace_graphs([(g, first), (g, second)])
        assert {str(q.triple) for q in store.quads(g)} == {str(t) for t in first + second}


def test_a_batch_validated_while_the_one_before_is_written_sees_the_store_as_after_it(tmp_path, built_store_path):
    """The importer validates a batch while the batch before it is still being written (against the
    store as it will be after that write): the results are those of validating after the write.
    Here the earlier batch renames a stored organisation, and the later one (another project naming
    the organisation) states its old name: two names for one PIC only once the rename is in."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    tree = etree.parse(str(SAMPLES[0]))
    name = tree.getroot().find("relations/associations/organization/legalName")
    old_name = name.text
    name.text = old_name + " RENAMED"
    tree.write(str(a / SAMPLES[0].name), xml_declaration=True, encoding="UTF-8")
    tree = etree.parse(str(SAMPLES[0]))
    tree.getroot().find("id").text = "999000001"  # another project, the organisation under its stored name
    tree.write(str(b / SAMPLES[0].name), xml_declaration=True, encoding="UTF-8")
    earlier, later = ([m for j in stages.plan([d]) for m in stages.read_and_map(j).items] for d in (a, b))
    items = [stages.validation_item(m) for m in later]
    shutil.copytree(built_store_path, tmp_path / "store")
    with EmbeddedStore(tmp_path / "store") as store:
        pending = stages.prepare_write(earlier, set())
        during = _by_record(validate_batch(items, store, pending=pending))
        before = _by_record(validate_batch(items, store))
        stages.write(pending, store)
        after = _by_record(validate_batch(items, store))
    assert during == after
    assert during != before  # the pending write decides here

    def two_names(results) -> bool:
        return any(x.path == f"<{CKG}legalName>" and x.component == "MaxCountConstraintComponent" for _, rs in results for x in rs)

    assert two_names(after) and not two_names(before)
