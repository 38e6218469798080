"""Real SPARQL servers for the tests, on loopback and free ports, stopped afterwards.

- Oxigraph server: the ``oxigraph`` command of the ``oxigraph`` PyPI package (the ``test`` extra;
  installed into this venv with pip if missing).
- Virtuoso Open Source 7: Debian ``virtuoso-opensource-7`` (``tools/system-deps.sh`` installs it),
  started with its own ``virtuoso.ini`` in a temporary folder.

Each server is described by a :class:`Server` with the endpoint URLs and credentials a
``RemoteStore`` needs (``store()``) and the matching command-line options (``cli_args()``).
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, seconds: float = 180.0, log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers (an error status is still an answer)
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url}: no answer after {seconds:.0f} s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Server:
    name: str
    query: str
    update: str | None
    graph_store: str | None
    env: dict = field(default_factory=dict)  # credentials as the CLI reads them

    def cli_args(self) -> list[str]:
        args = ["--endpoint", self.query]
        if self.graph_store:
            args += ["--graph-store", self.graph_store]
        if self.update:
            args += ["--update-endpoint", self.update]
        return args

    def store(self, **kwargs):
        from collabkg.remote_store import RemoteStore

        return RemoteStore(
            self.query, self.update, self.graph_store,
            user=self.env.get("COLLABKG_ENDPOINT_USER"), password=self.env.get("COLLABKG_ENDPOINT_PASSWORD"),
            auth=self.env.get("COLLABKG_ENDPOINT_AUTH"), **kwargs,
        )


def oxigraph_exe() -> str:
    exe = Path(sys.executable).parent / "oxigraph"
    if not exe.exists() and not shutil.which("oxigraph"):
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "oxigraph"], check=False)
    return str(exe) if exe.exists() else (shutil.which("oxigraph") or "")


def start_oxigraph(workdir: Path):
    """Yield a :class:`Server` for a fresh Oxigraph server (union default graph, like the embedded store)."""
    exe = oxigraph_exe()
    if not exe:
        raise RuntimeError("the oxigraph server is not installed: pip install oxigraph")
    port = free_port()
    log = workdir / "oxigraph.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [exe, "serve", "--location", str(workdir / "db"), "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
            stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/query?query=ASK%7B%7D", proc, log=log)
        yield Server("oxigraph", base + "/query", base + "/update", base + "/store")
    finally:
        stop(proc)


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
CheckpointInterval = 0
CaseMode = 2
DirsAllowed = ., {d}, {bulk}
NumberOfBuffers = 20000
MaxDirtyBuffers = 15000
MaxQueryMem = 500M
ThreadsPerQuery = 2
VADInstallDir = /usr/share/virtuoso-opensource-7/vad/

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {d}/vsp
ServerThreads = 20
MaxKeepAlives = 10
KeepAliveTimeout = 10
Charset = UTF-8
EnabledGzipContent = 0

[SPARQL]
ResultSetMaxRows = 10000000
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 300

[Client]
SQL_QUERY_TIMEOUT = 0
SQL_TXN_TIMEOUT = 0
"""


def virtuoso_isql(sql_port: int, sql: str, password: str = "dba") -> str:
    exe = shutil.which("isql-vt") or "isql-vt"
    r = subprocess.run([exe, f"127.0.0.1:{sql_port}", "dba", password, f"exec={sql}"], capture_output=True, text=True, timeout=600)
    if r.returncode != 0 or "*** Error" in r.stdout + r.stderr:
        raise RuntimeError(f"isql: {sql}: {r.stdout}{r.stderr}")
    return r.stdout


def start_virtuoso(workdir: Path, bulk_dir: Path | None = None):
    """Yield a :class:`Server` for a fresh Virtuoso 7: anonymous queries on ``/sparql``, writes
    through the Graph Store Protocol on ``/sparql-graph-crud-auth`` with digest credentials."""
    exe = shutil.which("virtuoso-t")
    if not exe:
        raise RuntimeError("virtuoso-t not found: sudo apt-get install virtuoso-opensource-7")
    d = workdir / "virtuoso"
    (d / "vsp").mkdir(parents=True, exist_ok=True)
    bulk = bulk_dir or d
    sql_port, http_port = free_port(), free_port()
    ini = d / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(d=d, bulk=bulk, sql_port=sql_port, http_port=http_port))
    log = d / "stdout.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([exe, "+foreground", "+configfile", str(ini)], cwd=d, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{http_port}"
    try:
        wait_http(base + "/sparql?query=ASK%7B%7D", proc, seconds=300, log=d / "virtuoso.log")
        server = Server(
            "virtuoso", base + "/sparql", None, base + "/sparql-graph-crud-auth",
            env={"COLLABKG_ENDPOINT_USER": "dba", "COLLABKG_ENDPOINT_PASSWORD": "dba", "COLLABKG_ENDPOINT_AUTH": "digest"},
        )
        server.sql_port = sql_port  # for the bulk loader (ld_dir / rdf_loader_run)
        server.bulk_dir = bulk
        bulk.mkdir(parents=True, exist_ok=True)
        yield server
    finally:
        stop(proc)


class Chromium:
    """Headless Chromium driven over the Chrome DevTools Protocol (a websocket; websocket-client)."""

    def __init__(self, exe: str, profile: Path, flags: list[str]):
        self.exe, self.profile, self.flags = exe, profile, flags
        self.proc = None
        self.ws = None
        self._id = 0

    def __enter__(self):
        import json
        import re

        import websocket

        self.profile.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [self.exe, *self.flags, f"--user-data-dir={self.profile}", "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        url, deadline = None, time.monotonic() + 60
        while url is None and time.monotonic() < deadline:  # chromium prints its DevTools address on stderr
            line = self.proc.stderr.readline()
            if not line and self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.proc.returncode}")
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            url = m.group(1) if m else None
        if url is None:
            raise RuntimeError("chromium did not open its DevTools port")
        port = int(re.search(r":(\d+)/", url).group(1))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            page = next(t for t in json.load(r) if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self.call("Page.enable")
        return self

    def call(self, method: str, **params):
        import json

        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def navigate(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def evaluate(self, expression: str):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait_for(self, condition: str, seconds: float = 60.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if self.evaluate(f"!!({condition})"):
                    return
            except RuntimeError:
                pass  # the page is still loading
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {condition}; page text: {self.evaluate('document.body && document.body.innerText')!r}")

    def __exit__(self, *exc):
        if self.ws is not None:
            self.ws.close()
        if self.proc is not None:
            stop(self.proc)
