"""The building blocks every mapper shares: typed literals, ontology terms, and the triple lists
(:class:`Triples`, :class:`BlockBuilder`) that sort a record's triples into named graphs.

The one place a Python value becomes an RDF literal (``literal``, ``plain_decimal``).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from itertools import repeat

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
