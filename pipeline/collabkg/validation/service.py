"""One way into validation: ``validate(inputs, store, engine)`` streams records through it; the
importer's validator, ``audit`` of a store, and ``validate_files`` (any RDF file against any shapes)
share the engines and the report model.

The data graph of a batch of records is: reference data (countries), the records' triples and
shared vocabulary, and, with a store, context from the store (see :class:`~.batch.Batch`). Only
results about nodes the batch describes are reported: the store itself is checked by ``audit``.
"""
from __future__ import annotations

import json
import re
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from collabkg.mapping import map_record
from collabkg.namespaces import IRIs
from collabkg.records import RecordError
from collabkg.validation.batch import Batch, _chunks, reference_nt
from collabkg.validation.compile import ShapesIndex
from collabkg.validation.engines import Data, FastEngine, engine_name, part_of, run_pyshacl, work_units
from collabkg.validation.results import RecordReport, Result, _short
from collabkg.validation.shapes import ONTOLOGY_GRAPH, RDF_FORMATS, load_shapes, shapes_graph

BATCH = 256
SHAPES_GRAPH = "urn:collabkg:shapes-graph"


@lru_cache(maxsize=1)
def record_shapes() -> ShapesIndex:
    """The record shapes of ``shapes/``, compiled once (refused shapes raise Unsupported here)."""
    return ShapesIndex(shapes_graph())


def run_fast(data: Data, index: ShapesIndex | None = None, classes: set[str] | None = None, only: set[str] | None = None) -> list[Result]:
    return FastEngine(index or record_shapes(), data).run(classes, only)


def _rdflib_graph(triples):
    import rdflib

    g = rdflib.Graph()
    data = ox.serialize([ox.Triple(t.subject, t.predicate, t.object) for t in triples], format=ox.RdfFormat.N_TRIPLES)
    g.parse(data=data.decode("utf-8"), format="nt")
    return g


