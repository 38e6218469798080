"""Faults during import: kill -9 at random moments, two writers, a reader during a write, disk full.

Real data: the first ``FAULT_RECORDS`` project files of the bundled CORDIS zip (real records; a subset
so that a dozen imports fit in a few minutes on two cores). Completeness is checked against the CSV
flattening of the same XML (data/cordis-horizon-europe/organization.csv): every project in the store
has exactly its participations, and no participation is without its project. Runs go through the
installed ``collabkg`` command in a subprocess of its own session, killed with SIGKILL as a whole.
Validation is off (``COLLABKG_VALIDATE=0``): these tests are about the store, not the shapes.
"""
from __future__ import annotations

import csv
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from conftest import CORDIS_CSV_DIR, CORDIS_ZIP, IN_CI
from collabkg.importing import BATCH_RECORDS
from collabkg.namespaces import CKG

FAULT_RECORDS = int(os.environ.get("COLLABKG_FAULT_RECORDS", "400"))
KILLS = int(os.environ.get("COLLABKG_FAULT_KILLS", "3"))
SEED = int(os.environ.get("COLLABKG_FAULT_SEED", str(random.SystemRandom().randrange(1 << 30))))
EXE = str(Path(sys.executable).parent / "collabkg")
ENV = {**os.environ, "COLLABKG_VALIDATE": "0"}
REVISED = " [revised]"


# ------------------------------------------------------------------------------------ helpers


def subset_zip(out: Path, n: int, change: bool = False) -> Path:
    """The first ``n`` project files of the real zip; ``change``: each project's title gets
    REVISED appended and, where it has two or more, its last participation removed."""
    with zipfile.ZipFile(CORDIS_ZIP) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        names = sorted(i.filename for i in src.infolist() if i.filename.endswith(".xml"))[:n]
        for name in names:
            data = src.read(name)
            if change:
                root = etree.fromstring(data)
                root.find("title").text += REVISED
                orgs = root.findall("relations/associations/organization")
                if len(orgs) >= 2:
                    orgs[-1].getparent().remove(orgs[-1])
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
            dst.writestr(name, data)
    return out


def grants_in(zpath: Path) -> list[str]:
    """Grant numbers in file order (the order the importer batches them in)."""
    with zipfile.ZipFile(zpath) as z:
        names = sorted(i.filename for i in z.infolist() if i.filename.endswith(".xml"))
        return [etree.fromstring(z.read(n)).findtext("id").strip() for n in names]


def csv_participations() -> Counter:
    with open(CORDIS_CSV_DIR / "organization.csv", encoding="utf-8", newline="") as f:
        return Counter(r["project/id"] for r in csv.DictReader(f))


def state(store_path: Path) -> dict[str, tuple[str, int]]:
    """{grant: (title, participations)} from a read-only opening of the store."""
    from collabkg.store import EmbeddedStore

    s = EmbeddedStore(store_path, read_only=True)
    try:
        titles = {r["g"].value: r["t"].value for r in s.query(
            f"SELECT ?g ?t WHERE {{ ?p a <{CKG}Project> ; <{CKG}grantNumber> ?g ; <{CKG}title> ?t }}")}
        counts = Counter({r["g"].value: int(r["n"].value) for r in s.query(
            f"SELECT ?g (COUNT(DISTINCT ?x) AS ?n) WHERE {{ ?x a <{CKG}Participation> ; <{CKG}project> ?p . "
            f"?p <{CKG}grantNumber> ?g }} GROUP BY ?g")})
        orphans = list(s.query(
            f"SELECT ?x WHERE {{ ?x a <{CKG}Participation> ; <{CKG}project> ?p FILTER NOT EXISTS {{ ?p a <{CKG}Project> }} }}"))
    finally:
        s.close()
    assert not orphans, f"participations without their project: {orphans[:3]}"
    assert set(counts) <= set(titles), "participations of a project that is not in the store"
    return {g: (t, counts[g]) for g, t in titles.items()}


