"""``collabkg report --out DIR``: the collaboration report (static HTML + PNG charts, or PDF)."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("report", help="write the collaboration report (HTML page with charts) from the stored queries")
    p.add_argument("--store", metavar="DIR", help="store folder (default: $COLLABKG_STORE, else ./.collabkg/store)")
    p.add_argument("--out", metavar="DIR", required=True, help="folder for index.html and its images (created)")
    p.add_argument("--format", choices=("html", "pdf"), default="html",
                   help="html (default), or pdf: the HTML page printed by headless Chromium as report.pdf")
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    from collabkg.catalogue import CatalogueError, ParamError
    from collabkg.commands.common import open_store_from_args
    from collabkg.errors import UsageError
    from collabkg.report import build_report

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: --out must be a folder")
    chromium = None
    if args.format == "pdf":
        chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if chromium is None:
            raise UsageError("--format pdf needs Chromium (Debian: apt-get install chromium); use --format html")
    with open_store_from_args(args, read_only=True) as store:
        try:
            index = build_report(store, out)
        except (CatalogueError, ParamError) as e:
            raise UsageError(str(e)) from None
    if chromium:
        pdf = out / "report.pdf"
        print_pdf(chromium, index, pdf)
        print(pdf)
    else:
        print(index)
    return 0


def chromium_flags(profile: str) -> list[str]:
    """Headless, offline, no sandbox (as root in containers), a throw-away profile."""
    return ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}"]


def print_pdf(chromium: str, index: Path, pdf: Path) -> None:
    from collabkg.errors import UsageError

    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run([chromium, *chromium_flags(profile), "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                               index.resolve().as_uri()], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 or not pdf.is_file():
        print(proc.stderr[-2000:], file=sys.stderr)
        raise UsageError(f"{pdf}: Chromium could not print the report (exit {proc.returncode})")
