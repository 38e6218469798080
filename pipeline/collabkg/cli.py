"""The ``collabkg`` command line. Exit codes: 0 ok, 1 records rejected or not conformant,
2 usage or runtime error. Errors go to stderr as ``file:record:field: message``."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_OK, EXIT_REJECTED, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A usage or runtime problem the user can fix: one line on stderr, exit 2."""


def _store_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", metavar="DIR", help="store folder (default: $COLLABKG_STORE, else ./.collabkg/store)")


def _base_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", metavar="IRI", help="base IRI for minted instance IRIs (default: $COLLABKG_BASE, else https://w3id.org/collabkg/id/)")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="collabkg", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help="import the bundled real data (or PATHs) into the store")
    b.add_argument("paths", nargs="*", metavar="PATH", help="inputs (default: the bundled CORDIS and OpenAlex data)")
    _store_args(b)
    _base_arg(b)
    b.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help="progress bar (default: on a terminal)")
    b.set_defaults(func=cmd_build)

    i = sub.add_parser("ingest", help="add records from files (CORDIS XML file/folder/zip, ...)")
    i.add_argument("paths", nargs="+", metavar="PATH")
    _store_args(i)
    _base_arg(i)
    i.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    i.set_defaults(func=cmd_ingest)

    s = sub.add_parser("sparql", help="run an ad hoc SPARQL SELECT/ASK/CONSTRUCT query")
    s.add_argument("query", metavar="QUERY_OR_FILE", help="query text, a .rq file, or - for stdin")
    _store_args(s)
    s.add_argument("--format", choices=("table", "csv", "json"), default="table")
    s.set_defaults(func=cmd_sparql)

    for register in _extensions():
        register(sub)
    for command in sub.choices.values():  # every command with --store can use a remote store
        if "--store" in command._option_string_actions and "--endpoint" not in command._option_string_actions:
            _remote_args(command)
    return ap


class _Endpoint(argparse.Action):
    """``--endpoint URL``; also fills ``store`` so that commands with an optional store
    (``validate --store``) see that one was given."""

    def __call__(self, parser, namespace, values, option_string=None):
        namespace.endpoint = values
        if getattr(namespace, "store", None) is None:
            namespace.store = values


def _remote_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("remote store (a SPARQL 1.1 server instead of --store; credentials from $COLLABKG_ENDPOINT_USER/$COLLABKG_ENDPOINT_PASSWORD)")
    g.add_argument("--endpoint", metavar="URL", action=_Endpoint, help="SPARQL query endpoint (its default graph must be the union of the named graphs)")
    g.add_argument("--update-endpoint", metavar="URL", help="SPARQL update endpoint (writes: one UPDATE request per batch)")
    g.add_argument("--graph-store", metavar="URL", help="SPARQL 1.1 Graph Store Protocol endpoint (writes: PUT per named graph)")
    g.add_argument("--bulk-dir", metavar="DIR", help="write batches as N-Quads files for the server's bulk loader instead of over HTTP")


def _extensions():
    """Sub-commands contributed by ``collabkg.commands`` (validate, query, export, ...)."""
    from collabkg.commands import registrars

    return list(registrars())


def open_store_from_args(args, read_only: bool = False):
    if getattr(args, "endpoint", None):
        from collabkg.remote_store import open_remote

        return open_remote(args, read_only=read_only)
    from collabkg.store import EmbeddedStore

    return EmbeddedStore(args.store, read_only=read_only)


def print_summary(summary, out=sys.stdout) -> None:
    from collabkg.namespaces import CKG

    w = out.write
    w(f"records read      {summary.read}\n")
    w(f"records accepted  {summary.accepted}\n")
    w(f"records rejected  {len(summary.rejected)}\n")
    reasons: dict[str, int] = {}
    for r in summary.rejected:
        reasons[f"{r.field}: {r.message}"] = reasons.get(f"{r.field}: {r.message}", 0) + 1
    for reason, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:20]:
        w(f"  {n:>5}  {reason}\n")
    if summary.warnings:
        w(f"warnings          {sum(summary.warnings.values())}\n")
        for kind, n in sorted(summary.warnings.items(), key=lambda kv: (-kv[1], kv[0])):
            w(f"  {n:>5}  {kind}\n")
    if summary.quarantine:
        w(f"quarantine        {summary.quarantine}\n")
    w(f"triples written   {summary.triples_written}\n")
    w(f"triples in store  {summary.triples_in_store}\n")
    w("instances per class\n")
    for cls, n in summary.classes.items():
        w(f"  {n:>7}  {cls.replace(CKG, 'ckg:')}\n")
    w(f"time              {summary.seconds:.1f} s\n")
    w(f"store             {summary.store}\n")
    for e in summary.input_errors:
        w(f"input error       {e}\n")


def _import(args, build: bool) -> int:
    from collabkg import importer
    from collabkg.validation_hook import default_validator

    with open_store_from_args(args) as store:
        fn = importer.build if build else importer.ingest
        kwargs = dict(base=args.base, progress=args.progress, validator=default_validator(args))
        summary = fn(store, args.paths, **kwargs) if build else fn(args.paths, store, **kwargs)
    print_summary(summary)
    return summary.exit_code


def cmd_build(args) -> int:
    return _import(args, build=True)


def cmd_ingest(args) -> int:
    return _import(args, build=False)


def cmd_sparql(args) -> int:
    from collabkg.results import write_result

    text = args.query
    if text == "-":
        text = sys.stdin.read()
    elif text.endswith(".rq") or (len(text) < 4096 and "\n" not in text and Path(text).is_file()):
        p = Path(text)
        if not p.is_file():
            raise UsageError(f"{text}: no such query file")
        text = p.read_text(encoding="utf-8")
    from collabkg.server.sparql import user_message, with_prefixes

    full, added = with_prefixes(text)  # on the first line: error lines stay the user's own
    with open_store_from_args(args, read_only=True) as store:
        try:
            result = store.query(full)
            write_result(result, args.format, sys.stdout)
        except SyntaxError as e:
            raise UsageError(f"query: SPARQL syntax error: {user_message(str(e), added)}") from None
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    ap = parser()
    args = ap.parse_args(argv)
    from collabkg.sources import InputError
    from collabkg.store import StoreError

    try:
        return args.func(args)
    except (UsageError, StoreError, InputError) as e:
        print(f"collabkg: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        print("collabkg: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
