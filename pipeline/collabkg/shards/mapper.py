"""The map of one partition, a pure function of its inputs: read → map → validate, written as a
gzipped N-Quads part (one named graph per record, and the entity graphs its records describe) with
its shared vocabulary, its validation report and its quarantine. Parts appear only when complete
(written under a temporary name, then renamed), so a finished part can be skipped on a rerun.

Inside a partition the records go through the importer's own stages, in the importer's order:
records are validated in batches against what the partition accepted so far (an in-memory store
with the ontology), and a later record with the same graph wins, as in ``build``.
"""
from __future__ import annotations

import gzip
import json
import os
import sys
import time
import zlib
from array import array
from collections import Counter
from pathlib import Path


from collabkg.importing import BATCH_RECORDS, load_ontology, stages
from collabkg.records import RecordError
from collabkg.shards.partitions import Partition, read_range
from collabkg.store import MemoryStore, nquads
from collabkg.validation.service import ImportValidator

PARTS = ".parts"
# A part's graph names are written in this many buckets by a hash of the name, so that the
# reduce can find the winner of each graph one bucket at a time (``run.dedupe_bucket``).
KEY_BUCKETS = 64


def part_paths(out: Path, name: str) -> dict[str, Path]:
    d = out / PARTS
    return {"quads": d / f"{name}.nq.gz", "vocab": d / f"{name}.vocab.nt.gz", "info": d / f"{name}.json",
            "graphs": d / f"{name}.graphs",
            "quarantine": out / "quarantine" / f"{name}.jsonl", "report": out / "reports" / f"{name}.json"}


def finished(out: Path, part: Partition, buckets: int = KEY_BUCKETS) -> dict | None:
    """The info of a part finished by an earlier run with the same plan, else None."""
    paths = part_paths(out, part.name)
    try:
        info = json.loads(paths["info"].read_text())
    except (OSError, ValueError):
        return None
    if (info.get("key") != part.key or info.get("buckets") != buckets
            or not all(paths[k].exists() for k in ("quads", "vocab", "graphs"))):
        return None
    return info


def bucket_of(graph: str, buckets: int) -> int:
    """The bucket of a graph name: the same in every process and on every run (crc32, not hash())."""
    return zlib.crc32(graph.encode()) % buckets


def graph_buckets(graphs, buckets: int) -> bytes:
    """A part's graph names, one a line, in ``buckets`` gzip members by ``bucket_of``, followed by
    the members' offsets (``buckets + 1`` little-endian uint64), so that one bucket is read alone."""
    lines: list[list[bytes]] = [[] for _ in range(buckets)]
    for g in graphs:
        lines[bucket_of(g, buckets)].append(g.encode() + b"\n")
    out, offsets = [], array("Q", [0])
    for ls in lines:
        member = gz(b"".join(ls)) if ls else b""
        out.append(member)
        offsets.append(offsets[-1] + len(member))
    if offsets.itemsize != 8:  # pragma: no cover - every platform we run on
        raise RuntimeError("array('Q') is not 8 bytes here")
    if sys.byteorder != "little":  # pragma: no cover
        offsets.byteswap()
    return b"".join(out) + offsets.tobytes()


def read_bucket(path: Path, bucket: int, buckets: int) -> list[str]:
    """The graph names of one bucket of a part's ``.graphs`` file."""
    with open(path, "rb") as f:
        f.seek(-8 * (buckets + 1), os.SEEK_END)
        offsets = array("Q")
        offsets.frombytes(f.read(8 * (buckets + 1)))
        if sys.byteorder != "little":  # pragma: no cover
            offsets.byteswap()
        start, end = offsets[bucket], offsets[bucket + 1]
        if start == end:
            return []
        f.seek(start)
        return gzip.decompress(f.read(end - start)).decode().splitlines()


def _items(part: Partition):
    if part.end:
        t0 = time.perf_counter()
        items = []
        iris = stages._iris(part.job.base)
        for rec in read_range(part):
            items.append(rec if isinstance(rec, RecordError) else stages.map_one(rec, iris))
        return items, time.perf_counter() - t0, None
    r = stages.read_and_map(part.job)
    return list(r.items), r.read_seconds + r.map_seconds, r.input_error


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)  # mtime 0: the same input, the same bytes


