"""The benchmark: collabkg side by side with a baseline, in one run, at several scales.

    python bench/run.py [--scales 1,4,16] [--baseline-max-scale 4] [--only build,queries,...]

Each measurement runs in a fresh subprocess so that its peak memory (max RSS) is its own.
Prints a table and writes bench/results.json. Other areas contribute ``bench/bench_<area>.py``
modules with ``run(scales, workdir) -> rows``.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "pipeline"))

from common import built  # noqa: E402
from scaleup import scaled_zip  # noqa: E402


def measure(code: str, *args: str, timeout: float | None = None) -> tuple[float, float, str]:
    """Run python code in a subprocess; return (seconds, peak MB, stdout). Past ``timeout`` the
    subprocess is killed and (timeout, None, "") comes back."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(HERE.parent / "pipeline")})
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return timeout, None, ""
    secs = time.perf_counter() - t0
    if proc.returncode != 0 and proc.returncode != 1:
        raise RuntimeError(err[-3000:])
    peak = float(out.strip().splitlines()[-1]) if out.strip() else None
    return secs, peak, out


# The code run in subprocesses prints its result rows as JSON, then its own peak RSS in MB.
_PEAK = "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"

BUILD = """
import io, json, sys, time, shutil
from collabkg.importing import build
from collabkg.store import EmbeddedStore
from collabkg.validation import import_validator
jobs = int(sys.argv[3]) if sys.argv[3] != "all" else None
t = time.perf_counter()
with EmbeddedStore(sys.argv[2]) as s:  # as `collabkg build` runs it: every record validated first
    summary = build(s, [sys.argv[1]], progress=False, err=io.StringIO(), validator=import_validator(), jobs=jobs)
print(json.dumps({"seconds": time.perf_counter() - t, "records": summary.read, "triples": summary.triples_written,
                  "rejected": summary.rejected_records, "stages": summary.stages, "jobs": summary.jobs}))
""" + _PEAK

# The parse floor: one core parsing every XML entry of the same zip with the standard library.
FLOOR = """
import json, sys, time, zipfile
import xml.etree.ElementTree as ET
t = time.perf_counter()
n = 0
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        if info.filename.endswith(".xml"):
            ET.fromstring(z.read(info))
            n += 1
print(json.dumps({"seconds": time.perf_counter() - t, "records": n, "triples": 0, "rejected": 0}))
""" + _PEAK

INGEST = """
import io, json, sys, time
from collabkg.importing import ingest
from collabkg.store import EmbeddedStore, Store
from collabkg.validation import import_validator
if sys.argv[3] == "objects":  # the write path with one Python object per term, to compare with the native one
    EmbeddedStore.replace_graphs_ntriples = Store.replace_graphs_ntriples
t = time.perf_counter()
with EmbeddedStore(sys.argv[2]) as s:
    summary = ingest(s, [sys.argv[1]], progress=False, err=io.StringIO(), validator=import_validator())
print(json.dumps({"seconds": time.perf_counter() - t, "records": summary.read, "triples": summary.triples_written,
                  "rejected": summary.rejected_records, "stages": summary.stages, "jobs": summary.jobs}))
""" + _PEAK

# The load floor: Oxigraph's bulk loader alone putting the built store's quads (an N-Quads file)
# into an empty on-disk store, as fast as it goes here: parts of the size a build loads read in turn (memory stays
# flat), each loaded in one piece per core side by side (one bulk_load call of under ~1 million quads
# runs on one core; larger ones oversubscribe the cores). What any build of this data costs at least.
LOAD_FLOOR = """
import json, sys, time
import pyoxigraph as ox
from collabkg.importing.first_build import LOAD_PART_BYTES
from collabkg.store import bulk_load_in_pieces
t = time.perf_counter()
store = ox.Store(sys.argv[2])
with open(sys.argv[1], "rb") as f:
    rest = b""
    while True:
        chunk = f.read(LOAD_PART_BYTES)
        part, rest = (rest + chunk).rpartition(b"\\n")[0::2] if chunk else (rest, b"")
        if part:
            bulk_load_in_pieces(store, part + b"\\n")
        if not chunk:
            break
store.flush()
print(json.dumps({"seconds": time.perf_counter() - t, "records": 0, "triples": len(store), "rejected": 0}))
""" + _PEAK


