"""OpenAlex API JSON, in every layout OpenAlex serves it; one SourceRecord per Work.

Layouts: an author file ``{"details": Author, "works": [Work, ...]}``, a single Work, a JSON
list of Works, an API page ``{"meta": ..., "results": [Work, ...]}``, and JSON Lines (one Work
per line, plain or gzipped, as in the OpenAlex snapshot). A folder is read file by file.

JSON Lines are streamed line by line, so snapshot parts of any size are fine. A single JSON
document (``.json`` / ``.json.gz``) is read with one ``json.load``: API pages and author files
are small; a huge single document needs memory for the whole document.

Every work is checked field by field: a field of the wrong JSON type, a null where an object is
required, a work without a valid id give a :class:`RecordError` naming the file, the record and
the field path (``authorships[2].institutions[0].country_code``); the other works still come.
"""
from __future__ import annotations

import gzip
import io
import json
import re
from datetime import date
from pathlib import Path
from typing import Iterator

import collabkg.reference as reference
from collabkg.namespaces import ORCID, ROR, normalise_doi
from collabkg.records import RecordError, SourceRecord
from collabkg.sources.text import unescape_text
from collabkg.records.openalex import Authorship, Award, Funder, Institution, Person, Topic, Work

SOURCE = "openalex"
SUFFIXES = (".json", ".jsonl", ".jsonl.gz", ".json.gz")
POSITIONS = ("first", "middle", "last")
_ID = re.compile(r"^(?:https?://openalex\.org/)?([A-Za-z])(\d+)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class _Bad(Exception):
    """A field that cannot be read; caught per work and turned into a RecordError."""

    def __init__(self, field: str, message: str):
        super().__init__(field, message)
        self.field, self.message = field, message


# ------------------------------------------------------------------ files and layouts -------------


def read(path: Path) -> Iterator[SourceRecord | RecordError]:
    """Yield one SourceRecord (or RecordError) per work in ``path`` (a file or a folder)."""
    path = Path(path)
    if path.is_dir():
        for p in sorted(path.iterdir()):
            if p.is_file() and p.name.lower().endswith(SUFFIXES):
                yield from read(p)
        return
    name = path.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz")):
        yield from _read_lines(path)
        return
    try:
        with _open(path) as f:
            doc = json.load(f)
    except json.JSONDecodeError as e:
        if e.msg == "Extra data":  # several documents, one per line: JSON Lines named .json
            yield from _read_lines(path)
            return
        yield RecordError(str(path), "-", "-", f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}")
        return
    except RecursionError:  # hostile input: json recurses per nesting level
        yield RecordError(str(path), "-", "-", "JSON nested too deeply (refused)")
        return
    except (UnicodeDecodeError, OSError, EOFError) as e:
        yield RecordError(str(path), "-", "-", f"cannot read as (gzipped) UTF-8 JSON: {e}")
        return
    yield from read_document(str(path), doc)


def _open(path: Path):
    raw = path.open("rb")
    if raw.read(2) == b"\x1f\x8b":  # gzip magic, whatever the name says
        raw.seek(0)
        return io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8")
    raw.seek(0)
    return io.TextIOWrapper(raw, encoding="utf-8-sig")  # -sig: a leading BOM is not part of the JSON


def _read_lines(path: Path) -> Iterator[SourceRecord | RecordError]:
    f = None
    try:
        f = _open(path)
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                yield RecordError(str(path), f"line {n}", "-", f"invalid JSON at column {e.colno}: {e.msg}")
                continue
            except RecursionError:  # hostile input: json recurses per nesting level
                yield RecordError(str(path), f"line {n}", "-", "JSON nested too deeply (refused)")
                continue
            yield parse_work(str(path), obj, f"line {n}")
    except (UnicodeDecodeError, OSError, EOFError) as e:
        yield RecordError(str(path), "-", "-", f"cannot read as (gzipped) UTF-8 JSON Lines: {e}")
    finally:
        if f is not None:
            f.close()


def read_document(file: str, doc) -> Iterator[SourceRecord | RecordError]:
    """The works of one parsed JSON document, whatever its layout."""
    if isinstance(doc, list):
        works, where = doc, ""
    elif isinstance(doc, dict) and "works" in doc and "id" not in doc:
        works, where = doc["works"], "works"
    elif isinstance(doc, dict) and "results" in doc and "id" not in doc:
        works, where = doc["results"], "results"
    elif isinstance(doc, dict) and "id" in doc:
        yield parse_work(file, doc, "-")
        return
    else:
        got = f"an object with keys {sorted(doc)[:8]}" if isinstance(doc, dict) else _kind(doc)
        yield RecordError(
            file, "-", "-",
            f"not an OpenAlex document: expected a Work (with 'id'), a list of Works, an API page "
            f"({{'results': [...]}}) or an author file ({{'details': ..., 'works': [...]}}); got {got}",
        )
        return
    if not isinstance(works, list):
        yield RecordError(file, "-", where, f"expected a list of works, got {_kind(works)}")
        return
    for i, w in enumerate(works):
        yield parse_work(file, w, f"{where}[{i}]")


# ------------------------------------------------------------------ one work ----------------------


def parse_work(file: str, obj, where: str) -> SourceRecord | RecordError:
    """Check and type one Work object; ``where`` locates it in the file for error messages."""
    if not isinstance(obj, dict):
        return RecordError(file, where, "-", f"expected a Work object, got {_kind(obj)}")
    try:
        wid = openalex_id(obj.get("id"), "W", "id")
    except _Bad as e:
        return RecordError(file, where, e.field, e.message)
    warnings: list[str] = []
    try:
        work = _work(obj, wid, warnings)
    except _Bad as e:
        return RecordError(file, wid, e.field, e.message)
    return SourceRecord(SOURCE, file, wid, work, extra={"warnings": warnings} if warnings else {})


def _work(o: dict, wid: str, warnings: list[str]) -> Work:
    title = _opt(o, "title", str, "") or _opt(o, "display_name", str, "")
    date_s = _opt(o, "publication_date", str, "")
    pub_date = None
    if date_s:
        if not _DATE.match(date_s):
            raise _Bad("publication_date", f"expected a YYYY-MM-DD date, got {date_s!r}")
        try:
            pub_date = date.fromisoformat(date_s)
        except ValueError as e:
            raise _Bad("publication_date", f"not a valid date {date_s!r}: {e}") from None
    ptopic = _opt(o, "primary_topic", dict, "")
    source = _opt(_opt(o, "primary_location", dict, "") or {}, "source", dict, "primary_location.")
    return Work(
        openalex_id=wid,
        doi=doi(_opt(o, "doi", str, ""), "doi"),
        title=_text(title),
        type=_text(_opt(o, "type", str, "")),
        publication_date=pub_date,
        publication_year=_opt(o, "publication_year", int, ""),
        language=_text(_opt(o, "language", str, "")),
        journal=_text(_opt(source or {}, "display_name", str, "primary_location.source.")),
        cited_by_count=_opt(o, "cited_by_count", int, ""),
        abstract=abstract(_opt(o, "abstract_inverted_index", dict, ""), "abstract_inverted_index"),
        primary_topic=_topic(ptopic, "primary_topic") if ptopic is not None else None,
        topics=tuple(_topic(t, p) for p, t in _objects(o, "topics", "")),
        keywords=tuple(
            k for k in (_text(_opt(kw, "display_name", str, p + ".")) for p, kw in _objects(o, "keywords", "")) if k
        ),
        funders=tuple(_funder(f, p) for p, f in _objects(o, "funders", "")),
        awards=tuple(_award(a, p) for p, a in _objects(o, "awards", "")),
        authorships=tuple(_authorship(a, p, i + 1, warnings) for i, (p, a) in enumerate(_objects(o, "authorships", ""))),
    )


def _authorship(a: dict, path: str, order: int, warnings: list[str]) -> Authorship:
    pre = path + "."
    position = _opt(a, "author_position", str, pre)
    if position is not None and position not in POSITIONS:
        raise _Bad(pre + "author_position", f"expected one of {', '.join(POSITIONS)}, got {position!r}")
    author = _opt(a, "author", dict, pre)
    person, name = None, None
    if author is not None:
        name = _text(_opt(author, "display_name", str, pre + "author."))
        aid = _opt(author, "id", str, pre + "author.")
        if aid is not None:  # a null author id: the authorship is kept, without a person
            person = Person(
                openalex_id(aid, "A", pre + "author.id"),
                name,
                orcid(_opt(author, "orcid", str, pre + "author."), pre + "author.orcid"),
            )
    countries = []
    for i, c in enumerate(_list(a, "countries", pre)):
        iso = _country(c, f"{pre}countries[{i}]", warnings)
        if iso and iso not in countries:
            countries.append(iso)
    raw = [_text(_str(s, f"{pre}raw_affiliation_strings[{i}]")) for i, s in enumerate(_list(a, "raw_affiliation_strings", pre))]
    return Authorship(
        order=order,
        position=position,
        person=person,
        author_name=name,
        is_corresponding=_opt(a, "is_corresponding", bool, pre),
        institutions=tuple(_institution(inst, p, warnings) for p, inst in _objects(a, "institutions", pre)),
        countries=tuple(countries),
        raw_affiliations=tuple(dict.fromkeys(r for r in raw if r)),
    )


def _institution(o: dict, path: str, warnings: list[str]) -> Institution:
    pre = path + "."
    iid = openalex_id(_opt(o, "id", str, pre), "I", pre + "id")
    lineage = tuple(
        dict.fromkeys(
            lid
            for lid in (openalex_id(_str(x, f"{pre}lineage[{i}]"), "I", f"{pre}lineage[{i}]") for i, x in enumerate(_list(o, "lineage", pre)))
            if lid != iid
        )
    )
    cc = _opt(o, "country_code", str, pre)
    return Institution(
        openalex_id=iid,
        display_name=_text(_opt(o, "display_name", str, pre)),
        ror=ror(_opt(o, "ror", str, pre), pre + "ror"),
        country=_country(cc, pre + "country_code", warnings) if cc else None,
        type=_text(_opt(o, "type", str, pre)),
        lineage=lineage,
    )


def _topic(o: dict, path: str) -> Topic:
    pre = path + "."
    return Topic(openalex_id(_opt(o, "id", str, pre), "T", pre + "id"), _text(_opt(o, "display_name", str, pre)))


def _funder(o: dict, path: str) -> Funder:
    pre = path + "."
    return Funder(
        openalex_id(_opt(o, "id", str, pre), "F", pre + "id"),
        _text(_opt(o, "display_name", str, pre)),
        ror(_opt(o, "ror", str, pre), pre + "ror"),
    )


def _award(o: dict, path: str) -> Award:
    pre = path + "."
    fid = _opt(o, "funder_id", str, pre)
    funder = Funder(openalex_id(fid, "F", pre + "funder_id"), _text(_opt(o, "funder_display_name", str, pre))) if fid else None
    return Award(
        openalex_id(_opt(o, "id", str, pre), "G", pre + "id"),
        _text(_opt(o, "funder_award_id", str, pre)),
        funder,
        _text(_opt(o, "display_name", str, pre)),
    )


# ------------------------------------------------------------------ values -------------------------


def openalex_id(value, letter: str, field: str) -> str:
    """``https://openalex.org/W123`` or ``W123`` → ``W123``; anything else is an error."""
    if value is None:
        raise _Bad(field, f"missing OpenAlex id (expected {letter} followed by digits)")
    if not isinstance(value, str):
        raise _Bad(field, f"expected a string, got {_kind(value)}")
    m = _ID.match(value.strip())
    if not m or m.group(1).upper() != letter:
        raise _Bad(field, f"not an OpenAlex {letter}… id: {value!r}")
    return letter + m.group(2)


def doi(value: str | None, field: str) -> str | None:
    if not value or not value.strip():
        return None
    bare = normalise_doi(value)  # the one DOI form (lower case): CORDIS and OpenAlex meet on it
    if bare is None:
        raise _Bad(field, f"not a DOI: {value!r}")
    return bare


def ror(value: str | None, field: str) -> str | None:
    if not value or not value.strip():
        return None
    v = value.strip()
    if re.fullmatch(r"0[a-z0-9]{8}", v):
        v = ROR + v
    if not re.fullmatch(re.escape(ROR) + r"0[a-z0-9]{8}", v):
        raise _Bad(field, f"not a ROR id: {value!r}")
    return v


def orcid(value: str | None, field: str) -> str | None:
    if not value or not value.strip():
        return None
    m = re.fullmatch(r"(?:https?://orcid\.org/)?(\d{4}-\d{4}-\d{4}-\d{3}[\dX])", value.strip())
    if not m:
        raise _Bad(field, f"not an ORCID iD: {value!r}")
    return ORCID + m.group(1)


def abstract(index: dict | None, field: str) -> str | None:
    """Rebuild the text from OpenAlex's ``abstract_inverted_index`` ({word: [positions]})."""
    if not index:
        return None
    at: dict[int, str] = {}
    for word, positions in index.items():
        if not isinstance(positions, list) or not all(isinstance(p, int) and not isinstance(p, bool) and p >= 0 for p in positions):
            raise _Bad(f"{field}.{word}", f"expected a list of word positions, got {_kind(positions)}")
        for p in positions:
            at[p] = word
    return _text(" ".join(at[p] for p in sorted(at)))


def _country(code, field: str, warnings: list[str]) -> str | None:
    code = _str(code, field)
    iso = reference.to_iso(code) if code.strip() else None
    if iso is None and code.strip():
        warnings.append(f"{field}: unknown country code {code!r} dropped")
    return iso


# ------------------------------------------------------------------ typed access -------------------

_NAMES = {str: "a string", int: "an integer", bool: "a boolean", list: "a list", dict: "an object"}


def _kind(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a number"
    return _NAMES.get(type(v), type(v).__name__)


def _is(v, typ) -> bool:
    if typ is int:
        return isinstance(v, int) and not isinstance(v, bool)
    return isinstance(v, typ)


def _opt(d: dict, key: str, typ, prefix: str):
    """``d[key]`` if present and not null, checked to be of ``typ``; else None."""
    v = d.get(key)
    if v is None:
        return None
    if not _is(v, typ):
        raise _Bad(prefix + key, f"expected {_NAMES[typ]} or null, got {_kind(v)}")
    return v


def _str(v, field: str) -> str:
    if not isinstance(v, str):
        raise _Bad(field, f"expected a string, got {_kind(v)}")
    return v


def _list(d: dict, key: str, prefix: str) -> list:
    return _opt(d, key, list, prefix) or []


def _objects(d: dict, key: str, prefix: str) -> Iterator[tuple[str, dict]]:
    """(path, object) for each item of the list ``d[key]``; a null or non-object item is an error."""
    for i, item in enumerate(_list(d, key, prefix)):
        path = f"{prefix}{key}[{i}]"
        if not isinstance(item, dict):
            raise _Bad(path, f"expected an object, got {_kind(item)}")
        yield path, item


def _text(s: str | None) -> str | None:
    """Strip; an empty string is absent. HTML character references (JSON needs none: OpenAlex
    copies them from publishers' HTML, sometimes escaped twice, ``&amp;lt;i&amp;gt;``) are decoded
    and inline markup dropped (``collabkg.sources.text.unescape_text``); otherwise the text (U+2010
    hyphens included) is kept as is."""
    if s is None:
        return None
    s = unescape_text(s.strip())
    return s.strip() or None
