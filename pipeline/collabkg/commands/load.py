"""``collabkg load DIR``: verify the shards of ``collabkg map`` by their checksums and load them into the
embedded store (bulk loader, atomic swap) or a Virtuoso server (its bulk loader), then enrich and audit."""
from __future__ import annotations

import subprocess

from collabkg.commands.common import base_arg, open_store_from_args, remote_args, store_arg
from collabkg.errors import InputError, StoreError, UsageError


def register(sub) -> None:
    p = sub.add_parser("load", help="load the shards `collabkg map` wrote (checksums verified) into a store",
                       description="Verify every shard against the manifest's sha256 (a corrupt shard is refused, "
                       "exit 2), load them into the embedded store (a store without records: a staging copy with "
                       "the bulk loader, swapped in when complete) or, with --endpoint and --bulk-dir, copy them "
                       "for Virtuoso's bulk loader and print (or run, with --isql) the ld_dir/rdf_loader_run script; "
                       "then link, assign themes and audit the store.")
    p.add_argument("folder", metavar="DIR", help="the --out folder of `collabkg map`")
    store_arg(p)
    base_arg(p)
    remote_args(p, write=True)
    p.add_argument("--isql", metavar="CMD", help="with --bulk-dir: run the bulk-load script with this isql command "
                   "(e.g. 'isql 1111 dba dba'), then enrich and audit through --endpoint")
    p.add_argument("--server-dir", metavar="DIR", help="--bulk-dir as the server sees it (default: the same path)")
    p.add_argument("--no-audit", dest="audit", action="store_false", help="skip the cross-record checks (audit)")
    p.set_defaults(func=cmd_load)


def cmd_load(args) -> int:
    from collabkg.importing import load_ontology
    from collabkg.shards.load import ShardError, finish, load, verify, virtuoso_bulk

    try:
        if getattr(args, "endpoint", None) and args.bulk_dir:
            files, script = virtuoso_bulk(args.folder, args.bulk_dir, args.server_dir)
            if not args.isql:
                print(f"-- {len(files)} shard(s) copied to {args.bulk_dir}; load them with isql:")
                print(script, end="")
                return 0
            r = subprocess.run(args.isql.split(), input=script, capture_output=True, text=True)
            if r.returncode != 0 or "Error" in r.stdout or "*** Error" in r.stderr:
                raise StoreError(f"{args.isql}: bulk load failed: {(r.stderr or r.stdout).strip().splitlines()[-1:]}")
            args.bulk_dir = None  # the ontology and enrichment writes go over HTTP
            manifest = verify(args.folder)
            with open_store_from_args(args) as store:
                load_ontology(store)
                s = finish(store, manifest, base=args.base, audit=args.audit)
        else:
            if args.bulk_dir and not getattr(args, "endpoint", None):
                raise UsageError("--bulk-dir needs --endpoint")
            verify(args.folder)  # before the store is opened (or created)
            with open_store_from_args(args) as store:
                s = load(args.folder, store, base=args.base, audit=args.audit)
    except ShardError as e:
        raise InputError(str(e)) from None
    print(f"shards            {s.shards}")
    print(f"triples loaded    {s.triples_loaded}")
    print(f"triples in store  {s.triples_in_store}")
    for k, v in s.enrich.items():
        print(f"  {k:<16}{v}")
    if args.audit:
        print(f"audit             {s.audit_records} record(s), {s.audit_violations} violation(s)")
    print(f"time              {s.seconds:.1f} s")
    return 1 if s.audit_violations else 0
