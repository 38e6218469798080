"""``collabkg build [PATH...]`` (the bundled data, or PATHs, into a store) and ``collabkg ingest PATH...``
(add records to a store). Both print the import summary; exit 1 when records were rejected."""
from __future__ import annotations

import argparse
import sys

from collabkg.commands.common import base_arg, open_store_from_args, store_arg
from collabkg.sources import FORMATS as SOURCE_FORMATS


def register(sub) -> None:
    b = sub.add_parser("build", help="import the bundled real data (or PATHs) into the store",
                       description="Load the ontology and import the bundled CORDIS and OpenAlex data "
                       "(or the given PATHs), then link organisations to institutions and assign themes.")
    b.add_argument("paths", nargs="*", metavar="PATH",
                   help="inputs (default: the bundled CORDIS zip and OpenAlex sample)")
    import_args(b)
    b.set_defaults(func=cmd_build)

    i = sub.add_parser("ingest", help="add records from files to the store (CORDIS XML, OpenAlex JSON, Turtle/JSON-LD)",
                       description="Add the records of each PATH to the store; a record already there is replaced.")
    i.add_argument("paths", nargs="+", metavar="PATH",
                   help=f"a CORDIS XML zip, folder or file, OpenAlex JSON (.json, .jsonl[.gz]) or hand-written "
                        f"records (.ttl, .nt, .trig, .jsonld); formats: {', '.join(SOURCE_FORMATS)}")
    import_args(i)
    i.set_defaults(func=cmd_ingest)


def import_args(p: argparse.ArgumentParser) -> None:
    """The options of ``build`` and ``ingest`` (one place: add new import options here)."""
    store_arg(p)
    base_arg(p)
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show a progress bar on stderr (default: only when stderr is a terminal)")
    p.add_argument("--jobs", "-j", type=int, metavar="N",
                   help="worker processes reading and mapping records, and validating a first build "
                        "(default: all cores; 1: none)")
    p.add_argument("--engine", choices=("fast", "pyshacl"), default=None,
                   help="SHACL engine validating each record (default: fast)")
    p.add_argument("--allow-foreign-iris", action="store_true",
                   help="accept hand-written records whose instance IRIs lie outside --base (refused by default)")
    p.add_argument("--replace-owned", action="store_true",
                   help="let a hand-written record replace an entity that another source's record describes "
                        "(e.g. a CORDIS project): that record's graph is removed (refused by default)")


def print_summary(summary, out=sys.stdout) -> None:
    """The figures of an import, one per line."""
    from collabkg.namespaces import CKG

    w = out.write
    w(f"records read      {summary.read}\n")
    w(f"records accepted  {summary.accepted}\n")
    w(f"records rejected  {summary.rejected_records}\n")
    w(f"duplicates        {len(summary.duplicates)}  (same record twice in the input: the later one wins)\n")
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
    w(f"time              {summary.seconds:.1f} s  ({summary.jobs} job(s); "
      + ", ".join(f"{k} {v:.1f} s" for k, v in summary.stages.items()) + ")\n")
    w(f"store             {summary.store}\n")
    for e in summary.input_errors:
        w(f"input error       {e}\n")


def _import(args, build: bool) -> int:
    import collabkg.importing as importer
    from collabkg.sources import turtle_records
    from collabkg.validation import import_validator

    with open_store_from_args(args) as store:
        # Hand-written records are checked against the store they go into (ownership, base).
        with turtle_records.guard(store, base=args.base, allow_foreign_iris=args.allow_foreign_iris,
                                  replace_owned=args.replace_owned):
            fn = importer.build if build else importer.ingest
            kwargs = dict(base=args.base, progress=args.progress, validator=import_validator(args), jobs=args.jobs)
            summary = fn(store, args.paths, **kwargs)
    print_summary(summary)
    return summary.exit_code


def cmd_build(args) -> int:
    return _import(args, build=True)


def cmd_ingest(args) -> int:
    return _import(args, build=False)
