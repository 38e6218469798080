"""Every `collabkg` line of the README's ``sh`` blocks runs verbatim on a fresh store and exits 0.

Robust to blocks other sections add: every ``sh`` block is scanned and every line that starts with
``collabkg`` (continuation lines joined) is run, in README order, from a folder that holds the
repository's ``data/`` and ``examples/`` and, as ``cd examples`` would give, the sample files
themselves. Lines that need a running server are named in ``NEEDS_SERVER`` and skipped; a README
block can also opt out with a ``# readme-test: skip`` line.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil

import pytest

from conftest import ROOT, run_cli

README = ROOT / "README.md"


def needs_server(words: list[str]) -> bool:
    """`collabkg serve` runs until stopped; `--endpoint` lines need a SPARQL server."""
    return words[1:2] == ["serve"] or any(w == "--endpoint" or w.startswith("--endpoint=") for w in words)


def readme_commands(text: str) -> list[str]:
    """The ``collabkg`` lines of every ``sh`` block, continuation lines joined, comments dropped."""
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        if "# readme-test: skip" in block:
            continue
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ["collabkg"]:
                lines.append(line)
    return lines


def test_readme_has_command_lines():
    cmds = readme_commands(README.read_text(encoding="utf-8"))
    names = {shlex.split(c, comments=True)[1] for c in cmds}
    assert {"build", "ingest", "sparql", "stats", "export", "query"} <= names, names


@pytest.mark.slow
def test_every_readme_command_runs_verbatim(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    os.symlink(ROOT / "data", work / "data")
    (work / "tests").mkdir()
    os.symlink(ROOT / "tests" / "conformance", work / "tests" / "conformance")
    shutil.copytree(ROOT / "examples", work / "examples")
    for f in (ROOT / "examples").iterdir():  # the names the README's examples use without a folder
        shutil.copy(f, work / f.name)
    env = {"COLLABKG_STORE": ""}  # the default store, ./.collabkg/store of the folder, fresh
    ran = []
    for line in readme_commands(README.read_text(encoding="utf-8")):
        words = shlex.split(line, comments=True)
        if needs_server(words):
            continue
        r = run_cli(*words[1:], env=env, cwd=work)
        assert r.returncode == 0, f"README line failed (exit {r.returncode}): {line}\n{r.stderr[-2000:]}"
        ran.append(words[1])
    assert ran[0] == "build" and "export" in ran and "sparql" in ran
    assert (work / "dump" / "collabkg.ttl").is_file()  # `export --out dump/...` made its folder
