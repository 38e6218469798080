"""CORDIS Horizon Europe XML: a zip of per-project files (read in place), a folder, or one file.

Only the project's own ``relations/associations/organization`` elements are participants;
organisations nested inside results are not.
"""
from __future__ import annotations

import os
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterator

from lxml import etree

from collabkg.records import RecordError, RecordFailure, RecordWarning, SourceRecord
from collabkg.records.cordis import Address, Coded, Field, Organisation, Participation, Project, ProgrammePart, Publication
import collabkg.reference as reference
from collabkg.errors import InputError
from collabkg.namespaces import normalise_doi
from collabkg.sources.text import unescape_text

SOURCE = "cordis"
ROLES = ("coordinator", "participant", "associatedPartner", "thirdParty")
STATUSES = ("SIGNED", "CLOSED", "TERMINATED")
MAX_FILE_BYTES = 64 * 1024 * 1024
_TERRITORY = re.compile(r"[A-Z]{2}")  # a well-formed country code, known to ISO 3166-1 or not
_LATIN1_NAMES = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "windows-1252", "cp1252", "iso-8859-15"}


def _parser() -> etree.XMLParser:
    # No entity expansion, no DTD loading, no network: XXE and billion-laughs are refused.
    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False, dtd_validation=False)


def read(path: Path) -> Iterator[SourceRecord | RecordError]:
    """Yield one SourceRecord (or RecordError value) per project file in ``path``."""
    path = Path(path)
    if path.is_dir():
        for p in sorted(path.iterdir()):
            if p.suffix.lower() == ".xml":
                yield parse_file(str(p), p.name, p.read_bytes())
            elif p.suffix.lower() == ".zip":
                yield from read(p)
        return
    if path.suffix.lower() == ".xml":
        yield parse_file(str(path), path.name, path.read_bytes())
        return
    yield from read_zip_entries(str(path), zip_entries(path))


def zip_entries(path: Path) -> list[str]:
    """The XML entries of a CORDIS zip, in zip order; InputError when it holds none (e.g. a zip
    inside a zip: nested archives are not opened), naming what was skipped."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise InputError(f"{path}: not a readable zip file ({e})") from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
    names = [i.filename for i in infos if i.filename.lower().endswith(".xml")]
    if not names:
        skipped = [i.filename for i in infos]
        what = ", ".join(skipped[:5]) + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "")
        nested = " (a zip inside a zip is not opened: unpack it first)" if any(n.lower().endswith(".zip") for n in skipped) else ""
        raise InputError(
            f"{path}: no XML entry to read; skipped {what or 'nothing (the zip is empty)'}{nested}"
        )
    return names


_open_zip: dict = {}  # at most one: (path, size, mtime, pid) -> ZipFile


def _zip(path: str) -> zipfile.ZipFile:
    """The zip, opened once per process while it does not change: reading a slice of entries must
    not re-read the whole central directory (16,000 entries of the full dump: 0.1-0.3 s a time,
    hundreds of slices)."""
    st = os.stat(path)
    key = (os.path.abspath(path), st.st_size, st.st_mtime_ns, os.getpid())
    zf = _open_zip.get(key)
    if zf is None:
        for (*_, pid), old in _open_zip.items():
            if pid == key[3]:  # a zip opened in a parent process is its to close
                old.close()
        _open_zip.clear()
        zf = _open_zip[key] = zipfile.ZipFile(path)
    return zf


def read_zip_entries(path: str, names: list[str]) -> Iterator[SourceRecord | RecordError]:
    """Parse the given entries of a zip, one record (or RecordError value) per entry."""
    zf = _zip(path)
    for name in names:
        info = zf.getinfo(name)
        if info.file_size > MAX_FILE_BYTES:
            yield RecordError(path, name, "-", f"entry is {info.file_size} bytes, over the {MAX_FILE_BYTES} limit")
            continue
        try:
            data = zf.read(info)
        except (zipfile.BadZipFile, OSError, EOFError, zlib_error()) as e:
            yield RecordError(path, name, "-", f"cannot read zip entry ({e})")
            continue
        yield parse_file(path, name, data)


def zlib_error():
    import zlib

    return zlib.error


def parse_file(file: str, name: str, data: bytes) -> SourceRecord | RecordError:
    """Parse one project XML document into a SourceRecord, or say why not."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as e:
        return RecordError(file, name, "-", f"malformed XML: {e}")
    except ValueError as e:  # e.g. unsupported encoding declaration
        return RecordError(file, name, "-", f"unreadable XML: {e}")
    if root.getroottree().docinfo.internalDTD is not None or root.getroottree().docinfo.doctype:
        return RecordError(file, name, "-", "DOCTYPE declarations are not allowed (entities are refused)")
    if root.tag != "project":
        return RecordError(file, name, "-", f"root element is <{root.tag}>, expected <project>")
    reader = _ProjectReader(file, name, root)
    try:
        project = reader.project()
    except RecordFailure as e:
        return e.problem
    reader.warnings.extend(_mojibake(data, root, file, project.grant))
    return SourceRecord(SOURCE, file, project.grant, project, extra={"entry": name}, warnings=tuple(reader.warnings))


