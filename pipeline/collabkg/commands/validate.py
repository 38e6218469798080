"""``collabkg validate PATH...`` (records, without storing them) and ``collabkg audit`` (the whole store).

Exit codes: 0 conforms, 1 violations (or unreadable records), 2 unreadable input or usage error.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

BATCH = 256


def register(sub) -> None:
    from collabkg.cli import _base_arg, _store_args

    v = sub.add_parser("validate", help="check records against the SHACL shapes without storing them")
    v.add_argument("paths", nargs="+", metavar="PATH", help="CORDIS XML file/folder/zip, OpenAlex JSON, Turtle/JSON-LD records")
    v.add_argument("--store", metavar="DIR", help="also resolve references against this store (read only)")
    _base_arg(v)
    _common(v)
    v.set_defaults(func=cmd_validate)

    a = sub.add_parser("audit", help="validate everything in the store against the SHACL shapes")
    _store_args(a)
    _common(a)
    a.set_defaults(func=cmd_audit)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("text", "turtle", "json"), default="text", help="report format (default: text)")
    p.add_argument("--engine", choices=("fast", "pyshacl"), default=None, help="validation engine (default: fast; pyshacl is the reference)")


def cmd_validate(args) -> int:
    from collabkg import sources, validate
    from collabkg.cli import UsageError, open_store_from_args
    from collabkg.namespaces import IRIs

    iris = IRIs(args.base)
    store = open_store_from_args(args, read_only=True) if args.store else None
    reports: list[validate.RecordReport] = []
    unreadable = False
    try:
        batch = []

        def flush():
            reports.extend(validate.validate_batch(batch, store, args.engine))
            batch.clear()

        for path in args.paths:
            try:
                records = list(sources.read(Path(path)))
            except sources.InputError:
                raise
            except OSError as e:
                raise UsageError(f"{path}: cannot read: {e.strerror or e}") from None
            for item in validate.map_for_validation(records, iris):
                if isinstance(item, validate.RecordReport):
                    print(f"{item.file}:{item.record}:{item.error_field}: {item.error}", file=sys.stderr)
                    reports.append(item)
                    unreadable = True
                    continue
                batch.append(item)
                if len(batch) >= BATCH:
                    flush()
        flush()
    finally:
        if store is not None:
            store.close()
    for rep in reports:
        for r in rep.violations:
            print(f"{rep.file}:{rep.record}:{r.field}: {r.message}", file=sys.stderr)
    validate.FORMATTERS[args.format](reports, sys.stdout)
    return 1 if unreadable or not validate.conforms(reports) else 0


def cmd_audit(args) -> int:
    from collabkg import validate
    from collabkg.cli import open_store_from_args

    with open_store_from_args(args, read_only=True) as store:
        reports = validate.audit(store, args.engine)
    validate.FORMATTERS[args.format](reports, sys.stdout)
    return 0 if validate.conforms(reports) else 1
