"""``collabkg queries`` (list the stored query catalogue) and ``collabkg query NAME`` (run one)."""
from __future__ import annotations

import sys

from collabkg.commands.common import store_arg
from collabkg.results import ROW_FORMATS, write_query_result

FORMATS = ROW_FORMATS


def register(sub) -> None:
    ls = sub.add_parser("queries", help="list the stored queries (name, summary, parameters)")
    ls.add_argument("name", nargs="?", metavar="NAME", help="show one query in full (description, parameters, columns)")
    ls.set_defaults(func=cmd_queries)

    q = sub.add_parser("query", help="run a stored query: collabkg query NAME --param key=value ...")
    q.add_argument("name", metavar="NAME", help="stored query name (see `collabkg queries`)")
    q.add_argument("--param", "-p", action="append", default=[], metavar="KEY=VALUE", help="a parameter value (repeatable)")
    store_arg(q)
    q.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    q.set_defaults(func=cmd_query)


def _catalogue_call(fn, *args):
    """Turn catalogue and parameter errors into usage errors (exit 2)."""
    from collabkg.catalogue import CatalogueError, ParamError
    from collabkg.errors import UsageError

    try:
        return fn(*args)
    except (CatalogueError, ParamError) as e:
        raise UsageError(str(e)) from None


def cmd_queries(args) -> int:
    import collabkg.catalogue as catalogue

    out = sys.stdout.write
    if args.name:
        q = _catalogue_call(catalogue.get, args.name)
        out(f"{q.name}: {q.summary}\n\n{q.description}\n\nparameters:\n")
        for p in q.params or ():
            out(f"  {p.describe()}  {p.description}\n")
        if not q.params:
            out("  (none)\n")
        out("columns:\n")
        for c in q.columns:
            out(f"  {c.name}  {c.meaning}\n")
        out(f"keywords: {', '.join(q.keywords)}\nfile: {q.path}\n")
        return 0
    for q in _catalogue_call(catalogue.catalogue).values():
        params = ", ".join(p.describe() for p in q.params) or "-"
        out(f"{q.name}\n    {q.summary}\n    parameters: {params}\n")
    return 0


def _params(pairs: list[str]) -> dict[str, str]:
    from collabkg.errors import UsageError

    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param {pair!r}: expected KEY=VALUE")
        key = key.strip()
        if key in out:
            raise UsageError(f"--param {key}: given twice")
        out[key] = value
    return out


def cmd_query(args) -> int:
    import collabkg.catalogue as catalogue
    from collabkg.commands.common import open_store_from_args

    q = _catalogue_call(catalogue.get, args.name)
    params = _params(args.param)
    _catalogue_call(catalogue.bind, q, params)  # validate before opening the store
    with open_store_from_args(args, read_only=True) as store:
        result = _catalogue_call(catalogue.run, q, store, params)
    write(result, args.format, sys.stdout)
    return 0


# The writer of stored-query results lives in the library (results.py), where the server finds it too.
write = write_query_result
