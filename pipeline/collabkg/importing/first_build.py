"""A first build: write every record into the staging copy without per-batch validation, validate
once over the whole staging store (the compiled checks, on every core), then take the rejected
records out before the swap.

Writing: the records' N-Quads (own graphs, each shared entity's description when it first comes or
changes, new vocabulary lines) are gathered in parts of 96 MB; a loader thread bulk-loads each into
the emptied staging copy while the workers read on. Bulk loads into an empty store, in few large
parts, leave little to compact before validation reads the store.

``ingest`` into a store that already holds records validates each batch against the store
(:func:`collabkg.importing.stages.validate`). A first build has nothing to validate against until
everything is in, and one pass of the compiled checks over the loaded data costs less than a pass
per batch, each with its own data graph. The verdict is the same (tests/test_first_build.py):

* a result about a node of a record's own graph belongs to that record; a result about a shared
  entity (organisation, person, work, vocabulary term) belongs to the records whose description of
  it is the one stored (the latest), as a batch blames the record describing it;
* a rejected record's own graph is removed; an entity it described goes back to the latest
  description by a record that was not rejected (or away, if there is none); if anything went back,
  the checks run again, as per-batch validation would have checked that description;
* a record stated twice in one import whose later version is rejected keeps its earlier version
  (its own graph; per batch, the earlier version would have been written before the later one
  was checked).

Enrichment does not wait for the verdict: it is computed meanwhile, its writes held back
(:class:`collabkg.importing.stages.EnrichAhead`), and written only if nothing was taken out.
"""
from __future__ import annotations

from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import pyoxigraph as ox

from collabkg.importing.stages import Mapped, new_vocab_lines
from collabkg.records import RecordError
from collabkg.store import nquads, ntriples
from collabkg.validation.results import RecordReport
from collabkg.validation.service import ImportValidator, focus_graphs, store_results

# N-Quads per bulk load (~420,000 quads): the loader's memory grows with a part (~0.5 KB a quad),
# and every part loaded after the first leaves tables to merge (compact), in the background while
# later parts load and before reads are fast. At x16, 96 MB parts took ~2.5 CPU-s less than 64 MB
# (less merging) for ~50 MB more at the peak.
LOAD_PART_BYTES = 96 << 20
PARTS_AHEAD = 2  # parts handed to the loader and not loaded yet, at most
MAX_ROUNDS = 5  # validation rounds: a round after the first only checks descriptions put back


@dataclass
class _Version:
    """One description of a shared entity and the record versions (their numbers) that stated it."""

    nt: bytes
    records: list[int] = field(default_factory=list)


@dataclass
class Verdict:
    rejected: list[RecordError] = field(default_factory=list)
    rejected_records: list[str] = field(default_factory=list)  # graphs of the rejected records
    restored: list[str] = field(default_factory=list)  # ids of records whose earlier version went back
    warnings: Counter = field(default_factory=Counter)