# The baseline: rdflib Dataset built record by record, written as TriG, validated with pySHACL.
BASELINE_TIME_BOX = 300  # seconds at least; past it the row says "> time box" (a lower bound)
# ... and at least this many times collabkg's build of the same zip, so that a baseline stopped
# by the time box still shows whether the aim (collabkg >= 20 x faster) is met.
BASELINE_TIMES_COLLABKG = 25
BASELINE = """
import io, json, sys, time
import rdflib
from collabkg.sources import cordis_xml
from collabkg.mapping import map_record
from collabkg.namespaces import IRIs
from pathlib import Path
t = time.perf_counter()
iris = IRIs()
ds = rdflib.Dataset()
n = records = 0
def term(x):
    import pyoxigraph as ox
    if isinstance(x, ox.NamedNode):
        return rdflib.URIRef(x.value)
    if x.language:
        return rdflib.Literal(x.value, lang=x.language)
    return rdflib.Literal(x.value, datatype=rdflib.URIRef(x.datatype.value))
for rec in cordis_xml.read(Path(sys.argv[1])):
    records += 1
    if not hasattr(rec, "record_id"):
        continue
    g = ds.graph(rdflib.URIRef(iris.graph("cordis", rec.record_id)))
    for tr in map_record(rec, iris):
        g.add((term(tr.subject), term(tr.predicate), term(tr.object)))
        n += 1
ds.serialize(destination=sys.argv[2], format="trig")
# ... and validated as a whole with pySHACL against the same shapes (what collabkg's build does too)
import pyshacl
from collabkg.validation import shapes_graph
union = rdflib.Graph()
for q in ds.quads((None, None, None, None)):
    union.add(q[:3])
pyshacl.validate(union, shacl_graph=shapes_graph(), inference="none", allow_warnings=True)
print(json.dumps({"seconds": time.perf_counter() - t, "records": records, "triples": n, "rejected": 0}))
""" + _PEAK


NEW_OFFSET = 99_000_000_000


def new_projects_zip(n: int, workdir: Path) -> Path:
    """``n`` real projects under new grant numbers (offset 99 * 10^9, clear of the scale-ups'
    copies, each k * 10^9): what ``ingest`` adds."""
    import re
    import zipfile

    from scaleup import CORDIS_ZIP

    out = workdir / f"new-{n}-at-{NEW_OFFSET}.zip"
    if not out.exists():
        with zipfile.ZipFile(CORDIS_ZIP) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
            for info in sorted(src.infolist(), key=lambda i: i.filename)[:n]:
                d = src.read(info)
                d = re.sub(rb"<id>(\d+)</id>", lambda m: b"<id>%d</id>" % (int(m.group(1)) + NEW_OFFSET), d, count=1)
                d = re.sub(rb"<grantDoi>10\.3030/(\d+)</grantDoi>", lambda m: b"<grantDoi>10.3030/%d</grantDoi>" % (int(m.group(1)) + NEW_OFFSET), d, count=1)
                dst.writestr("new-" + info.filename, d)
    return out


def _row(stage, scale, system, res, peak, floor=None, note=""):
    row = {
        "stage": stage, "scale": scale, "system": system, "seconds": round(res["seconds"], 2),
        "records_per_s": round(res["records"] / res["seconds"], 1), "triples_per_s": round(res["triples"] / res["seconds"]) if res["triples"] else None,
        "peak_mb": round(peak), "records": res["records"], "triples": res["triples"],
    }
    if floor:
        row["x_floor"] = round(res["seconds"] / floor, 1)
    if "stages" in res:
        row["stages"] = {k: round(v, 2) for k, v in res["stages"].items()}
        row["jobs"] = res["jobs"]
    if note:
        row["note"] = note
    return row


def load_floor_row(store: Path, scale: int, workdir: Path, floor: float) -> dict:
    """Oxigraph's bulk loader alone, timed on the quads of the store just built (dumped first)."""
    import shutil

    import pyoxigraph as ox

    nq, target = workdir / f"store-x{scale}.nq", workdir / f"load-floor-x{scale}"
    ox.Store.read_only(str(store)).dump(output=str(nq), format=ox.RdfFormat.N_QUADS)
    shutil.rmtree(target, ignore_errors=True)
    secs, peak, out = measure(LOAD_FLOOR, str(nq), str(target))
    shutil.rmtree(target, ignore_errors=True)
    nq.unlink()
    return _row("load floor (Oxigraph bulk_load)", scale, "pyoxigraph", json.loads(out.strip().splitlines()[-2]), peak, floor)


