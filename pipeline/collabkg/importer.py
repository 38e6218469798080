"""Import: sources → records → mapper → (validator) → store, in atomic batches.

Every record goes into its own named graph; a batch of records is written in one
transaction. A record that cannot be read or mapped is reported and skipped; the rest
of the input still goes in.
"""
from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pyoxigraph as ox

from collabkg import sources
from collabkg.mapping import map_record
from collabkg.namespaces import IRIs
from collabkg.records import RecordError, SourceRecord
from collabkg.resources import bundled_inputs, ontology_dir
from collabkg.store import Store

BATCH_RECORDS = 256
from collabkg.namespaces import ONTOLOGY_GRAPH as ONTOLOGY_GRAPH  # noqa: E402  (defined in namespaces.py)


# A rejected record is reported exactly like a record a source could not read.
Rejection = RecordError


@dataclass
class ImportSummary:
    """What an import did: the figures ``collabkg build`` prints."""

    store: str
    read: int = 0
    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    triples_written: int = 0
    triples_in_store: int = 0
    classes: dict[str, int] = field(default_factory=dict)
    warnings: Counter = field(default_factory=Counter)
    input_errors: list[str] = field(default_factory=list)
    quarantine: str | None = None
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        if self.input_errors:
            return 2
        return 1 if self.rejected else 0


# A validator takes the batch [(record, graph IRI, triples)] and the store, and returns
# {record_id: [Rejection, ...]} for records that must not go in, plus warning counts.
Validator = Callable[[list[tuple[SourceRecord, str, list]], Store], tuple[dict[str, list[Rejection]], Counter]]


def load_ontology(store: Store) -> int:
    """(Re)load the ontology and reference data, one named graph per Turtle file."""
    graphs = []
    for ttl in sorted(ontology_dir().glob("*.ttl")):
        triples = list(ox.parse(path=str(ttl), format=ox.RdfFormat.TURTLE))
        graphs.append((ONTOLOGY_GRAPH + ttl.stem, triples))
    return store.replace_graphs(graphs)


def _records(paths: Iterable[Path], summary: ImportSummary) -> Iterator[SourceRecord | RecordError]:
    for path in paths:
        try:
            yield from sources.read(Path(path))
        except sources.InputError as e:
            summary.input_errors.append(str(e))
        except OSError as e:
            summary.input_errors.append(f"{path}: cannot read: {e.strerror or e}")


def ingest(
    paths: Iterable[str | Path],
    store: Store,
    *,
    base: str | None = None,
    validator: Validator | None = None,
    progress: bool | None = None,
    err=sys.stderr,
) -> ImportSummary:
    """Import records from ``paths`` into ``store``; report problems on ``err``."""
    t0 = time.perf_counter()
    iris = IRIs(base)
    paths = [Path(p) for p in paths]
    summary = ImportSummary(store=store.location)
    if not (ONTOLOGY_GRAPH + "collabkg") in store.graph_names():
        load_ontology(store)
    batch: dict[str, tuple[SourceRecord, list]] = {}
    vocab_written: set = set()  # shared vocabulary triples already in the store (this run)

    def flush() -> None:
        if not batch:
            return
        items = [(rec, g, triples) for g, (rec, triples) in batch.items()]
        if validator is not None:
            rejected, warnings = validator(items, store)
            summary.warnings.update(warnings)
            for rec_id, reasons in rejected.items():
                for r in reasons:
                    summary.rejected.append(r)
                    print(r, file=err)
            items = [it for it in items if it[0].record_id not in rejected]
        graphs: dict[str, list] = {}
        vocab: dict[str, list] = {}
        for rec, g, triples in items:
            own, entities = triples.split()
            graphs[g] = own
            for (kind, ident), ts in entities.items():  # the latest record describing an entity wins
                graphs[iris.entity_graph(rec.source, kind, ident)] = ts
            new = [t for t in triples.vocab if t not in vocab_written]
            vocab_written.update(new)
            vocab.setdefault(iris.graph(rec.source, "vocabulary"), []).extend(new)
        summary.triples_written += store.replace_graphs(list(graphs.items()), add=list(vocab.items()))
        summary.accepted += len(items)
        batch.clear()

    with _progress(progress, paths) as advance:
        for item in _records(paths, summary):
            summary.read += 1
            advance()
            if isinstance(item, RecordError):
                rej = item
                summary.rejected.append(rej)
                print(rej, file=err)
                _quarantine(validator, store, rej)
                continue
            try:
                triples = map_record(item, iris)
            except (ValueError, TypeError) as e:  # a value that cannot become a valid RDF term
                rej = Rejection(item.file, item.record_id, "-", f"cannot map record: {e}")
                summary.rejected.append(rej)
                print(rej, file=err)
                _quarantine(validator, store, rej)
                continue
            g = iris.graph(item.source, item.record_id)
            if g in batch:  # the same record twice in one run: the later one wins
                summary.accepted -= 1
            batch[g] = (item, triples)
            if len(batch) >= BATCH_RECORDS:
                flush()
        flush()
    for msg in summary.input_errors:
        print(msg, file=err)
    summary.triples_in_store = store.count_triples()
    summary.classes = class_counts(store)
    summary.quarantine = getattr(validator, "quarantine_path", None)
    summary.seconds = time.perf_counter() - t0
    return summary


def _quarantine(validator, store: Store, rejection: Rejection) -> None:
    """Unreadable records go to the validator's quarantine file too (when it keeps one)."""
    keep = getattr(validator, "quarantine_rejection", None)
    if keep is not None:
        keep(store, rejection)


def build(store: Store, paths: Iterable[str | Path] | None = None, **kwargs) -> ImportSummary:
    """Import the given inputs, or the bundled real data when none are given."""
    load_ontology(store)
    inputs = list(paths) if paths else bundled_inputs()
    staged = getattr(store, "staged", None)
    if staged is not None and not any(g for g in store.graph_names() if not g.startswith(ONTOLOGY_GRAPH)):
        with staged():
            summary = ingest(inputs, store, **kwargs)
        summary.store = store.location
    else:
        summary = ingest(inputs, store, **kwargs)
    from collabkg import linking  # post-import: CORDIS organisation ↔ OpenAlex institution, split authors

    linking.link_sources(store, base=kwargs.get("base"))
    __import__("collabkg.themes").themes.assign_themes(store, base=kwargs.get("base"))  # themes graph (ontology/themes.ttl)
    return summary


def class_counts(store: Store) -> dict[str, int]:
    rows = store.query(
        "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?c } "
        f"FILTER(!STRSTARTS(STR(?g), '{ONTOLOGY_GRAPH}')) }} GROUP BY ?c ORDER BY ?c"
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
