#!/usr/bin/env python3
"""Generate ontology/countries.ttl: the country reference data of collabkg.

The output holds
  * one SKOS concept per ISO 3166-1 country (from the ``pycountry`` package) plus Kosovo (``XK``,
    user-assigned code used by CORDIS; EU Publications Office authority code ``XKX``),
    linked to the EU Publications Office country authority (alpha-3 codes);
  * the CORDIS country codes that differ from ISO (``EL`` for GR, ``UK`` for GB);
  * the membership of the Organisation of Islamic Cooperation (OIC), as data.

The Turtle is written by hand (not by an RDF serialiser) so that the file is byte-for-byte
reproducible: countries sorted by alpha-2, a fixed prefix block, no timestamps.

``pycountry`` is needed only to regenerate the file (``pip install pycountry``); ``rdflib`` and
``pyoxigraph`` are used to check the result.

Usage:
    python ontology/make_countries.py [--output PATH] [--cordis-csv organization.csv] [--no-verify]
"""

from __future__ import annotations

import argparse
import csv
import sys
from importlib.metadata import version
from pathlib import Path

# IRIs are fixed on purpose: reference data must have the same IRIs in every deployment.
CKG = "https://w3id.org/collabkg/ontology#"
CKGC = "https://w3id.org/collabkg/country/"
OIC_IRI = "https://w3id.org/collabkg/org/OIC"
EU_COUNTRY = "http://publications.europa.eu/resource/authority/country/"

