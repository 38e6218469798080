"""What the bench_<area>.py modules share: run code in a subprocess and read its result and peak memory."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENV = {**os.environ, "PYTHONPATH": str(HERE.parent / "pipeline")}

# Appended to subprocess code: its last line is its own peak RSS in MB.
PEAK = "\nimport resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"

BUILD = """
import io, sys
from collabkg.importing import build
from collabkg.store import EmbeddedStore
with EmbeddedStore(sys.argv[2]) as s:
    build(s, [sys.argv[1]], progress=False, err=io.StringIO())
"""


def measure(code: str, *args: str, timeout: float | None = None):
    """Run ``code`` (which prints a JSON result, then PEAK) in a fresh Python; return (result, peak MB)."""
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=ENV,
                         check=True, timeout=timeout).stdout
    lines = out.strip().splitlines()
    return json.loads(lines[-2]), float(lines[-1])


def build_store(zip_path: Path, store: Path, code: str = BUILD, **env: str) -> None:
    """Build a store from a (scaled) CORDIS zip in a subprocess, as the stage before a measurement.
    With the default code, a store built from the same zip earlier in the run is copied instead
    (``bench/run.py`` leaves its measured build there): a x16 build takes minutes."""
    import shutil

    cache = built(zip_path)
    if code == BUILD and cache.exists():
        shutil.copytree(cache, store)
        return
    subprocess.run([sys.executable, "-c", code, str(zip_path), str(store)], check=True, env={**ENV, **env})
    if code == BUILD:
        shutil.copytree(store, cache)


def built(zip_path: Path) -> Path:
    """Where a store built from ``zip_path`` (CORDIS only, default options) is kept for reuse."""
    return Path(zip_path).with_name(f"built-{Path(zip_path).stem}")


def main(run) -> None:
    """``python bench/bench_<area>.py [SCALES]``: print the module's rows as JSON lines."""
    scales = [int(x) for x in (sys.argv[1] if len(sys.argv) > 1 else "1").split(",")]
    with tempfile.TemporaryDirectory() as d:
        for r in run(scales, Path(d)):
            print(json.dumps(r))
