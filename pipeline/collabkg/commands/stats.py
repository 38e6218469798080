"""``collabkg stats``: what the store holds: records per source, instances per class, triples,
named graphs, when it was last written and its size on disk."""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from collabkg.commands.common import open_store_from_args, store_arg
from collabkg.errors import EXIT_OK


def register(sub) -> None:
    s = sub.add_parser("stats", help="show what the store holds: records per source, classes, triples, graphs, last import, size")
    store_arg(s)
    s.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json")
    s.set_defaults(func=cmd_stats)


def store_stats(store, base: str | None = None) -> dict:
    """The figures of :func:`cmd_stats` as a dict (``size_bytes``/``last_write`` only for a store on disk)."""
    from collabkg.importing import store_counts
    from collabkg.namespaces import ONTOLOGY_GRAPH
    from collabkg.namespaces import IRIs

    from collabkg.sources import cordis_xml, openalex_json, turtle_records

    record_sources = {m.SOURCE for m in (cordis_xml, openalex_json, turtle_records)}
    prefix = IRIs(base).base + "graph/"
    records: dict[str, int] = {src: 0 for src in sorted(record_sources)}
    derived: dict[str, int] = {}
    entities: dict[str, int] = {}
    other = 0
    names = store.graph_names()
    triples, classes = store_counts(store)
    for g in names:
        if not g.startswith(prefix):
            other += not g.startswith(ONTOLOGY_GRAPH)
            continue
        parts = g[len(prefix):].split("/")
        if parts[0] not in record_sources:  # made by the import from the records (links, themes)
            derived[parts[0]] = derived.get(parts[0], 0) + 1
        elif len(parts) == 2 and parts[1] != "vocabulary":  # <base>graph/<source>/<record>
            records[parts[0]] += 1
        elif len(parts) > 2:  # <base>graph/<source>/<kind>/<id>: a shared entity
            entities[parts[0]] = entities.get(parts[0], 0) + 1
    out = {
        "store": store.location,
        "records": dict(sorted(records.items())),
        "entity_graphs": dict(sorted(entities.items())),
        "derived_graphs": dict(sorted(derived.items())),
        "graphs": len(names),
        "ontology_graphs": sum(g.startswith(ONTOLOGY_GRAPH) for g in names),
        "triples": triples,
        "classes": classes,
    }
    path = Path(store.location)
    if path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file()]
        out["size_bytes"] = sum(p.stat().st_size for p in files)
        newest = max((p.stat().st_mtime for p in files), default=None)
        out["last_write"] = (datetime.fromtimestamp(newest, timezone.utc).isoformat(timespec="seconds")
                             if newest else None)
    return out


def cmd_stats(args) -> int:
    from collabkg.namespaces import CKG

    with open_store_from_args(args, read_only=True) as store:
        st = store_stats(store)
    if args.format == "json":
        json.dump(st, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return EXIT_OK
    w = sys.stdout.write
    w(f"store             {st['store']}\n")
    w("records per source\n")
    for src, n in st["records"].items():
        w(f"  {n:>7}  {src}\n")
    if not any(st["records"].values()):
        w("        0  (no records: run `collabkg build`)\n")
    w(f"named graphs      {st['graphs']} ({sum(st['entity_graphs'].values())} shared-entity, "
      f"{sum(st['derived_graphs'].values())} derived (links, themes), {st['ontology_graphs']} ontology and reference data)\n")
    w(f"triples           {st['triples']}\n")
    w("instances per class\n")
    for cls, n in st["classes"].items():
        w(f"  {n:>7}  {cls.replace(CKG, 'ckg:')}\n")
    if "size_bytes" in st:
        w(f"size on disk      {_size(st['size_bytes'])}\n")
        w(f"last written      {st['last_write'] or '-'}\n")
    return EXIT_OK


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"
