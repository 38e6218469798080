"""Typed records: what a Source yields and a Mapper consumes.

Values are already checked and typed (dates, decimals, booleans); an empty source
field is ``None`` (or an empty tuple) and produces no triple.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


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
class Coded:
    """A coded term from the source (programme part, topic, call, scheme, ...)."""

    code: str
    title: str | None = None


@dataclass(frozen=True)
class ProgrammePart(Coded):
    main: bool = False
    framework: str | None = None
    parents: tuple[str, ...] = ()  # codes, nearest first


@dataclass(frozen=True)
class Field:
    """A EuroSciVoc field: code path (``/25/67/1183``) and label path."""

    codes: tuple[str, ...]
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Address:
    street: str | None = None
    post_box: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None  # ISO alpha-2
    latitude: Decimal | None = None
    longitude: Decimal | None = None


@dataclass(frozen=True)
class Organisation:
    pic: str
    rcn: str | None = None
    legal_name: str | None = None
    short_name: str | None = None
    vat_number: str | None = None
    department: str | None = None
    url: str | None = None
    country: str | None = None  # ISO alpha-2
    source_country: str | None = None  # as CORDIS wrote it (EL, UK, ...)
    address: Address | None = None
    activity_type: Coded | None = None
    nuts: Coded | None = None


@dataclass(frozen=True)
class Participation:
    organisation: Organisation
    role: str  # coordinator | participant | associatedPartner | thirdParty
    order: int
    ec_contribution: Decimal | None = None
    net_ec_contribution: Decimal | None = None
    total_cost: Decimal | None = None
    terminated: bool | None = None
    sme: bool | None = None


@dataclass(frozen=True)
class Publication:
    """A project result of type publication, as the project record states it.

    Every publication result is kept: keyed by its DOI when it has one (the work both sources
    meet on), else by its CORDIS result identity (``result_id``, e.g. ``101055218_147846_PUBLIHORIZON``).
    """

    doi: str | None = None  # normalised (collabkg.namespaces.normalise_doi)
    title: str | None = None
    year: int | None = None
    journal: str | None = None
    result_id: str | None = None  # CORDIS result <id>; stable across releases of the record
    rcn: str | None = None


@dataclass(frozen=True)
class Project:
    grant: str
    rcn: str | None = None
    acronym: str | None = None
    title: str | None = None
    teaser: str | None = None
    objective: str | None = None
    keywords: tuple[str, ...] = ()
    status: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    signature_date: date | None = None
    termination_date: date | None = None
    duration_months: int | None = None
    total_cost: Decimal | None = None
    ec_max_contribution: Decimal | None = None
    grant_doi: str | None = None
    language: str | None = None
    content_update: datetime | None = None
    last_update: datetime | None = None
    call: Coded | None = None
    sub_call: Coded | None = None
    topics: tuple[Coded, ...] = ()
    programme_parts: tuple[ProgrammePart, ...] = ()
    funding_scheme: Coded | None = None
    fields: tuple[Field, ...] = ()
    euroscivoc_validated: bool | None = None
    participations: tuple[Participation, ...] = ()
    publications: tuple[Publication, ...] = ()


@dataclass(frozen=True)
class SourceRecord:
    """One record of one source file: the unit of import, validation and replacement."""

    source: str  # "cordis", "openalex", ...
    file: str
    record_id: str
    record: object
    extra: dict = field(default_factory=dict, compare=False)
    warnings: tuple[RecordWarning, ...] = field(default=(), compare=False)  # quirks kept, reported
