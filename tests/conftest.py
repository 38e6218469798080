"""Shared fixtures: the real bundled data and a store built from it once per test session."""
from __future__ import annotations

import contextlib
import fcntl
import io
import os
import pickle
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
CORDIS_ZIP = DATA / "cordis-horizon-europe" / "cordis-HORIZONprojects-xml-oic-subset.zip"
CORDIS_CSV_DIR = DATA / "cordis-horizon-europe"
XML_SAMPLE = DATA / "cordis-horizon-europe" / "xml-sample"
OPENALEX_DIR = DATA / "openalex-works-sample" / "author-data"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def session_shared_dir(tmp_path_factory) -> Path:
    """A folder every xdist worker of this test run sees (the run's own temporary root), so that
    what one worker builds the other can use; without xdist, the session's temporary folder."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # .../pytest-N/popen-gwK -> .../pytest-N, one per run
    d = base / "shared"
    d.mkdir(exist_ok=True)
    return d


def shared_build(tmp_path_factory, name: str, make) -> Path:
    """``make(path)`` once per test run for all workers: the first worker to ask builds the store
    under an exclusive lock, the others wait for the lock and get the finished folder. A failed
    build leaves no ``done`` mark, so a later caller builds again (and fails the same way)."""
    d = session_shared_dir(tmp_path_factory)
    folder, done = d / name, d / f"{name}.done"
    with open(d / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # blocks while another worker builds
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder / "store")
            done.touch()
    return folder / "store"


@pytest.fixture(scope="session")
def built_store_path(tmp_path_factory) -> Path:
    """A store built as `collabkg build` builds it (bundled data, validated) once per test run, shared by the xdist
    workers (opened read-only by each). Do not write to it: copy it (shutil.copytree) instead."""
    from collabkg.importing import build
    from collabkg.store import EmbeddedStore
    from collabkg.validation import ImportValidator

    def make(path: Path) -> None:
        # validated as `collabkg build` validates (the command passes a validator; the API's default is none)
        validator = ImportValidator(quarantine=path.parent / "quarantine.jsonl")
        with EmbeddedStore(path) as store:
            summary = build(store, progress=False, err=io.StringIO(), validator=validator)
        assert summary.read > 1000
        (path.parent / "summary.pickle").write_bytes(pickle.dumps(summary))  # for `built_summary`

    return shared_build(tmp_path_factory, "built", make)


@pytest.fixture(scope="session")
def built_summary(built_store_path):
    """The ImportSummary that `build` returned when it made `built_store_path` (what it counted while
    importing: records, rejections, warnings), for tests that compare it with the finished store."""
    return pickle.loads((built_store_path.parent / "summary.pickle").read_bytes())


@pytest.fixture(scope="session")
def built_store(built_store_path):
    """The built store opened read-only (shared by all tests of the session)."""
    from collabkg.store import EmbeddedStore

    store = EmbeddedStore(built_store_path, read_only=True)
    yield store


def require_tool(name: str, package: str) -> str:
    """Path of a system tool; a failure in CI, a skip with install advice elsewhere."""
    path = shutil.which(name)
    if path:
        return path
    msg = f"{name} not found: install it with `sudo apt-get install {package}` (make test does this as root)"
    if IN_CI:
        pytest.fail(msg)
    pytest.skip(msg)


def run_cli(*args: str, env: dict | None = None, cwd: Path | None = None, input: str | None = None) -> subprocess.CompletedProcess:
    """Run the installed `collabkg` command as a user would."""
    exe = Path(os.sys.executable).parent / "collabkg"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=cwd, input=input)


# --- scheduling: the longest files first --------------------------------------------------------
# `make test` runs `-n 2 --dist loadfile`: whole files go to the two workers in queue order, and each
# worker takes the next file when it is done. By default pytest-xdist orders that queue by number of
# tests, which puts the few-test long files (the README run, the wheel, the fault injections) last,
# where one worker ends up running alone while the other idles. Longest first instead (the figures
# are per-file totals of `--durations`), the rest in collection order.
LONG_FIRST = (
    "test_faults.py", "test_readme.py", "test_remote_stores.py", "test_first_build.py", "test_import_parallel.py",
    "test_wheel.py", "test_validate.py", "test_fidelity_graphs.py", "test_serve.py", "test_export.py",
    "test_report.py", "test_validation_engine.py", "test_shards.py", "test_serve_endpoint.py", "test_shapes.py",
    "test_queries.py",
)


def pytest_configure(config):
    if hasattr(config.option, "loadscopereorder"):  # pytest-xdist: keep the order given below
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(session, config, items):
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: order within a file kept


# --- pySHACL: each SPARQL constraint parsed once, not once per focus node ----------------------
@contextlib.contextmanager
def sparql_parsed_once():
    """While active, rdflib parses and translates a SPARQL query string once and reuses the prepared
    query (rdflib's own prepareQuery mechanism: a prepared query is evaluated afresh with each call's
    initBindings). pySHACL runs every SPARQL-based constraint once per focus node with the same text
    and ``$this`` as a binding, and parsing is three quarters of its time on the project's shapes;
    the queries, bindings and answers are the same as without it."""
    from rdflib.plugins.sparql import processor
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    original = processor.SPARQLProcessor.query
    prepared: dict = {}

    def query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):
        if isinstance(strOrQuery, str):
            key = (strOrQuery, base, tuple(sorted((str(k), str(v)) for k, v in (initNs or {}).items())))
            if key not in prepared:
                prepared[key] = translateQuery(parseQuery(strOrQuery), base, initNs)
            strOrQuery = prepared[key]
        return original(self, strOrQuery, initBindings, initNs, base, DEBUG)

    processor.SPARQLProcessor.query = query
    try:
        yield
    finally:
        processor.SPARQLProcessor.query = original
