"""``collabkg sparql QUERY_OR_FILE``: an ad hoc, read-only SPARQL query (SELECT, ASK, CONSTRUCT, DESCRIBE).

The project's prefixes are predeclared. Updates are refused, and so is ``SERVICE`` (the query
would connect out) unless its host is allowed with ``--allow-service HOST``.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

from collabkg.commands.common import open_store_from_args, store_arg
from collabkg.errors import EXIT_OK, EndpointError, UsageError
from collabkg.results import ROW_FORMATS

FORMATS = ROW_FORMATS
UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH")

# Comments, IRIs and string literals, so that keywords are looked for in the query's own words only.
_NOISE = re.compile(r'#[^\n]*|<[^<>"{}|^`\\\s]*>|"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'')
_PROLOGUE = re.compile(r'\s*(?:(?:PREFIX\s+[\w.-]*:\s*<[^>]*>|BASE\s+<[^>]*>)\s*)*', re.I)
_SERVICE = re.compile(r'\bSERVICE\s+(?:SILENT\s+)?(<[^>]*>|[?$]\w+)', re.I)


def register(sub) -> None:
    s = sub.add_parser("sparql", help="run an ad hoc read-only SPARQL query (SELECT, ASK, CONSTRUCT, DESCRIBE)",
                       description="Run a SPARQL query on the store; the project's prefixes (ckg:, ckgc:, skos:, ...) "
                       "are predeclared. SELECT/ASK results as a table, CSV, TSV or SPARQL JSON; CONSTRUCT/DESCRIBE "
                       "as N-Triples (table) or JSON-LD (json).")
    s.add_argument("query", metavar="QUERY_OR_FILE",
                   help="the query text, a file holding it (any existing file is read), or - for stdin")
    store_arg(s)
    s.add_argument("--format", choices=FORMATS, default="table",
                   help="table (default), csv, tsv or json (SPARQL JSON results; JSON-LD for CONSTRUCT/DESCRIBE)")
    s.add_argument("--allow-service", action="append", default=[], metavar="HOST",
                   help="a host that SERVICE clauses may call (repeatable; default: none, SERVICE is refused)")
    s.set_defaults(func=cmd_sparql)


def query_text(arg: str) -> str:
    """The query an argument stands for: stdin for ``-``, a file's content when it names an
    existing file, else the argument itself (a long one-line query is never taken for a path)."""
    if arg == "-":
        return sys.stdin.read()
    try:
        is_file = Path(arg).is_file()
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte: not a file
        is_file = False
    if is_file:
        try:
            return Path(arg).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(f"{arg}: cannot read the query file: {getattr(e, 'strerror', None) or e}") from None
    if arg.endswith(".rq") and not re.search(r"\s", arg):
        raise UsageError(f"{arg}: no such query file")
    return arg


def _words(text: str) -> str:
    return _NOISE.sub(lambda m: " " if m.group(0).startswith(("#", '"', "'")) else "<>", text)


def query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE; a :class:`UsageError` for updates."""
    body = _PROLOGUE.sub("", _NOISE.sub(lambda m: m.group(0) if m.group(0).startswith("<") else " ", text), count=1)
    m = re.match(r"\s*([A-Za-z]+)", body)
    word = m.group(1).upper() if m else ""
    if word in UPDATE_KEYWORDS:
        raise UsageError(f"query: {word} is a SPARQL update; updates are not allowed here (the store is opened read-only)")
    return word


def service_hosts(text: str) -> list[str]:
    """The hosts the query's SERVICE clauses call (a variable endpoint is ``?var``)."""
    hosts = []
    masked = _NOISE.sub(lambda m: m.group(0) if m.group(0).startswith("<") else " ", text)
    for target in _SERVICE.findall(masked):
        hosts.append(urlsplit(target[1:-1]).hostname or target[1:-1] if target.startswith("<") else target)
    return hosts


def check_services(text: str, allowed: list[str]) -> list[str]:
    hosts = service_hosts(text)
    for h in hosts:
        if h.startswith(("?", "$")):
            raise UsageError(f"query: SERVICE {h}: a variable SERVICE endpoint is refused (name the host and allow it with --allow-service HOST)")
        if h not in allowed:
            raise UsageError(f"query: SERVICE to host {h!r} is refused (the query would connect out); allow it with --allow-service {h}")
    return hosts


def select_columns(text: str, variables: list[str]) -> list[str]:
    """The result columns in the query's order: for ``SELECT *`` the order in which the variables
    first appear in the query (Oxigraph returns them in its own order)."""
    words = _words(text)
    if not re.search(r"\bSELECT\s+(?:DISTINCT\s+|REDUCED\s+)?\*", words, re.I):
        return variables
    first: dict[str, int] = {}
    for m in re.finditer(r"[?$]([A-Za-z_0-9]\w*)", words):
        first.setdefault(m.group(1), m.start())
    return sorted(variables, key=lambda v: (first.get(v, len(words)), variables.index(v)))


def cmd_sparql(args) -> int:
    from collabkg.server.sparql import user_message, with_prefixes

    text = query_text(args.query)
    form = query_form(text)
    hosts = check_services(text, args.allow_service)
    full, added = with_prefixes(text)  # on the user's first line: error positions stay the user's own
    with open_store_from_args(args, read_only=True) as store:
        try:
            result = store.query(full)
            write(result, form, text, args.format, sys.stdout)
        except SyntaxError as e:
            raise UsageError(f"query: SPARQL syntax error: {user_message(str(e), added)}") from None
        except (OSError, RuntimeError) as e:
            if hosts:  # Oxigraph reports a failed SERVICE call as an I/O error
                raise EndpointError(f"SERVICE {', '.join(hosts)}: the call failed: {str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}") from None
            raise
    return EXIT_OK


def write(result, form: str, text: str, fmt: str, out) -> None:
    """SELECT/ASK as the chosen format; CONSTRUCT/DESCRIBE as N-Triples, or JSON-LD for ``json``."""
    import pyoxigraph as ox

    from collabkg.results import write_graph, write_result, write_rows

    if isinstance(result, ox.QueryTriples):
        if fmt in ("csv", "tsv"):
            raise UsageError(f"--format {fmt}: a {form or 'CONSTRUCT'} query gives a graph; use --format table (N-Triples) or json (JSON-LD)")
        write_graph(result, "jsonld" if fmt == "json" else "ntriples", out)
        return
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        columns = select_columns(text, variables)
        write_rows(columns, [[s[c] for c in columns] for s in result], fmt, out)
        return
    write_result(result, fmt, out)
