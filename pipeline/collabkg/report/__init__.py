"""The collaboration report: one static HTML page with PNG charts beside it, built only from
stored queries (``queries/*.rq`` via :func:`collabkg.catalogue.run`).

Every figure and table names, under it, the stored query and parameters it came from. Every
table carries them as ``data-query`` / ``data-params`` attributes too, and ``data-rows``
says which rows of the answer it shows (``all``, or ``oic``: the rows whose ``country``, ``country_a``
or ``country_b`` is an OIC member state; ``first N`` of those), so that a test can re-run the query and compare. The
page has no scripts, fonts or links that need a server or the internet.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import collabkg.catalogue as catalogue
from collabkg.namespaces import OIC, sparql_prefixes
from collabkg.report import sections
from collabkg.report.page import page

# The sources and their licences (data/*/README.md, data/LICENSES.md).
SOURCES = [
    ("CORDIS Horizon Europe projects (European Commission, Publications Office of the EU)",
     "snapshot of 2025-12-06", "CC BY 4.0", "Source: CORDIS, © European Union, CC BY 4.0; flattened and filtered"),
    ("OpenAlex works (OurResearch), via geosciencearabia/idb03", "fetched 2026-02-07", "CC0 1.0", "OpenAlex data, public domain (CC0)"),
]


@dataclass
class Report:
    store: object
    out: Path
    parts: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    oic: set[str] = field(default_factory=set)
    figures: int = 0
    _cache: dict = field(default_factory=dict)

    def run(self, name: str, **params) -> catalogue.Result:
        key = (name, tuple(sorted(params.items())))
        if key not in self._cache:
            self._cache[key] = catalogue.run(name, self.store, {k: str(v) for k, v in params.items()})
        return self._cache[key]

    def h(self, level: int, text: str, anchor: str | None = None) -> None:
        a = f' id="{anchor}"' if anchor else ""
        self.parts.append(f"<h{level}{a}>{html.escape(text)}</h{level}>")

    def p(self, text: str) -> None:
        self.parts.append(f"<p>{html.escape(text)}</p>")

    def source(self, name: str, params: dict | list[dict]) -> str:
        runs = params if isinstance(params, list) else [params]
        shown = "; ".join(", ".join(f"{k}={v}" for k, v in p.items()) or "no parameters" for p in runs)
        return f'<p class="src">stored query <code>{html.escape(name)}</code> ({html.escape(shown)})</p>'

    def figure(self, png: Path, alt: str, name: str, params: dict | list[dict]) -> None:
        self.figures += 1
        self.parts.append(f'<figure><img src="{html.escape(png.name)}" alt="{html.escape(alt)}" width="640">'
                          f"<figcaption>{self.source(name, params)}</figcaption></figure>")

    def png(self, stem: str) -> Path:
        return self.out / f"{len(list(self.out.glob('*.png'))) + 1:02d}-{stem}.png"

    def table(self, name: str, params: dict, *, rows: str = "all", caption: str = "", limit: int | None = None) -> list[dict]:
        """A table of a stored query's answer; ``rows`` = all | oic (with ``limit`` = first N)."""
        result = self.run(name, **params)
        records = result.records()
        plain = result.plain_rows()
        if rows == "oic":  # rows about an OIC member state (column country, or either of a pair)
            keep = [i for i, r in enumerate(records)
                    if {r.get("country"), r.get("country_a"), r.get("country_b")} & self.oic]
        else:
            keep = list(range(len(records)))
        if limit is not None:
            keep = keep[:limit]
        mode = rows if limit is None else f"{rows} first {limit}"
        head = "".join(f'<th title="{html.escape(c.meaning)}">{html.escape(c.name)}</th>' for c in result.query.columns)
        body = []
        for i in keep:
            cells = []
            for col, value, text in zip(result.columns, records[i].values(), plain[i]):
                num = isinstance(value, (int, Decimal)) and not isinstance(value, bool)
                shown = f"{value:,}" if num and col != "year" else text  # years without separators
                extra = f" ({html.escape(self.names[text])})" if col.startswith("country") and text in self.names else ""
                cells.append(f'<td class="{"num" if num else "txt"}" data-col="{col}">{html.escape(shown)}{extra}</td>')
            body.append("<tr>" + "".join(cells) + "</tr>")
        cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
        self.parts.append(
            f'<table data-query="{html.escape(name)}" data-params="{html.escape(json.dumps(params, sort_keys=True))}" '
            f'data-rows="{mode}">{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
            + self.source(name, params)
        )
        return [records[i] for i in keep]


def _country_names(store) -> dict[str, str]:
    """ISO code → English name (reference data; labels only, no figures)."""
    rows = store.query(sparql_prefixes() + """
        SELECT ?c ?n WHERE { ?x a ckg:Country ; ckg:iso2 ?c ; skos:prefLabel ?n }""")
    return {r["c"].value: r["n"].value for r in rows}


def _oic_members(store) -> set[str]:
    """ISO codes of the OIC member states (reference data, ontology/countries.ttl)."""
    rows = store.query(sparql_prefixes() + f"""
        SELECT ?c WHERE {{ ?x ckg:memberOf <{OIC}> ; ckg:iso2 ?c }}""")
    return {r["c"].value for r in rows}


def _newest_cordis_update(store) -> str:
    rows = list(store.query(sparql_prefixes() + """
        SELECT (MAX(STR(?d)) AS ?m) WHERE { ?p a ckg:Project ; ckg:lastUpdateDate ?d }"""))
    return rows[0]["m"].value[:10] if rows and rows[0]["m"] is not None else "unknown"


def build_report(store, out: str | Path) -> Path:
    """Write ``index.html`` and its PNG charts into ``out``; return the HTML path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    r = Report(store, out)
    r.names = _country_names(store)
    r.oic = _oic_members(store)
    for section in sections.ALL:
        section(r)
    index = out / "index.html"
    index.write_text(page(r.parts, SOURCES, _newest_cordis_update(store)), encoding="utf-8")
    return index