PREFIXES = [
    ("ckg", CKG),
    ("ckgc", CKGC),
    ("dct", "http://purl.org/dc/terms/"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("skos", "http://www.w3.org/2004/02/skos/core#"),
]

# CORDIS (EU-style) codes that differ from ISO 3166-1 alpha-2: CORDIS code -> ISO code.
CORDIS_TO_ISO = {"EL": "GR", "UK": "GB"}

# Codes outside ISO 3166-1 that are used by the sources (alpha-2, EU authority code, English name).
EXTRA_COUNTRIES = [
    ("XK", "XKX", "Kosovo"),
]

# The 57 member states of the Organisation of Islamic Cooperation (ISO 3166-1 alpha-2).
OIC_MEMBERS = (
    "AF AL AZ BD BF BH BJ BN CI CM DJ DZ EG GA GM GN GW GY ID IQ IR JO KG KM KW KZ LB LY MA ML MR "
    "MV MY MZ NE NG OM PK PS QA SA SD SL SN SO SR SY TD TG TJ TM TN TR UG AE UZ YE"
).split()
OIC_SUSPENDED = {
    "SY": "OIC membership suspended since August 2012 (Mecca summit); kept as a member.",
}

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "countries.ttl"


def literal(text: str, lang: str | None = None) -> str:
    """A Turtle string literal, escaped per the Turtle 1.1 ECHAR rules."""
    escaped = (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
        .replace("\b", "\\b")
        .replace("\f", "\\f")
    )
    return f'"{escaped}"' + (f"@{lang}" if lang else "")


def statement(subject: str, pairs: list[tuple[str, str]]) -> str:
    """One Turtle subject block: ``subject p1 o1 ;\\n    p2 o2 .``"""
    lines = [f"{subject} {pairs[0][0]} {pairs[0][1]}"]
    lines += [f"    {p} {o}" for p, o in pairs[1:]]
    return " ;\n".join(lines) + " .\n"


def country_rows() -> list[dict]:
    """One dict per country, sorted by alpha-2."""
    import pycountry  # only needed to regenerate the file

    rows = []
    for c in pycountry.countries:
        alt = []
        for name in (getattr(c, "common_name", None), getattr(c, "official_name", None)):
            if name and name != c.name and name not in alt:
                alt.append(name)
        rows.append(
            {
                "alpha2": c.alpha_2,
                "alpha3": c.alpha_3,
                "numeric": c.numeric,
                "eu": c.alpha_3,
                "name": c.name,
                "alt": alt,
                "comment": None,
            }
        )
    iso = {r["alpha2"] for r in rows}
    for alpha2, eu_code, name in EXTRA_COUNTRIES:
        assert alpha2 not in iso, f"{alpha2} is now in ISO 3166-1; remove it from EXTRA_COUNTRIES"
        rows.append(
            {
                "alpha2": alpha2,
                "alpha3": None,  # ISO assigns no alpha-3 or numeric code to a user-assigned code
                "numeric": None,
                "eu": eu_code,
                "name": name,
                "alt": [],
                "comment": (
                    f"{alpha2} is a user-assigned code, not part of ISO 3166-1; it is used by CORDIS "
                    f"and the European Commission. EU Publications Office authority code: {eu_code}."
                ),
            }
        )
    return sorted(rows, key=lambda r: r["alpha2"])


def render(rows: list[dict], pycountry_version: str) -> str:
    iso_to_cordis = {iso: cordis for cordis, iso in CORDIS_TO_ISO.items()}
    codes = {r["alpha2"] for r in rows}
    missing = sorted(set(OIC_MEMBERS) - codes) + sorted(set(iso_to_cordis) - codes)
    if missing:
        raise SystemExit(f"codes missing from the country list: {' '.join(missing)}")
    if len(set(OIC_MEMBERS)) != 57:
        raise SystemExit(f"expected 57 OIC members, got {len(set(OIC_MEMBERS))}")

    out = [
        "# collabkg reference data: countries and OIC membership.\n",
        "# GENERATED by ontology/make_countries.py -- do not edit by hand; edit the script and re-run it.\n",
        f"# Sources: ISO 3166-1 via the pycountry package {pycountry_version}; Kosovo (XK, user-assigned)\n",
        "# added by hand; CORDIS codes EL/UK; OIC member list (57 states) from\n",
        "# data/cordis-horizon-europe/README.md. Alignment: EU Publications Office country authority.\n",
        "\n",
    ]
    out += [f"@prefix {p}: <{iri}> .\n" for p, iri in PREFIXES]
    out.append("\n")

    out.append(
        statement(
            "ckgc:scheme",
            [
                ("a", "skos:ConceptScheme"),
                ("rdfs:label", literal("collabkg countries", "en")),
                ("skos:prefLabel", literal("collabkg countries", "en")),
                (
                    "rdfs:comment",
                    literal(
                        "Countries and territories of ISO 3166-1, plus Kosovo (XK), identified by "
                        "their ISO 3166-1 alpha-2 code and linked to the EU Publications Office "
                        "country authority. CORDIS codes that differ from ISO (EL, UK) are kept "
                        "as ckg:cordisCode.",
                        "en",
                    ),
                ),
                (
                    "dct:source",
                    literal(
                        f"ISO 3166-1 (Codes for the representation of names of countries and their "
                        f"subdivisions, Part 1: Country codes), as packaged in the pycountry Python "
                        f"package version {pycountry_version} (https://pypi.org/project/pycountry/); "
                        f"Kosovo (XK, user-assigned code; EU authority code XKX) added by "
                        f"make_countries.py.",
                        "en",
                    ),
                ),
            ],
        )
    )
    out.append("\n")

    out.append(
        statement(
            f"<{OIC_IRI}>",
            [
                ("a", "ckg:IntergovernmentalOrganisation"),
                ("rdfs:label", literal("Organisation of Islamic Cooperation", "en")),
                ("skos:altLabel", literal("OIC", "en")),
            ],
        )
    )
    out.append("\n")

    oic = set(OIC_MEMBERS)
    for r in rows:
        a2 = r["alpha2"]
        pairs = [
            ("a", "ckg:Country"),
            ("skos:inScheme", "ckgc:scheme"),
            ("skos:notation", literal(a2)),
            ("ckg:iso2", literal(a2)),
        ]
        if r["alpha3"]:
            pairs.append(("ckg:iso3", literal(r["alpha3"])))
        if r["numeric"]:
            pairs.append(("ckg:isoNumeric", literal(r["numeric"])))
        if a2 in iso_to_cordis:
            pairs.append(("ckg:cordisCode", literal(iso_to_cordis[a2])))
        pairs.append(("rdfs:label", literal(r["name"], "en")))
        pairs.append(("skos:prefLabel", literal(r["name"], "en")))
        pairs += [("skos:altLabel", literal(alt, "en")) for alt in r["alt"]]
        pairs.append(("skos:exactMatch", f"<{EU_COUNTRY}{r['eu']}>"))
        if a2 in oic:
            pairs.append(("ckg:memberOf", f"<{OIC_IRI}>"))
        if a2 in OIC_SUSPENDED:
            pairs.append(("ckg:membershipSuspended", "true"))
        comments = [c for c in (r["comment"], OIC_SUSPENDED.get(a2)) if c]
        pairs += [("rdfs:comment", literal(c, "en")) for c in comments]
        out.append(statement(f"ckgc:{a2}", pairs))
        out.append("\n")

    return "".join(out).rstrip("\n") + "\n"


def cordis_codes(path: Path) -> dict[str, int]:
    """Country codes (column ``address/country``) of a CORDIS organization.csv, with row counts."""
    counts: dict[str, int] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            code = row["address/country"]
            counts[code] = counts.get(code, 0) + 1
    return counts


def verify(path: Path, cordis_csv: Path | None, iso_codes: set[str]) -> None:
    import pyoxigraph
    import rdflib
    from rdflib.namespace import RDF

    g = rdflib.Graph()
    g.parse(path, format="turtle")
    ckg = rdflib.Namespace(CKG)
    oic = rdflib.URIRef(OIC_IRI)
    countries = set(g.subjects(RDF.type, ckg.Country))
    members = set(g.subjects(ckg.memberOf, oic))
    by_code = {str(o): s for s, o in g.subject_objects(ckg.iso2)}
    by_cordis = {str(o): s for s, o in g.subject_objects(ckg.cordisCode)}
    assert len(members) == 57, len(members)
    assert len(countries) >= 249, len(countries)
    assert all(str(s).startswith(CKGC) for s in countries)
    assert (rdflib.URIRef(CKGC + "SY"), ckg.membershipSuspended, rdflib.Literal(True)) in g

    store = pyoxigraph.Store()
    with path.open("rb") as f:
        store.load(f, format=pyoxigraph.RdfFormat.TURTLE)
    assert len(store) == len(g), (len(store), len(g))
    q = f"SELECT (COUNT(?c) AS ?n) WHERE {{ ?c <{CKG}memberOf> <{OIC_IRI}> }}"
    n_oic = int(next(iter(store.query(q)))["n"].value)
    assert n_oic == 57, n_oic

    print(f"{path}: {len(g)} triples (rdflib) = {len(store)} quads (pyoxigraph)")
    print(f"countries: {len(countries)}, OIC members: {len(members)} (pyoxigraph: {n_oic})")

    if cordis_csv is not None:
        counts = cordis_codes(cordis_csv)
        unresolved, non_iso = [], []
        for code in sorted(counts):
            iri = by_cordis.get(code) or by_code.get(code)
            if iri is None:
                unresolved.append(code)
            iso = CORDIS_TO_ISO.get(code, code)
            if iso not in iso_codes:
                non_iso.append(f"{code or '(empty)'} ({counts[code]} rows)")
        print(f"{cordis_csv}: {len(counts)} country codes, {sum(counts.values())} rows")
        print(f"  not ISO 3166-1 after EL->GR, UK->GB: {', '.join(non_iso) or 'none'}")
        assert not unresolved, f"CORDIS codes with no country: {unresolved}"
        print("  every code resolves to a country in the file")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    ap.add_argument("--cordis-csv", type=Path, help="a CORDIS organization.csv whose codes must resolve")
    ap.add_argument("--no-verify", action="store_true", help="skip the rdflib/pyoxigraph check")
    args = ap.parse_args(argv)

    rows = country_rows()
    text = render(rows, version("pycountry"))
    args.output.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {args.output} ({len(rows)} countries)")
    if not args.no_verify:
        iso = {r["alpha2"] for r in rows if r["alpha3"]}
        verify(args.output, args.cordis_csv, iso)
    return 0


if __name__ == "__main__":
    sys.exit(main())