def digest(store_path: Path) -> str:
    """A hash of the sorted N-Quads (blank-node labels blanked: they are not stable across runs)."""
    import pyoxigraph as ox
    from collabkg.store import EmbeddedStore

    s = EmbeddedStore(store_path, read_only=True)
    try:
        lines = sorted(
            " ".join("_:b" if isinstance(t, ox.BlankNode) else str(t) for t in (q.subject, q.predicate, q.object, q.graph_name))
            for q in s.raw.quads_for_pattern(None, None, None)
        )
    finally:
        s.close()
    return hashlib.sha256("\n".join(lines).encode()).hexdigest() + f" ({len(lines)} quads)"


def start(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([EXE, *args, "--no-progress"], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, **kw)


def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    p = start(*args)
    out, err = p.communicate(timeout=timeout)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def kill_after(args: tuple[str, ...], delay: float) -> bool:
    """Start ``collabkg ARGS``, SIGKILL its whole process group after ``delay`` s; True if it was still running."""
    p = start(*args)
    try:
        p.wait(timeout=delay)
        p.communicate()
        return False
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return True


def kill_at_random_moments(args: tuple[str, ...], seconds: float, rng: random.Random, check, reset) -> int:
    """SIGKILL ``collabkg ARGS`` at random moments until KILLS runs were hit (at most 4 x KILLS runs);
    ``check()`` after each run. A run that finished before its kill tells how long a run takes now
    (the machine's load changes while the suite runs) and ``reset()`` puts the store back, so that
    the next run has the whole job to do again rather than a quick no-op. Returns the hits."""
    hits = 0
    for _ in range(4 * KILLS):
        if hits == KILLS:
            break
        t0 = time.monotonic()
        if kill_after(args, rng.uniform(min(0.5, seconds * 0.3), seconds * 0.95)):
            hits += 1
            check()
        else:
            seconds = time.monotonic() - t0
            check()
            reset()
    return hits


def assert_complete(st: dict, expected: dict[str, int]) -> None:
    """Every project in the store has exactly its participations (``expected`` per grant)."""
    wrong = {g: (n, expected.get(g)) for g, (_, n) in st.items() if n != expected.get(g)}
    assert not wrong, f"projects with missing or extra participations (got, expected): {list(wrong.items())[:5]}"


# ----------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("faultdata")
    old, new = subset_zip(d / "subset.zip", FAULT_RECORDS), subset_zip(d / "subset-revised.zip", FAULT_RECORDS, change=True)
    grants = grants_in(old)
    csv_counts = csv_participations()
    assert grants and all(csv_counts[g] for g in grants)
    # A revised project loses its last participation where it had two or more (see subset_zip).
    new_counts = {g: csv_counts[g] - (1 if csv_counts[g] >= 2 else 0) for g in grants}
    return {"dir": d, "old": old, "new": new, "grants": grants, "old_counts": {g: csv_counts[g] for g in grants},
            "new_counts": new_counts}


@pytest.fixture(scope="module")
def reference_build(data):
    """An uninterrupted `collabkg build` of the subset: its digest and how long it took."""
    store = data["dir"] / "reference-build"
    t0 = time.monotonic()
    r = run("build", str(data["old"]), "--store", str(store))
    seconds = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    st = state(store)
    assert set(st) == set(data["grants"])
    assert_complete(st, data["old_counts"])
    return {"store": store, "digest": digest(store), "seconds": seconds}


# -------------------------------------------------------------------------------------- kill -9


def test_kill_during_build_then_rerun_gives_the_same_graph(data, reference_build, tmp_path):
    """kill -9 of `collabkg build` (staged bulk load into an empty store, swap, linking) at random moments."""
    rng = random.Random(SEED)
    store = tmp_path / "store"
    args = ("build", str(data["old"]), "--store", str(store))

    def check():
        if store.exists() or store.with_name("store.staging-complete").exists():
            st = state_after_recovery(store)
            assert_complete(st, data["old_counts"])
            # staged: all records or none of them
            assert set(st) in (set(), set(data["grants"])), f"seed {SEED}: {len(st)} of {len(data['grants'])} projects"

    hits = kill_at_random_moments(args, reference_build["seconds"], rng, check, lambda: shutil.rmtree(store, ignore_errors=True))
    assert hits, f"seed {SEED}: no kill hit a running build"
    r = run(*args)
    assert r.returncode == 0, r.stderr
    assert digest(store) == reference_build["digest"], f"seed {SEED}"


def state_after_recovery(store: Path) -> dict:
    """Open for writing (which finishes or discards an interrupted swap), then read the state."""
    from collabkg.store import EmbeddedStore

    EmbeddedStore(store).close()
    return state(store)


def test_kill_during_transactional_reimport_of_changed_records(data, reference_build, tmp_path):
    """kill -9 of `collabkg ingest` replacing existing records (diff UPDATE per batch): each project
    is wholly old or wholly new, whole batches at a time, and a re-run finishes the job."""
    reference = tmp_path / "reference"
    shutil.copytree(reference_build["store"], reference)
    args = ("ingest", str(data["new"]), "--store")
    t0 = time.monotonic()
    r = run(*args, str(reference))
    seconds = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    want = digest(reference)
    final = state(reference)
    assert all(t.endswith(REVISED) for t, _ in final.values())
    assert_complete(final, data["new_counts"])

    rng = random.Random(SEED + 1)
    store = tmp_path / "store"
    shutil.copytree(reference_build["store"], store)

    def check():
        st = state_after_recovery(store)
        assert set(st) == set(data["grants"])
        assert_whole_batches(st, data)

    def reset():
        shutil.rmtree(store)
        shutil.copytree(reference_build["store"], store)

    hits = kill_at_random_moments((*args, str(store)), seconds, rng, check, reset)
    assert hits, f"seed {SEED}: no kill hit a running ingest"
    r = run(*args, str(store))
    assert r.returncode == 0, r.stderr
    assert digest(store) == want, f"seed {SEED}"


def assert_whole_batches(st: dict, data: dict) -> None:
    """Each project is wholly old (title, participations) or wholly new, and the new ones are
    whole batches of the input order (a prefix of it whose length is a multiple of the batch
    size, or all of it), never part of a batch."""
    revised = []
    for g in data["grants"]:
        title, n = st[g]
        if title.endswith(REVISED):
            assert n == data["new_counts"][g], f"{g}: new title but {n} participations (old ones kept?)"
            revised.append(g)
        else:
            assert n == data["old_counts"][g], f"{g}: old title but {n} participations (half replaced?)"
    k = len(revised)
    assert revised == data["grants"][:k] or k == len(data["grants"]), "records replaced out of input order"
    # Earlier kills may have committed a prefix; a later run replays it unchanged, so the prefix
    # still ends at a batch boundary of one run or another: a multiple of the batch size.
    assert k % BATCH_RECORDS == 0 or k == len(data["grants"]), f"{k} projects replaced: part of a batch"


def test_kill_at_each_step_of_the_staging_swap(tmp_path):
    """kill -9 right after each file-system step of moving a complete staging copy into place:
    the next opening finishes the swap, and the store holds every record."""
    small = subset_zip(tmp_path / "small.zip", 30)
    grants = grants_in(small)
    counts = {g: n for g, n in csv_participations().items() if g in grants}
    child = tmp_path / "crash_in_swap.py"
    child.write_text(CRASH_IN_SWAP)
    ref = tmp_path / "ref"
    assert run("build", str(small), "--store", str(ref)).returncode == 0
    want = digest(ref)
    step, seen = 0, set()
    while True:
        step += 1
        store = tmp_path / f"store{step}"
        p = subprocess.run([sys.executable, str(child), str(step), "build", str(small), "--store", str(store), "--no-progress"],
                           env=ENV, capture_output=True, text=True, timeout=600)
        if p.returncode != -signal.SIGKILL:  # past the last step: the swap finished
            assert p.returncode == 0, p.stderr
            break
        seen.add(step)
        st = state_after_recovery(store)
        assert set(st) == set(grants), f"step {step}: {len(st)} of {len(grants)} projects after recovery"
        assert_complete(st, counts)
        assert not store.with_name(store.name + ".staging").exists()
        assert run("build", str(small), "--store", str(store)).returncode == 0
        assert digest(store) == want, f"step {step}"
        assert step < 20
    assert len(seen) >= 3, "the swap has fewer file-system steps than expected: is the crash hook stale?"


# Run `collabkg ARGS` and SIGKILL ourselves at the N-th file-system step after the staging copy
# is marked complete (the marker's touch is step 1).
CRASH_IN_SWAP = r'''
import os, pathlib, shutil, signal, sys
target, count, armed = int(sys.argv[1]), [0], [False]
def step(fn, arms=False):
    def wrapped(*a, **k):
        if arms:
            armed[0] = True
        result = fn(*a, **k)
        if armed[0]:
            count[0] += 1
            if count[0] == target:
                os.kill(os.getpid(), signal.SIGKILL)
        return result
    return wrapped
if __name__ == "__main__":  # not in worker processes, which import this script as their main module
    pathlib.Path.touch = step(pathlib.Path.touch, arms=True)
    pathlib.Path.rename = step(pathlib.Path.rename)
    pathlib.Path.unlink = step(pathlib.Path.unlink)
    shutil.rmtree = step(shutil.rmtree)
    from collabkg.cli import main
    sys.exit(main(sys.argv[2:]))
'''


@pytest.mark.parametrize("point", ["recorded", "half", "done"])
def test_kill_in_the_middle_of_a_batch_write_is_finished_by_the_next_opening(data, tmp_path, point):
    """A batch with new records is written in two steps (the new graphs through the bulk loader,
    the changed ones through one UPDATE), recorded first in a write-ahead file. kill -9 once the
    file is in place, between the two steps, or after both: the next opening for writing finishes
    the batch (the first batch whole, nothing of the second), and a re-run gives the uninterrupted result."""
    few = subset_zip(tmp_path / "few.zip", 40)  # the first batch replaces these and adds new projects
    base = tmp_path / "base"
    assert run("build", str(few), "--store", str(base)).returncode == 0
    reference = tmp_path / "reference"
    shutil.copytree(base, reference)
    assert run("ingest", str(data["new"]), "--store", str(reference)).returncode == 0
    store = tmp_path / "store"
    shutil.copytree(base, store)
    child = tmp_path / "crash_in_batch.py"
    child.write_text(CRASH_IN_BATCH)
    log = tmp_path / "stderr.txt"
    with open(log, "w") as err:
        p = subprocess.Popen([sys.executable, str(child), point, "ingest", str(data["new"]), "--store", str(store), "--no-progress"],
                             env=ENV, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        try:
            p.wait(timeout=600)
        finally:
            os.killpg(p.pid, signal.SIGKILL)  # its reading workers, orphaned
    assert p.returncode == -signal.SIGKILL, log.read_text()[-2000:]
    ahead = store.with_name(store.name + ".write-ahead")
    assert ahead.exists()
    st = state_after_recovery(store)
    assert not ahead.exists()
    first = data["grants"][:BATCH_RECORDS]
    assert set(st) == set(first), f"{point}: {len(st)} projects after recovery, expected the first batch"
    assert all(t.endswith(REVISED) for t, _ in st.values())
    assert_complete(st, data["new_counts"])
    assert run("ingest", str(data["new"]), "--store", str(store)).returncode == 0
    assert digest(store) == digest(reference)


def test_a_write_ahead_file_is_replayed_into_its_store_only(tmp_path):
    """A write-ahead file beside an existing store is replayed by the next opening for writing
    (not by a read-only one); beside a path with no store it belongs to no store: it is removed, not replayed."""
    from collabkg.store import EmbeddedStore

    quad = b"<urn:x:s> <urn:x:p> <urn:x:o> <urn:x:g> .\n"
    update = b'INSERT DATA { GRAPH <urn:x:g> { <urn:x:s> <urn:x:p> "u" } }'
    record = b"collabkg-write-ahead 1 %d\n" % len(update) + update + quad
    store, ahead = tmp_path / "store", tmp_path / "store.write-ahead"
    ahead.write_bytes(record)
    with EmbeddedStore(store) as s:  # created here: the file is no batch of it
        assert len(s.raw) == 0
    assert not ahead.exists()
    ahead.write_bytes(record)
    with EmbeddedStore(store, read_only=True) as s:
        assert len(s.raw) == 0
    assert ahead.exists()
    with EmbeddedStore(store) as s:
        assert sorted(str(q.object) for q in s.quads("urn:x:g")) == ['"u"', "<urn:x:o>"]
    assert not ahead.exists()


# Run `collabkg ARGS` and SIGKILL ourselves in the first batch write that goes through a write-ahead
# file: once the file is in place ("recorded"), after its first step ("half"), after both ("done").
CRASH_IN_BATCH = r'''
import contextlib, os, signal, sys
import collabkg.store as st
point, original = sys.argv[1], st._write_ahead
@contextlib.contextmanager
def hooked(*args):
    def die(at):
        if at == point:
            os.kill(os.getpid(), signal.SIGKILL)
    with original(*args) as applied:
        die("recorded")
        def step_done():
            applied()
            die("half")
        yield step_done
        die("done")
st._write_ahead = hooked
if __name__ == "__main__":  # (not in the reading workers, which import this file again)
    from collabkg.cli import main
    sys.exit(main(sys.argv[2:]))
'''


# ------------------------------------------------------------------------- writers and readers


def test_second_writer_is_refused_naming_the_first(data, reference_build, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(reference_build["store"], store)
    first = start("ingest", str(data["new"]), "--store", str(store))
    try:
        # Wait until the first writer holds the store (it writes its pid beside the store once it
        # has the lock); starting the second one earlier would let it win the race instead.
        pid_file = store.with_name(store.name + ".writer-pid")
        deadline = time.monotonic() + 120
        while not (pid_file.exists() and pid_file.read_text().strip() == str(first.pid)):
            assert first.poll() is None and time.monotonic() < deadline, "the first writer never took the store"
            time.sleep(0.05)
        second = run("ingest", str(data["old"]), "--store", str(store))
        assert second.returncode == 2, second.stderr
        assert f"store is locked by process {first.pid}" in second.stderr
        assert "Traceback" not in second.stderr
        assert "records accepted" not in second.stdout
    finally:
        out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    st = state(store)
    assert all(t.endswith(REVISED) for t, _ in st.values())
    assert_complete(st, data["new_counts"])


def test_reader_during_a_write_sees_whole_batches(data, reference_build, tmp_path):
    """Read-only openings polled while `collabkg ingest` replaces records see each project
    wholly old or wholly new, and whole batches only."""
    store = tmp_path / "store"
    shutil.copytree(reference_build["store"], store)
    writer = start("ingest", str(data["new"]), "--store", str(store))
    seen = Counter()
    try:
        while writer.poll() is None and sum(seen.values()) < 500:
            st = state(store)
            assert set(st) == set(data["grants"])
            assert_whole_batches(st, data)
            seen[sum(t.endswith(REVISED) for t, _ in st.values())] += 1
    finally:
        out, err = writer.communicate(timeout=600)
    assert writer.returncode == 0, err
    assert seen, "no read happened during the write"
    assert_whole_batches(state(store), data)


# ---------------------------------------------------------------------------------- disk full


class SmallDisk:
    """A size-limited file system at ``path``: tmpfs, else a loop-mounted ext4 image (both need
    root and mount rights); ``None`` when neither works (the caller falls back to RLIMIT_FSIZE)."""

    def __init__(self, path: Path, mb: int):
        self.path, self.mb, self.kind, self.image = path, mb, None, None

    def __enter__(self):
        self.path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            return self
        if _sh("mount", "-t", "tmpfs", "-o", f"size={self.mb}m", "tmpfs", str(self.path)):
            self.kind = "tmpfs"
        elif shutil.which("mkfs.ext4"):
            self.image = self.path.with_suffix(".img")
            with open(self.image, "wb") as f:
                f.truncate(self.mb << 20)
            if _sh("mkfs.ext4", "-q", "-F", str(self.image)) and _sh("mount", "-o", "loop", str(self.image), str(self.path)):
                self.kind = "ext4-loop"
        return self

    def grow(self, mb: int) -> None:
        """Free space again (the operator's fix), to check that the store opens afterwards."""
        if self.kind == "tmpfs":
            assert _sh("mount", "-o", f"remount,size={mb}m", str(self.path))
        elif self.kind == "ext4-loop":
            assert _sh("umount", str(self.path))
            with open(self.image, "r+b") as f:
                f.truncate(mb << 20)
            assert _sh("resize2fs", "-f", str(self.image)) and _sh("mount", "-o", "loop", str(self.image), str(self.path))

    def __exit__(self, *exc):
        if self.kind:
            _sh("umount", "-l", str(self.path))
        if self.image:
            self.image.unlink(missing_ok=True)


def _sh(*cmd: str) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _assert_clean_failure(r: subprocess.CompletedProcess) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr, r.stderr[-2000:]
    assert "collabkg: error:" in r.stderr and ("space" in r.stderr.lower() or "write failed" in r.stderr), r.stderr[-2000:]
    assert "records accepted" not in r.stdout, "a summary was printed for an import that failed"


@pytest.mark.parametrize("phase", ["build-into-empty-store", "ingest-replacing-records"])
def test_disk_full_during_import(data, reference_build, tmp_path, phase):
    """The disk fills up during an import: exit 2 with a clear message, no summary claiming
    records, and once space is freed the store opens with every project complete."""
    size = 60  # MB: the ontology and a few batches fit, the whole subset (about 75 MB) does not
    with SmallDisk(tmp_path / "disk", size) as disk:
        if disk.kind is None:
            pytest.skip("no size-limited file system here (needs root with mount rights); "
                        "test_disk_full_under_rlimit covers the failure path") if not IN_CI else pytest.fail("cannot mount a small file system in CI")
        store = disk.path / "store"
        if phase == "build-into-empty-store":
            r = run("build", str(data["old"]), "--store", str(store))
        else:
            # A small store first (a few records), then the full subset replacing and adding records.
            few = subset_zip(tmp_path / "few.zip", 40)
            assert run("build", str(few), "--store", str(store)).returncode == 0
            r = run("ingest", str(data["new"]), "--store", str(store))
        _assert_clean_failure(r)
        disk.grow(1024)
        st = state_after_recovery(store)
        if phase == "build-into-empty-store":
            assert st == {}, "a failed staged build left records behind"
        else:
            old_grants = grants_in(few)
            for g, (title, n) in st.items():
                want = data["new_counts"][g] if title.endswith(REVISED) else data["old_counts"][g]
                assert n == want, f"{g}: {n} participations, expected {want}"
                assert title.endswith(REVISED) or g in old_grants
        # and the import finishes once there is room
        r = run("ingest", str(data["new"]), "--store", str(store))
        assert r.returncode == 0, r.stderr[-2000:]
        st = state(store)
        assert set(st) == set(data["grants"])
        assert_complete(st, data["new_counts"])


def test_disk_full_under_rlimit(data, tmp_path):
    """The same failure without mount rights: RLIMIT_FSIZE makes writes past the limit fail
    with EFBIG, as a full disk would (files in RocksDB are written in pieces of tens of MB)."""
    import resource

    store = tmp_path / "store"

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (8 << 20, 8 << 20))

    p = subprocess.Popen([EXE, "build", str(data["old"]), "--store", str(store), "--no-progress"], env=ENV,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limit)
    out, err = p.communicate(timeout=600)
    r = subprocess.CompletedProcess(p.args, p.returncode, out, err)
    if r.returncode == 0:
        pytest.skip("no file of this import grew past the limit")
    assert r.returncode == 2, err[-2000:]
    assert "Traceback" not in err and "collabkg: error:" in err, err[-2000:]
    assert "records accepted" not in out
    st = state_after_recovery(store)
    assert st == {}
