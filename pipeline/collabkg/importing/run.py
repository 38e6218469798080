"""The import: plan the jobs, read and map them on every core, then validate, write and enrich here.

Every record goes into its own named graph; a batch of records is written whole or not at all,
in a thread while the next batch is validated (``stages.Writer``). A record that cannot be read or
mapped is reported and skipped; the rest of the input still goes in.
"""
from __future__ import annotations

import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable

import pyoxigraph as ox

import collabkg.importing.stages as stages
from collabkg.importing.first_build import FirstBuild
from collabkg.importing.summary import ImportSummary
from collabkg.parallel import default_jobs, ordered_map
from collabkg.records import RecordError, RecordWarning
from collabkg.resources import bundled_inputs, ontology_dir
from collabkg.store import ONTOLOGY_GRAPH, EmbeddedStore, Store
from collabkg.validation.service import ImportValidator

BATCH_RECORDS = 150


def load_ontology(store: Store) -> int:
    """(Re)load the ontology and reference data, one named graph per Turtle file."""
    graphs = []
    for ttl in sorted(ontology_dir().glob("*.ttl")):
        triples = list(ox.parse(path=str(ttl), format=ox.RdfFormat.TURTLE))
        graphs.append((ONTOLOGY_GRAPH + ttl.stem, triples))
    return store.replace_graphs(graphs)


def _warning_kind(w: RecordWarning) -> str:
    return "warning: " + re.sub(r"\[\d+\]", "", w.field)


