"""The Store: one interface, an embedded implementation (pyoxigraph on disk).

Writes are atomic per batch: :meth:`Store.replace_graphs` drops and refills a set of
named graphs in one transaction, so a failed or killed batch leaves the store as it was. (The
embedded store writes a batch's new graphs through the bulk loader beside that transaction, both
recorded first in a write-ahead file that the next writer replays: see ``_write_batch``.)
The default graph of a query is the union of all named graphs.
"""
from __future__ import annotations

import os
import re
import shutil
import time
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Sequence

import pyoxigraph as ox

from collabkg.parallel import default_jobs
from collabkg.errors import StoreError  # noqa: F401 - raised here, re-exported for store users
from collabkg.settings import Settings  # noqa: E402
from collabkg.namespaces import ONTOLOGY_GRAPH  # the ontology and reference data graphs start so


def store_path(path: str | os.PathLike | None = None) -> Path:
    """``--store DIR``, else ``$COLLABKG_STORE``, else ``./.collabkg/store``."""
    if path:
        return Path(path)
    return Settings.from_env().store


class Store(ABC):
    location: str

    @abstractmethod
    def replace_graphs(
        self,
        graphs: Sequence[tuple[str, Iterable[ox.Triple]]],
        add: Sequence[tuple[str, Iterable[ox.Triple]]] = (),
    ) -> int:
        """In one transaction, replace the content of each graph of ``graphs`` and add the
        triples of ``add`` to theirs (shared, add-only graphs); return triples written."""

    @abstractmethod
    def query(self, sparql: str, bindings: dict | None = None, default_graphs=(), named_graphs=()):
        """Run a SPARQL query with the union of named graphs as default graph; ``default_graphs`` /
        ``named_graphs`` (the protocol's ``default-graph-uri`` / ``named-graph-uri``), when given,
        replace the dataset: the default graph is then their merge (empty without any)."""

    @abstractmethod
    def graph_names(self) -> set[str]:
        ...

    def replace_graphs_ntriples(self, graphs: dict[str, bytes], add: dict[str, bytes] | None = None,
                                changed: set[str] | None = None) -> int:
        """:meth:`replace_graphs` with each graph's content as N-Triples bytes (what the importer's
        workers produce). Implementations may load the bytes natively; this default parses them.
        ``changed``, when given, gets the graphs of ``graphs`` whose content the write changes
        (here: all of them)."""
        if changed is not None:
            changed.update(graphs)

        def parsed(nt: bytes):
            return [q.triple for q in ox.parse(nt, format=ox.RdfFormat.N_TRIPLES)] if nt else []

        return self.replace_graphs([(g, parsed(nt)) for g, nt in graphs.items()], [(g, parsed(nt)) for g, nt in (add or {}).items()])

    def has_graph(self, graph: str) -> bool:
        """Whether a named graph holds a triple: one ASK, cheap on every store (listing every graph
        name is not, on a server with thousands of entity graphs)."""
        return bool(self.query(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"))

    def has_records(self) -> bool:
        """Whether any named graph besides the ontology's holds a triple (one ASK)."""
        return bool(self.query(f"ASK {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(!STRSTARTS(STR(?g), \"{ONTOLOGY_GRAPH}\")) }}"))

    def replace_subjects(self, graph: str, subjects: Iterable[str], nt: bytes) -> None:
        """In one transaction, replace what ``graph`` says about ``subjects`` (IRIs) with the
        N-Triples lines ``nt`` (about those subjects only), keeping the rest of the graph: a
        derived graph some of whose subjects are derived anew. This default reads the graph as
        N-Triples (serialized by the store's client: no Python object per term) and replaces it."""
        old = self.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}").serialize(format=ox.RdfFormat.N_TRIPLES)
        drop = {f"<{s}>".encode() for s in subjects}
        # In N-Triples a line's subject is its first token (an IRI holds no space).
        kept = b"".join(line + b"\n" for line in old.splitlines() if line[: line.find(b" ")] not in drop)
        self.replace_graphs_ntriples({graph: kept + nt})

    def record_graphs(self) -> list[str]:
        """The named graphs that are not the ontology's (records, entities, vocabulary, links)."""
        return [g for g in self.graph_names() if not g.startswith(ONTOLOGY_GRAPH)]

    def quads(self, graph: str | None = None):
        """The quads of one named graph, or of the whole store."""
        raise NotImplementedError(f"{type(self).__name__} does not list quads")

    @contextmanager
    def staged(self):
        """A whole import as one unit where the store can do it (an embedded store: a staging copy
        moved into place when complete). By default, writes go through per-batch transactions."""
        yield self

    @property
    def in_staging(self) -> bool:
        """Whether writes go to a staging copy that becomes the store only when complete (inside
        :meth:`staged` on a store that has one): a first build may then write first and take out
        what validation rejects before the swap."""
        return False

    def local_path(self) -> str | None:
        """The folder other processes may open read-only (the staging copy inside :meth:`staged`),
        or None for a store that is not on this machine's disk."""
        return None

    def flush(self) -> None:
        """Make what was written durable (where the store buffers writes)."""

    def compact(self) -> None:
        """Merge the files a bulk load left (reads are faster after it; a no-op where a store
        has nothing to merge)."""

    def count_triples(self) -> int:
        rows = list(self.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"))
        return int(rows[0]["n"].value)

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# Above it, Oxigraph's bulk loader commits in several steps (it makes batches of a million quads).
BULK_BATCH_MAX_QUADS = 500_000
BULK_SPLIT_BYTES = 4 << 20  # below it, one bulk load (see bulk_load_in_pieces)


def _line_pieces(data: bytes, n: int) -> list[bytes]:
    """``data`` (N-Quads) in up to ``n`` pieces of about equal size, cut at line ends, the first
    holding every line with a blank node."""
    start = data.rfind(b"_:")
    start = 0 if start < 0 else data.find(b"\n", start) + 1
    cuts = [0]
    for i in range(1, n):
        at = max(start, len(data) * i // n)
        end = data.find(b"\n", at) + 1 if at < len(data) else len(data)
        if cuts[-1] < end < len(data):
            cuts.append(end)
    cuts.append(len(data))
    return [data[a:b] for a, b in zip(cuts, cuts[1:])]


def bulk_load_in_pieces(store: ox.Store, data: bytes, threads: int | None = None) -> None:
    """Bulk-load N-Quads into an Oxigraph store in one piece per thread (default: per core), side
    by side. One bulk_load call below ~1 million quads (Oxigraph's batch) runs on one core (x1
    build's 473,000 quads: 3.4 s -> 1.6 s on 2 cores). Cut between lines, and after the last blank
    node: one load is one document, whose blank node labels Oxigraph renames."""
    threads = default_jobs() if threads is None else threads
    pieces = _line_pieces(data, threads if len(data) >= BULK_SPLIT_BYTES else 1)
    if len(pieces) == 1:
        store.bulk_load(data, format=ox.RdfFormat.N_QUADS)
        return
    with ThreadPoolExecutor(len(pieces), thread_name_prefix="collabkg-bulk") as pool:
        for f in [pool.submit(store.bulk_load, p, format=ox.RdfFormat.N_QUADS) for p in pieces]:
            f.result()


def nquads(nt: bytes, graph: str) -> bytes:
    """N-Triples lines into N-Quads lines of ``graph``. Safe as plain byte replacement: in
    N-Triples a line ends in " .\n" and a literal's newlines are escaped."""
    return nt.replace(b" .\n", b" <" + graph.encode() + b"> .\n")


def ntriples(nq: bytes, graph: str) -> bytes:
    """The inverse of :func:`nquads`: N-Quads lines of ``graph`` back into N-Triples."""
    return nq.replace(b" <" + graph.encode() + b"> .\n", b" .\n")


def _nt(t) -> str:
    return f"{t.subject} {t.predicate} {t.object} ."


def _diff_update_lines(store: ox.Store, graphs, add, existing: set[str]) -> str:
    """One SPARQL UPDATE (one transaction in Oxigraph) that turns each graph of ``graphs``
    ((graph, set of N-Triples lines)) into exactly its new content (deleting stale triples,
    inserting new ones) and adds the lines of ``add``. Unchanged graphs cost nothing, so
    re-importing the same data is cheap."""
    deletes, inserts, drops = [], [], []
    for g, new in graphs:
        old = set()
        if g in existing:
            old = {_nt(q) for q in store.quads_for_pattern(None, None, None, ox.NamedNode(g))}
        if "_:" in "".join(old | new) and old != new:
            # DELETE DATA cannot name blank nodes (the ontology's OWL lists): refill the graph.
            drops.append(f"DROP SILENT GRAPH <{g}>")
            old = set()
        if stale := sorted(old - new):
            deletes.append(f"GRAPH <{g}> {{\n" + "\n".join(stale) + "\n}")
        if fresh := sorted(new - old):
            inserts.append(f"GRAPH <{g}> {{\n" + "\n".join(fresh) + "\n}")
    for g, ts in add:
        if ts:
            inserts.append(f"GRAPH <{g}> {{\n" + "\n".join(ts) + "\n}")
    parts = drops
    if deletes:
        parts.append("DELETE DATA {\n" + "\n".join(deletes) + "\n}")
    if inserts:
        parts.append("INSERT DATA {\n" + "\n".join(inserts) + "\n}")
    return " ;\n".join(parts)


def _diff_update_nt(store: ox.Store, graphs: dict[str, bytes], add: dict[str, bytes], existing: set[str],
                    names: set[str] | None = None) -> str:
    """:func:`_diff_update_lines` from N-Triples bytes: a graph that already holds triples is read
    as N-Triples text by Oxigraph (one call per graph, no term objects; the same lines as
    :func:`_nt`) and compared with its new lines; a new graph's bytes go into the update as they are.
    ``names``, when given, gets the graphs whose content changes."""
    changed, fresh = [], []
    for g, nt in graphs.items():
        if g not in existing:
            if nt:
                fresh.append(f"GRAPH <{g}> {{\n" + nt.decode("utf-8") + "}")
                if names is not None:
                    names.add(g)
            continue
        old = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(g))
        if old != nt and set(old.splitlines()) != set(nt.splitlines()):  # most restated entities are unchanged
            changed.append((g, set(nt.decode("utf-8").splitlines())))
            if names is not None:
                names.add(g)
    update = _diff_update_lines(store, changed, [(g, nt.decode("utf-8").splitlines()) for g, nt in add.items()], existing)
    if not fresh:
        return update
    return (update + " ;\n" if update else "") + "INSERT DATA {\n" + "\n".join(fresh) + "\n}"


class EmbeddedStore(Store):
    """An on-disk pyoxigraph store (RocksDB): one writer process at a time."""

    def __init__(self, path: str | os.PathLike | None = None, read_only: bool = False, create: bool = True):
        p = store_path(path)
        self.location = str(p)
        self._path = p
        self._read_only = read_only
        if not read_only:
            _recover_staging(p)
        existed = p.exists()
        if not existed:
            if read_only or not create:
                raise StoreError(f"{p}: no store here (run `collabkg build --store {p}` first)")
            p.mkdir(parents=True, exist_ok=True)
        self._store = _open(p, read_only)
        self._bulk = False
        if not read_only:
            # (A write-ahead file beside a store that is gone belongs to no store: not replayed.)
            _replay_write_ahead(p, self._store, discard=not existed)

    @property
    def raw(self) -> ox.Store:
        return self._store

    def replace_graphs(self, graphs, add=()):
        graphs = [(g, list(ts)) for g, ts in graphs]
        add = [(g, list(ts)) for g, ts in add]
        n = sum(len(ts) for _, ts in graphs) + sum(len(ts) for _, ts in add)
        try:
            existing = [g for g, _ in graphs if self._store.contains_named_graph(ox.NamedNode(g))]
            if existing and self._bulk:
                # Staging copy (all-or-nothing as a whole): refill replaced graphs directly.
                for g in existing:
                    self._store.remove_graph(ox.NamedNode(g))
                existing = []
            if existing:
                # As N-Triples bytes (serialized by Oxigraph): no Python string per term. A graph
                # named twice gets the union of its contents.
                def serialized(part) -> dict[str, bytes]:
                    merged: dict[str, list] = {}
                    for g, ts in part:
                        merged.setdefault(g, []).extend(ts)
                    return {g: ox.serialize(ts, format=ox.RdfFormat.N_TRIPLES) for g, ts in merged.items()}

                update = _diff_update_nt(self._store, serialized(graphs), serialized(add), set(existing))
                if update:
                    self._store.update(update)
            else:
                quads = (
                    ox.Quad(t.subject, t.predicate, t.object, gn)
                    for g, ts in graphs + add
                    for gn in (ox.NamedNode(g),)
                    for t in ts
                )
                # Nothing to drop: one transactional extend (about twice as fast as UPDATE),
                # or, inside staged(), the bulk loader (the staging copy is all-or-nothing).
                (self._store.bulk_extend if self._bulk else self._store.extend)(quads)
        except OSError as e:
            raise StoreError(f"{self.location}: write failed, batch not applied: {e}") from None
        return n

    def replace_graphs_ntriples(self, graphs, add=None, changed=None):
        """Native path: N-Quads bytes straight into Oxigraph's loader (one transaction; inside
        :meth:`staged`, the bulk loader), no Python object per term. Graphs that already hold
        triples go through one UPDATE with the difference (unchanged graphs cost nothing, and are
        not in ``changed``)."""
        add = add or {}
        n = sum(nt.count(b"\n") for nt in graphs.values()) + sum(nt.count(b"\n") for nt in add.values())
        try:
            existing = [g for g in graphs if self._store.contains_named_graph(ox.NamedNode(g))]
            if not self._bulk:
                self._write_batch(graphs, add, set(existing), changed)
                return n
            if changed is not None:
                changed.update(graphs)
            for g in existing:  # staging copy (all-or-nothing as a whole): refill replaced graphs
                self._store.remove_graph(ox.NamedNode(g))
            data = b"".join(nquads(nt, g) for part in (graphs, add) for g, nt in part.items() if nt)
            if data:
                if self._bulk:
                    self._bulk_load(data)
                else:
                    self._store.load(data, format=ox.RdfFormat.N_QUADS)
        except OSError as e:
            raise StoreError(f"{self.location}: write failed, batch not applied: {e}") from None
        return n

    def _write_batch(self, graphs: dict[str, bytes], add: dict[str, bytes], existing: set[str], changed) -> None:
        """A batch outside a staging copy, all or nothing: the graphs that hold triples and the
        added lines go through one UPDATE with the difference; the new graphs through the bulk
        loader (twice as fast as a transaction, and it leaves nothing to flush). Both are first
        recorded in a write-ahead file that the next writer replays if this process dies between
        or during them (:func:`_replay_write_ahead`)."""
        new = {g: nt for g, nt in graphs.items() if g not in existing and nt}
        if self._path is None or not new or sum(nt.count(b"\n") for nt in new.values()) > BULK_BATCH_MAX_QUADS:
            # One transaction (in memory; or a batch so large that the bulk loader would commit it
            # in several steps, which readers could see).
            update = _diff_update_nt(self._store, graphs, add, existing, changed)
            if update:
                self._store.update(update)
            return
        update = _diff_update_nt(self._store, {g: graphs[g] for g in existing}, add, existing, changed)
        if changed is not None:
            changed.update(new)
        data = b"".join(nquads(nt, g) for g, nt in new.items())
        with _write_ahead(self._path, update, data) as applied:
            # The new graphs first: if they fail (disk full), nothing of the batch is in.
            self._store.bulk_load(data, format=ox.RdfFormat.N_QUADS)
            applied()  # from here on the batch is partly in: a failure leaves it to the replay
            try:
                if update:
                    self._store.update(update)
            except OSError as e:
                raise StoreError(f"{self.location}: write failed in the middle of a batch: {e}; "
                                 "the next opening of the store for writing finishes it") from None

    def replace_subjects(self, graph: str, subjects: Iterable[str], nt: bytes) -> None:
        # One UPDATE: the subjects' lines found by index lookups, the rest of the graph not read.
        subjects = sorted(subjects)
        if not subjects and not nt:
            return
        parts = []
        for i in range(0, len(subjects), 5000):
            values = " ".join(f"<{s}>" for s in subjects[i:i + 5000])
            parts.append(f"DELETE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} WHERE {{ VALUES ?s {{ {values} }} GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        if nt:
            parts.append(f"INSERT DATA {{ GRAPH <{graph}> {{\n{nt.decode('utf-8')}}} }}")
        try:
            self._store.update(" ;\n".join(parts))
        except OSError as e:
            raise StoreError(f"{self.location}: write failed, not applied: {e}") from None

    def empty_staging(self) -> None:
        """Start the staging copy over, empty (inside :meth:`staged` only). Bulk loads into an
        empty store leave RocksDB's tables nearly sorted; loaded after other writes, they would
        have to be merged with them (compacted) before reads are fast."""
        if not self._bulk:
            raise StoreError(f"{self.location}: emptying a store that is not a staging copy")
        staging = _staging_paths(self._path)[0]
        del self._store
        shutil.rmtree(staging)
        self._store = _open(staging, False)

    def bulk_load_nquads(self, data: bytes, threads: int | None = None) -> None:
        """Bulk-load N-Quads into the staging copy (inside :meth:`staged` only: the loader is not
        transactional), in ``threads`` pieces side by side (default: all cores). It releases the
        GIL: other threads may work meanwhile."""
        if not self._bulk:
            raise StoreError(f"{self.location}: bulk loading outside a staging copy")
        try:
            self._bulk_load(data, threads)
        except OSError as e:
            raise StoreError(f"{self.location}: write failed: {e}") from None

    def _bulk_load(self, data: bytes, threads: int | None = None) -> None:
        bulk_load_in_pieces(self._store, data, threads)

    def query(self, sparql: str, bindings: dict | None = None, default_graphs=(), named_graphs=()):
        if default_graphs or named_graphs:
            kwargs = {"default_graph": [ox.NamedNode(g) for g in default_graphs], "named_graphs": [ox.NamedNode(g) for g in named_graphs]}
        elif has_dataset_clause(sparql):
            kwargs = {}
        else:
            # The union default graph only for a query without a dataset of its own: Oxigraph's
            # union option would override FROM / FROM NAMED (SPARQL 1.1 section 13.2).
            kwargs = {"use_default_graph_as_union": True}
        if bindings:
            kwargs["substitutions"] = {ox.Variable(k): v for k, v in bindings.items()}
        return self._store.query(sparql, **kwargs)

    def graph_names(self) -> set[str]:
        return {g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode)}

    @contextmanager
    def staged(self):
        """Load a whole import into a staging copy and move it into place only when complete.

        Used when the store holds no records yet: the staging copy takes the fast,
        non-transactional bulk loader, and an interrupted import leaves the store as it
        was (the unfinished staging copy is discarded at the next open). Elsewhere,
        writes go through per-batch transactions.
        """
        staging, done = _staging_paths(self._path)
        shutil.rmtree(staging, ignore_errors=True)
        main = self._store
        self._store, self._bulk = _open(staging, False), True
        try:
            for q in main.quads_for_pattern(None, None, None):  # e.g. the ontology graphs
                self._store.add(q)
            yield self
            self._store.flush()
        except BaseException:
            del self._store
            self._store, self._bulk = main, False
            shutil.rmtree(staging, ignore_errors=True)
            raise
        del self._store
        del main
        done.touch()  # from here on the staging copy is complete: recovery finishes the swap
        _recover_staging(self._path)
        self._store, self._bulk = _open(self._path, False), False

    @property
    def in_staging(self) -> bool:
        return self._bulk

    def local_path(self) -> str | None:
        if not self._read_only:
            self._store.flush()
        return str(_staging_paths(self._path)[0] if self._bulk else self._path)

    def quads(self, graph: str | None = None):
        g = ox.NamedNode(graph) if graph else None
        return self._store.quads_for_pattern(None, None, None, g)

    def flush(self) -> None:
        self._store.flush()

    def count_triples(self) -> int:
        # Oxigraph counts its quads without SPARQL (about three times faster); they are the named
        # graphs' triples when the default graph is empty, as the importer leaves it.
        if next(iter(self._store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None) is None:
            return len(self._store)
        return super().count_triples()

    def compact(self) -> None:
        # Bulk loads leave many overlapping table files: every lookup then reads each of them.
        self._store.optimize()

    def close(self) -> None:
        try:
            self._store.flush()
        except Exception:
            pass
        del self._store


class MemoryStore(EmbeddedStore):
    """The embedded store's code on an in-memory Oxigraph store (a shard partition's validation
    context, the ontology written by ``collabkg docs``)."""

    def __init__(self):  # noqa: D107 (no folder, no lock, no staging)
        self.location = "memory"
        self._path = None
        self._store = ox.Store()
        self._bulk = False
        self._read_only = False

    def local_path(self) -> str | None:
        return None

    def close(self) -> None:
        pass


# Tokens that can hide the word FROM (comments, strings, IRIs, variables, prefixed names), then FROM.
_FROM = re.compile(
    r'\#[^\n]*' r'|"""(?:[^"\\]|\\.|"(?!""))*"""' r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"' r"|'(?:[^'\\\n]|\\.)*'"
    r'|<[^<>"{}|^`\\\s]*>|[?$:][\w-]+|[\w-]+:[\w.-]*|(?i:\bFROM\b)'
)


def has_dataset_clause(sparql: str) -> bool:
    """Whether a query names its own dataset (``FROM`` or ``FROM NAMED``)."""
    return any(m.group().upper() == "FROM" for m in _FROM.finditer(sparql))


def _open(p: Path, read_only: bool) -> ox.Store:
    try:
        store = _open_read_only(p) if read_only else ox.Store(str(p))
    except OSError as e:
        msg = str(e)
        if "lock" in msg.lower():
            pid = _writer_pid(p)
            who = f"process {pid}" if pid else "another process"
            raise StoreError(f"{p}: store is locked by {who} (one writer at a time; wait for it to finish)") from None
        raise StoreError(f"{p}: cannot open the store: {msg}") from None
    if not read_only:
        _write_pid(p)
    return store


def _open_read_only(p: Path, attempts: int = 50) -> ox.Store:
    """A read-only view, opened while a writer may be compacting: RocksDB then reports a table
    file that the writer has just replaced as missing ("Corruption: ... No such file"); the
    next attempt reads the new file list. Other errors are not retried."""
    for i in range(attempts):
        try:
            return ox.Store.read_only(str(p))
        except (OSError, RuntimeError) as e:
            if "No such file" not in str(e) or i == attempts - 1:
                raise
            time.sleep(min(0.02 * (i + 1), 0.5))
    raise AssertionError("unreachable")


def _pid_file(p: Path) -> Path:
    # Beside the store, not inside: the staging swap renames the store folder.
    return p.with_name(p.name + ".writer-pid")


def _write_pid(p: Path) -> None:
    """Name the writer for a second writer's error message. RocksDB's own lock (released by
    the kernel when the process dies, even by kill -9) is the lock; a stale pid file is harmless
    because it is only read when that lock is held."""
    try:
        _pid_file(p).write_text(f"{os.getpid()}\n")
    except OSError:
        pass  # e.g. disk full: the message then just says "another process"


def _writer_pid(p: Path) -> int | None:
    try:
        return int(_pid_file(p).read_text().strip())
    except (OSError, ValueError):
        return None


def _staging_paths(p: Path) -> tuple[Path, Path]:
    staging = p.with_name(p.name + ".staging")
    return staging, p.with_name(p.name + ".staging-complete")


def _write_ahead_path(p: Path) -> Path:
    return p.with_name(p.name + ".write-ahead")


@contextmanager
def _write_ahead(p: Path, update: str, nquads_data: bytes):
    """Record a batch's UPDATE and bulk-loaded N-Quads durably before applying them; the file goes
    once both are applied. The body calls the yielded function once the first part is in: a
    failure before that leaves the store as it was (the file goes), after it leaves the file to
    :func:`_replay_write_ahead`."""
    path = _write_ahead_path(p)
    tmp = path.with_name(path.name + ".tmp")
    body = update.encode("utf-8")
    with open(tmp, "wb") as f:
        f.write(b"collabkg-write-ahead 1 %d\n" % len(body) + body + nquads_data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    started = []
    try:
        yield lambda: started.append(True)
    except BaseException:
        if not started:
            path.unlink(missing_ok=True)
        raise
    path.unlink()


def _replay_write_ahead(p: Path, store: ox.Store, discard: bool = False) -> None:
    """Finish a batch whose writer died while applying it (see :func:`_write_ahead`): its N-Quads
    and its UPDATE again (both give the same store when applied twice). ``discard``: remove the
    file instead (the store was just created)."""
    path = _write_ahead_path(p)
    path.with_name(path.name + ".tmp").unlink(missing_ok=True)  # not recorded whole: nothing was applied
    if discard:
        path.unlink(missing_ok=True)
    if not path.exists():
        return
    data = path.read_bytes()
    header, _, rest = data.partition(b"\n")
    size = int(header.split()[2])
    try:
        store.bulk_load(rest[size:], format=ox.RdfFormat.N_QUADS)
        if size:
            store.update(rest[:size].decode("utf-8"))
        store.flush()
    except OSError as e:
        raise StoreError(f"{p}: cannot finish the batch an interrupted import left in {path.name}: {e}") from None
    path.unlink()


def _fsync_dir(d: Path) -> None:
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _recover_staging(p: Path) -> None:
    """Finish or discard a staged import that was interrupted."""
    staging, done = _staging_paths(p)
    old = p.with_name(p.name + ".old")
    if done.exists() and staging.exists():
        if p.exists():
            shutil.rmtree(old, ignore_errors=True)
            p.rename(old)
        staging.rename(p)
        done.unlink()
        shutil.rmtree(old, ignore_errors=True)
    else:
        done.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    _pid_file(staging).unlink(missing_ok=True)


def open_store(path: str | os.PathLike | None = None, read_only: bool = False) -> EmbeddedStore:
    return EmbeddedStore(path, read_only=read_only)
