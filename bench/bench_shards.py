"""`collabkg map` on the bundled data, and on the OpenAlex sample's works as JSON Lines (×10, split
into byte ranges): local worker processes (and one process) vs a 2-worker Dask LocalCluster.

Prints partitions, workers, records, seconds and records/s per configuration (a measurement, not
a test). Usage: .venv/bin/python bench/bench_shards.py [--workers 2]
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from collabkg.resources import bundled_inputs
from collabkg.shards.run import map_inputs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    works = [w for f in sorted(Path(bundled_inputs()[1]).parent.glob("*.json")) for w in json.loads(f.read_text())["works"]]
    jsonl = tmp / "works-x10.jsonl"
    jsonl.write_text("".join(json.dumps(w) + "\n" for _ in range(10) for w in works))
    configs = [("bundled", bundled_inputs(), None, args.workers), ("bundled", bundled_inputs(), "local", args.workers),
               ("openalex jsonl x10", [jsonl], None, 1), ("openalex jsonl x10", [jsonl], None, args.workers),
               ("openalex jsonl x10", [jsonl], "local", args.workers)]
    for name, inputs, scheduler, workers in configs:
        with tempfile.TemporaryDirectory() as out:
            t = time.perf_counter()
            s = map_inputs(inputs, out, scheduler=scheduler, workers=workers, range_bytes=1 << 20)
            secs = time.perf_counter() - t
        row = {"input": name, "scheduler": scheduler or "local processes", "partitions": s.partitions, "workers": s.workers,
               "records": s.records, "seconds": round(secs, 1), "records_per_s": round(s.records / secs, 1),
               "triples": s.triples, "bytes": s.bytes}
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
