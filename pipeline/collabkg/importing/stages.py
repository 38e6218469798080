"""The stages of an import, each a function with one job: read → map → validate → write → enrich.

``read`` and ``map`` run together in worker processes (:func:`read_and_map`, one :class:`Job` at a
time); what they hand back is plain data: a :class:`Mapped` record (N-Triples bytes per graph) or a
:class:`~collabkg.records.RecordError` value. ``validate``, ``write`` and ``enrich`` run in the
importing process, which holds the store.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator, NamedTuple

import pyoxigraph as ox

import collabkg.linking as linking
import collabkg.shortcuts as shortcuts
import collabkg.sources as sources
import collabkg.themes as themes
from collabkg.mapping import map_ntriples
from collabkg.namespaces import CKG, IRIs
from collabkg.records import RecordError, RecordWarning, SourceRecord
from collabkg.sources import InputError, cordis_xml
from collabkg.validation.batch import NTriplesRecord

NT = ox.RdfFormat.N_TRIPLES
NQ = ox.RdfFormat.N_QUADS
CHUNK = 32  # records per job: small enough to balance the cores, big enough to amortise a hand-off


# --- plan: which jobs an import is made of --------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """A unit of reading: one input file, or a slice of a zip's entries / a folder's files."""

    path: str
    fmt: str
    names: tuple[str, ...] = ()  # zip entries or file names in the folder ``path``; () = all of ``path``
    base: str | None = None


def plan(paths, base: str | None = None) -> Iterator[Job | str]:
    """The jobs for ``paths``, in input order; an input that cannot be read at all is a message."""
    for path in map(Path, paths):
        try:
            fmt = sources.detect(path)
            if fmt == "cordis-xml" and path.is_dir():
                xml = [p.name for p in sorted(path.iterdir()) if p.suffix.lower() == ".xml"]
                yield from _slices(str(path), fmt, xml, base)
                for p in sorted(path.iterdir()):
                    if p.suffix.lower() == ".zip":
                        yield from _slices(str(p), fmt, cordis_xml.zip_entries(p), base)
            elif fmt == "cordis-xml" and path.suffix.lower() != ".xml":
                yield from _slices(str(path), fmt, cordis_xml.zip_entries(path), base)
            elif path.is_dir():
                for p in sorted(path.iterdir()):
                    if p.is_file() and not p.name.startswith(".") and sources._known_suffix(p):
                        yield Job(str(path), fmt, (p.name,), base)
            else:
                yield Job(str(path), fmt, (), base)
        except InputError as e:
            yield str(e)
        except OSError as e:
            yield f"{path}: cannot read: {e.strerror or e}"


def _slices(path: str, fmt: str, names: list[str], base) -> Iterator[Job]:
    for i in range(0, len(names), CHUNK):
        yield Job(path, fmt, tuple(names[i : i + CHUNK]), base)


# --- read ------------------------------------------------------------------------------------------


def read(job: Job) -> Iterator[SourceRecord | RecordError]:
    """The records of one job, as the source yields them (a problem is a RecordError value)."""
    path = Path(job.path)
    if not job.names:
        yield from sources.read(path, job.fmt)
    elif job.fmt == "cordis-xml" and path.is_file():
        yield from cordis_xml.read_zip_entries(job.path, list(job.names))
    else:
        for name in job.names:
            yield from sources.read(path / name, job.fmt)


# --- map -------------------------------------------------------------------------------------------


class Mapped(NamedTuple):
    """A mapped record as plain data: N-Triples bytes for its own graph, for each entity graph it
    describes (the latest record describing an entity wins), and for the shared vocabulary."""

    source: str
    file: str
    record_id: str
    entry: str | None
    graph: str
    own: bytes
    entities: tuple[tuple[str, bytes], ...]
    vocab_graph: str
    vocab: bytes
    warnings: tuple[RecordWarning, ...]

    @property
    def where(self) -> str:
        return f"{self.file}:{self.entry}" if self.entry else self.file


@lru_cache(maxsize=8)
def _iris(base: str | None) -> IRIs:
    return IRIs(base)


@lru_cache(maxsize=65536)
def _entity_graph(iris: IRIs, source: str, key: tuple[str, str]) -> str:
    # Shared entities recur in many records: their graph IRIs are minted once per process.
    return iris.entity_graph(source, *key)


def map_one(rec: SourceRecord, iris: IRIs) -> Mapped | RecordError:
    """Map one record to plain data, or say why it cannot be mapped."""
    try:
        g = map_ntriples(rec, iris)
        return Mapped(
            rec.source, rec.file, rec.record_id, rec.extra.get("entry"), iris.graph(rec.source, rec.record_id),
            "".join(g.own).encode(),
            tuple((_entity_graph(iris, rec.source, key), data) for key, data in g.entity_data()),
            iris.graph(rec.source, "vocabulary"), "".join(g.vocab).encode(), tuple(rec.warnings),
        )
    except (ValueError, TypeError) as e:  # a value that cannot become a valid RDF term
        return RecordError(rec.file, rec.record_id, "-", f"cannot map record: {e}")


class JobResult(NamedTuple):
    items: tuple  # Mapped | RecordError, in source order
    read_seconds: float
    map_seconds: float
    input_error: str | None


def read_and_map(job: Job) -> JobResult:
    """The worker's task: read one job and map its records (plain data in, plain data out)."""
    iris = _iris(job.base)
    items, t_read, t_map, error = [], 0.0, 0.0, None
    it = read(job)
    try:
        while True:
            t0 = time.perf_counter()
            item = next(it, None)
            t1 = time.perf_counter()
            t_read += t1 - t0
            if item is None:
                break
            if isinstance(item, RecordError):
                items.append(item)
                continue
            items.append(map_one(item, iris))
            t_map += time.perf_counter() - t1
    except InputError as e:
        error = str(e)
    except OSError as e:
        error = f"{job.path}: cannot read: {e.strerror or e}"
    return JobResult(tuple(items), t_read, t_map, error)


