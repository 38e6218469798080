"""Typed records of the publication side (OpenAlex): what the OpenAlex source yields.

Identifiers are the short OpenAlex forms (``W123``, ``A123``, ``I123``, ``T123``, ``F123``,
``G123``); DOIs are bare (``10.x/...``), ROR and ORCID as their full https IRIs. An absent or
null source field is ``None`` (or an empty tuple) and produces no triple.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Institution:
    openalex_id: str
    display_name: str | None = None
    ror: str | None = None
    country: str | None = None  # ISO alpha-2; None when OpenAlex gives no country
    type: str | None = None
    lineage: tuple[str, ...] = ()  # OpenAlex ids of the institutions it belongs to (itself excluded)


@dataclass(frozen=True)
class Person:
    openalex_id: str
    display_name: str | None = None
    orcid: str | None = None


@dataclass(frozen=True)
class Authorship:
    order: int  # 1-based position in the work's author list
    position: str | None = None  # OpenAlex author_position: first | middle | last
    person: Person | None = None  # None when OpenAlex gives a null author id
    author_name: str | None = None  # the display name, also when the author id is null
    is_corresponding: bool | None = None
    institutions: tuple[Institution, ...] = ()
    countries: tuple[str, ...] = ()  # ISO alpha-2
    raw_affiliations: tuple[str, ...] = ()


@dataclass(frozen=True)
class Topic:
    openalex_id: str
    display_name: str | None = None


@dataclass(frozen=True)
class Funder:
    openalex_id: str
    display_name: str | None = None
    ror: str | None = None


@dataclass(frozen=True)
class Award:
    openalex_id: str
    award_id: str | None = None  # the funder's own award number
    funder: Funder | None = None
    display_name: str | None = None


@dataclass(frozen=True)
class Work:
    openalex_id: str
    doi: str | None = None
    title: str | None = None
    type: str | None = None
    publication_date: date | None = None
    publication_year: int | None = None
    language: str | None = None
    journal: str | None = None
    cited_by_count: int | None = None
    abstract: str | None = None
    primary_topic: Topic | None = None
    topics: tuple[Topic, ...] = ()
    keywords: tuple[str, ...] = ()
    funders: tuple[Funder, ...] = ()
    awards: tuple[Award, ...] = ()
    authorships: tuple[Authorship, ...] = ()
