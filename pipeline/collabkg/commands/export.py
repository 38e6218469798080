"""``collabkg export``: a deterministic dump of the store plus its DCAT-AP 3 / VoID description."""
from __future__ import annotations

import re
import sys

from collabkg.commands.common import base_arg as _base_arg
from collabkg.commands.common import store_arg as _store_args
from collabkg.export import FORMATS, GRAPH_SELECTIONS
from collabkg.namespaces import PUBLISHER

FORMAT_NAMES = tuple(FORMATS)  # the writers' registry


def register(sub) -> None:
    p = sub.add_parser(
        "export",
        help="write the store (or part of it) as a deterministic RDF dump with a DCAT-AP/VoID description",
        description="Stream the store to PATH in sorted, byte-reproducible form and write PATH.dcat.ttl "
        "(DCAT-AP 3 + VoID) beside it.",
    )
    _store_args(p)
    p.add_argument("--out", required=True, metavar="PATH", help="dump file to write (PATH.dcat.ttl is written beside it)")
    p.add_argument("--format", choices=FORMAT_NAMES, default="turtle", help="RDF syntax (default: turtle)")
    p.add_argument("--gzip", action="store_true", help="gzip the dump (reproducible: no name, no time in the header)")
    p.add_argument("--graph", choices=GRAPH_SELECTIONS, default="all",
                   help="which named graphs: all, the CORDIS or OpenAlex records, or the ontology and reference data")
    _base_arg(p)
    p.add_argument("--sparql-endpoint", metavar="URL", help="SPARQL endpoint to name in the description (void:sparqlEndpoint)")
    p.add_argument("--download-base", metavar="URL",
                   help="URL of the folder the dump will be published in (default: <base>dump/, e.g. https://w3id.org/collabkg/id/dump/)")
    p.add_argument("--issued", metavar="YYYY-MM-DD", help="dct:issued of the dataset (default: the newest record update date)")
    p.add_argument("--publisher-name", default="collabkg project", help="foaf:name of the publisher")
    p.add_argument("--publisher-iri", default=PUBLISHER, help=f"IRI of the publisher (default {PUBLISHER})")
    p.add_argument("--no-description", action="store_true", help="write the dump only")
    p.set_defaults(func=cmd_export)


def cmd_export(args) -> int:
    from pathlib import Path

    import collabkg.dataset_description as dd
    import collabkg.export as ex
    from collabkg.commands.common import check_iri, open_store_from_args
    from collabkg.errors import EXIT_OK, UsageError

    for value, option in ((args.sparql_endpoint, "--sparql-endpoint"),
                          (args.download_base, "--download-base"), (args.publisher_iri, "--publisher-iri")):
        check_iri(value, option)
    if args.issued and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", args.issued):
        raise UsageError(f"--issued: {args.issued!r} is not a date YYYY-MM-DD")
    out = Path(args.out)
    if out.is_dir():
        raise UsageError(f"--out: {out} is a folder; give a file name such as {out / ('collabkg' + ex.FORMATS[args.format].extension)}")
    if out.parent.exists() and not out.parent.is_dir():
        raise UsageError(f"--out: {out.parent} is not a folder")
    with open_store_from_args(args, read_only=True) as store:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)  # as docs and report do
        except OSError as e:
            raise UsageError(f"--out: cannot create folder {out.parent}: {e.strerror or e}") from None
        try:
            result = ex.export(store, out, args.format, which=args.graph, base=args.base, compress=args.gzip)
        except ex.ExportError as e:
            raise UsageError(f"{store.location}: {e}") from None
        if result.statements == 0:
            print(f"collabkg: warning: no statements in graph selection {args.graph!r}", file=sys.stderr)
        desc = None
        if not args.no_description:
            stats = result.stats or ex.void_statistics(store, args.graph, args.base, str(out.parent))
            opts = dd.Options(which=args.graph, base=args.base, download_base=args.download_base,
                              sparql_endpoint=args.sparql_endpoint, issued=args.issued,
                              publisher_name=args.publisher_name, publisher_iri=args.publisher_iri)
            desc = dd.write_description(store, result, stats, opts)
    print(f"{result.path}  {result.statements} statements ({result.format.name}{', gzip' if result.gzip else ''})")
    if desc:
        print(f"{desc}  DCAT-AP 3 + VoID description")
    return EXIT_OK