# --- validate ----------------------------------------------------------------------------------------


def validation_item(m: Mapped) -> tuple[SourceRecord, str, NTriplesRecord]:
    """A mapped record in the shape the validator takes: (record, graph IRI, its N-Triples bytes:
    the validator loads them as they are, without a Python object per triple)."""
    rec = SourceRecord(m.source, m.file, m.record_id, None, extra={"entry": m.entry})
    return rec, m.graph, NTriplesRecord(m.own, m.entities, m.vocab)


def validate(batch: list[Mapped], store, validator, pending: Write | None = None
             ) -> tuple[list[Mapped], dict[str, list[RecordError]], Counter]:
    """Check a batch against the shapes (with what the store holds as context, as it will be once
    the ``pending`` write is done): the records that may go in, the rejected ones with their
    reasons, and warning counts."""
    if validator is None or not batch:
        return batch, {}, Counter()
    items = [validation_item(m) for m in batch]
    rejected, warnings = validator(items, store, pending)
    return [m for m in batch if m.record_id not in rejected], rejected, warnings


# --- write -------------------------------------------------------------------------------------------


class Write(NamedTuple):
    """What one batch writes, whole or not at all: each graph's new content (replacing what the
    graph held) and lines added to add-only graphs (the shared vocabulary), as N-Triples bytes."""

    graphs: dict[str, bytes]
    add: dict[str, bytes]


def prepare_write(batch: list[Mapped], vocab_written: set[bytes], changes: Changes | None = None) -> Write:
    """A batch's :class:`Write`: each record's graph and the entity graphs it describes (the
    latest record describing an entity wins), and the vocabulary lines not written yet in this import."""
    graphs: dict[str, bytes] = {}
    for m in batch:
        graphs[m.graph] = m.own
        for g, nt in m.entities:
            graphs[g] = nt
    add: dict[str, list[bytes]] = {}
    for m in batch:
        new_vocab_lines(m, vocab_written, add)
    if changes is not None:
        changes.vocabulary = changes.vocabulary or bool(add)
    return Write(graphs, {g: b"".join(ls) for g, ls in add.items()})


def write(w: Write, store, changed: set[str] | None = None) -> int:
    """Apply a :class:`Write` (all or nothing). Returns triples written; ``changed`` gets the
    graphs whose content changed."""
    return store.replace_graphs_ntriples(w.graphs, w.add, changed=changed)


