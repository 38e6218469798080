"""``collabkg serve``: the store, read-only, over HTTP (SPARQL 1.1 Protocol, query page,
linked-data pages, stored queries, record validation); see :mod:`collabkg.server`."""
from __future__ import annotations

import ipaddress
import sys


def register(sub) -> None:
    from collabkg.cli import _store_args

    s = sub.add_parser("serve", help="serve the store read-only: SPARQL endpoint, query page, resource pages, stored queries")
    _store_args(s)
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, loopback only)")
    s.add_argument("--port", type=int, default=7878, help="port (default: 7878)")
    s.add_argument("--query-timeout", type=float, default=30.0, metavar="SECONDS", help="time limit per query (default: 30)")
    s.add_argument("--max-rows", type=int, default=10_000, metavar="N", help="rows (or triples) per answer (default: 10000)")
    s.add_argument("--cache", type=int, default=None, metavar="N",
                   help="keep the answers of N stored-query calls (default: 256 on a --store, 0 on an --endpoint whose data may change)")
    s.add_argument("--allow-service", action="append", default=[], metavar="HOST", help="a host SPARQL SERVICE may call (default: none)")
    s.set_defaults(func=cmd_serve)


def cmd_serve(args) -> int:
    import uvicorn

    from collabkg.cli import UsageError, open_store_from_args
    from collabkg.server import Limits, create_app

    if args.query_timeout <= 0 or args.max_rows <= 0:
        raise UsageError("--query-timeout and --max-rows must be positive")
    try:
        loopback = ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = args.host == "localhost"
    if not loopback:
        print(f"collabkg: warning: serving on {args.host}, reachable from other machines", file=sys.stderr)
    store = open_store_from_args(args, read_only=True)
    cache = args.cache if args.cache is not None else (0 if getattr(args, "endpoint", None) else 256)
    app = create_app(store, Limits(args.query_timeout, args.max_rows, tuple(args.allow_service)), cache_size=cache)
    print(f"serving {store.location} read-only on http://{args.host}:{args.port}/ (SPARQL endpoint /sparql)", file=sys.stderr, flush=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    finally:
        store.close()
    return 0
