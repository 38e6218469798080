"""Stored query latency: every query of queries/*.rq on the embedded store (pyoxigraph),
beside the same prepared SPARQL text on an rdflib in-memory Dataset (union default graph),
on the bundled data and its scale-ups (CORDIS records repeated with new identifiers, plus
the bundled OpenAlex works).

Parameters use the largest country of the data (TR), so the timings are the heavy case.
Each system runs in its own subprocess (its peak memory is its own). The rdflib baseline
runs only up to ``BASELINE_MAX_TRIPLES`` triples and stops a query after
``BASELINE_TIMEOUT`` seconds; such rows have ``seconds`` None.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
BASELINE_MAX_TRIPLES = int(os.environ.get("BENCH_QUERIES_BASELINE_MAX_TRIPLES", 1_500_000))
BASELINE_TIMEOUT = int(os.environ.get("BENCH_QUERIES_BASELINE_TIMEOUT", 120))
SAMPLE = {"country": "TR", "a": "TR", "b": "DE"}

from common import ENV, PEAK as _PEAK, build_store, main, measure as _measure  # noqa: E402

# The bundled OpenAlex works added to the run's CORDIS store (copied: a x16 build takes minutes).
ADD_OPENALEX = """
import io, sys
from collabkg.importing import ingest
from collabkg.resources import data_dir
from collabkg.store import EmbeddedStore
openalex = sorted((data_dir() / "openalex-works-sample" / "author-data").glob("*.json"))
with EmbeddedStore(sys.argv[1]) as s:
    ingest(s, openalex, progress=False, err=io.StringIO())
"""

# Prints one JSON list of {name, seconds, rows, triples}, then the peak RSS.
PREPARE = """
import json, sys, time
from collabkg import catalogue
SAMPLE = json.loads(sys.argv[2])
def prepared():
    for name, q in sorted(catalogue.catalogue().items()):
        params = {p.name: SAMPLE.get(p.name, {"country": "TR", "integer": "1"}.get(p.type)) for p in q.params if p.required}
        yield name, q, params
"""

COLLABKG = PREPARE + """
from collabkg.store import EmbeddedStore
s = EmbeddedStore(sys.argv[1], read_only=True)
triples = s.count_triples()
out = []
for name, q, params in prepared():
    t = time.perf_counter()
    n = len(catalogue.run(q, s, params).rows)
    out.append({"name": name, "seconds": time.perf_counter() - t, "rows": n, "triples": triples})
print(json.dumps(out))
""" + _PEAK

BASELINE = PREPARE + """
import signal
import pyoxigraph as ox, rdflib
def term(t):
    if isinstance(t, ox.NamedNode): return rdflib.URIRef(t.value)
    if isinstance(t, ox.BlankNode): return rdflib.BNode(t.value)
    if t.language: return rdflib.Literal(t.value, lang=t.language)
    return rdflib.Literal(t.value, datatype=rdflib.URIRef(t.datatype.value))
ds = rdflib.Dataset(default_union=True)
store = ox.Store.read_only(sys.argv[1])
for q in store:
    ds.graph(rdflib.URIRef(q.graph_name.value)).add((term(q.subject), term(q.predicate), term(q.object)))
class Timeout(Exception): pass
def alarm(*_): raise Timeout()
signal.signal(signal.SIGALRM, alarm)
out = []
for name, q, params in prepared():
    sparql = catalogue.prepare(q, catalogue.bind(q, params))
    signal.alarm(int(sys.argv[3]))
    t = time.perf_counter()
    try:
        n = len(list(ds.query(sparql)))
        secs = time.perf_counter() - t
    except Timeout:
        n, secs = None, None
    finally:
        signal.alarm(0)
    out.append({"name": name, "seconds": secs, "rows": n})
print(json.dumps(out))
""" + _PEAK


def _row(system, scale, name, seconds, peak):
    return {"stage": f"query:{name}", "scale": scale, "system": system, "seconds": seconds,
            "records_per_s": None, "triples_per_s": None, "peak_mb": peak}


def run(scales: list[int], workdir: Path) -> list[dict]:
    from scaleup import scaled_zip

    rows = []
    workdir = Path(workdir)
    sample = json.dumps(SAMPLE)
    for scale in scales:
        store = workdir / f"queries-store-x{scale}"
        if not store.exists():
            build_store(scaled_zip(scale, workdir), store)
            subprocess.run([sys.executable, "-c", ADD_OPENALEX, str(store)], check=True, env=ENV)
        ours, peak = _measure(COLLABKG, str(store), sample)
        triples = ours[0]["triples"] if ours else 0
        base, bpeak = ({}, None)
        if triples <= BASELINE_MAX_TRIPLES:
            b, bpeak = _measure(BASELINE, str(store), sample, str(BASELINE_TIMEOUT))
            base = {r["name"]: r for r in b}
        for r in ours:
            rows.append(_row("collabkg", scale, r["name"], r["seconds"], peak))
            rows.append(_row("baseline", scale, r["name"], base.get(r["name"], {}).get("seconds"), bpeak))
    return rows


if __name__ == "__main__":
    main(run)