def ingest(
    store: Store,
    paths: Iterable[str | Path],
    *,
    base: str | None = None,
    validator: ImportValidator | None = None,
    progress: bool | None = None,
    err=sys.stderr,
    jobs: int | None = None,
    enrich: bool = True,
    validate_once: bool = False,
) -> ImportSummary:
    """Import records from ``paths`` into ``store``; report problems on ``err``.

    Arguments in the order of :func:`build`: the store, then the inputs, then keywords only.
    ``jobs``: worker processes for reading, mapping and (``validate_once``) validating (default:
    all cores; 1 = in this process).
    ``enrich``: recompute links and themes afterwards (``build`` does it once at its end).
    ``validate_once``: write everything first and validate once over the store, then take the
    rejected records out (a first build into a staging copy, see :mod:`.first_build`; enrichment is
    then computed while it is validated); otherwise each batch is validated against the store
    before it is written.
    """
    if isinstance(store, (str, Path, list, tuple)):
        raise TypeError("ingest(store, paths, ...): the store comes first, as in build()")
    t0 = time.perf_counter()
    paths = [Path(p) for p in paths]
    workers = default_jobs() if jobs is None else max(1, jobs)
    summary = ImportSummary(store=store.location, jobs=workers)
    st = summary.stages
    if not store.has_graph(ONTOLOGY_GRAPH + "collabkg"):
        load_ontology(store)

    job_list = []
    for j in stages.plan(paths, base):
        if isinstance(j, str):
            summary.input_errors.append(j)
        else:
            job_list.append(j)
    if len(job_list) < 2:
        workers = 1  # one job: a pool would only add its start-up time

    batch: dict[str, stages.Mapped] = {}
    accepted_at: dict[str, str] = {}  # graph -> where its accepted record came from (this run)
    vocab_written: set[bytes] = set()  # shared vocabulary lines already written (this run)
    once = FirstBuild(store, validator, workers) if validate_once else None
    # An ingest into a store with records re-derives only what it changed, unless an earlier one
    # left the derived graphs stale (None: derive them whole).
    stale = stages.stale_marker(store) if once is None and store.has_records() else None
    changes = stages.Changes() if stale is not None and not stale.exists() else None
    writer = stages.Writer(store, changes)
    if stale is not None:
        stale.touch()  # before the first write

    def reject(problem: RecordError) -> None:
        summary.rejected.append(problem)
        print(problem, file=err)
        if validator is not None:
            validator.quarantine_rejection(store, problem)

    # The validator's one-time set-up (compiling the shapes) while the workers read the first
    # records: this process only waits for them meanwhile.
    warming = None
    if validator is not None and once is None and workers > 1 and hasattr(validator, "warm_up"):
        warming = threading.Thread(target=validator.warm_up, daemon=True)
        warming.start()

    def flush() -> None:
        if not batch:
            return
        if warming is not None:
            warming.join()
        t = time.perf_counter()
        if once is None:
            ok, rejected, warnings = stages.validate(list(batch.values()), store, validator, writer.pending)
        else:  # validated once at the end
            ok, rejected, warnings = list(batch.values()), {}, {}
        st["validate"] += time.perf_counter() - t
        summary.warnings.update(warnings)
        summary.rejected_records += len(rejected)
        for reasons in rejected.values():
            for r in reasons:
                summary.rejected.append(r)
                print(r, file=err)
        for m in ok:
            if m.graph in accepted_at:  # the same record earlier in this import: the later one wins
                dup = RecordWarning(m.file, m.record_id, "id", f"the same record twice in one import: {accepted_at[m.graph]} "
                                    f"and {m.where}; the later ({m.where}) wins")
                summary.duplicates.append(dup)
                if once is None:  # else said after validation: a rejected later version is no duplicate
                    print(dup, file=err)
            else:
                summary.accepted += 1
            accepted_at[m.graph] = m.where
        if once is None:  # written in the writer's thread while the next batch is validated
            summary.triples_written += writer.submit(stages.prepare_write(ok, vocab_written, changes))
        else:
            t = time.perf_counter()
            summary.triples_written += once.write(ok, vocab_written)
            st["write"] += time.perf_counter() - t
        batch.clear()

    try:
        with _progress(progress, paths) as advance:
            for result in ordered_map(stages.read_and_map, job_list, workers):
                st["read"] += result.read_seconds
                st["map"] += result.map_seconds
                if result.input_error:
                    summary.input_errors.append(result.input_error)
                for item in result.items:
                    summary.read += 1
                    advance()
                    if isinstance(item, RecordError):
                        summary.rejected_records += 1
                        reject(item)
                        continue
                    for w in item.warnings:
                        summary.record_warnings.append(w)
                        summary.warnings[_warning_kind(w)] += 1
                        print(w, file=err)
                    if item.graph in batch:
                        flush()  # validate and write the earlier one first: the later one then replaces it
                    batch[item.graph] = item
                    if len(batch) >= BATCH_RECORDS:
                        flush()
            flush()
            summary.triples_written += writer.wait()
            writer.settle()
    except BaseException:
        if once is not None:
            once.close()  # its loader stops before the staging copy is discarded
        writer.abandon()  # the write under way ends (whole or not at all) before the store closes
        raise
    finally:
        st["write"] += writer.seconds
    ahead = None
    if once is not None:
        t = time.perf_counter()
        summary.triples_written += once.finish_writes()
        try:
            if enrich:
                ahead = stages.EnrichAhead(store, base)  # while this thread compacts and validates
            store.compact()  # validation reads the whole store, then users do
            st["write"] += time.perf_counter() - t
            t = time.perf_counter()
            verdict = once.validate()
            _apply(verdict, summary, err)
            st["validate"] += time.perf_counter() - t
        except BaseException:  # Ctrl-C, a store fault: the staging copy is discarded
            if ahead is not None:
                ahead.cancel()
            raise
        finally:
            if ahead is not None:
                ahead.wait()
        for dup in summary.duplicates:
            print(dup, file=err)
        if ahead is not None:
            t = time.perf_counter()
            ahead.finish(store_unchanged=not verdict.rejected_records)
            # The thread's own time (overlapping write and validate) and the write after it.
            st["enrich"] += ahead.seconds + time.perf_counter() - t
    elif enrich and summary.accepted:
        t = time.perf_counter()
        stages.enrich(store, base, changed=changes)
        st["enrich"] += time.perf_counter() - t
    if stale is not None and ((enrich and summary.accepted) or (changes is not None and not summary.accepted)):
        stale.unlink(missing_ok=True)  # derived graphs up to date: enriched, or nothing written
    for msg in summary.input_errors:
        print(msg, file=err)
    if not summary.read and not summary.input_errors:
        summary.input_errors.append(f"{', '.join(map(str, paths)) or 'no input'}: nothing readable in the input")
    summary.triples_in_store, summary.classes = store_counts(store)
    summary.quarantine = validator.quarantine_path if validator is not None else None
    summary.seconds = time.perf_counter() - t0
    return summary


