"""Serve benchmark: `collabkg serve` under 8 concurrent clients x 200 mixed stored queries on
loopback (throughput, p50/p95/p99 latency, errors), beside the Oxigraph server reading the
same store (``oxigraph serve-read-only --union-default-graph``) answering the same prepared
query texts on ``/query``.

`collabkg serve` keeps stored-query answers (keyed by the store's file signature);
the ``--cache 0`` row computes every answer. Each row also carries ``queries_per_s``, ``p50_ms``, ``p95_ms``, ``p99_ms``, ``errors`` and
``requests``. Scale 1 is the bundled data; larger scales use ``scaleup.scaled_zip``.
Run alone: ``python bench/bench_serve.py [SCALE ...] [--hostile]`` (``--hostile``: that row only).

The ``hostile`` row: ``HEAVY`` clients send cross-product queries in a loop (each times out at
``--query-timeout 5`` and its worker is killed) while ``CLIENTS`` other clients send stored
queries (answers cached beforehand), resource pages and short SPARQL lookups; its latency figures are the other clients' (aim: p95 < 1 s),
``heavy_timeouts`` counts the 503s the heavy clients got.
"""
from __future__ import annotations

import io
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))

CLIENTS = 8
PER_CLIENT = 200
HEAVY = 3
CROSS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def _workload() -> list[tuple[str, dict]]:
    """Every stored query with its required parameters, plus country variants: the mix."""
    from collabkg import catalogue

    mix = []
    for q in catalogue.catalogue().values():
        needs_country = [p.name for p in q.params if p.required and p.type == "country"]
        for c in (("TN", "TR", "MA", "EG") if needs_country else (None,)):
            mix.append((q.name, {n: c for n in needs_country}))
    return mix


def _hostile(port: int, urls: list[tuple[str, bytes | None]]) -> dict:
    """``_hammer(urls)`` while HEAVY clients keep sending cross-product queries that time out."""
    stop = threading.Event()
    outcomes: list[int] = []

    def heavy() -> None:
        body = urllib.parse.urlencode({"query": CROSS}).encode()
        while not stop.is_set():
            req = urllib.request.Request(f"http://127.0.0.1:{port}/sparql", data=body,
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            try:
                with urllib.request.urlopen(req, timeout=120) as r:
                    outcomes.append(r.status)
            except urllib.error.HTTPError as e:
                outcomes.append(e.code)
            except (urllib.error.URLError, OSError):
                outcomes.append(0)

    threads = [threading.Thread(target=heavy) for _ in range(HEAVY)]
    for t in threads:
        t.start()
    time.sleep(1.0)  # the heavy queries hold their workers before the measurement starts
    try:
        r = _hammer(urls)
    finally:
        stop.set()
        for t in threads:
            t.join()
    return {**r, "heavy_requests": len(outcomes), "heavy_timeouts": outcomes.count(503)}


def _hammer(urls: list[tuple[str, bytes | None]]) -> dict:
    """CLIENTS threads, each sending PER_CLIENT requests from ``urls`` round-robin."""
    latencies: list[float] = []
    errors = 0
    kinds: dict[str, int] = {}  # error kind -> count
    lock = threading.Lock()

    def client(k: int) -> None:
        nonlocal errors
        for i in range(PER_CLIENT):
            url, data = urls[(k * 7 + i) % len(urls)]
            headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/sparql-results+json"} if data else {}
            t = time.perf_counter()
            ok, why = False, None
            try:
                with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=60) as r:
                    r.read()
                    ok = r.status == 200
            except urllib.error.HTTPError as e:
                why = f"{e.code} {e.read()[:80].decode('utf-8', 'replace').strip()}"
            except (urllib.error.URLError, OSError) as e:
                why = type(e).__name__
            dt = time.perf_counter() - t
            with lock:
                latencies.append(dt)
                errors += not ok
                if why:
                    kinds[why.split(";")[0][:60]] = kinds.get(why.split(";")[0][:60], 0) + 1

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    q = statistics.quantiles(latencies, n=100)
    return {"seconds": seconds, "requests": len(latencies), "queries_per_s": len(latencies) / seconds,
            "p50_ms": q[49] * 1000, "p95_ms": q[94] * 1000, "p99_ms": q[98] * 1000, "errors": errors, "error_kinds": kinds}


def _peak_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _build(scale: int, workdir: Path) -> tuple[Path, int]:
    from collabkg.importing import build
    from collabkg.store import EmbeddedStore

    store = workdir / f"serve-store-x{scale}"
    if not store.exists():
        paths = None
        if scale != 1:
            from scaleup import scaled_zip

            paths = [str(scaled_zip(scale, workdir))]
        with EmbeddedStore(store) as s:
            build(s, paths, progress=False, err=io.StringIO())
    with EmbeddedStore(store, read_only=True) as s:
        n = s.count_triples()
    return store, n


