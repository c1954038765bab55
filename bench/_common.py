"""What the benchmarks share: paths, progress, the machine, work folders, served processes.

``bench/ingest.py`` and ``bench/taxii.py`` both log progress to standard error, describe the
machine in their report, work in a kept or temporary folder, and start TAXII servers
(medallion, ``accord serve``) under the spawner of ``_ingest_proc.py`` so that a server's
peak memory is its own.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.metadata
import os
import platform
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from _ingest_proc import Spawned

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "bench" / "results"
READY_LIMIT = 60.0


def log(message: str) -> None:
    """Progress, on standard error (standard output carries the report)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def package_version(name: str) -> str:
    """An installed distribution's version, or "not installed"."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def verdict(ok: bool | None) -> str:
    """A goal's verdict: PASS, FAIL, or n/a when it could not be judged."""
    return {True: "PASS", False: "FAIL", None: "n/a"}[ok]


# --- the machine ------------------------------------------------------------------------


def _proc_field(path: str, key: str) -> str | None:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, value = line.partition(":")
        if name.strip() == key:
            return value.strip()
    return None


def machine() -> str:
    """CPU model, cores and RAM, from /proc where it exists."""
    cpu = _proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown CPU"
    mem_kib = _proc_field("/proc/meminfo", "MemTotal")
    ram = f"{int(mem_kib.split()[0]) / (1024 * 1024):.1f} GiB RAM" if mem_kib else "RAM unknown"
    return f"{cpu}, {os.cpu_count()} cores, {ram}"


def report_header(title: str, when: time.struct_time, versions: Mapping[str, str]) -> list[str]:
    """The first lines of every benchmark report: title and date, machine, software."""
    return [
        f"# {title}, {time.strftime('%Y-%m-%d', when)}",
        "",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', when)}",
        f"- Machine: {machine()}",
        "- Software: " + ", ".join(f"{name} {version}" for name, version in versions.items()),
    ]


# --- work folders -----------------------------------------------------------------------


@contextlib.contextmanager
def working_directory(chosen: Path | None) -> Iterator[Path]:
    """The given directory (kept), or a temporary one removed at the end."""
    if chosen is not None:
        chosen.mkdir(parents=True, exist_ok=True)
        yield chosen
        return
    path = Path(tempfile.mkdtemp(prefix="accord-bench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --- served processes -------------------------------------------------------------------


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass
class Server:
    """An HTTP server started under the spawner, on 127.0.0.1.

    Attributes:
        name: who it is, for messages.
        port: its TCP port.
        spawned: its process (the spawner's, which waits for the server).
        peak_rss: its peak resident set size in bytes, once it has ended (None: unknown).
    """

    name: str
    port: int
    spawned: Spawned
    peak_rss: int | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"


def _answers(port: int, path: str, headers: Mapping[str, str]) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers=dict(headers))
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def wait_ready(server: Server, path: str, headers: Mapping[str, str], limit: float) -> None:
    """Poll ``GET path`` until it answers 200.

    Raises:
        RuntimeError: the server ended, or did not answer within ``limit`` seconds.
    """
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.spawned.proc.poll() is not None:
            code = server.spawned.proc.returncode
            raise RuntimeError(f"{server.name} exited at start with code {code}")
        if _answers(server.port, path, headers):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not answer {path} within {limit:.0f} s")


@contextlib.contextmanager
def serving(
    name: str,
    cmd: Sequence[str | os.PathLike[str]],
    *,
    port: int,
    env: Mapping[str, str] | None,
    logs: Path,
    ready_path: str,
    ready_headers: Mapping[str, str],
    ready_limit: float = READY_LIMIT,
) -> Iterator[Server]:
    """Start a server, wait until ``ready_path`` answers, and stop it (SIGINT) at the end.

    Its output goes to ``logs`` (``.log``); its peak memory is in ``Server.peak_rss`` after
    the block, read from the spawner's record (``.json``).
    """
    with logs.with_suffix(".log").open("wb") as out:
        spawned = Spawned(cmd, env=env, stdout=out, stderr=out, result=logs.with_suffix(".json"))
        server = Server(name, port, spawned)
        try:
            wait_ready(server, ready_path, ready_headers, ready_limit)
            yield server
        finally:
            spawned.stop(signal.SIGINT)  # both uvicorn and Flask end cleanly on Ctrl-C
    outcome = spawned.outcome()
    server.peak_rss = outcome.peak_rss if outcome else None


def publish_report(text: str, out: Path | None, name: str, when: time.struct_time) -> None:
    """Write a report to ``out`` (default bench/results/NAME-DATE.md) and to stdout."""
    path = out or RESULTS_DIR / f"{name}-{time.strftime('%Y-%m-%d', when)}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    log(f"report written to {path}")
