"""The built wheel carries ontology/, shapes/, queries/ and the bundled data: installed into a
fresh venv outside the repository, `collabkg build` runs there."""
from __future__ import annotations

import subprocess
import sys
import venv
import zipfile

import pytest

from conftest import ROOT


@pytest.mark.slow
def test_wheel_installs_and_builds(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)], check=True, capture_output=True)
    wheel = next(dist.glob("collabkg-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for folder in ("ontology", "shapes", "queries"):
        local = sorted(p.name for p in (ROOT / folder).iterdir() if p.is_file() and p.suffix in (".ttl", ".rq"))
        packed = sorted(n.rsplit("/", 1)[1] for n in names if n.startswith(f"collabkg/_resources/{folder}/") and n.endswith((".ttl", ".rq")))
        assert packed == local, folder
    assert "collabkg/_resources/data/cordis-horizon-europe/cordis-HORIZONprojects-xml-oic-subset.zip" in names

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    r = subprocess.run([str(env_dir / "bin" / "collabkg"), "build", "--store", str(work / "store"), "--no-progress"],
                       cwd=work, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "records accepted  " in r.stdout
    accepted = int(r.stdout.split("records accepted")[1].split()[0])
    assert accepted >= 1027
