"""`collabkg map` on the bundled data: local worker processes vs a 2-worker Dask LocalCluster.

Prints partitions, workers, records, seconds and records/s per configuration (a measurement, not
a test). Usage: .venv/bin/python bench/bench_shards.py [--workers 2]
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time

from collabkg.resources import bundled_inputs
from collabkg.shards.run import map_inputs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    rows = []
    for scheduler in (None, "local"):
        with tempfile.TemporaryDirectory() as out:
            t = time.perf_counter()
            s = map_inputs(bundled_inputs(), out, scheduler=scheduler, workers=args.workers)
            secs = time.perf_counter() - t
        rows.append({"scheduler": scheduler or "local processes", "partitions": s.partitions, "workers": s.workers,
                     "records": s.records, "seconds": round(secs, 1), "records_per_s": round(s.records / secs, 1),
                     "triples": s.triples, "bytes": s.bytes})
        print(json.dumps(rows[-1]), flush=True)


if __name__ == "__main__":
    main()
