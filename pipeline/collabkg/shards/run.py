"""``collabkg map``: plan partitions, map them (local processes or a Dask cluster), then reduce:
each graph is kept from the last partition that wrote it (the latest record wins, as in ``build``),
the shared vocabulary goes into one shard, each line once. The manifest is written last.

The reduce never gathers graph names in the process that runs ``map``: each part writes its graph
names in ``KEY_BUCKETS`` buckets by a hash of the name; one task per bucket (on the workers) reads
that bucket of every part in partition order, keeps the last partition of each graph and writes
the losers as ``.reduce/bNNNN.drops`` with an index by partition; then one task per part reads its
losers from each bucket and writes its shard. A task holds one bucket's names (or one part's
losers); the driver holds per-part counts only.

Layout of ``DIR``::

    manifest.json            inputs, partitions, shards with graph/triple counts and sha256
    shards/pNNNNN.nq.gz      one per partition: its records' graphs and the entity graphs it won
    shards/vocabulary.nq.gz  the shared vocabulary, de-duplicated
    reports/pNNNNN.json      the validation report of each partition (counts, problems)
    quarantine/pNNNNN.jsonl  the rejected records of each partition with their results
    .parts/                  what the map stage wrote (finished parts are skipped on a rerun)
    .reduce/                 the losing graphs of each bucket, per partition (written on every run)
"""
from __future__ import annotations

import gzip
import json
import sys
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from collabkg.files import sha256
from collabkg.parallel import default_jobs, ordered_map
from collabkg.store import nquads
from collabkg.shards.mapper import KEY_BUCKETS, gz, map_partition, part_paths, read_bucket, write_atomic
from collabkg.shards.partitions import RANGE_BYTES, plan
from collabkg.validation.service import _is_record_graph

MANIFEST = "manifest.json"
SHARDS = "shards"
VOCABULARY = "vocabulary.nq.gz"
REDUCE = ".reduce"


@dataclass
class MapSummary:
    out: str
    partitions: int = 0
    skipped: int = 0
    records: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    shards: int = 0
    triples: int = 0
    bytes: int = 0
    warnings: Counter = field(default_factory=Counter)
    input_errors: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    scheduler: str = "processes"
    workers: int = 1

    @property
    def exit_code(self) -> int:
        return 2 if self.input_errors else (1 if self.rejected else 0)


def _graph_of(line: bytes) -> str:
    # Every line is `... <graph> .` (written by the mapper; IRIs hold no spaces).
    return line[line.rindex(b" <") + 2 : line.rindex(b">")].decode()


def _drop_paths(out: Path, bucket: int) -> tuple[Path, Path]:
    d = out / REDUCE
    return d / f"b{bucket:04d}.drops", d / f"b{bucket:04d}.index"


def _offsets_bytes(offsets: array) -> bytes:
    if sys.byteorder != "little":  # pragma: no cover
        offsets = array("Q", offsets)
        offsets.byteswap()
    return offsets.tobytes()


def dedupe_bucket(bucket: int, names: list[str], out: str, buckets: int) -> dict:
    """One bucket of the reduce: the graphs of this bucket in every part (in partition order), each
    won by the last part that wrote it. Writes the losers as one gzip member per part (empty when
    none) and an index of ``len(names) + 1`` uint64 offsets; returns counts only."""
    outp = Path(out)
    last: dict[str, int] = {}
    duplicates = 0
    for i, name in enumerate(names):
        for g in read_bucket(part_paths(outp, name)["graphs"], bucket, buckets):
            if g in last and _is_record_graph(g):  # the same record in two partitions
                duplicates += 1
            last[g] = i
    drops: list[list[bytes]] = [[] for _ in names]
    for i, name in enumerate(names):  # a second read of the bucket rather than holding every occurrence
        for g in read_bucket(part_paths(outp, name)["graphs"], bucket, buckets):
            if last[g] != i:
                drops[i].append(g.encode() + b"\n")
    members, offsets = [], array("Q", [0])
    for ls in drops:
        member = gz(b"".join(ls)) if ls else b""
        members.append(member)
        offsets.append(offsets[-1] + len(member))
    drops_path, index_path = _drop_paths(outp, bucket)
    write_atomic(drops_path, b"".join(members))
    write_atomic(index_path, _offsets_bytes(offsets))
    return {"bucket": bucket, "graphs": len(last), "dropped": sum(map(len, drops)), "duplicates": duplicates}


def dropped_graphs(out: Path, index: int, buckets: int) -> set[str]:
    """The graphs part number ``index`` lost, read from each bucket's drops at its offsets."""
    lost: set[str] = set()
    for b in range(buckets):
        drops_path, index_path = _drop_paths(out, b)
        with open(index_path, "rb") as f:
            f.seek(8 * index)
            offsets = array("Q")
            offsets.frombytes(f.read(16))
        if sys.byteorder != "little":  # pragma: no cover
            offsets.byteswap()
        start, end = offsets
        if start == end:
            continue
        with open(drops_path, "rb") as f:
            f.seek(start)
            lost.update(gzip.decompress(f.read(end - start)).decode().splitlines())
    return lost


