"""The building blocks every mapper shares: typed literals, ontology terms, and the triple lists
(:class:`Triples`, :class:`BlockBuilder`) that sort a record's triples into named graphs.

The one place a Python value becomes an RDF literal (``literal``, ``plain_decimal``).
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from itertools import repeat
from typing import Iterable, Iterator, NamedTuple

import pyoxigraph as ox

from collabkg.namespaces import CKG, RDF, RDFS, XSD

_XSD_DECIMAL = ox.NamedNode(XSD + "decimal")
_XSD_INTEGER = ox.NamedNode(XSD + "integer")
_XSD_DATE = ox.NamedNode(XSD + "date")
_XSD_DATETIME = ox.NamedNode(XSD + "dateTime")
_XSD_BOOLEAN = ox.NamedNode(XSD + "boolean")
_XSD_ANYURI = ox.NamedNode(XSD + "anyURI")
_XSD_GYEAR = ox.NamedNode(XSD + "gYear")

A = ox.NamedNode(RDF + "type")
LABEL = ox.NamedNode(RDFS + "label")


@lru_cache(maxsize=None)
def ckg(local: str) -> ox.NamedNode:
    return ox.NamedNode(CKG + local)


def literal(value, lang: str | None = None):
    """A typed RDF literal from a Python value (None stays None: no triple)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return ox.Literal("true" if value else "false", datatype=_XSD_BOOLEAN)
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=_XSD_INTEGER)
    if isinstance(value, Decimal):
        return ox.Literal(plain_decimal(value), datatype=_XSD_DECIMAL)
    if isinstance(value, datetime):
        return ox.Literal(value.isoformat(), datatype=_XSD_DATETIME)
    if isinstance(value, date):
        return ox.Literal(value.isoformat(), datatype=_XSD_DATE)
    if lang:
        return ox.Literal(str(value), language=lang)
    return ox.Literal(str(value))


def any_uri(value: str | None):
    return None if value is None else ox.Literal(value.strip(), datatype=_XSD_ANYURI)


def plain_decimal(d: Decimal) -> str:
    """A decimal as an xsd:decimal lexical form: no exponent, no trailing zeros after the point
    (``Decimal("1.50")`` -> ``1.5``, ``Decimal("2.00")`` -> ``2``, ``Decimal("1E+2")`` -> ``100``).

    The one place a Decimal becomes text: literals in the graph and plain values of query results."""
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".") or "0"
    return s


class Triples(list):
    """A record's triples; a triple whose object is None is silently dropped.

    Every triple lives in exactly one named graph. The record's own facts and its links stay in
    the record's graph; a triple about a shared entity (organisation, person, institution, work,
    and every vocabulary term: call, topic, programme part, field, NUTS region, activity type)
    is marked with the entity's ``(kind, id)`` and the importer stores it in the entity's own
    graph, replaced by the latest record that describes the entity. ``vocab`` (an add-only
    graph) is kept for callers but no mapper fills it any more: vocabulary is correctable.
    """

    def __init__(self):
        super().__init__()
        self.vocab: list[ox.Triple] = []
        self.entities: dict[int, tuple[str, str]] = {}  # triple index -> (kind, id) of its entity graph

    def add(self, s, p, o) -> None:
        if o is None:
            return
        self.append(ox.Triple(s, p, o))

    def add_entity(self, entity: tuple[str, str], s, p, o) -> None:
        """A triple describing a shared entity (an organisation, person, institution, ...).

        It stays part of the record (validation sees it), but the importer stores it in the
        entity's own graph, replaced by the latest record that describes the entity: stated
        once, so that queries over the union of graphs see it once.
        """
        if o is None:
            return
        self.entities[len(self)] = entity
        self.append(ox.Triple(s, p, o))

    def add_blocks(self, blocks: "EntityBlocks") -> None:
        """Add entity descriptions mapped once (memoised) as ``((kind, id), triples)`` pairs."""
        for key, triples in blocks:
            n = len(self)
            self.extend(triples)
            self.entities.update(zip(range(n, n + len(triples)), repeat(key)))

    def split(self) -> tuple[list[ox.Triple], dict[tuple[str, str], list[ox.Triple]]]:
        """The record's own triples, and the triples of each entity it describes."""
        own, entities = [], {}
        for i, t in enumerate(self):
            key = self.entities.get(i)
            if key is None:
                own.append(t)
            else:
                entities.setdefault(key, {})[t] = None  # ordered, without repeats
        return own, {k: list(v) for k, v in entities.items()}

    def add_vocab(self, s, p, o) -> None:
        if o is None:
            return
        self.vocab.append(ox.Triple(s, p, o))

    def to_ntriples(self) -> "NTriples":
        """The same triples as N-Triples lines, sorted into graphs as :meth:`split` does."""
        own, entities = self.split()
        g = NTriples()
        g.own = _lines(own)
        for key, ts in entities.items():
            g.entities[key] = dict.fromkeys(_lines(ts))
        g.vocab = _lines(self.vocab)
        return g

    @classmethod
    def from_ntriples(cls, g: "NTriples") -> "Triples":
        """Term objects from N-Triples lines: the record's own triples, then each entity's."""
        t = cls()
        t.extend(_parse(g.own))
        for key, lines in g.entity_lines():
            ts = _parse(lines)
            t.entities.update(zip(range(len(t), len(t) + len(ts)), repeat(key)))
            t.extend(ts)
        t.vocab = _parse(g.vocab)
        return t


