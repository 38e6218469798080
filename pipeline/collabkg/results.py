"""Printing SPARQL results as a table, CSV, TSV or JSON; graphs as N-Triples or JSON-LD."""
from __future__ import annotations

import csv
import json
from typing import TextIO

import pyoxigraph as ox

from collabkg.catalogue import plain as plain_value
from collabkg.namespaces import XSD


# Formats of rows (SELECT results, stored-query results): the choices of `sparql` and `query`.
ROW_FORMATS = ("table", "csv", "tsv", "json")


def plain(term) -> str:
    """A term as a plain value: IRI text, literal lexical form, '' for unbound."""
    if term is None:
        return ""
    return term.value


def json_term(term):
    """A term in the SPARQL 1.1 JSON results format (None for unbound)."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    d = {"type": "literal", "value": term.value}
    if term.language:
        d["xml:lang"] = term.language
    elif term.datatype and term.datatype.value != XSD + "string":
        d["datatype"] = term.datatype.value
    return d


def write_result(result, fmt: str, out: TextIO) -> None:
    """Write a pyoxigraph query result (SELECT solutions, ASK bool, CONSTRUCT triples)."""
    if isinstance(result, ox.QueryBoolean) or isinstance(result, bool):
        value = bool(result)
        if fmt == "json":
            json.dump({"head": {}, "boolean": value}, out)
            out.write("\n")
        else:
            out.write(("true" if value else "false") + "\n")
        return
    if isinstance(result, ox.QueryTriples):
        write_graph(result, "jsonld" if fmt == "json" else "ntriples", out)
        return
    columns = [v.value for v in result.variables]
    rows = [[s[c] for c in columns] for s in result]
    write_rows(columns, rows, fmt, out)


def write_rows(columns: list[str], rows: list[list], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        json.dump(
            {"head": {"vars": columns}, "results": {"bindings": [{c: json_term(v) for c, v in zip(columns, r) if v is not None} for r in rows]}},
            out,
            ensure_ascii=False,
            indent=1,
        )
        out.write("\n")
    else:
        write_plain(columns, [[plain(v) for v in r] for r in rows], fmt, out)


def write_plain(columns: list[str], rows: list[list[str]], fmt: str, out: TextIO) -> None:
    """Rows of plain strings as ``csv``, ``tsv`` or a ``table`` (the one writer of the CLI)."""
    if fmt in ("csv", "tsv"):
        w = csv.writer(out, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        w.writerow(columns)
        w.writerows(rows)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns, show_lines=False)
    for r in rows:
        table.add_row(*r)
    Console(file=out, width=200).print(table)
    out.write(f"{len(rows)} row(s)\n")


GRAPH_FORMATS = {"ntriples": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD, "turtle": ox.RdfFormat.TURTLE}


def write_graph(triples, fmt: str, out: TextIO) -> None:
    """Write the triples of a CONSTRUCT/DESCRIBE result as ``ntriples`` (streamed), ``jsonld`` or ``turtle``."""
    if fmt == "ntriples":
        for t in triples:
            out.write(f"{t.subject} {t.predicate} {t.object} .\n")
        return
    out.write(ox.serialize(list(triples), format=GRAPH_FORMATS[fmt]).decode("utf-8"))
    out.write("\n")


def write_query_result(result, fmt: str, out: TextIO) -> None:
    """A stored query's result (:class:`collabkg.catalogue.Result`): ``csv``/``tsv``/``table`` with the
    declared columns and plain values; ``json`` a list of objects (integers as numbers, decimals and
    dates as text: no float rounding)."""
    if fmt == "json":
        records = [{c: _json_value(v) for c, v in r.items()} for r in result.records()]
        json.dump(records, out, ensure_ascii=False, indent=1)
        out.write("\n")
    else:
        write_plain(result.columns, result.plain_rows(), fmt, out)


def _json_value(v):
    if v is None or isinstance(v, (bool, int, str)):
        return v
    return plain_value(v)