def map_partition(part: Partition, out: str, engine: str | None = None, validate: bool = True,
                  buckets: int = KEY_BUCKETS) -> dict:
    """Map one partition into its part files under ``out`` (skipped when already finished);
    returns the part's info (plain data: counts and problems; its graph names are in its
    ``.graphs`` file, not in the info, so that whoever collects the infos does not hold them)."""
    outp = Path(out)
    done = finished(outp, part, buckets)
    if done is not None:
        done["skipped"] = True
        return done
    t0 = time.perf_counter()
    paths = part_paths(outp, part.name)
    paths["quarantine"].unlink(missing_ok=True)
    items, map_seconds, input_error = _items(part)
    mem = MemoryStore()
    load_ontology(mem)
    validator = ImportValidator(engine=engine, quarantine=paths["quarantine"]) if validate else None

    graphs: dict[str, bytes] = {}  # graph -> N-Triples, in the order the winning record wrote it
    vocab: dict[bytes, None] = {}
    vocab_graph: str | None = None
    rejected: list[str] = []
    problems: list[str] = []  # record problems and warnings, as `file:record:field: message`
    duplicates: list[str] = []
    warnings: Counter = Counter()
    accepted_at: dict[str, str] = {}
    counts = Counter()
    batch: dict[str, stages.Mapped] = {}
    vocab_written: set[bytes] = set()

    def flush() -> None:
        nonlocal vocab_graph
        if not batch:
            return
        ok, rej, warn = stages.validate(list(batch.values()), mem, validator)
        warnings.update(warn)
        counts["rejected"] += len(rej)
        for reasons in rej.values():
            problems.extend(str(r) for r in reasons)
        rejected.extend(rej)
        for m in ok:
            if m.graph in accepted_at:
                duplicates.append(f"{m.file}:{m.record_id}:id: the same record twice: {accepted_at[m.graph]} and {m.where}; the later wins")
            else:
                counts["accepted"] += 1
            accepted_at[m.graph] = m.where
            for g, nt in ((m.graph, m.own), *m.entities):
                graphs.pop(g, None)  # the latest record describing a graph wins (and goes last)
                graphs[g] = nt
            vocab_graph = m.vocab_graph
            for line in m.vocab.splitlines(keepends=True):
                vocab.setdefault(line)
        stages.write(stages.prepare_write(ok, vocab_written), mem)
        batch.clear()

    for item in items:
        counts["read"] += 1
        if isinstance(item, RecordError):
            counts["rejected"] += 1
            problems.append(str(item))
            if validator is not None:
                validator.quarantine_rejection(mem, item)
            continue
        for w in item.warnings:
            problems.append(str(w))
            warnings["warning: " + w.field.split("[")[0]] += 1
        if item.graph in batch:
            flush()
        batch[item.graph] = item
        if len(batch) >= BATCH_RECORDS:
            flush()
    flush()

    # Each fact once: a mapper may state a triple twice in one graph (the store would merge them).
    nq = b"".join(nquads(b"".join(dict.fromkeys(nt.splitlines(keepends=True))), g) for g, nt in graphs.items() if nt)
    info = {
        "name": part.name, "key": part.key, "spec": part.spec,
        "records": counts["read"], "accepted": counts["accepted"], "rejected": counts["rejected"],
        "duplicates": duplicates, "warnings": dict(warnings), "problems": problems, "input_error": input_error,
        "graphs": len(graphs), "buckets": buckets, "vocab_graph": vocab_graph, "triples": nq.count(b"\n"),
        "map_seconds": map_seconds, "seconds": time.perf_counter() - t0, "skipped": False,
        "quarantine": str(paths["quarantine"]) if paths["quarantine"].exists() else None,
    }
    write_atomic(paths["report"], json.dumps({k: info[k] for k in ("name", "spec", "records", "accepted", "rejected",
                                                                   "warnings", "problems", "duplicates")}, indent=1).encode())
    write_atomic(paths["quads"], gz(nq))
    write_atomic(paths["graphs"], graph_buckets(graphs, buckets))
    write_atomic(paths["vocab"], gz(b"".join(vocab)))
    write_atomic(paths["info"], json.dumps(info).encode())  # last: its presence marks the part finished
    return info

