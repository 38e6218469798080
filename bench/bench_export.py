"""Export benchmark: `collabkg export` (streaming, sorted Turtle) beside Oxigraph's own unsorted
dump of the same store (the reference of issue 13's aim, ``x_oxigraph_dump``) and rdflib's Turtle
serializer on the same graph, at several scales of the real CORDIS records.

Each measurement runs in its own subprocess, so its peak memory (max RSS) is its own. The
baseline loads the same triples into an rdflib Graph and calls ``serialize(format="turtle")``
(its cost grows sharply with the graph: rdflib issue 2135); above ``BASELINE_MAX_TRIPLES`` it
is not run and its row has ``seconds`` None.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
BASELINE_MAX_TRIPLES = int(os.environ.get("BENCH_EXPORT_BASELINE_MAX_TRIPLES", 2_500_000))

from common import PEAK as _PEAK, build_store, main, measure as _measure  # noqa: E402

EXPORT = """
import json, sys, time
from collabkg.store import EmbeddedStore
from collabkg import export as ex
s = EmbeddedStore(sys.argv[1], read_only=True)
records = sum(1 for g in s.graph_names() if g.rsplit("/graph/cordis/", 1)[-1].isdigit())  # project records only
t = time.perf_counter()
r = ex.export(s, sys.argv[2], "turtle")
print(json.dumps({"seconds": time.perf_counter() - t, "triples": r.statements, "records": records}))
""" + _PEAK

BASELINE = """
import json, sys, time
import pyoxigraph as ox, rdflib
s = ox.Store.read_only(sys.argv[1])
def term(t):
    if isinstance(t, ox.NamedNode): return rdflib.URIRef(t.value)
    if isinstance(t, ox.BlankNode): return rdflib.BNode(t.value)
    if t.language: return rdflib.Literal(t.value, lang=t.language)
    return rdflib.Literal(t.value, datatype=rdflib.URIRef(t.datatype.value))
g = rdflib.Graph()
for q in s:
    g.add((term(q.subject), term(q.predicate), term(q.object)))
t = time.perf_counter()
g.serialize(destination=sys.argv[2], format="turtle")
print(json.dumps({"seconds": time.perf_counter() - t, "triples": len(g)}))
""" + _PEAK


# The reference of the aim (issue 13): Oxigraph's own dump of the same store, unsorted N-Quads.
OXIGRAPH_DUMP = """
import json, sys, time
import pyoxigraph as ox
s = ox.Store.read_only(sys.argv[1])
t = time.perf_counter()
s.dump(output=sys.argv[2], format=ox.RdfFormat.N_QUADS)
print(json.dumps({"seconds": time.perf_counter() - t}))
""" + _PEAK


def _row(system, scale, seconds, records, triples, peak, ref=None):
    row = {"stage": "export-turtle", "scale": scale, "system": system, "seconds": seconds,
           "records_per_s": records / seconds if seconds and records else None,
           "triples_per_s": triples / seconds if seconds and triples else None, "peak_mb": peak}
    if ref and seconds:
        row["x_oxigraph_dump"] = round(seconds / ref, 1)
    return row


def run(scales: list[int], workdir: Path) -> list[dict]:
    from scaleup import scaled_zip

    rows = []
    workdir = Path(workdir)
    for scale in scales:
        store = workdir / f"export-store-x{scale}"
        if not store.exists():
            build_store(scaled_zip(scale, workdir), store)
        ref, ref_peak = _measure(OXIGRAPH_DUMP, str(store), str(workdir / f"oxigraph-dump-x{scale}.nq"))
        rows.append(_row("oxigraph dump (N-Quads, unsorted)", scale, ref["seconds"], None, None, ref_peak, ref["seconds"]))
        (workdir / f"oxigraph-dump-x{scale}.nq").unlink()
        res, peak = _measure(EXPORT, str(store), str(workdir / f"export-x{scale}.ttl"))
        rows.append(_row("collabkg", scale, res["seconds"], res["records"], res["triples"], peak, ref["seconds"]))
        if res["triples"] <= BASELINE_MAX_TRIPLES:
            # the baseline's peak includes holding the graph in memory, which its serializer needs
            b, bpeak = _measure(BASELINE, str(store), str(workdir / f"export-rdflib-x{scale}.ttl"))
            rows.append(_row("baseline", scale, b["seconds"], res["records"], b["triples"], bpeak))
        else:
            rows.append(_row("baseline", scale, None, res["records"], None, None))
    return rows


if __name__ == "__main__":
    main(run)