class _Node:
    """An element with its children by tag (the first of each), for the reader's lookups.

    The reader asks ~25 fields of a project and ~15 of each organisation; ``find(path)`` runs
    ElementPath (Python) over the children on every call, whereas this reads the children once
    and answers from a dict. The lookups keep ``find``/``findall``/``iterfind`` semantics: where a
    tag repeats among the children (then "the first" of a path is not the first of its head),
    a path of several steps is left to lxml."""

    __slots__ = ("el", "first", "unique", "_sub")

    def __init__(self, el):
        self.el = el
        kids = el.getchildren()
        self.first = {c.tag: c for c in reversed(kids)}  # reversed: the first child of a tag wins
        self.unique = len(self.first) == len(kids)
        self._sub: dict[str, _Node | None] = {}

    def get(self, attribute: str) -> str | None:
        return self.el.get(attribute)

    def findall(self, tag: str) -> list:
        """The child elements called ``tag``, in document order."""
        return list(self.el.iterchildren(tag))

    def nodes(self, tag: str) -> list[_Node]:
        return [_Node(c) for c in self.el.iterchildren(tag)]

    def _child(self, tag: str) -> _Node | None:
        """The (only) child called ``tag`` as a node, made once."""
        try:
            return self._sub[tag]
        except KeyError:
            el = self.first.get(tag)
            n = self._sub[tag] = None if el is None else _Node(el)
            return n

    def find(self, path: str):
        """The first element at ``path`` (child tags separated by ``/``), as ``el.find(path)``."""
        head, _, rest = path.partition("/")
        if not rest:
            return self.first.get(head)
        if not self.unique:
            return self.el.find(path)
        n = self._child(head)
        return None if n is None else n.find(rest)

    def iterfind(self, path: str) -> list:
        """Every element at ``path``, in document order, as ``el.iterfind(path)``: the children
        of each element of one step, step by step (lxml filters the children by tag in C)."""
        level = [self.el]
        for tag in path.split("/"):
            level = [c for el in level for c in el.iterchildren(tag)]
        return level


# Organisations read in this process, by the serialised content of their element (see
# _ProjectReader.described_organisation): value and warnings. Emptied when full (~2 KB an entry).
_DESCRIBED: dict[bytes, tuple[Organisation, tuple[tuple[bool, str, str], ...]]] = {}
_DESCRIBED_MAX = 20_000