def reduce_part(index: int, name: str, out: str, buckets: int) -> dict:
    """The final shard of one part: its quads minus the graphs a later partition won."""
    outp = Path(out)
    src = part_paths(outp, name)["quads"]
    dst = outp / SHARDS / f"{name}.nq.gz"
    drop = dropped_graphs(outp, index, buckets)
    data = gzip.decompress(src.read_bytes())
    if drop:
        data = b"".join(line for line in data.splitlines(keepends=True) if _graph_of(line) not in drop)
    write_atomic(dst, gz(data))
    return {"file": f"{SHARDS}/{dst.name}", "triples": data.count(b"\n"), "bytes": dst.stat().st_size, "sha256": sha256(dst),
            "dropped": len(drop)}


class _Runner:
    """Map a function over jobs, results in job order: local processes or a Dask cluster."""

    def __init__(self, scheduler: str | None, workers: int | None):
        self.scheduler = scheduler
        self.workers = workers or (2 if scheduler == "local" else default_jobs())
        self.client = self.cluster = None
        if scheduler:
            try:
                from dask.distributed import Client, LocalCluster
            except ImportError as e:  # pragma: no cover - an install without the extra
                raise RuntimeError(f"--scheduler needs dask.distributed (pip install 'collabkg[dask]'): {e}") from None
            if scheduler == "local":
                self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                            host="127.0.0.1", dashboard_address=None)
                self.client = Client(self.cluster)
            else:
                self.client = Client(scheduler, timeout=30)
                self.workers = len(self.client.scheduler_info().get("workers", {})) or 1

    def map(self, fn, jobs):
        jobs = list(jobs)
        if self.client is None:
            return list(ordered_map(fn, jobs, min(self.workers, max(1, len(jobs)))))
        futures = self.client.map(fn, jobs, pure=False)
        return self.client.gather(futures)

    def close(self):
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def map_inputs(paths, out, *, base: str | None = None, scheduler: str | None = None, workers: int | None = None,
               engine: str | None = None, validate: bool = True, range_bytes: int = RANGE_BYTES,
               buckets: int = KEY_BUCKETS) -> MapSummary:
    t0 = time.perf_counter()
    outp = Path(out)
    outp.mkdir(parents=True, exist_ok=True)
    (outp / MANIFEST).unlink(missing_ok=True)  # the manifest says "complete": not until this run is
    parts, errors = plan([str(p) for p in paths], base, range_bytes)
    summary = MapSummary(str(outp), partitions=len(parts), input_errors=list(errors), scheduler=scheduler or "processes")
    runner = _Runner(scheduler, workers)
    summary.workers = runner.workers
    try:
        infos = runner.map(partial(map_partition, out=str(outp), engine=engine, validate=validate, buckets=buckets), parts)
        # Reduce: the last partition that wrote a graph wins it (partitions are in input order),
        # bucket by bucket on the workers; then each part's shard without the graphs it lost.
        names = [info["name"] for info in infos]
        deduped = runner.map(_dedupe_job, [(b, names, str(outp), buckets) for b in range(buckets)])
        summary.duplicates += sum(d["duplicates"] for d in deduped)
        shards = runner.map(_reduce_job, [(i, name, str(outp), buckets) for i, name in enumerate(names)])
    finally:
        runner.close()

    vocab: dict[bytes, None] = {}
    vocab_graph = None
    for info in infos:
        vocab_graph = info.get("vocab_graph") or vocab_graph
        for line in gzip.decompress(part_paths(outp, info["name"])["vocab"].read_bytes()).splitlines(keepends=True):
            vocab.setdefault(line)
    vocab_shard = None
    if vocab_graph and vocab:
        data = nquads(b"".join(vocab), vocab_graph)
        dst = outp / SHARDS / VOCABULARY
        write_atomic(dst, gz(data))
        vocab_shard = {"file": f"{SHARDS}/{VOCABULARY}", "graph": vocab_graph, "triples": data.count(b"\n"),
                       "bytes": dst.stat().st_size, "sha256": sha256(dst), "vocabulary": True}

    manifest_shards = []
    for info, shard in zip(infos, shards):
        summary.records += info["records"]
        summary.accepted += info["accepted"]
        summary.rejected += info["rejected"]
        summary.duplicates += len(info["duplicates"])
        summary.skipped += bool(info.get("skipped"))
        summary.warnings.update(info["warnings"])
        summary.problems.extend(info["problems"])
        if info.get("input_error"):
            summary.input_errors.append(info["input_error"])
        shard = dict(shard)
        dropped = shard.pop("dropped")
        manifest_shards.append({**shard, "partition": info["name"], "input": info["spec"],
                                "records": info["records"], "accepted": info["accepted"], "rejected": info["rejected"],
                                "graphs": info["graphs"] - dropped, "report": f"reports/{info['name']}.json",
                                "quarantine": f"quarantine/{info['name']}.jsonl" if info.get("quarantine") else None})
    if vocab_shard:
        manifest_shards.append(vocab_shard)
    summary.shards = len(manifest_shards)
    summary.triples = sum(s["triples"] for s in manifest_shards)
    summary.bytes = sum(s["bytes"] for s in manifest_shards)
    manifest = {
        "format": "collabkg-shards/1",
        "inputs": [str(p) for p in paths], "base": base,
        "records": summary.records, "accepted": summary.accepted, "rejected": summary.rejected,
        "duplicates": summary.duplicates, "triples": summary.triples, "input_errors": summary.input_errors,
        "shards": manifest_shards,
    }
    write_atomic(outp / MANIFEST, json.dumps(manifest, indent=1).encode())
    summary.seconds = time.perf_counter() - t0
    return summary


def _dedupe_job(args) -> dict:
    return dedupe_bucket(*args)


def _reduce_job(args) -> dict:
    return reduce_part(*args)
