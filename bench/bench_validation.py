"""Validation benchmark: whole-store audit and per-record validation against the store, at several
scales of the real CORDIS records, beside plain whole-graph ``pyshacl.validate`` (the baseline).

Each measurement runs in its own subprocess, so its peak memory (max RSS) is its own. The audit
baseline copies the store into an rdflib graph and calls ``pyshacl.validate`` with the same shapes;
above ``BASELINE_MAX_TRIPLES`` it is not run (its row has ``seconds`` None). The per-record rows
validate ``RECORDS`` real records (the XML samples) one at a time against the store: collabkg with
its fast engine, the baseline with pySHACL on the same data graph.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
BASELINE_MAX_TRIPLES = int(os.environ.get("BENCH_VALIDATION_BASELINE_MAX_TRIPLES", 700_000))
BASELINE_TIMEOUT_S = 300  # whole-graph pySHACL on the x1 store ran over 25 min on a shared 2-core machine: time-boxed
RECORDS = 5

from common import PEAK as _PEAK, build_store, main, measure as _measure  # noqa: E402

AUDIT = """
import json, sys, time
from collabkg.store import EmbeddedStore
from collabkg import validation as validate
s = EmbeddedStore(sys.argv[1], read_only=True)
records = sum(1 for g in s.graph_names() if g.rsplit("/graph/cordis/", 1)[-1].isdigit())  # project records only
triples = s.count_triples()
from collabkg.parallel import default_jobs
t = time.perf_counter()
reports = validate.audit(s, sys.argv[2], default_jobs())  # as `collabkg audit` runs it: every core
print(json.dumps({"seconds": time.perf_counter() - t, "records": records, "triples": triples,
                  "violations": sum(len(r.violations) for r in reports)}))
""" + _PEAK

ONE_RECORD = """
import json, sys, time
from pathlib import Path
from collabkg.store import EmbeddedStore
from collabkg import validation as validate
from collabkg.mapping import map_record
from collabkg.namespaces import IRIs
from collabkg.sources import read
iris = IRIs()
files = sorted(Path(sys.argv[3]).glob("*.xml"))[: int(sys.argv[4])]
items = []
for f in files:
    for rec in read(f):
        items.append((rec, iris.graph(rec.source, rec.record_id), map_record(rec, iris)))
s = EmbeddedStore(sys.argv[1], read_only=True)
validate.validate_batch(items[:1], s, sys.argv[2])  # warm-up: compile shapes, load reference data
t = time.perf_counter()
triples = 0
for it in items:
    validate.validate_batch([it], s, sys.argv[2])
    triples += len(it[2])
print(json.dumps({"seconds": (time.perf_counter() - t) / len(items), "records": 1, "triples": triples / len(items)}))
""" + _PEAK


def _row(stage, system, scale, seconds, records, triples, peak):
    return {"stage": stage, "scale": scale, "system": system, "seconds": seconds,
            "records_per_s": records / seconds if seconds and records else None,
            "triples_per_s": triples / seconds if seconds and triples else None, "peak_mb": peak}


def run(scales: list[int], workdir: Path) -> list[dict]:
    from scaleup import scaled_zip

    samples = HERE.parent / "data" / "cordis-horizon-europe" / "xml-sample"
    rows = []
    workdir = Path(workdir)
    for scale in scales:
        store = workdir / f"validation-store-x{scale}"
        if not store.exists():
            build_store(scaled_zip(scale, workdir), store)
        res, peak = _measure(AUDIT, str(store), "fast")
        rows.append(_row("validation-audit", "collabkg", scale, res["seconds"], res["records"], res["triples"], peak))
        if res["triples"] <= BASELINE_MAX_TRIPLES:
            try:
                b, bpeak = _measure(AUDIT, str(store), "pyshacl", timeout=BASELINE_TIMEOUT_S)
                rows.append(_row("validation-audit", "baseline", scale, b["seconds"], b["records"], b["triples"], bpeak))
            except subprocess.TimeoutExpired:  # seconds None: did not finish within the timeout
                rows.append(_row("validation-audit", "baseline", scale, None, res["records"], None, None))
        else:
            rows.append(_row("validation-audit", "baseline", scale, None, res["records"], None, None))
        one, peak = _measure(ONE_RECORD, str(store), "fast", str(samples), str(RECORDS))
        rows.append(_row("validation-one-record", "collabkg", scale, one["seconds"], 1, one["triples"], peak))
        if res["triples"] <= BASELINE_MAX_TRIPLES:
            one, peak = _measure(ONE_RECORD, str(store), "pyshacl", str(samples), str(RECORDS))
            rows.append(_row("validation-one-record", "baseline", scale, one["seconds"], 1, one["triples"], peak))
    return rows


if __name__ == "__main__":
    main(run)