def _serve(cmd: list[str], probe: str):
    from servers import wait_http

    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(probe, proc)
    return proc


def run(scales: list[int], workdir: Path, only_hostile: bool = False) -> list[dict]:
    from collabkg import catalogue
    from servers import free_port, oxigraph_exe, stop

    rows = []
    mix = _workload()
    for scale in scales:
        store, triples = _build(scale, workdir)
        for system, extra in () if only_hostile else (("collabkg serve", []), ("collabkg serve --cache 0", ["--cache", "0"])):
            port = free_port()
            proc = _serve([str(Path(sys.executable).parent / "collabkg"), "serve", "--store", str(store), "--port", str(port), *extra],
                          f"http://127.0.0.1:{port}/sparql?query=ASK%7B%7D")
            try:
                urls = [(f"http://127.0.0.1:{port}/queries/{name}?" + urllib.parse.urlencode(p), None) for name, p in mix]
                _hammer(urls[:4])  # warm-up (the cached run still computes every other answer once)
                r = _hammer(urls)
                peak = _peak_mb(proc.pid)
            finally:
                stop(proc)
            rows.append({"stage": "serve", "scale": scale, "system": system, "seconds": r["seconds"],
                         "records_per_s": None, "triples_per_s": None, "peak_mb": peak, "triples": triples, **r})
        # Hostile: cross products timing out beside the ordinary clients: stored queries (their
        # answers computed once before, as a running server has them cached), resource pages and
        # short SPARQL lookups.
        port = free_port()
        proc = _serve([str(Path(sys.executable).parent / "collabkg"), "serve", "--store", str(store), "--port", str(port),
                       "--query-timeout", "5", "--workers", "6", "--queue", "16"],
                      f"http://127.0.0.1:{port}/sparql?query=ASK%7B%7D")
        try:
            base = f"http://127.0.0.1:{port}"
            stored = [(f"{base}/queries/{name}?" + urllib.parse.urlencode(p), None) for name, p in mix]
            for url, _ in stored:  # warm the answer cache, without the heavy clients
                try:
                    urllib.request.urlopen(url, timeout=120).read()
                except (urllib.error.URLError, OSError):
                    pass
            pages = [(f"{base}/id/project/{g}", None) for g in ("101106614", "101069604", "101069612", "101069685")]
            lookups = [(f"{base}/sparql", urllib.parse.urlencode({"query": q}).encode()) for q in (
                "SELECT ?p ?o WHERE { <https://w3id.org/collabkg/id/project/101106614> ?p ?o }",
                "SELECT ?t WHERE { ?p a ckg:Project ; ckg:title ?t } LIMIT 20",
                "ASK { ?o ckg:country ckgc:TN }")]
            urls = [u for trio in zip(stored, pages * len(stored), lookups * len(stored)) for u in trio]
            r = _hostile(port, urls)
            peak = _peak_mb(proc.pid)
        finally:
            stop(proc)
        rows.append({"stage": "serve", "scale": scale, "system": f"collabkg serve, {HEAVY} clients sending timing-out cross products",
                     "seconds": r["seconds"], "records_per_s": None, "triples_per_s": None, "peak_mb": peak, "triples": triples, **r})
        exe = oxigraph_exe()
        if only_hostile:
            continue
        if not exe:
            rows.append({"stage": "serve", "scale": scale, "system": "baseline: oxigraph server", "seconds": None,
                         "records_per_s": None, "triples_per_s": None, "peak_mb": None, "note": "oxigraph not installed"})
            continue
        port = free_port()
        proc = _serve([exe, "serve-read-only", "--location", str(store), "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
                      f"http://127.0.0.1:{port}/query?query=ASK%7B%7D")
        try:
            texts = [catalogue.prepare(catalogue.get(name), catalogue.bind(catalogue.get(name), p)) for name, p in mix]
            urls = [(f"http://127.0.0.1:{port}/query", urllib.parse.urlencode({"query": t}).encode()) for t in texts]
            _hammer(urls[:4])
            r = _hammer(urls)
            peak = _peak_mb(proc.pid)
        finally:
            stop(proc)
        rows.append({"stage": "serve", "scale": scale, "system": "baseline: oxigraph server", "seconds": r["seconds"],
                     "records_per_s": None, "triples_per_s": None, "peak_mb": peak, "triples": triples, **r})
    return rows


if __name__ == "__main__":
    hostile = "--hostile" in sys.argv  # only the hostile row
    scales = [int(a) for a in sys.argv[1:] if a != "--hostile"] or [1]
    with tempfile.TemporaryDirectory() as tmp:
        for row in run(scales, Path(tmp), only_hostile=hostile):
            print(json.dumps({k: (round(v, 2) if isinstance(v, float) else v) for k, v in row.items()}))
