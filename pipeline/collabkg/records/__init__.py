"""Typed records: what a Source yields and a Mapper consumes.

One module per source (:mod:`collabkg.records.cordis`, :mod:`collabkg.records.openalex`);
here the types every source shares: the :class:`SourceRecord` envelope and a record's
problem as a plain value. Values are already checked and typed (dates, decimals, booleans);
an empty source field is ``None`` (or an empty tuple) and produces no triple.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RecordProblem:
    """Something wrong with one record, as a plain value: names the file, the record and the field.

    A plain frozen dataclass, not an exception: it crosses process boundaries (pickles and
    unpickles) and sits in lists and summaries. Readers raise :class:`RecordFailure` to leave
    a record early and turn it into a :class:`RecordError` value where they catch it.
    """

    file: str
    record: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.record}:{self.field}: {self.message}"


@dataclass(frozen=True)
class RecordError(RecordProblem):
    """A record that cannot be read or must not go in (a plain value; see RecordProblem)."""


@dataclass(frozen=True)
class RecordWarning(RecordProblem):
    """A record that goes in, with a quirk worth a word (e.g. a territory code outside ISO 3166-1)."""

    def __str__(self) -> str:
        return f"{self.file}:{self.record}:{self.field}: warning: {self.message}"


class RecordFailure(Exception):
    """Raised inside a reader to abandon one record; carries the RecordError value.

    Only for raising and catching within one process: what a reader yields is the value."""

    def __init__(self, problem: RecordError):
        super().__init__(str(problem))
        self.problem = problem


@dataclass(frozen=True)
class SourceRecord:
    """One record of one source file: the unit of import, validation and replacement."""

    source: str  # "cordis", "openalex", ...
    file: str
    record_id: str
    record: object
    extra: dict = field(default_factory=dict, compare=False)
    warnings: tuple[RecordWarning, ...] = field(default=(), compare=False)  # quirks kept, reported