def _lines(triples: list[ox.Triple]) -> list[str]:
    # Split on "\n" only: a literal may hold U+2028 or U+0085 unescaped (str.splitlines would cut there).
    text = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
    return [line + "\n" for line in text.split("\n")[:-1]]


def _parse(lines) -> list[ox.Triple]:
    data = "".join(lines).encode("utf-8")
    return [q.triple for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)] if data else []


# An entity description mapped once: ((kind, id), its triples) for the entity and any entity it
# brings along (an organisation's activity type and NUTS region).
EntityBlocks = tuple[tuple[tuple[str, str], tuple[ox.Triple, ...]], ...]


class BlockBuilder:
    """Collects the triples of entity descriptions, grouped by entity, for memoised mappers."""

    def __init__(self):
        self.blocks: dict[tuple[str, str], dict[ox.Triple, None]] = {}

    def add(self, entity: tuple[str, str], s, p, o) -> None:
        if o is not None:
            self.blocks.setdefault(entity, {})[ox.Triple(s, p, o)] = None

    def done(self) -> EntityBlocks:
        return tuple((k, tuple(v)) for k, v in self.blocks.items())


# --- N-Triples text ----------------------------------------------------------------------------------
# The fast path of the importer: terms as their N-Triples text (``<iri>``, ``"lexical"@en``,
# ``"lexical"^^<datatype>``), formatted exactly as Oxigraph's serializer writes them, so that a
# record's graphs are joined lines instead of term objects serialized one by one.

# What Oxigraph escapes in a literal: C0 controls, DEL, quote, backslash, U+FFFE and U+FFFF.
_NT_ESCAPE = re.compile(r'[\x00-\x1f"\\\x7f\ufffe\uffff]')
_NT_SHORT = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def _escape(m: re.Match) -> str:
    c = m.group()
    return _NT_SHORT.get(c) or f"\\u{ord(c):04X}"


def nt_string(s: str) -> str:
    """A plain (xsd:string) literal in N-Triples."""
    return '"' + (_NT_ESCAPE.sub(_escape, s) if _NT_ESCAPE.search(s) else s) + '"'


def nt_iri(iri: str) -> str:
    """An IRI in N-Triples (the IRIs minted by :class:`~collabkg.namespaces.IRIs` need no escaping)."""
    return "<" + iri + ">"


def _typed(datatype: str):
    suffix = '"^^<' + XSD + datatype + ">"
    return lambda lexical: '"' + lexical + suffix


_NT_BOOLEAN = {True: _typed("boolean")("true"), False: _typed("boolean")("false")}
_NT_INTEGER, _NT_DECIMAL, _NT_DATE, _NT_DATETIME, _NT_ANYURI = map(_typed, ("integer", "decimal", "date", "dateTime", "anyURI"))