class Writer:
    """Writes batches one at a time, in order, in a thread of its own: the store's write runs
    without the GIL, so the importing thread validates the next batch meanwhile (against the store
    as it will be after :attr:`pending`, the write under way)."""

    def __init__(self, store, changes: Changes | None = None):
        self.store, self.changes = store, changes
        self.pending: Write | None = None
        # What this import's writes left in each graph (a digest of its bytes): a graph restated
        # as this import already wrote it (an organisation in many projects) is not read again.
        self._holds: dict[str, bytes] = {}
        # Graphs whose first write in this import found them as stated (their content before the
        # import, as a digest): one restated later with that content again has not changed.
        self._before: dict[str, bytes] = {}
        self.seconds = 0.0  # the writes' own time
        self._thread: threading.Thread | None = None
        self._result: int | BaseException = 0

    def submit(self, w: Write) -> int:
        """Start writing ``w`` once the write under way is done; returns that one's triples."""
        n = self.wait()
        self.pending = w
        self._thread = threading.Thread(target=self._run, args=(w,), name="collabkg-writer", daemon=True)
        self._thread.start()
        return n

    def _run(self, w: Write) -> None:
        t = time.perf_counter()
        try:
            digests = {g: hashlib.blake2b(nt, digest_size=16).digest() for g, nt in w.graphs.items()}
            same = {g for g, d in digests.items() if self._holds.get(g) == d}
            changed: set[str] = set()
            self._result = write(Write({g: nt for g, nt in w.graphs.items() if g not in same}, w.add), self.store,
                                 changed if self.changes is not None else None)
            self._result += sum(w.graphs[g].count(b"\n") for g in same)  # written before, counted again as before
            if self.changes is not None:
                self.changes.graphs |= changed
                self._before.update((g, d) for g, d in digests.items() if g not in self._holds and g not in changed)
            self._holds.update(digests)
        except BaseException as e:  # noqa: BLE001 - raised in the importing thread by wait()
            self._result = e
        self.seconds += time.perf_counter() - t

    def wait(self) -> int:
        """Let the write under way end; its triples written (its error is raised here)."""
        if self._thread is None:
            return 0
        self._thread.join()
        self._thread, self.pending = None, None
        result, self._result = self._result, 0
        if isinstance(result, BaseException):
            raise result
        return result

    def settle(self) -> None:
        """Once the last write is done: a graph that this import changed and then restated with
        its content from before the import (an organisation described one way, another, then the
        first way again) is no change for :func:`enrich`."""
        if self.changes is not None:
            self.changes.graphs -= {g for g, d in self._before.items() if self._holds.get(g) == d}

    def abandon(self) -> None:
        """Let the write under way end, whatever its outcome (the import is failing anyway)."""
        if self._thread is not None:
            self._thread.join()
            self._thread, self.pending = None, None


def new_vocab_lines(m: Mapped, vocab_written: set[bytes], add: dict[str, list[bytes]]) -> tuple[int, int]:
    """Put the record's shared-vocabulary lines not written yet in this import into ``add`` (by
    graph) and remember them; returns (lines, bytes) added."""
    lines = size = 0
    for line in m.vocab.splitlines(keepends=True):
        if line not in vocab_written:
            vocab_written.add(line)
            add.setdefault(m.vocab_graph, []).append(line)
            lines, size = lines + 1, size + len(line)
    return lines, size


# --- enrich ------------------------------------------------------------------------------------------


class Changes:
    """What an ``ingest`` into a store that already held records changed: the graphs whose content
    its writes changed (record graphs, and the entity graphs of organisations, fields, persons,
    works ... restated with another content: one restated as it was changes nothing), as the store
    finds them when it writes (:func:`write`), less those restated in the end as they were before
    the import (:meth:`Writer.settle`). Pass it to :func:`enrich`."""

    def __init__(self):
        self.graphs: set[str] = set()
        self.vocabulary = False  # lines added to an add-only vocabulary graph (no mapper writes any now)


def stale_marker(store) -> Path | None:
    """The file beside an embedded store that says its derived graphs may be stale: an ``ingest``
    wrote records and has not finished enriching (killed, or run without enrichment). The next
    ingest then derives them whole; a changed graph its re-run writes as it is stored now would
    not be seen. None for a store not on this disk (whose ingests always derive them whole)."""
    path = store.local_path()
    return Path(path + ".derived-stale") if path else None


def enrich(store, base: str | None = None, changed: Changes | None = None) -> dict[str, int]:
    """Derived links, themes and shortcuts for what the store holds: organisation ↔ institution
    and split author links (linking.py), the themes graph (themes.py), the project-country pairs
    the stored queries join on (shortcuts.py).

    ``changed`` None (build, load, a first import): each recomputes its graphs from the whole
    store. Otherwise (an ingest into a store whose derived graphs were up to date): each re-derives
    only what the written graphs can change (the rule is in each module's docstring) and gives the
    same graphs as a full recompute."""
    if changed is None or changed.vocabulary:  # an add-only graph's additions are not tracked: all
        stats = dict(linking.link_sources(store, base=base) or {})
        stats.update({f"themes {k}": v for k, v in (themes.assign_themes(store, base=base) or {}).items()})
        stats.update(shortcuts.derive_shortcuts(store, base=base))
        return stats
    written = written_subjects(store, changed.graphs)

    def links(s) -> dict[str, int]:
        return dict(linking.update_links(s, written, base=base))

    def themes_(s) -> dict[str, int]:
        moved = themes.moved_fields(s, written.get("FieldOfScience", set()))
        return {f"themes {k}": v for k, v in themes.update_themes(s, written, moved, base=base).items()}

    def pairs(s) -> dict[str, int]:
        return shortcuts.update_shortcuts(s, written, base=base)

    # Each derives its graphs from the records alone, none from another's: side by side (their
    # queries run without the GIL), their writes held, then applied in turn.
    held = [HeldWrites(store) for _ in range(3)]
    with ThreadPoolExecutor(3, thread_name_prefix="enrich") as pool:
        results = list(pool.map(lambda part, h: part(h), (links, themes_, pairs), held))
    stats: dict[str, int] = {}
    for h, result in zip(held, results):
        h.apply()
        stats.update(result)
    return stats