class _ProjectReader:
    def __init__(self, file: str, name: str, root):
        self.file, self.record, self.root = file, name, root
        self.warnings: list[RecordWarning] = []

    def fail(self, field: str, message: str) -> RecordFailure:
        """The exception that abandons this record (``raise self.fail(...)``)."""
        return RecordFailure(RecordError(self.file, self.record, field, message))

    def warn(self, field: str, message: str) -> None:
        self.warnings.append(RecordWarning(self.file, self.record, field, message))

    # --- typed field readers -------------------------------------------------
    def text(self, n: _Node, path: str) -> str | None:
        node = n.first.get(path) if "/" not in path else n.find(path)
        if node is None:
            return None
        text = node.text
        if not text or text.isspace():  # (isspace: the whitespace that strip() removes)
            return None
        return text

    def code(self, n: _Node, path: str) -> str | None:
        v = self.text(n, path)
        return v.strip() if v is not None else None

    def decimal(self, value: str | None, field: str) -> Decimal | None:
        if value is None or value.strip() == "":
            return None
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            raise self.fail(field, f"{value!r} is not a number (expected a decimal such as 1250.50)") from None
        if not d.is_finite():
            raise self.fail(field, f"{value!r} is not a finite number")
        return d

    def integer(self, value: str | None, field: str) -> int | None:
        if value is None or value.strip() == "":
            return None
        try:
            return int(value.strip())
        except ValueError:
            raise self.fail(field, f"{value!r} is not an integer") from None

    def date(self, value: str | None, field: str) -> date | None:
        if value is None or value.strip() == "":
            return None
        try:
            v = value.strip()
            # CORDIS writes some dates as midnight timestamps ("2024-04-02 00:00:00").
            if len(v) > 10 and v[10] in " T" and v[11:].strip("0:") == "":
                v = v[:10]
            return date.fromisoformat(v)
        except ValueError:
            raise self.fail(field, f"{value!r} is not a valid date (expected YYYY-MM-DD)") from None

    def timestamp(self, value: str | None, field: str) -> datetime | None:
        if value is None or value.strip() == "":
            return None
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            raise self.fail(field, f"{value!r} is not a valid timestamp (expected YYYY-MM-DD HH:MM:SS)") from None

    def boolean(self, value: str | None, field: str) -> bool | None:
        if value is None or value.strip() == "":
            return None
        v = value.strip().lower()
        if v == "na":  # CORDIS writes NA for "not assessed"
            return None
        if v in ("true", "false"):
            return v == "true"
        raise self.fail(field, f"{value!r} is not a boolean (expected true or false)")

    def country(self, value: str | None, field: str) -> tuple[str | None, str | None]:
        if value is None:
            return None, None
        iso = reference.to_iso(value)
        if iso is None and _TERRITORY.fullmatch(value.strip()):
            # A well-formed code outside ISO 3166-1 (EU territory codes XH, XK, ...): the
            # organisation is kept with its source code and no ISO country link.
            self.warn(field, f"country code {value.strip()!r} is not in ISO 3166-1: kept as the source code, no country link")
            return None, value.strip()
        if iso is None:
            raise self.fail(field, f"unknown country code {value.strip()!r} (expected ISO 3166-1 alpha-2, or CORDIS EL/UK)")
        return iso, value.strip()

    # --- the record ---------------------------------------------------------
    def project(self) -> Project:
        r = _Node(self.root)
        grant = self.code(r, "id")
        if grant is None:
            raise self.fail("id", "project has no grant agreement number (<id>)")
        if not grant.isdigit():
            raise self.fail("id", f"grant agreement number {grant!r} is not numeric")
        self.record = grant
        ids = [(e.text or "").strip() for e in r.findall("id")]
        if len(ids) > 1:
            raise self.fail("id", f"{len(ids)} <id> elements ({', '.join(map(repr, ids))}); a project has one grant number")
        grant_doi = self.code(r, "identifiers/grantDoi")
        if grant_doi is not None and grant_doi != f"10.3030/{grant}":
            # CORDIS has mistyped grant DOIs (project 101086202: 10.3030/10186202): kept as stated.
            self.warn("identifiers/grantDoi", f"grant DOI {grant_doi!r} does not match the grant number (expected 10.3030/{grant}); kept as stated")
        status = self.code(r, "status")
        if status is not None and status not in STATUSES:
            raise self.fail("status", f"unknown status {status!r}; allowed: {', '.join(STATUSES)}")
        assoc, cats = r.find("relations/associations"), r.find("relations/categories")
        assoc = None if assoc is None else _Node(assoc)
        cats = None if cats is None else _Node(cats)
        keywords = self.text(r, "keywords")
        return Project(
            grant=grant,
            rcn=self.code(r, "rcn"),
            acronym=self.text(r, "acronym"),
            title=self.text(r, "title"),
            teaser=self.text(r, "teaser"),
            objective=self.text(r, "objective"),
            keywords=tuple(k.strip() for k in keywords.split(",") if k.strip()) if keywords else (),
            status=status,
            start_date=self.date(self.text(r, "startDate"), "startDate"),
            end_date=self.date(self.text(r, "endDate"), "endDate"),
            signature_date=self.date(self.text(r, "ecSignatureDate"), "ecSignatureDate"),
            termination_date=self.date(self.text(r, "terminationDate"), "terminationDate"),
            duration_months=self.integer(self.text(r, "duration"), "duration"),
            total_cost=self.decimal(self.text(r, "totalCost"), "totalCost"),
            ec_max_contribution=self.decimal(self.text(r, "ecMaxContribution"), "ecMaxContribution"),
            grant_doi=grant_doi,
            language=self.code(r, "language"),
            content_update=self.timestamp(self.text(r, "contentUpdateDate"), "contentUpdateDate"),
            last_update=self.timestamp(self.text(r, "lastUpdateDate"), "lastUpdateDate"),
            euroscivoc_validated=self.boolean(self.text(r, "validation/euroSciVoc"), "validation/euroSciVoc"),
            call=self.call(assoc, "relatedMasterCall"),
            sub_call=self.call(assoc, "relatedSubCall"),
            topics=self.topics(assoc),
            programme_parts=self.programme_parts(assoc),
            funding_scheme=self.funding_scheme(cats),
            fields=self.fields(cats),
            participations=self.participations(assoc),
            publications=self.publications(assoc),
        )

    def call(self, assoc, kind: str) -> Coded | None:
        if assoc is None:
            return None
        for c in assoc.nodes("call"):
            if c.get("type") == kind:
                ident = self.code(c, "identifier")
                if ident:
                    return Coded(ident, self.text(c, "title"))
        return None

    def topics(self, assoc) -> tuple[Coded, ...]:
        if assoc is None:
            return ()
        return tuple(
            Coded(code, self.text(p, "title"))
            for p in assoc.nodes("programme")
            if p.get("type") == "relatedTopic" and (code := self.code(p, "code"))
        )

    def programme_parts(self, assoc) -> tuple[ProgrammePart, ...]:
        if assoc is None:
            return ()
        parts = []
        for p in assoc.nodes("programme"):
            if p.get("type") != "relatedLegalBasis":
                continue
            code = self.code(p, "code")
            if not code:
                raise self.fail("programme[relatedLegalBasis]/code", "legal basis without a code")
            parents = tuple(c.text.strip() for c in p.el.iterfind(".//parent/programme/code") if c.text and c.text.strip())
            parts.append(
                ProgrammePart(
                    code=code,
                    title=self.text(p, "title"),
                    main=p.get("uniqueProgrammePart") == "true",
                    framework=self.code(p, "frameworkProgramme"),
                    parents=parents,
                )
            )
        return tuple(parts)

    def funding_scheme(self, cats) -> Coded | None:
        if cats is None:
            return None
        for c in cats.nodes("category"):
            if c.get("classification") == "projectFundingSchemeCategory":
                code = self.code(c, "code")
                if code:
                    return Coded(code.lstrip("/"), self.text(c, "title"))
        return None

    def fields(self, cats) -> tuple[Field, ...]:
        if cats is None:
            return ()
        out = []
        for c in cats.nodes("category"):
            if c.get("classification") != "euroSciVoc":
                continue
            code, display = self.code(c, "code"), self.text(c, "displayCode")
            if not code:
                continue
            codes = tuple(s for s in code.split("/") if s)
            labels = tuple(s for s in (display or "").split("/") if s)
            if len(labels) != len(codes):
                # Labels are only trusted where they line up one to one with the codes.
                labels = (self.text(c, "title") or "",) if len(codes) == 1 else ()
            out.append(Field(codes, labels))
        return tuple(out)

    def participations(self, assoc) -> tuple[Participation, ...]:
        if assoc is None:
            return ()
        out = []
        for i, o in enumerate(assoc.findall("organization"), start=1):
            f = f"organization[{i}]"
            role = o.get("type")
            if role not in ROLES:
                raise self.fail(f"{f}/@type", f"unknown role {role!r}; allowed: {', '.join(ROLES)}")
            order = self.integer(o.get("order"), f"{f}/@order")
            if order is None:
                raise self.fail(f"{f}/@order", "participation has no order")
            out.append(
                Participation(
                    organisation=self.described_organisation(o, f),
                    role=role,
                    order=order,
                    ec_contribution=self.decimal(o.get("ecContribution"), f"{f}/@ecContribution"),
                    net_ec_contribution=self.decimal(o.get("netEcContribution"), f"{f}/@netEcContribution"),
                    total_cost=self.decimal(o.get("totalCost"), f"{f}/@totalCost"),
                    terminated=self.boolean(o.get("terminated"), f"{f}/@terminated"),
                    sme=self.boolean(o.get("sme"), f"{f}/@sme"),
                )
            )
        return tuple(out)

    def described_organisation(self, el, f: str) -> Organisation:
        """The organisation a participation element describes (:meth:`organisation`), read once
        per distinct description in this process: a partner recurs in many projects (8,360
        distinct descriptions in the 17,290 participations of the bundled data). The key is the
        element's content as lxml serialises it (attributes, which are the participation's, left
        out), so two descriptions share a value only if they say exactly the same; its warnings
        are said again for each participation, under its own field path."""
        if el.nsmap:  # namespaces declared around it: the serialised content alone would not say which
            return self.organisation(_Node(el), f)
        xml = etree.tostring(el, with_tail=False)
        key = xml[xml.index(b">") + 1 :]  # lxml escapes ">" in attribute values: the first ends the start tag
        hit = _DESCRIBED.get(key)
        if hit is None:
            said = len(self.warnings)
            org = self.organisation(_Node(el), f)  # a failure raises: nothing kept
            # (whether the field is under the participation's path, the rest of it, the message)
            hit = (org, tuple((w.field.startswith(f), w.field.removeprefix(f), w.message) for w in self.warnings[said:]))
            if len(_DESCRIBED) >= _DESCRIBED_MAX:
                _DESCRIBED.clear()
            _DESCRIBED[key] = hit
            return org
        org, warnings = hit
        for under, field, message in warnings:
            self.warn(f + field if under else field, message)
        return org

    def organisation(self, o, f: str) -> Organisation:
        pic = self.code(o, "id")
        if pic is None:
            raise self.fail(f"{f}/id", "organisation has no PIC (<id>)")
        iso, source_code = self.country(self.text(o, "address/country"), f"{f}/address/country")
        lat = lon = None
        geo = self.text(o, "address/geolocation")
        if geo is not None:
            parts = geo.split(",")
            if len(parts) != 2:
                raise self.fail(f"{f}/address/geolocation", f"{geo!r} is not 'latitude,longitude'")
            lat = self.decimal(parts[0], f"{f}/address/geolocation")
            lon = self.decimal(parts[1], f"{f}/address/geolocation")
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise self.fail(f"{f}/address/geolocation", f"{geo!r} is outside latitude -90..90, longitude -180..180")
        address = Address(
            street=self.text(o, "address/street"),
            post_box=self.text(o, "address/postBox"),
            postcode=self.text(o, "address/postalCode"),
            city=self.text(o, "address/city"),
            country=iso,
            latitude=lat,
            longitude=lon,
        )
        activity = nuts = None
        for c in o.iterfind("relations/categories/category"):
            if c.get("classification") == "organizationActivityType" and (code := self.code(c := _Node(c), "code")):
                activity = Coded(code.lstrip("/"), self.text(c, "title"))
        for reg in o.iterfind("relations/regions/region"):
            if reg.get("type") == "relatedNutsCode" and (code := self.code(reg := _Node(reg), "nutsCode")):
                nuts = Coded(code, self.text(reg, "name"))
        return Organisation(
            pic=pic,
            rcn=self.code(o, "rcn"),
            legal_name=self.text(o, "legalName"),
            short_name=self.text(o, "shortName"),
            vat_number=self.text(o, "vatNumber"),
            department=self.text(o, "departmentName"),
            url=self.text(o, "address/url"),
            country=iso,
            source_country=source_code,
            address=address if any(v is not None for v in vars(address).values()) else None,
            activity_type=activity,
            nuts=nuts,
        )

    def publications(self, assoc) -> tuple[Publication, ...]:
        """Every result of type publication (collection ``/publication``), with or without a DOI,
        in the order of their CORDIS result ids. Two results about one DOI both stay (the
        mapper describes the work from the first and keeps each result's own statement)."""
        # Problems worth a warning (file:record:field: message); a conflict is also kept as
        # provenance in the graph: each result node carries what its result states.
        if assoc is None:
            return ()
        out = []
        for res in assoc.nodes("result"):
            codes = {c.text.strip() for cat in res.iterfind("relations/categories/category")
                     if cat.get("classification") == "collection" for c in cat.iterchildren("code") if c.text}
            raw_doi = self.code(res, "identifiers/doi")
            if "/publication" not in codes and not raw_doi:
                continue  # deliverables, report summaries, IPR: not publications
            doi = normalise_doi(raw_doi)
            if raw_doi and doi is None:
                self.warn("result/identifiers/doi", f"{raw_doi!r} is not a DOI; "
                          "the publication is kept under its CORDIS result identity")
            result_id = self.code(res, "id") or self.code(res, "rcn")
            if doi is None and result_id is None:
                self.warn("result/id", "a publication result without DOI, id or rcn is left out")
                continue
            year = self.text(res, "details/publishedYear")
            out.append(Publication(
                doi=doi,
                title=unescape_text(self.text(res, "title")),
                year=int(year) if year and year.strip().isdigit() else None,
                journal=unescape_text(self.text(res, "details/journalTitle")),
                result_id=result_id,
                rcn=self.code(res, "rcn"),
            ))
        out.sort(key=lambda p: (p.result_id or "", p.doi or ""))
        by_doi: dict[str, Publication] = {}
        for p in out:
            first = by_doi.setdefault(p.doi, p) if p.doi else p
            if first is not p and (first.title, first.year, first.journal) != (p.title, p.year, p.journal):
                self.warn(
                    "result/identifiers/doi", f"results {first.result_id} and {p.result_id} "
                    f"describe DOI {p.doi} differently; the work takes {first.result_id}'s title, year and journal, "
                    "each result keeps its own")
        return tuple(out)




def _mojibake(data: bytes, root, file: str, record: str) -> list[RecordWarning]:
    """Warnings for text fields that are UTF-8 read as Latin-1 ("Uppsala lÃ¤n"): the document
    declares a Latin-1 family encoding but its bytes are valid UTF-8 with non-ASCII characters."""
    declared = (root.getroottree().docinfo.encoding or "").lower()
    if declared not in _LATIN1_NAMES or data.isascii():
        return []
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return []  # genuinely Latin-1 bytes: the declaration is right
    out, seen = [], set()
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for where, text in [("", el.text), *((f"/@{k}", v) for k, v in el.attrib.items())]:
            if not text or text.isascii():
                continue
            try:
                fixed = text.encode("latin-1").decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
            if fixed != text:
                field = root.getroottree().getelementpath(el) + where
                if field not in seen:
                    seen.add(field)
                    out.append(RecordWarning(file, record, field, f"{text[:40]!r} looks like UTF-8 read as {declared} (did the source mean {fixed[:40]!r}?); the document's encoding declaration is likely wrong"))
    return out
