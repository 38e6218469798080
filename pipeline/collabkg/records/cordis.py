"""Typed records of the project side (CORDIS): what the CORDIS source yields.

Codes and identifiers as CORDIS writes them (grant number, PIC, RCN); countries as ISO
3166-1 alpha-2 with the source code kept; money as ``Decimal``. An empty source field is
``None`` (or an empty tuple) and produces no triple.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


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
