"""Store faults are one line naming the store, exit 2 (issue 18 item 6); errors.py maps every error
family to its exit code (issue 16 item 1)."""
from __future__ import annotations

import errno
import shutil

import pytest

from conftest import XML_SAMPLE, run_cli

from collabkg import errors

ONE_XML = XML_SAMPLE / "project-rcn-251797_en.xml"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("errors") / "store"
    r = run_cli("ingest", "--store", str(path), "--no-progress", str(ONE_XML))
    assert r.returncode == 0, r.stderr
    return path


def test_corrupt_store_file_is_one_line_naming_the_store(store, tmp_path):
    bad = tmp_path / "corrupt"
    shutil.copytree(store, bad)
    for sst in bad.glob("*.sst"):  # flip bytes through every table file: RocksDB "Corruption"
        data = bytearray(sst.read_bytes())
        for i in range(64, len(data), 257):
            data[i] ^= 0xFF
        sst.write_bytes(bytes(data))
    assert list(bad.glob("*.sst"))
    for args in (["stats"], ["sparql", "ASK { ?s ?p ?o }"], ["ingest", "--no-progress", str(ONE_XML)]):
        r = run_cli(*args, "--store", str(bad))
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert r.stderr.count("\n") == 1 and str(bad) in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_read_only_file_system_is_one_line_naming_the_store(monkeypatch, capsys, tmp_path):
    """A read-only file system (simulated: the test runs as root, which chmod does not stop)."""
    import pyoxigraph

    from collabkg import cli

    def read_only(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")

    target = tmp_path / "ro" / "store"
    monkeypatch.setattr("pathlib.Path.mkdir", lambda *a, **k: read_only())
    assert cli.main(["ingest", "--store", str(target), "--no-progress", str(ONE_XML)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(target) in err and "Read-only file system" in err
    monkeypatch.undo()
    monkeypatch.setattr(pyoxigraph, "Store", read_only)
    assert cli.main(["ingest", "--store", str(tmp_path / "store2"), "--no-progress", str(ONE_XML)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "store2" in err and "Read-only file system" in err


def test_a_store_fault_while_writing_is_exit_2_not_1(monkeypatch, capsys, tmp_path):
    from collabkg import cli
    from collabkg.store import EmbeddedStore

    def fault(self, *a, **k):
        raise RuntimeError("IO error: No space left on device")

    monkeypatch.setattr(EmbeddedStore, "replace_graphs", fault)
    target = tmp_path / "store"
    assert cli.main(["ingest", "--store", str(target), "--no-progress", str(ONE_XML)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{target}: store fault: IO error" in err


def test_every_error_family_carries_its_exit_code():
    from collabkg import catalogue, export

    for cls in (errors.UsageError, errors.InputError, errors.StoreError, errors.EndpointError,
                errors.CatalogueError, errors.ParamError, errors.ExportError):
        assert issubclass(cls, errors.CollabkgError) and cls.exit_code == errors.EXIT_ERROR
    assert catalogue.ParamError is errors.ParamError and catalogue.CatalogueError is errors.CatalogueError
    assert export.ExportError is errors.ExportError
    r = run_cli("query", "partner-countries", "--param", "country=XX")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "country" in r.stderr


def test_settings_read_the_environment_once_and_every_variable_is_in_the_readme():
    from conftest import ROOT

    from collabkg.settings import VARIABLES, Settings

    s = Settings.from_env({"COLLABKG_STORE": "/x/store", "COLLABKG_VALIDATE": "0", "COLLABKG_ENDPOINT_AUTH": "DIGEST"})
    assert (str(s.store), s.validate, s.endpoint_auth, s.base) == ("/x/store", False, "digest", None)  # None: DEFAULT_BASE
    assert Settings.from_env({"COLLABKG_BASE": "https://example.org/kg/"}).base == "https://example.org/kg/"
    assert Settings.from_env({"COLLABKG_STORE": ""}).store.as_posix() == ".collabkg/store"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [v for v in VARIABLES if v not in readme] == []


@pytest.mark.parametrize("command", ["ingest", "build", "validate"])
@pytest.mark.parametrize("where", ["--base", "$COLLABKG_BASE"])
def test_a_base_that_is_no_iri_is_a_usage_error_before_anything_is_read(command, where, tmp_path):
    """Before, every record failed to map under such a base: exit 1 and a message per record."""
    bad = "https://example.org:port/id/"  # looks like an IRI; the port is no number
    args, env = [command, str(ONE_XML)], {}
    if command != "validate":
        args += ["--store", str(tmp_path / "store"), "--no-progress"]
    if where == "--base":
        args += ["--base", bad]
    else:
        env["COLLABKG_BASE"] = bad
    r = run_cli(*args, env=env)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1 and where in r.stderr and bad in r.stderr, r.stderr
    assert not (tmp_path / "store").exists()
