"""Reference data read from ``ontology/countries.ttl`` (the single source of truth)."""
from __future__ import annotations

from functools import lru_cache

import pyoxigraph as ox

from collabkg.namespaces import CKG, OIC
from collabkg.resources import ontology_dir


@lru_cache(maxsize=1)
def _countries() -> tuple[frozenset[str], dict[str, str], frozenset[str]]:
    iso2, cordis, oic = set(), {}, set()
    path = ontology_dir() / "countries.ttl"
    code_of = {}
    for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
        p = t.predicate.value
        if p == CKG + "iso2":
            iso2.add(t.object.value)
            code_of[t.subject.value] = t.object.value
        elif p == CKG + "cordisCode":
            cordis[t.subject.value] = t.object.value
        elif p == CKG + "memberOf" and t.object.value == OIC:
            oic.add(t.subject.value)
    cordis_map = {code: code_of[s] for s, code in cordis.items()}
    return frozenset(iso2), cordis_map, frozenset(code_of[s] for s in oic)


def oic_members() -> frozenset[str]:
    return _countries()[2]


def to_iso(code: str) -> str | None:
    """Map a source country code (CORDIS ``EL``/``UK`` included) to ISO alpha-2, or None."""
    code = code.strip().upper()
    code = _countries()[1].get(code, code)
    return code if code in _countries()[0] else None
