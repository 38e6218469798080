"""Sources: one module per input format; each yields SourceRecords or RecordErrors.

A RecordError is a plain value (it crosses process boundaries: the importer reads in worker
processes); a reader raises ``records.RecordFailure`` internally and yields its value.

``FORMATS`` is the registry by name; :func:`detect` picks the format of a path.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

from collabkg.errors import InputError
from collabkg.records import RecordError, SourceRecord
from collabkg.sources import cordis_xml, openalex_json, turtle_records

Reader = Callable[[Path], Iterator[SourceRecord | RecordError]]

FORMATS: dict[str, Reader] = {
    "cordis-xml": cordis_xml.read,
    "openalex-json": openalex_json.read,
    "turtle": turtle_records.read,
}


def detect(path: Path) -> str:
    """Name the format of a file or folder from its name and first bytes."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_dir():
        kinds = {detect(p) for p in sorted(path.iterdir()) if p.is_file() and not p.name.startswith(".") and _known_suffix(p)}
        if len(kinds) == 1:
            return kinds.pop()
        if not kinds:
            raise InputError(f"{path}: folder holds no file of a known format ({', '.join(FORMATS)})")
        raise InputError(f"{path}: folder mixes formats {sorted(kinds)}; import them separately")
    name = path.name.lower()
    if name.endswith((".zip", ".xml")):
        return "cordis-xml"
    for fmt, suffixes in _EXTRA_SUFFIXES.items():
        if name.endswith(suffixes) and fmt in FORMATS:
            return fmt
    raise InputError(f"{path}: unknown input format; known: {', '.join(sorted(FORMATS))}")


_EXTRA_SUFFIXES: dict[str, tuple[str, ...]] = {
    "openalex-json": (".json", ".jsonl", ".jsonl.gz", ".json.gz"),
    "turtle": (".ttl", ".jsonld", ".nt", ".trig"),
}


def _known_suffix(p: Path) -> bool:
    n = p.name.lower()
    return n.endswith((".zip", ".xml")) or any(n.endswith(s) for s in sum(_EXTRA_SUFFIXES.values(), ()))


def read(path: Path, fmt: str | None = None) -> Iterator[SourceRecord | RecordError]:
    fmt = fmt or detect(path)
    if fmt not in FORMATS:
        raise InputError(f"{path}: unknown format {fmt!r}; known: {', '.join(sorted(FORMATS))}")
    return FORMATS[fmt](path)