class FirstBuild:
    """The write and validate stages of a first build into a staging store.

    Every record written gets a number (a record stated twice gets two); entity descriptions name
    the numbers that stated them, so that taking out a rejected version takes out exactly what it said.
    """

    def __init__(self, store, validator: ImportValidator | None, jobs: int = 1):
        self.store = store
        self.validator = validator
        self.jobs = jobs
        self.written: list[Mapped] = []  # number -> the record version (bytes dropped)
        self.current: dict[str, int] = {}  # own graph -> the number of the version stored there
        self.earlier: dict[str, list[tuple[int, bytes]]] = {}  # own graph -> superseded versions
        self.entities: dict[str, list[_Version]] = {}  # entity graph -> its distinct descriptions, in order
        self._out: set[int] = set()  # numbers of the rejected versions
        self._spool = _Spool(store, jobs)

    # --- write ---------------------------------------------------------------------------------

    def write(self, batch: list[Mapped], vocab_written: set[bytes]) -> int:
        """Stage a batch: own graphs, new vocabulary lines and entity descriptions that are new or
        changed go to the spool (a changed one replaces the earlier); the distinct descriptions
        are kept for validation. Returns the triples of the own graphs and vocabulary (entities
        count in :meth:`finish_writes`)."""
        n = 0
        vocab: dict[str, list[bytes]] = {}
        for m in batch:
            if m.graph in self.current:  # the same record again: the later wins, the earlier is kept aside
                self.earlier.setdefault(m.graph, []).append((self.current[m.graph], self._spool.take_back(m.graph)))
            seq = len(self.written)
            self.written.append(m._replace(own=b"", entities=(), vocab=b""))
            self.current[m.graph] = seq
            self._spool.put(m.graph, m.own, replaceable=True)
            n += m.own.count(b"\n")
            for g, nt in m.entities:
                versions = self.entities.setdefault(g, [])
                if not versions or versions[-1].nt != nt:
                    if versions:  # described anew (rare: 88 of 61,521 mentions in the bundled data)
                        self._spool.take_back(g, want=False)
                    versions.append(_Version(nt))
                    self._spool.put(g, nt, replaceable=True)
                versions[-1].records.append(seq)
            n += new_vocab_lines(m, vocab_written, vocab)[0]
        for g, lines in vocab.items():
            self._spool.put(g, b"".join(lines))
        self._spool.ship()
        return n

    def finish_writes(self) -> int:
        """Wait until all of the spool is loaded. Returns the entity triples written (each entity
        graph in its latest description)."""
        self._spool.finish()
        return sum(versions[-1].nt.count(b"\n") for versions in self.entities.values())

    def close(self) -> None:
        """Stop the loader (after a failure elsewhere: the staging copy is then discarded)."""
        self._spool.close()

    # --- validate ------------------------------------------------------------------------------

    def validate(self) -> Verdict:
        """The compiled checks once over the staging store, then the rejected records taken out."""
        verdict = Verdict()
        if self.validator is None:
            return verdict
        for _ in range(MAX_ROUNDS):
            rejected, warnings = self.validator.judge(self._reports(), self.store)
            verdict.warnings.update(warnings)
            new = [g for g, seq in self.current.items() if seq not in self._out and self.written[seq].record_id in rejected]
            if not new:
                break
            for g in new:
                verdict.rejected.extend(rejected[self.written[self.current[g]].record_id])
            if not self._take_out(new, verdict):
                break
        return verdict

    def _reports(self) -> list[RecordReport]:
        """This round's results, shared out to the record versions now stored (not those taken out)."""
        results = store_results(self.store, self.validator.engine, self.jobs)
        homes = focus_graphs(self.store, {r.focus for r in results}, self.jobs)
        reports: dict[int, RecordReport] = {}
        for r in results:
            owners: dict[int, None] = {}
            for g in homes.get(r.focus, ()):
                if g in self.current:
                    owners[self.current[g]] = None
                elif g in self.entities:
                    owners.update(dict.fromkeys(self.entities[g][-1].records))
            for seq in owners:
                m = self.written[seq]
                if self.current.get(m.graph) != seq:
                    continue
                rep = reports.get(seq) or reports.setdefault(seq, RecordReport(m.file, m.record_id, m.graph))
                rep.results.append(r)
        return list(reports.values())

    def _take_out(self, graphs: list[str], verdict: Verdict) -> bool:
        """Remove rejected record versions, put back what they replaced; True if anything went back."""
        changed: dict[str, bytes] = {}  # graph -> its content from now on (b"": removed)
        gone = {self.current[g] for g in graphs}
        for g in graphs:
            verdict.rejected_records.append(g)
            earlier = self.earlier.pop(g, None)
            if earlier:  # the same record stated earlier in this import: that version stands
                self.current[g], changed[g] = earlier[-1]
                verdict.restored.append(self.written[self.current[g]].record_id)
            else:
                del self.current[g]
                changed[g] = b""
        self._out |= gone
        for g, versions in list(self.entities.items()):
            if not gone.intersection(versions[-1].records):
                continue
            for v in versions:  # every version rejected so far, not only this round's
                v.records = [r for r in v.records if r not in self._out]
            kept = [v for v in versions if v.records]
            if kept:
                self.entities[g] = kept
            else:
                del self.entities[g]
            changed[g] = kept[-1].nt if kept else b""
        # Inside the staging copy, replacing a graph drops its old content first.
        self.store.replace_graphs_ntriples(changed)
        return any(changed.values())


