"""``collabkg serve``: the store, read-only, over HTTP (SPARQL 1.1 Protocol, query page,
linked-data pages, stored queries, record validation); see :mod:`collabkg.server`."""
from __future__ import annotations

import ipaddress
import sys


def register(sub) -> None:
    from collabkg.commands.common import base_arg, store_arg as _store_args

    s = sub.add_parser("serve", help="serve the store read-only: SPARQL endpoint, query page, resource pages, stored queries")
    _store_args(s)
    base_arg(s)  # the instance IRIs' base, as built: the dataset description's void:uriSpace
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, loopback only)")
    s.add_argument("--port", type=int, default=7878, help="port (default: 7878)")
    s.add_argument("--query-timeout", type=float, default=30.0, metavar="SECONDS", help="time limit per query (default: 30)")
    s.add_argument("--max-rows", type=int, default=10_000, metavar="N", help="rows (or triples) per answer (default: 10000)")
    s.add_argument("--cache", type=int, default=None, metavar="N",
                   help="keep the answers of N stored-query calls (default: 256 on a --store, 0 on an --endpoint whose data may change)")
    s.add_argument("--allow-service", action="append", default=[], metavar="HOST", help="a host SPARQL SERVICE may call (default: none)")
    s.add_argument("--workers", type=int, default=2, metavar="N",
                   help="worker processes running queries and validations; a request over its time or memory limit "
                        "is stopped by killing its worker (default: 2)")
    s.add_argument("--queue", type=int, default=8, metavar="N",
                   help="requests that may wait for a worker; one more gets 503 with Retry-After (default: 8)")
    s.add_argument("--max-memory", type=int, default=1024, metavar="MB",
                   help="resident memory of one worker (store caches included); a request above it gets 503 (default: 1024)")
    s.add_argument("--cors-origin", action="append", default=None, metavar="ORIGIN",
                   help="origin allowed to read from browsers (CORS); repeatable; 'none' for no CORS (default: *)")
    s.set_defaults(func=cmd_serve)


def cmd_serve(args) -> int:
    import uvicorn

    from collabkg.commands.common import open_store_from_args
    from collabkg.errors import UsageError
    from collabkg.server import Limits, create_app

    if args.query_timeout <= 0 or args.max_rows <= 0 or args.workers <= 0 or args.max_memory <= 0 or args.queue < 0:
        raise UsageError("--query-timeout, --max-rows, --workers and --max-memory must be positive, --queue at least 0")
    try:
        loopback = ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = args.host == "localhost"
    if not loopback:
        print(f"collabkg: warning: serving on {args.host}, reachable from other machines", file=sys.stderr)
    store = open_store_from_args(args, read_only=True)
    cache = args.cache if args.cache is not None else (0 if getattr(args, "endpoint", None) else 256)
    origins = tuple(o for o in (args.cors_origin or ["*"]) if o.lower() != "none")
    limits = Limits(args.query_timeout, args.max_rows, tuple(args.allow_service), args.workers, args.queue, args.max_memory)
    app = create_app(store, limits, cache_size=cache, cors_origins=origins, uri_space=args.base)
    print(f"serving {store.location} read-only on http://{args.host}:{args.port}/ (SPARQL endpoint /sparql)", file=sys.stderr, flush=True)
    store.close()  # the workers open it themselves
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
