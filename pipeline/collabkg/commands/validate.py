"""``collabkg validate PATH...`` (records, without storing them; or any RDF file with ``--shapes``)
and ``collabkg audit`` (the whole store).

Exit codes: 0 conforms, 1 violations (or unreadable records), 2 unreadable input, shapes the engine
refuses, or a usage error, 3 an internal error.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub) -> None:
    from collabkg.commands.common import base_arg as _base_arg, store_arg as _store_args

    v = sub.add_parser("validate", help="check records (or, with --shapes, any RDF file) against SHACL shapes without storing them")
    v.add_argument("paths", nargs="+", metavar="PATH", help="CORDIS XML file/folder/zip, OpenAlex JSON, Turtle/JSON-LD records; "
                                                           "with --shapes: any RDF file (Turtle, N-Triples, TriG, JSON-LD)")
    v.add_argument("--shapes", action="append", metavar="SHAPES", help="validate PATHs as plain RDF against these shapes "
                                                                       "files (repeatable; data and shapes may be the same file)")
    v.add_argument("--store", metavar="DIR", help="also resolve references against this store (read only)")
    _base_arg(v)
    _common(v)
    v.set_defaults(func=cmd_validate)

    a = sub.add_parser("audit", help="validate everything in the store against the SHACL shapes")
    _store_args(a)
    _common(a)
    a.add_argument("--jobs", "-j", type=int, metavar="N",
                   help="worker processes sharing the shapes out (default: all cores; 1: none)")
    a.set_defaults(func=cmd_audit)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("text", "turtle", "json"), default="text", help="report format (default: text)")
    p.add_argument("--engine", choices=("fast", "pyshacl"), default=None, help="validation engine (default: fast; pyshacl is the reference)")


def _records(paths, read, usage_error):
    """What the sources yield for every path, read lazily (a file at a time)."""
    for path in paths:
        try:
            yield from read(Path(path))
        except OSError as e:
            raise usage_error(f"{path}: cannot read: {e.strerror or e}") from None


def cmd_validate(args) -> int:
    import collabkg.sources as sources
    import collabkg.validation as validation
    from collabkg.commands.common import open_store_from_args
    from collabkg.errors import UsageError
    from collabkg.namespaces import IRIs

    try:
        if args.shapes:
            if args.store:
                raise UsageError("--store resolves record references; it does not combine with --shapes")
            for p in args.paths:
                if not Path(p).is_file():
                    raise UsageError(f"{p}: no such file")
            reports = validation.validate_files(args.paths, args.shapes, args.engine)
        else:
            store = open_store_from_args(args, read_only=True) if args.store else None
            try:
                reports = []
                for rep in validation.validate(_records(args.paths, sources.read, UsageError), store, args.engine, IRIs(args.base)):
                    if rep.error is not None:
                        print(f"{rep.file}:{rep.record}:{rep.error_field}: {rep.error}", file=sys.stderr)
                    reports.append(rep)
            finally:
                if store is not None:
                    store.close()
    except (ValueError, validation.Unsupported) as e:
        raise UsageError(str(e)) from None
    for rep in reports:
        for r in rep.violations:
            print(f"{rep.file}:{rep.record}:{r.field}: {r.message or r.component}", file=sys.stderr)
    validation.FORMATTERS[args.format](reports, sys.stdout)
    return 0 if validation.conforms(reports) else 1


def cmd_audit(args) -> int:
    import collabkg.validation as validation
    from collabkg.commands.common import open_store_from_args
    from collabkg.errors import UsageError

    with open_store_from_args(args, read_only=True) as store:
        try:
            from collabkg.parallel import default_jobs

            reports = validation.audit(store, args.engine, args.jobs or default_jobs())
        except validation.Unsupported as e:
            raise UsageError(str(e)) from None
    validation.FORMATTERS[args.format](reports, sys.stdout)
    return 0 if validation.conforms(reports) else 1
