"""Benchmark of the OpenAlex source: import a JSON Lines snapshot of the sample scaled up.

Scale N = the 144 real works repeated N times with new work ids (gzipped JSON Lines, as in the
OpenAlex snapshot). collabkg: ``ingest`` into a fresh on-disk store (read, check, map, write).
baseline: ``json.loads`` per line and the same triples added to an in-memory rdflib Graph.
Each measurement runs in its own subprocess so that its peak memory is its own.

    python bench/bench_openalex.py 1,4
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "data" / "openalex-works-sample" / "author-data"

from common import PEAK as _PEAK, main, measure as _measure  # noqa: E402

COLLABKG = """
import io, json, sys, time
from collabkg.importing import ingest
from collabkg.store import EmbeddedStore
t = time.perf_counter()
with EmbeddedStore(sys.argv[2]) as s:
    summary = ingest(s, [sys.argv[1]], progress=False, err=io.StringIO())
print(json.dumps({"seconds": time.perf_counter() - t, "records": summary.accepted, "triples": summary.triples_written}))
""" + _PEAK

BASELINE = """
import gzip, json, sys, time
import rdflib
t = time.perf_counter()
g = rdflib.Graph()
n = 0
W = "https://w3id.org/collabkg/id/work/openalex/"
P = "https://w3id.org/collabkg/ontology#"
with gzip.open(sys.argv[1], "rt", encoding="utf-8") as f:
    for line in f:
        w = json.loads(line); n += 1
        s = rdflib.URIRef(W + w["id"].rsplit("/", 1)[1])
        for k in ("title", "type", "publication_date", "publication_year", "language", "cited_by_count", "doi"):
            if w.get(k) is not None:
                g.add((s, rdflib.URIRef(P + k), rdflib.Literal(w[k])))
        for i, a in enumerate(w.get("authorships") or [], 1):
            au = rdflib.URIRef(f"{s}/a/{i}")
            g.add((s, rdflib.URIRef(P + "authorship"), au))
            g.add((au, rdflib.URIRef(P + "authorPosition"), rdflib.Literal(a.get("author_position"))))
            for inst in a.get("institutions") or []:
                g.add((au, rdflib.URIRef(P + "affiliation"), rdflib.URIRef(inst["id"])))
                if inst.get("country_code"):
                    g.add((rdflib.URIRef(inst["id"]), rdflib.URIRef(P + "country"), rdflib.Literal(inst["country_code"])))
print(json.dumps({"seconds": time.perf_counter() - t, "records": n, "triples": len(g)}))
""" + _PEAK


def scaled_snapshot(factor: int, workdir: Path) -> Path:
    """The sample's distinct works, ``factor`` times, each copy with new work ids, as .jsonl.gz."""
    out = Path(workdir) / f"openalex-x{factor}.jsonl.gz"
    if out.exists():
        return out
    works = {}
    for f in sorted(SAMPLE.glob("*.json")):
        for w in json.loads(f.read_text(encoding="utf-8"))["works"]:
            works.setdefault(w["id"], w)
    with gzip.open(out, "wt", encoding="utf-8") as z:
        for k in range(factor):
            for w in works.values():
                num = int(w["id"].rsplit("W", 1)[1]) + k * 10**11
                doi = w.get("doi")
                copy = {**w, "id": f"https://openalex.org/W{num}", "doi": f"{doi}.x{k}" if doi and k else doi}
                z.write(json.dumps(copy) + "\n")
    return out


def _row(system: str, scale: int, res: dict, peak: float) -> dict:
    secs = res["seconds"]
    return {
        "stage": "openalex-import",
        "scale": scale,
        "system": system,
        "seconds": round(secs, 3),
        "records_per_s": round(res["records"] / secs, 1) if secs else None,
        "triples_per_s": round(res["triples"] / secs, 1) if secs else None,
        "peak_mb": round(peak, 1),
    }


def run(scales: list[int], workdir: Path) -> list[dict]:
    rows = []
    for scale in scales:
        snap = scaled_snapshot(scale, workdir)
        res, peak = _measure(COLLABKG, str(snap), str(Path(workdir) / f"openalex-store-x{scale}"))
        rows.append(_row("collabkg", scale, res, peak))
        b, bpeak = _measure(BASELINE, str(snap))
        rows.append(_row("baseline", scale, b, bpeak))
    return rows


if __name__ == "__main__":
    main(run)
