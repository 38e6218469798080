"""What an import did: the figures ``collabkg build``/``ingest`` print, and the time of each stage."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from collabkg.records import RecordError, RecordWarning

# A rejected record is reported exactly like a record a source could not read.
Rejection = RecordError

STAGES = ("read", "map", "validate", "write", "enrich")


@dataclass
class ImportSummary:
    """What an import did. The counts add up: ``read == accepted + rejected_records + len(duplicates)``.

    ``duplicates`` are the records superseded by a later record with the same identity in the
    same import (the later one wins). ``stages`` holds the seconds of each stage; ``read`` and
    ``map`` run in worker processes and are summed over them (CPU-like time, may exceed the wall
    time), the others run in this process.
    """

    store: str
    read: int = 0
    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)  # every reason (a record may have several)
    rejected_records: int = 0
    duplicates: list[RecordWarning] = field(default_factory=list)
    record_warnings: list[RecordWarning] = field(default_factory=list)
    triples_written: int = 0
    triples_in_store: int = 0
    classes: dict[str, int] = field(default_factory=dict)
    warnings: Counter = field(default_factory=Counter)
    input_errors: list[str] = field(default_factory=list)
    quarantine: str | None = None
    seconds: float = 0.0
    jobs: int = 1
    stages: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    @property
    def exit_code(self) -> int:
        if self.input_errors:
            return 2
        return 1 if self.rejected else 0

    def adds_up(self) -> bool:
        return self.read == self.accepted + self.rejected_records + len(self.duplicates)
