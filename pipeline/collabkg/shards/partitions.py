"""Partitions of a ``collabkg map``: the import's jobs (a file, a slice of a zip's entries or of a
folder's files), and, for large uncompressed JSON Lines files, line-aligned byte ranges.

A partition is plain data with a stable name (its place in the plan) and a ``spec`` that says what
it reads, so that a rerun can tell a finished partition from one planned differently.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from collabkg.importing import stages
from collabkg.records import RecordError, SourceRecord
from collabkg.sources import openalex_json

# Zip entries / folder files per partition (the import's jobs of 32 are merged up to this).
PARTITION_RECORDS = 256
# A JSON Lines file above this size is split into byte ranges of about this size.
RANGE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Partition:
    name: str
    job: stages.Job
    start: int = 0  # byte range of a JSON Lines file (end 0: the whole job)
    end: int = 0
    first_line: int = 1

    @property
    def spec(self) -> dict:
        d = asdict(self.job)
        d["names"] = list(d["names"])
        if self.end:
            d.update(start=self.start, end=self.end, first_line=self.first_line)
        return d

    @property
    def key(self) -> str:
        """A digest of what the partition reads (and the file's size and time, so that a changed
        input is mapped again)."""
        p = Path(self.job.path)
        st = p.stat() if p.exists() else None
        stamp = [st.st_size, st.st_mtime_ns] if st and p.is_file() else None
        text = json.dumps([self.spec, stamp], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _merged(jobs, size: int):
    """Consecutive jobs slicing the same zip or folder merged into jobs of up to ``size`` names."""
    cur = None
    for j in jobs:
        if (cur is not None and not isinstance(j, str) and j.names and cur.names and (j.path, j.fmt, j.base) == (cur.path, cur.fmt, cur.base)
                and len(cur.names) + len(j.names) <= size):
            cur = stages.Job(cur.path, cur.fmt, cur.names + j.names, cur.base)
            continue
        if cur is not None:
            yield cur
        if isinstance(j, str):
            yield j
            cur = None
        else:
            cur = j
    if cur is not None:
        yield cur


def plan(paths, base: str | None = None, range_bytes: int = RANGE_BYTES,
         records: int = PARTITION_RECORDS) -> tuple[list[Partition], list[str]]:
    """The partitions for ``paths`` in input order (later partitions win over earlier ones, as later
    inputs do in ``build``), and the messages for inputs that cannot be read at all."""
    parts: list[Partition] = []
    errors: list[str] = []
    for job in _merged(stages.plan(paths, base), records):
        if isinstance(job, str):
            errors.append(job)
            continue
        p = Path(job.path)
        if (job.fmt == "openalex-json" and not job.names and p.name.lower().endswith(".jsonl")
                and p.stat().st_size > range_bytes):
            for start, end, line in line_ranges(p, range_bytes):
                parts.append(Partition(f"p{len(parts):05d}", job, start, end, line))
        else:
            parts.append(Partition(f"p{len(parts):05d}", job))
    return parts, errors


def line_ranges(path: Path, size: int) -> Iterator[tuple[int, int, int]]:
    """(start, end, first line number) of consecutive ranges of about ``size`` bytes, each ending
    at a line end, so that every line is in exactly one range."""
    start, line = 0, 1
    with path.open("rb") as f:
        while True:
            f.seek(start)
            chunk = f.read(size)
            if not chunk:
                return
            end = start + len(chunk)
            if len(chunk) == size:  # extend to the end of the current line
                rest = f.readline()
                end += len(rest)
                chunk += rest
            yield start, end, line
            line += chunk.count(b"\n")
            start = end


def read_range(part: Partition) -> Iterator[SourceRecord | RecordError]:
    """The works of one byte range of a JSON Lines file, named by their line numbers in the file."""
    path = part.job.path
    with open(path, "rb") as f:
        f.seek(part.start)
        data = f.read(part.end - part.start)
    for n, raw in enumerate(data.split(b"\n"), part.first_line):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw.decode("utf-8-sig" if part.start == 0 and n == 1 else "utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            yield RecordError(path, f"line {n}", "-", f"invalid JSON: {e}")
            continue
        except RecursionError:
            yield RecordError(path, f"line {n}", "-", "JSON nested too deeply (refused)")
            continue
        yield openalex_json.parse_work(path, obj, f"line {n}")