def _apply(verdict, summary: ImportSummary, err) -> None:
    """Count what validation once over the store found, as per-batch validation counts it."""
    summary.warnings.update(verdict.warnings)
    for r in verdict.rejected:
        summary.rejected.append(r)
        print(r, file=err)
    summary.rejected_records += len(verdict.rejected_records)
    summary.accepted -= len(verdict.rejected_records) - len(verdict.restored)
    # A record stated twice whose later version was rejected: the earlier version stands, and the
    # later one is a rejected record rather than a superseded duplicate.
    for record in verdict.restored:
        i = next((i for i, d in enumerate(summary.duplicates) if d.record == record), None)
        if i is not None:
            summary.duplicates.pop(i)


def build(store: Store, paths: Iterable[str | Path] | None = None, *, validate_once: bool | None = None,
          **kwargs) -> ImportSummary:
    """Import ``paths`` into ``store``, or the bundled real data when none are given, then enrich.

    Arguments in the order of :func:`ingest`; the keywords are ingest's (``base``, ``validator``,
    ``progress``, ``err``, ``jobs``), enrichment runs once at the end.

    Into a store without records, the import goes into a staging copy that replaces the store
    only when complete (see :meth:`Store.staged`), and is validated once over the staging copy
    (``validate_once``, default: whenever there is a staging copy; False: per batch, as ``ingest``)."""
    load_ontology(store)
    inputs = list(paths) if paths else bundled_inputs()
    kwargs["enrich"] = False

    def enrich(summary: ImportSummary) -> ImportSummary:
        t = time.perf_counter()
        stages.enrich(store, kwargs.get("base"))
        summary.stages["enrich"] += time.perf_counter() - t
        summary.seconds += time.perf_counter() - t
        return summary

    if not store.has_records():
        with store.staged():
            once = store.in_staging and validate_once is not False
            # Enriched in the staging copy (its fast writes): records and derived graphs replace
            # the store together. Validated once, it is enriched while it is validated.
            summary = ingest(store, inputs, validate_once=once, **{**kwargs, "enrich": once})
            if not once:
                summary = enrich(summary)
        summary.store = store.location
    else:
        summary = enrich(ingest(store, inputs, **kwargs))
    if (stale := stages.stale_marker(store)) is not None:
        stale.unlink(missing_ok=True)  # derived whole just now
    return summary


def store_counts(store: Store) -> tuple[int, dict[str, int]]:
    """The store's triples and :func:`class_counts`. On an embedded store both scans run side by
    side (Oxigraph scans without the GIL; x16: 0.5 s and 0.23 s)."""
    if not isinstance(store, EmbeddedStore):  # a remote store's client is not shared between threads
        return store.count_triples(), class_counts(store)
    with ThreadPoolExecutor(1, thread_name_prefix="collabkg-count") as pool:
        classes = pool.submit(class_counts, store)
        return store.count_triples(), classes.result()


def class_counts(store: Store) -> dict[str, int]:
    """Instances per class in the records' and derived graphs (not the ontology's)."""
    # The ontology graphs named one by one: a term comparison per row, where a string test on
    # every graph IRI took ten times as long.
    ontology = ", ".join(f"<{ONTOLOGY_GRAPH}{ttl.stem}>" for ttl in sorted(ontology_dir().glob("*.ttl")))
    rows = store.query(
        f"SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s a ?c }} FILTER(?g NOT IN ({ontology})) }} GROUP BY ?c ORDER BY ?c"
    )
    return {r["c"].value: int(r["n"].value) for r in rows}


class _progress:
    """A rich progress bar on a terminal for inputs that take more than a moment; quiet otherwise."""

    def __init__(self, enabled: bool | None, paths: list[Path]):
        if enabled is None:
            enabled = sys.stderr.isatty()
        self.enabled = enabled
        self.paths = paths

    def __enter__(self):
        if not self.enabled:
            return lambda: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._p = Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True)
        self._p.start()
        task = self._p.add_task("import", total=_estimate(self.paths))
        return lambda: self._p.advance(task)

    def __exit__(self, *exc):
        if self.enabled:
            self._p.stop()


def _estimate(paths: list[Path]) -> int | None:
    import zipfile

    n = 0
    for p in paths:
        try:
            if p.suffix.lower() == ".zip":
                n += sum(1 for i in zipfile.ZipFile(p).infolist() if i.filename.endswith(".xml"))
            elif p.is_dir():
                n += sum(1 for _ in p.iterdir())
            else:
                n += 1
        except Exception:
            return None
    return n or None
