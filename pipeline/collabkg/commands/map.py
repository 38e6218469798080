"""``collabkg map INPUTS... --out DIR``: read → map → validate per partition into gzipped N-Quads
shards with a manifest (see ``collabkg.shards``); on local processes or a Dask cluster."""
from __future__ import annotations

import sys

from collabkg.commands.common import base_arg
from collabkg.errors import InputError, UsageError
from collabkg.settings import Settings


def register(sub) -> None:
    p = sub.add_parser("map", help="map inputs into N-Quads shards with a manifest (local processes or Dask)",
                       description="Read, map and validate the records of INPUTS per partition (a file, a slice of a "
                       "zip's entries, a byte range of a large JSON Lines file) and write them as gzipped N-Quads "
                       "shards, one named graph per record, with a manifest (sha256 per shard), a validation report "
                       "and a quarantine per partition. A rerun skips finished partitions. Load with `collabkg load DIR`.")
    p.add_argument("paths", nargs="+", metavar="INPUT", help="CORDIS XML (zip, folder, file), OpenAlex JSON / JSON Lines")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the shards and the manifest")
    p.add_argument("--scheduler", metavar="local|tcp://HOST:PORT",
                   help="run on Dask: `local` starts a LocalCluster, an address uses a running scheduler "
                        "(default: local worker processes, no Dask)")
    p.add_argument("--workers", type=int, metavar="N", help="worker processes (default: all cores; 2 for --scheduler local)")
    p.add_argument("--range-mb", type=float, default=64, metavar="MB",
                   help="split JSON Lines files larger than this into byte ranges of this size (default 64)")
    p.add_argument("--engine", choices=("fast", "pyshacl"), default=None, help="SHACL engine (default: fast)")
    base_arg(p)
    p.set_defaults(func=cmd_map)


def cmd_map(args) -> int:
    from collabkg.shards.run import map_inputs

    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.range_mb <= 0:
        raise UsageError("--range-mb must be positive")
    if args.scheduler and args.scheduler != "local" and not args.scheduler.startswith("tcp://"):
        raise UsageError(f"--scheduler {args.scheduler}: expected `local` or tcp://HOST:PORT")
    settings = Settings.of(args)
    try:
        s = map_inputs(args.paths, args.out, base=args.base, scheduler=args.scheduler, workers=args.workers,
                       engine=args.engine or settings.shacl_engine, validate=settings.validate,
                       range_bytes=int(args.range_mb * 1024 * 1024))
    except OSError as e:
        raise InputError(f"{e.filename or args.out}: {e.strerror or e}") from None
    for line in s.problems:
        print(line, file=sys.stderr)
    for e in s.input_errors:
        print(e, file=sys.stderr)
    w = sys.stdout.write
    w(f"partitions        {s.partitions}  ({s.skipped} finished earlier, skipped)\n")
    w(f"records read      {s.records}\n")
    w(f"records accepted  {s.accepted}\n")
    w(f"records rejected  {s.rejected}\n")
    w(f"duplicates        {s.duplicates}  (same record twice in the input: the later one wins)\n")
    for kind, n in sorted(s.warnings.items(), key=lambda kv: (-kv[1], kv[0])):
        w(f"  {n:>5}  {kind}\n")
    w(f"shards            {s.shards}  ({s.triples} triples, {s.bytes} bytes gzipped)\n")
    w(f"time              {s.seconds:.1f} s  ({s.scheduler}, {s.workers} worker(s))\n")
    w(f"manifest          {s.out}/manifest.json\n")
    return s.exit_code