def build_rows(scales: list[int], workdir: Path, baseline_max: int) -> list[dict]:
    import shutil

    rows = []
    for scale in scales:
        z = scaled_zip(scale, workdir)
        secs, peak, out = measure(FLOOR, str(z))
        floor = json.loads(out.strip().splitlines()[-2])["seconds"]
        rows.append(_row("parse floor (ET, 1 core)", scale, "stdlib", json.loads(out.strip().splitlines()[-2]), peak, floor))
        print_row(rows[-1])
        target = workdir / f"store-x{scale}"
        shutil.rmtree(target, ignore_errors=True)
        secs, peak, out = measure(BUILD, str(z), str(target), "all")
        rows.append(_row("build", scale, "collabkg", json.loads(out.strip().splitlines()[-2]), peak, floor))
        time_box = max(BASELINE_TIME_BOX, BASELINE_TIMES_COLLABKG * rows[-1]["seconds"])
        print_row(rows[-1])
        if not built(z).exists():  # the other areas measure on this store
            shutil.copytree(target, built(z))
        rows.append(load_floor_row(target, scale, workdir, floor))
        print_row(rows[-1])
        if scale in (1, 16):  # the bundled data, and about the whole dump
            new = new_projects_zip(300, workdir)
            for path in ("native", "objects") if scale == 1 else ("native",):
                copy = workdir / f"store-x{scale}-ingest"
                shutil.rmtree(copy, ignore_errors=True)
                shutil.copytree(workdir / f"store-x{scale}", copy)
                secs, peak, out = measure(INGEST, str(new), str(copy), path)
                rows.append(_row("ingest 300 new projects", scale, f"collabkg ({path} write)", json.loads(out.strip().splitlines()[-2]), peak))
                print_row(rows[-1])
                shutil.rmtree(copy, ignore_errors=True)
        if scale <= baseline_max:
            target = workdir / f"rdflib-x{scale}.trig"
            target.unlink(missing_ok=True)
            secs, peak, out = measure(BASELINE, str(z), str(target), timeout=time_box)
            if out:
                rows.append(_row("build", scale, "baseline rdflib + pySHACL", json.loads(out.strip().splitlines()[-2]), peak, floor))
            else:
                rows.append(_row("build", scale, "baseline rdflib + pySHACL", {"seconds": secs, "records": 0, "triples": 0}, 0, floor,
                                 note=f"stopped at the {time_box:.0f} s time box: a lower bound"))
            print_row(rows[-1])
    return rows


def print_row(r: dict) -> None:
    def f(v):
        return "-" if v is None else str(v)

    print(f"{r['stage']:<22} x{r['scale']:<4} {r['system']:<24} {f(r['seconds']):>9} s {f(r.get('records_per_s')):>10} rec/s "
          f"{f(r.get('triples_per_s')):>10} tr/s {f(r.get('peak_mb')):>8} MB {f(r.get('x_floor')):>6} x floor"
          + (f"  stages {r['stages']} ({r['jobs']} jobs)" if r.get("stages") else ""), flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scales", default="1,4,16")
    ap.add_argument("--baseline-max-scale", type=int, default=4,
                    help="largest scale for the rdflib baseline (each run stops at its time box)")
    ap.add_argument("--only", default="", help="comma-separated areas: build and/or bench_<area> names")
    ap.add_argument("--workdir", default=None, help="kept afterwards (default: a temporary folder, removed at the end; "
                    "×16 needs about 11 GB)")
    args = ap.parse_args()
    if args.workdir:
        return run_bench(args, Path(args.workdir))
    workdir = Path(tempfile.mkdtemp(prefix="collabkg-bench-"))
    try:
        return run_bench(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_bench(args, workdir: Path) -> int:
    scales = [int(s) for s in args.scales.split(",")]
    only = {s for s in args.only.split(",") if s}
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; workdir {workdir}")
    print(f"{'stage':<22} {'scale':<5} {'system':<24} {'seconds':>11} {'records/s':>16} {'triples/s':>15} {'peak':>11}")
    rows = []
    if not only or "build" in only:
        rows += build_rows(scales, workdir, args.baseline_max_scale)
    for mod_path in sorted(HERE.glob("bench_*.py")):
        name = mod_path.stem
        if only and name not in only and name.removeprefix("bench_") not in only:
            continue
        mod = importlib.import_module(name)
        for r in mod.run(scales, workdir):
            rows.append(r)
            print_row(r)
    out = HERE / "results.json"
    out.write_text(json.dumps({"machine": {"arch": platform.machine(), "cores": os.cpu_count(), "python": platform.python_version(),
                                           "date": time.strftime("%Y-%m-%d")}, "rows": rows}, indent=1) + "\n")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