def nt_literal(value, lang: str | None = None) -> str | None:
    """:func:`literal` as N-Triples text (None stays None: no triple)."""
    if value is None:
        return None
    if isinstance(value, str):  # the common case first; the checks below are literal()'s, in its order
        return nt_string(value) + "@" + lang if lang else nt_string(value)
    if isinstance(value, bool):
        return _NT_BOOLEAN[value]
    if isinstance(value, int):
        return _NT_INTEGER(str(value))
    if isinstance(value, Decimal):
        return _NT_DECIMAL(plain_decimal(value))
    if isinstance(value, datetime):
        return _NT_DATETIME(value.isoformat())
    if isinstance(value, date):
        return _NT_DATE(value.isoformat())
    return nt_string(str(value)) + "@" + lang if lang else nt_string(str(value))


def nt_any_uri(value: str | None) -> str | None:
    return None if value is None else _NT_ANYURI(nt_string(value.strip())[1:-1])


@lru_cache(maxsize=None)
def nt_ckg(local: str) -> str:
    """An ontology term in N-Triples (:func:`ckg` as text)."""
    return nt_iri(CKG + local)


NT_A = nt_iri(RDF + "type")
NT_LABEL = nt_iri(RDFS + "label")


class NTriples:
    """A record's triples as N-Triples lines, sorted into graphs as :meth:`Triples.split` does: the
    record's own lines in order, and each entity's lines (ordered, without repeats) by ``(kind, id)``."""

    __slots__ = ("own", "entities", "vocab")

    def __init__(self):
        self.own: list[str] = []
        # (kind, id) -> a memoised block while the entity has one description (its bytes are
        # ready), else its lines as a dict (ordered, without repeats)
        self.entities: dict[tuple[str, str], NTBlock | dict[str, None]] = {}
        self.vocab: list[str] = []

    def add(self, s: str, p: str, o: str | None) -> None:
        if o is not None:
            self.own.append(f"{s} {p} {o} .\n")

    def _lines_of(self, entity: tuple[str, str]) -> dict[str, None]:
        have = self.entities.get(entity)
        if have is None:
            have = self.entities[entity] = {}
        elif type(have) is NTBlock:
            have = self.entities[entity] = dict.fromkeys(have.lines)
        return have

    def add_entity(self, entity: tuple[str, str], s: str, p: str, o: str | None) -> None:
        if o is not None:
            self._lines_of(entity)[f"{s} {p} {o} .\n"] = None

    def add_blocks(self, blocks: "NTBlocks") -> None:
        """Add entity descriptions formatted once (memoised)."""
        entities = self.entities
        for block in blocks:
            if block.key not in entities:
                entities[block.key] = block
            else:
                self._lines_of(block.key).update(dict.fromkeys(block.lines))

    def entity_lines(self) -> Iterator[tuple[tuple[str, str], Iterable[str]]]:
        for key, have in self.entities.items():
            yield key, have.lines if type(have) is NTBlock else have

    def entity_data(self) -> Iterator[tuple[tuple[str, str], bytes]]:
        """Each entity's N-Triples as UTF-8 bytes."""
        for key, have in self.entities.items():
            yield key, have.data if type(have) is NTBlock else "".join(have).encode()


class NTBlock(NamedTuple):
    """An entity description formatted once: its lines (without repeats) and their bytes."""

    key: tuple[str, str]
    lines: tuple[str, ...]
    data: bytes


NTBlocks = tuple[NTBlock, ...]


class NTBlockBuilder:
    """Collects the lines of entity descriptions, grouped by entity, for memoised mappers."""

    def __init__(self):
        self.blocks: dict[tuple[str, str], dict[str, None]] = {}

    def add(self, entity: tuple[str, str], s: str, p: str, o: str | None) -> None:
        if o is not None:
            self.blocks.setdefault(entity, {})[f"{s} {p} {o} .\n"] = None

    def done(self) -> NTBlocks:
        return tuple(NTBlock(k, tuple(v), "".join(v).encode()) for k, v in self.blocks.items())