def validate_graphs(triples, shapes, engine: str | None = None) -> list[Result]:
    """Validate data (pyoxigraph triples or quads, as written) against a shapes graph (rdflib)."""
    triples = list(triples)
    if engine_name(engine) == "pyshacl":
        return run_pyshacl(_rdflib_graph(triples), shapes)
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    # The shapes in a named graph of their own, for SPARQL constraints that read $shapesGraph.
    graph = ox.NamedNode(SHAPES_GRAPH)
    store.load(shapes.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
    written: dict = {}
    Data.remember(triples, written)
    return run_fast(Data.of_store(store, written, graph), ShapesIndex(shapes))


def read_rdf(path: Path) -> list:
    """The triples of an RDF file (Turtle, N-Triples, TriG, N-Quads, JSON-LD, RDF/XML; the graphs of a
    dataset merged), as written. ValueError names the file."""
    fmt = RDF_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: unknown RDF syntax (suffixes: {', '.join(sorted(RDF_FORMATS))})")
    try:
        return [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(path=str(path), format=fmt[1], base_iri=path.resolve().as_uri())]
    except OSError as e:
        raise ValueError(f"{path}: cannot read: {e.strerror or e}") from None
    except SyntaxError as e:
        raise ValueError(f"{path}: not valid {fmt[0]}: {str(e).splitlines()[0]}") from None


def validate_files(paths, shapes_paths, engine: str | None = None) -> list[RecordReport]:
    """Each RDF file against the shapes files (like ``pyshacl -s``): one report per data file."""
    shapes = load_shapes(shapes_paths)
    reports = []
    for p in map(Path, paths):
        reports.append(RecordReport(str(p), p.name, results=validate_graphs(read_rdf(p), shapes, engine)))
    return reports


def validate_batch(items, store=None, engine: str | None = None, pending=None) -> list[RecordReport]:
    """Validate mapped records ``[(SourceRecord, graph IRI, triples)]``; with ``store``, against it
    (as it will be once the ``pending`` write, an importer's :class:`~collabkg.importing.stages.Write`, is done)."""
    if not items:
        return []
    batch = Batch(items, store, pending)
    if engine_name(engine) == "pyshacl":
        results = run_pyshacl(batch.rdflib(), shapes_graph())
    else:
        results = run_fast(batch.data, classes=batch.classes())
    return batch.reports(results)


def validate(inputs, store=None, engine: str | None = None, iris=None, batch: int = BATCH):
    """The service entry point: stream what sources yield (records, or RecordErrors) through mapping
    and validation in batches; yields one RecordReport per record (``error`` set when it could not be
    read or mapped)."""
    iris = iris or IRIs()
    pending = []
    for item in map_for_validation(inputs, iris):
        if isinstance(item, RecordReport):
            yield item
            continue
        pending.append(item)
        if len(pending) >= batch:
            yield from validate_batch(pending, store, engine)
            pending = []
    yield from validate_batch(pending, store, engine)


def audit(store, engine: str | None = None, jobs: int = 1) -> list[RecordReport]:
    """Validate everything in the store: one report per record graph (empty when the record
    conforms), each result under exactly one record (as ``build`` counts them)."""
    return _group_by_graph(store, store_results(store, engine, jobs), jobs)


def store_results(store, engine: str | None = None, jobs: int = 1) -> list[Result]:
    """Every validation result over the whole store (the union of its graphs). On an embedded store
    with ``jobs`` > 1, the shapes are shared out to that many worker processes, each reading the store
    read-only (the caller must not write meanwhile); the results are the same as on one core."""
    if engine_name(engine) == "pyshacl":
        return run_pyshacl(_rdflib_graph(store.quads()), shapes_graph())
    path = store.local_path()
    shapes = record_shapes().targeted()
    if jobs <= 1 or path is None or len(shapes) < 2 or any(not s.id.startswith("<") for s in shapes):
        return run_fast(Data(store.query))
    from collabkg.parallel import ordered_map

    parts = _share_out(store, shapes, jobs)
    results: set[Result] = set()
    for found, error in ordered_map(_shapes_on_store, [(path, tuple(p)) for p in parts], len(parts)):
        if error:
            raise RuntimeError(error)
        results.update(found)
    return sorted(results, key=Result.sort_key)


def _share_out(store, shapes, n: int) -> list[list[str]]:
    """Work units (:func:`~.engines.work_units`) in ``n`` parts of about equal work: focus nodes ×
    checks per unit, greatest first."""
    counts = {r["c"].value: int(r["n"].value) for r in store.query("SELECT ?c (COUNT(?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c")}

    def checks(shape) -> int:
        return 1 + len(shape.constraints) + sum(checks(p) for p in shape.properties)

    units: list[tuple[int, str]] = []
    for shape in shapes:
        foci = max(1, sum(counts.get(t.value, 0) if k == "class" else 100 for k, t in shape.targets))
        units += [(foci * checks(part_of(shape, {unit})), unit) for unit in work_units(shape)]
    parts: list[tuple[int, list[str]]] = [(0, []) for _ in range(n)]
    for weight, unit in sorted(units, reverse=True):
        i = min(range(n), key=lambda j: parts[j][0])
        parts[i] = (parts[i][0] + weight, parts[i][1] + [unit])
    return [ids for _, ids in parts if ids]


def _shapes_on_store(job: tuple[str, tuple[str, ...]]) -> tuple[list[Result], str | None]:
    """A worker's part of :func:`store_results`: plain data back (results, or an error message)."""
    from collabkg.store import EmbeddedStore

    path, ids = job
    try:
        store = EmbeddedStore(path, read_only=True)
        try:
            return run_fast(Data(store.query), only=set(ids)), None
        finally:
            store.close()
    except Exception as e:  # noqa: BLE001 - crosses a process boundary as text
        return [], f"validation worker: {type(e).__name__}: {e}"


def record_graphs(store) -> list[str]:
    """The named graphs holding one source record each (not the ontology, nor derived graphs)."""
    return sorted(g for g in store.graph_names() if _is_record_graph(g))


def _is_record_graph(g: str) -> bool:
    return not g.startswith(ONTOLOGY_GRAPH) and re.search(r"/graph/(cordis|openalex|turtle|jsonld)/[^/]+$", g) is not None


def focus_graphs(store, foci, threads: int = 1) -> dict[str, list[str]]:
    """The named graphs in which each focus node (N-Triples IRI) is a subject; asked in chunks on
    ``threads`` threads (Oxigraph evaluates without the GIL: 47,000 nodes at x16, 1.4 s -> 0.8 s on 2)."""
    def ask(chunk: list[str]) -> list[tuple[str, str]]:
        rows = store.query("SELECT DISTINCT ?s ?g WHERE { VALUES ?s { %s } GRAPH ?g { ?s ?p ?o } }" % " ".join(chunk))
        return [(str(row["s"]), row["g"].value) for row in rows]

    chunks = list(_chunks(sorted(f for f in foci if f.startswith("<")), 1000))
    graphs: dict[str, list[str]] = defaultdict(list)
    with ThreadPoolExecutor(max(1, min(threads, len(chunks)))) as pool:
        for rows in pool.map(ask, chunks):
            for s, g in rows:
                graphs[s].append(g)
    return graphs


def _group_by_graph(store, results: list[Result], jobs: int = 1) -> list[RecordReport]:
    graphs = focus_graphs(store, {r.focus for r in results}, jobs)
    reports: dict[str, RecordReport] = {g: RecordReport(file=store.location, record=_record_id(g), graph=g) for g in record_graphs(store)}
    for r in results:
        # One home per result: the focus node's record graph (a node in several graphs, e.g. its
        # record's and a derived one, is reported once, as build reports it).
        candidates = sorted(graphs.get(r.focus) or [])
        home = next((g for g in candidates if g in reports), None)
        if home is None:
            home = next((g for g in candidates if not g.startswith(ONTOLOGY_GRAPH)), "-")
            if home not in reports:
                reports[home] = RecordReport(file=store.location, record=_record_id(home), graph=home)
        reports[home].results.append(r)
    return sorted(reports.values(), key=lambda rep: rep.graph or "")


def _record_id(graph: str) -> str:
    from urllib.parse import unquote

    m = re.search(r"/graph/([^/]+)/(.+)$", graph)
    return unquote(m.group(2)) if m else graph


def map_for_validation(items, iris):
    """Map what a source yielded, for validation without storing: yields ``(record, graph IRI,
    triples)`` for each mapped record, and a RecordReport (with ``error``) for one that cannot be
    read or mapped."""

    for item in items:
        if isinstance(item, RecordError):
            yield RecordReport(item.file, item.record, error=item.message, error_field=item.field)
            continue
        try:
            triples = map_record(item, iris)
        except (ValueError, TypeError) as e:  # a value that cannot become a valid RDF term
            yield RecordReport(item.file, item.record_id, error=f"cannot map record: {e}")
            continue
        yield item, iris.graph(item.source, item.record_id), triples



class ImportValidator:
    """The importer's Validator: rejects records with a violation, counts warnings, and writes the
    rejected records with their results to a quarantine file (JSON Lines)."""

    def __init__(self, engine: str | None = None, quarantine: str | Path | None = None):
        self.engine = engine_name(engine)
        self._quarantine = Path(quarantine) if quarantine else None
        self.quarantine_path: str | None = None
        self.seconds = 0.0
        self._counted: set = set()

    def warm_up(self) -> None:
        """Compile the shapes and load the reference data now (both are remembered for the process):
        the importer does it while its workers read the first records."""
        if self.engine != "pyshacl":
            record_shapes()
        reference_nt()

    def __call__(self, items, store, pending=None):
        """Validate a batch of mapped records against the store (as it will be after the
        ``pending`` write): (rejected, warning counts)."""
        t0 = time.perf_counter()
        verdict = self.judge(validate_batch(items, store, self.engine, pending), store)
        self.seconds += time.perf_counter() - t0
        return verdict

    def judge(self, reports, store) -> tuple[dict[str, list[RecordError]], Counter]:
        """Turn record reports into the import's verdict: the records with a violation (record id ->
        their reasons; also written to the quarantine file) and the warnings, each result counted once."""
        rejected: dict[str, list] = {}
        warnings: Counter = Counter()
        for rep in reports:
            for r in rep.results:
                # A result about a node several records describe is counted once, as audit lists it.
                if r.severity != "Violation" and r.key() not in self._counted:
                    self._counted.add(r.key())
                    warnings[f"{r.severity.lower()}: {r.kind}"] += 1
            if rep.violations:
                rejected[rep.record] = [
                    RecordError(rep.file, rep.record, r.field, f"{r.message}" + (f" (value {_short(r.value, 60)})" if r.value else ""))
                    for r in rep.violations
                ]
                self._write(store, {"file": rep.file, "record": rep.record, "graph": rep.graph, "results": [r.as_dict() for r in rep.results]})
        return rejected, warnings

    def quarantine_rejection(self, store, rejection) -> None:
        """A record the source or the mapper could not read goes to the quarantine file too."""
        self._write(store, {"file": rejection.file, "record": rejection.record, "graph": None,
                            "results": [{"field": rejection.field, "severity": "Violation", "message": rejection.message, "component": None}]})

    def _write(self, store, line: dict) -> None:
        if self.quarantine_path is None:
            path = self._quarantine or _default_quarantine(store)
            path.parent.mkdir(parents=True, exist_ok=True)
            self.quarantine_path = str(path)
        with open(self.quarantine_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")


def _default_quarantine(store) -> Path:
    """Beside an embedded store; for a remote store (a URL), under ./.collabkg/quarantine."""
    location = str(store.location)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    if "://" in location:
        return Path(".collabkg") / "quarantine" / f"remote-{stamp}.jsonl"
    loc = Path(location)
    return loc.parent / "quarantine" / f"{loc.name}-{stamp}.jsonl"


def import_validator(args=None) -> ImportValidator | None:
    """The validator ``collabkg build``/``ingest`` use (``$COLLABKG_VALIDATE=0`` turns it off)."""
    from collabkg.settings import Settings

    settings = Settings.of(args)
    if not settings.validate:
        return None
    engine = getattr(args, "engine", None) or settings.shacl_engine
    return ImportValidator(engine=engine, quarantine=getattr(args, "quarantine", None))