class Cancelled(Exception):
    """An enrichment computed ahead stopped at a read because the import stopped meanwhile."""


class HeldWrites:
    """A store as :func:`enrich` sees it, whose writes are held back until :meth:`apply`: reads go
    to the store, ``replace_graphs``, ``replace_graphs_ntriples`` and ``replace_subjects`` (the
    only writes of an enrichment) are kept, in order. Any other attribute is missing on purpose:
    enrichment that wrote some other way would fail here rather than write early. Once
    ``cancelled``, the next read raises :class:`Cancelled`."""

    def __init__(self, store):
        self.store = store
        self.location = store.location
        self.cancelled = False
        self._writes: list[tuple[str, tuple]] = []

    def query(self, *args, **kwargs):
        return self._reading().query(*args, **kwargs)

    def has_graph(self, graph: str) -> bool:
        return self._reading().has_graph(graph)

    def _reading(self):
        """The store to read, unless cancelled."""
        if self.cancelled:
            raise Cancelled(f"{self.location}: the import stopped")
        return self.store

    def replace_graphs(self, graphs, add=()) -> int:
        graphs, add = [(g, list(ts)) for g, ts in graphs], [(g, list(ts)) for g, ts in add]
        self._writes.append(("replace_graphs", (graphs, add)))
        return sum(len(ts) for _, ts in graphs + add)

    def replace_graphs_ntriples(self, graphs, add=None, changed=None) -> int:
        if changed is not None:
            raise TypeError("HeldWrites: a held write cannot say yet what it changes")
        self._writes.append(("replace_graphs_ntriples", (dict(graphs), dict(add or {}))))
        return sum(nt.count(b"\n") for part in (graphs, add or {}) for nt in part.values())

    def replace_subjects(self, graph: str, subjects, nt: bytes) -> None:
        self._writes.append(("replace_subjects", (graph, set(subjects), nt)))

    def apply(self) -> None:
        for name, args in self._writes:
            getattr(self.store, name)(*args)


class EnrichAhead:
    """A first build's :func:`enrich`, computed in a thread while the staging store is compacted
    and validated (one core is idle during compaction), its writes held (:class:`HeldWrites`).
    :meth:`finish` writes them if validation took nothing out of the store; else, or if the
    thread failed, enrichment runs again over what the store now holds."""

    def __init__(self, store, base: str | None = None):
        self._held, self._base = HeldWrites(store), base
        self._error: BaseException | None = None
        self.seconds = 0.0
        self._thread = threading.Thread(target=self._run, name="enrich-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        t = time.perf_counter()
        try:
            enrich(self._held, self._base)
        except BaseException as e:  # noqa: BLE001 - enrichment runs again in finish(), which raises
            self._error = e
        self.seconds = time.perf_counter() - t

    def cancel(self) -> None:
        """The import failed or was interrupted: stop at the next read (so that :meth:`wait`
        does not wait for all of it: ~9 s at x16), nothing held is written."""
        self._held.cancelled = True

    def wait(self) -> None:
        """Let the thread end (its reads must end before the store is closed or swapped)."""
        self._thread.join()

    def finish(self, store_unchanged: bool) -> None:
        """Write the held enrichment (``store_unchanged``: the records it read are still those
        stored), or enrich anew."""
        self.wait()
        if store_unchanged and self._error is None:
            self._held.apply()
        else:
            enrich(self._held.store, self._base)


def written_subjects(store, graphs: set[str], chunk: int = 1000) -> dict[str, set[str]]:
    """The nodes typed in ``graphs`` by ontology class local name (``"Project"``, ``"Organisation"``,
    ...), read after the writes. The mappers type every node they describe in the graph that
    describes it, so these are all the nodes the graphs describe."""
    out: dict[str, set[str]] = {}
    names = sorted(graphs)
    for i in range(0, len(names), chunk):
        values = " ".join(f"<{g}>" for g in names[i : i + chunk])
        rows = store.query(f"SELECT DISTINCT ?s ?c WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s a ?c }} FILTER(isIRI(?s)) }}")
        for r in rows:
            c = r["c"].value
            kind = c[len(CKG):] if c.startswith(CKG) else ""
            out.setdefault(kind, set()).add(r["s"].value)
    return out
