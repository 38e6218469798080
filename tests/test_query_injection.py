"""Injection attempts through every parameter type are refused or bound harmlessly, and the
store is unchanged afterwards (quad count and a hash of every quad)."""
from __future__ import annotations

import hashlib
import io

import pytest

from conftest import ROOT, XML_SAMPLE, run_cli

from collabkg import catalogue

PAYLOADS = [
    'TN" } ; DROP ALL ; SELECT * WHERE { "',
    "TN' } ; DROP ALL ; #",
    "https://w3id.org/collabkg/country/TN> } ; DROP ALL ; <x:",
    "TN }",
    "} } DROP ALL",
    "TN\nDROP ALL",
    "1 } ; CLEAR DEFAULT",
    "2024-01-01\"^^<http://www.w3.org/2001/XMLSchema#date> } ; DROP ALL",
    "; DROP ALL",
    "x:a\\u003E } ; DROP ALL",
    "?_country",
    "TN" * 5000,  # a 10 kB value
    "A" * 10_000,
]

# A query that takes one parameter of every type and returns what was bound.
ALL_TYPES = """#+ summary: echo every parameter type
#+ params:
#+   - {name: iri, type: iri}
#+   - {name: lit, type: literal}
#+   - {name: int, type: integer}
#+   - {name: dec, type: decimal}
#+   - {name: day, type: date}
#+   - {name: land, type: country}
#+ columns:
#+   - {name: iri, meaning: the iri}
#+   - {name: lit, meaning: the literal}
#+   - {name: int, meaning: the integer}
#+   - {name: dec, meaning: the decimal}
#+   - {name: day, meaning: the date}
#+   - {name: land, meaning: the country}
#+   - {name: n, meaning: matching triples}
SELECT ?iri ?lit ?int ?dec ?day ?land (COUNT(?o) AS ?n)
WHERE {
  BIND (?_iri AS ?iri) BIND (?_lit AS ?lit) BIND (?_int AS ?int)
  BIND (?_dec AS ?dec) BIND (?_day AS ?day) BIND (?_land AS ?land)
  OPTIONAL { ?s ?p ?o FILTER (?o = ?_lit || ?s = ?_iri || ?o = ?_land) }
}
GROUP BY ?iri ?lit ?int ?dec ?day ?land
"""


def fingerprint(store) -> tuple[int, str]:
    h, n = hashlib.sha256(), 0
    for line in sorted(str(q) for q in store.raw.quads_for_pattern(None, None, None, None)):
        h.update(line.encode("utf-8"))
        n += 1
    return n, h.hexdigest()


@pytest.fixture(scope="module")
def writable_store(tmp_path_factory):
    """A small store opened read-write (the 14 sample projects), so that a successful
    injection could change it."""
    from collabkg.importing import build
    from collabkg.store import EmbeddedStore

    path = tmp_path_factory.mktemp("injection") / "store"
    store = EmbeddedStore(path)
    build(store, [XML_SAMPLE], progress=False, err=io.StringIO())
    yield store
    store.close()


@pytest.fixture(scope="module")
def echo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("queries")
    (folder / "echo-all-types.rq").write_text(ALL_TYPES, encoding="utf-8")
    return catalogue.load(folder / "echo-all-types.rq")


@pytest.mark.parametrize("ptype", ["iri", "lit", "int", "dec", "day", "land"])
def test_every_parameter_type_refuses_or_binds_harmlessly(ptype, echo, writable_store):
    before = fingerprint(writable_store)
    for payload in PAYLOADS:
        try:
            result = catalogue.run(echo, writable_store, {ptype: payload})
        except catalogue.ParamError as e:
            assert ptype in str(e)
            continue
        # Accepted: only a literal takes arbitrary text, and it comes back exactly as given.
        assert ptype == "lit", f"{ptype} accepted {payload[:60]!r}"
        (row,) = result.records()
        assert row["lit"] == payload
        assert row["n"] == 0
    assert fingerprint(writable_store) == before


def test_long_literal_is_refused_not_truncated(echo):
    with pytest.raises(catalogue.ParamError, match="too long"):
        catalogue.bind(echo, {"lit": "x" * 10_000})


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "queries").glob("*.rq")))
def test_catalogue_queries_refuse_payloads(name, writable_store):
    q = catalogue.get(name)
    before = fingerprint(writable_store)
    for p in q.params:
        for payload in PAYLOADS:
            with pytest.raises(catalogue.ParamError):
                catalogue.run(q, writable_store, {p.name: payload})
    catalogue.run(q, writable_store, {p.name: {"country": "TN", "integer": "1"}[p.type] for p in q.params if p.required})
    assert fingerprint(writable_store) == before


def test_cli_refuses_payloads_with_exit_2(tmp_path):
    for payload in PAYLOADS[:6]:
        r = run_cli("query", "partner-countries", "--param", f"country={payload}", "--store", str(tmp_path / "none"))
        assert r.returncode == 2, payload
        assert "not a country code" in r.stderr or "too long" in r.stderr
