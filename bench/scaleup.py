"""Synthetic scale-ups of the real CORDIS records: the same records with new identifiers."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORDIS_ZIP = ROOT / "data" / "cordis-horizon-europe" / "cordis-HORIZONprojects-xml-oic-subset.zip"

_ID = re.compile(rb"<id>(\d+)</id>")
_RCN = re.compile(rb"<rcn>(\d+)</rcn>")
_DOI = re.compile(rb"<grantDoi>10\.3030/(\d+)</grantDoi>")


def scaled_zip(factor: int, workdir: Path) -> Path:
    """A zip with ``factor`` copies of every project: copy k gets grant number and RCN
    offset by k * 10^9 (organisations keep their PICs, as real projects share partners)."""
    out = Path(workdir) / f"cordis-x{factor}.zip"
    if out.exists():
        return out
    tmp = out.with_suffix(".part")
    with zipfile.ZipFile(CORDIS_ZIP) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in src.infolist():
            data = src.read(info)
            for k in range(factor):
                if k == 0:
                    dst.writestr(info.filename, data)
                    continue
                off = k * 1_000_000_000
                d = _ID.sub(lambda m: b"<id>%d</id>" % (int(m.group(1)) + off), data, count=1)
                d = _RCN.sub(lambda m: b"<rcn>%d</rcn>" % (int(m.group(1)) + off), d, count=1)
                d = _DOI.sub(lambda m: b"<grantDoi>10.3030/%d</grantDoi>" % (int(m.group(1)) + off), d, count=1)
                dst.writestr(info.filename.replace(".xml", f"-x{k}.xml"), d)
    tmp.rename(out)
    return out