class _Spool:
    """The N-Quads of a first build, gathered in parts of at least :data:`LOAD_PART_BYTES` and
    bulk-loaded into the emptied staging copy by a thread as soon as a part is complete, while the
    workers read on (Oxigraph's loader releases the GIL). At most :data:`PARTS_AHEAD` parts wait
    for the loader: the importing thread waits for it beyond that, so memory stays flat.

    A record's own graph, or an entity's description, is one chunk of a part. A record stated again
    (an entity described anew) supersedes its chunk: the chunk is left out of its part, or, if the
    part was already handed to the loader, its graph is emptied before the next part is loaded."""

    def __init__(self, store, jobs: int = 1):
        self.store = store
        self.jobs = jobs  # cores a part is loaded on
        self._part: list[bytes] = []  # the part being filled, chunk by chunk
        self._size = 0
        self._parts = 0  # parts handed to the loader
        self._at: dict[str, tuple[int, int]] = {}  # replaceable graph -> (its part's number, its chunk's index)
        self._loader = ThreadPoolExecutor(1, thread_name_prefix="collabkg-loader")
        self._tasks: list[Future] = []
        # What the staging copy holds already (the ontology) is loaded again, first.
        start = ox.serialize(store.quads(), format=ox.RdfFormat.N_QUADS)
        store.empty_staging()
        self._append(start)

    def _append(self, data: bytes) -> None:
        self._part.append(data)
        self._size += len(data)

    def put(self, graph: str, nt: bytes, replaceable: bool = False) -> None:
        """Add ``nt`` as N-Quads of ``graph``; a ``replaceable`` graph's whole content (a record's
        own graph, an entity graph) can be taken back (:meth:`take_back`), others only grow."""
        if not nt:
            return
        if replaceable:
            self._at[graph] = (self._parts, len(self._part))
        self._append(nquads(nt, graph))

    def take_back(self, graph: str, want: bool = True) -> bytes:
        """The N-Triples of a replaceable graph as put (``want``: else b""); that version will not be
        in the store."""
        at = self._at.pop(graph, None)
        if at is None:
            return b""
        part, i = at
        if part == self._parts:  # in the part being filled: left out of it
            data, self._part[i] = self._part[i], b""
            self._size -= len(data)
            return ntriples(data, graph) if want else b""
        # Handed to the loader: what it stored is read back (rare: a record stated twice in one
        # import), and the graph is emptied before the next part is loaded.
        old = b""
        if want:
            self._wait(0)
            old = ox.serialize([q.triple for q in self.store.quads(graph)], format=ox.RdfFormat.N_TRIPLES)
        self._tasks.append(self._loader.submit(self.store.replace_graphs_ntriples, {graph: b""}))
        return old

    def ship(self, final: bool = False) -> None:
        """Hand the part being filled to the loader once it is complete, or at all when ``final``."""
        if self._size < LOAD_PART_BYTES and not (final and self._size):
            return
        data = b"".join(self._part)
        self._part, self._size = [], 0
        self._parts += 1
        self._wait(PARTS_AHEAD - 1)
        self._tasks.append(self._loader.submit(self.store.bulk_load_nquads, data, self.jobs))

    def _wait(self, ahead: int) -> None:
        """Wait until at most ``ahead`` loader tasks are unfinished (raising what failed)."""
        while len(self._tasks) > ahead:
            self._tasks.pop(0).result()

    def finish(self) -> None:
        """Load the rest and wait for every load (raising what failed)."""
        try:
            self.ship(final=True)
            self._wait(0)
        finally:
            self.close()

    def close(self) -> None:
        """Stop loading (what is being loaded finishes)."""
        self._loader.shutdown(wait=True, cancel_futures=True)
        self._part, self._size = [], 0
