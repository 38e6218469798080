"""``collabkg load DIR``: check every shard against the manifest's sha256, then load the shards into
the embedded store (into a staging copy with Oxigraph's bulk loader, swapped in when complete, as
``build`` does for a store without records) or for a server's bulk loader (Virtuoso: the shards are
copied to ``--bulk-dir`` and ``ld_dir``/``rdf_loader_run`` is printed or run), then enrich (links,
themes: the importer's enrich stage) and run the cross-record checks (``audit``) on the loaded store.
"""
from __future__ import annotations

import gzip
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from collabkg.importing import load_ontology, stages, store_counts
from collabkg.files import sha256
from collabkg.shards.run import MANIFEST
from collabkg.validation import audit as run_audit


class ShardError(Exception):
    """A missing manifest, or a shard that is missing or does not match its checksum."""


@dataclass
class LoadSummary:
    shards: int = 0
    triples_loaded: int = 0
    triples_in_store: int = 0
    enrich: dict = field(default_factory=dict)
    audit_violations: int = 0
    audit_records: int = 0
    classes: dict = field(default_factory=dict)
    seconds: float = 0.0
    bulk_files: list[str] = field(default_factory=list)


def read_manifest(folder: str | Path) -> dict:
    p = Path(folder) / MANIFEST
    try:
        return json.loads(p.read_text())
    except FileNotFoundError:
        raise ShardError(f"{p}: no manifest (run `collabkg map ... --out {folder}` first, to its end)") from None
    except (OSError, ValueError) as e:
        raise ShardError(f"{p}: cannot read the manifest: {e}") from None


def verify(folder: str | Path) -> dict:
    """The manifest, once every shard it lists matches its sha256; else ShardError naming the shard."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    for s in manifest["shards"]:
        p = folder / s["file"]
        if not p.exists():
            raise ShardError(f"{p}: shard missing")
        got = sha256(p)
        if got != s["sha256"]:
            raise ShardError(f"{p}: checksum mismatch (sha256 {got[:16]}…, the manifest says {s['sha256'][:16]}…): "
                             "the shard is corrupt; run `collabkg map` again on the same inputs")
    return manifest


def _graphs(data: bytes) -> dict[str, bytes]:
    """N-Quads lines (as the mapper writes them) grouped by graph, as N-Triples."""
    out: dict[str, list[bytes]] = {}
    for line in data.splitlines(keepends=True):
        i = line.rindex(b" <")
        g = line[i + 2 : line.rindex(b">")].decode()
        out.setdefault(g, []).append(line[:i] + b" .\n")
    return {g: b"".join(ls) for g, ls in out.items()}


def load(folder: str | Path, store, *, base: str | None = None, audit: bool = True) -> LoadSummary:
    """Load verified shards into ``store`` (embedded or remote), then enrich and audit."""
    t0 = time.perf_counter()
    folder = Path(folder)
    manifest = verify(folder)
    base = base or manifest.get("base")
    summary = LoadSummary(shards=len(manifest["shards"]))
    load_ontology(store)
    if not store.has_records():  # a first load: as one unit where the store can (Store.staged)
        with store.staged():
            summary.triples_loaded = _load_all(folder, manifest, store)
    else:
        summary.triples_loaded = _load_all(folder, manifest, store)
    return finish(store, manifest, base=base, audit=audit, summary=summary, t0=t0)


def finish(store, manifest: dict, *, base: str | None = None, audit: bool = True, summary: LoadSummary | None = None,
           t0: float | None = None) -> LoadSummary:
    """After the shards are in ``store``: enrich (links, themes) and audit."""
    t0 = time.perf_counter() if t0 is None else t0
    summary = summary or LoadSummary(shards=len(manifest["shards"]))
    base = base or manifest.get("base")
    summary.enrich = stages.enrich(store, base)
    if audit:
        reports = run_audit(store)
        summary.audit_records = len(reports)
        summary.audit_violations = sum(len(r.violations) for r in reports)
    summary.triples_in_store, summary.classes = store_counts(store)
    summary.seconds = time.perf_counter() - t0
    return summary


def _load_all(folder: Path, manifest: dict, store) -> int:
    n = 0
    for s in manifest["shards"]:
        data = gzip.decompress((folder / s["file"]).read_bytes())
        graphs = _graphs(data)
        if s.get("vocabulary"):  # the shared vocabulary is added to, never replaced
            n += store.replace_graphs_ntriples({}, graphs)
        else:
            n += store.replace_graphs_ntriples(graphs)
    return n


def virtuoso_bulk(folder: str | Path, bulk_dir: str | Path, server_dir: str | None = None) -> tuple[list[str], str]:
    """Copy the verified shards into ``bulk_dir`` (a folder the server reads, in its DirsAllowed)
    and return the files and the isql script that loads them with Virtuoso's bulk loader. Each
    quad's graph comes from the N-Quads file itself (``ld_dir`` with a graph IRI for triples only)."""
    folder, bulk = Path(folder), Path(bulk_dir)
    manifest = verify(folder)
    bulk.mkdir(parents=True, exist_ok=True)
    files = []
    for s in manifest["shards"]:
        src = folder / s["file"]
        dst = bulk / src.name
        shutil.copyfile(src, dst.with_name(dst.name + ".tmp"))
        dst.with_name(dst.name + ".tmp").replace(dst)
        files.append(str(dst))
    where = server_dir or str(bulk.resolve())
    script = (f"ld_dir('{where}', '*.nq.gz', 'urn:collabkg:bulk');\n"
              "rdf_loader_run();\ncheckpoint;\n"
              f"SELECT ll_file, ll_state, ll_error FROM DB.DBA.load_list WHERE ll_file LIKE '{where}/%' AND ll_error IS NOT NULL;\n")
    return files, script
