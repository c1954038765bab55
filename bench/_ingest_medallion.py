"""medallion, the OASIS TAXII 2.1 reference server, as the ingest benchmark's anchor.

medallion 3.0.0 runs in its own process with its memory backend on 127.0.0.1 (a fresh
server per run, one API root, one writable collection, one user). The objects are POSTed
to ``/{api_root}/collections/{id}/objects/`` in envelopes of 1,000 objects, one request
after the other on one keep-alive connection; every status resource must report all of
its envelope's objects as successes. The time runs from the first POST until the last
answer: the memory backend stores before it answers (its status is ``complete``). Peak
memory is that of the server process. The client is the standard library's
``http.client``: the envelopes are built before the clock starts, so the client's share
of the time is reading the answers.

``medallion_server`` starts one such server for other uses too (``bench/taxii.py`` reads
the objects back from it).
"""

from __future__ import annotations

import base64
import http.client
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson

from _common import REPO_ROOT, Server, free_port, serving
from _ingest_contenders import ContenderUnavailableError

MEDIA_TYPE = "application/taxii+json;version=2.1"
API_ROOT = "bench"
COLLECTION_ID = "5f0f2f8e-0b5c-4d0b-9a55-0f6a4c1c6c11"
OBJECTS_PATH = f"/{API_ROOT}/collections/{COLLECTION_ID}/objects/"
USER, PASSWORD = "bench", "bench"
ENVELOPE = 1_000
MAX_CONTENT_LENGTH = 1 << 30
MAX_PAGE = 1_000
# The memory backend forgets a `next` this many seconds after the page that made it (its
# default is 30 s); a paginated read of a big collection takes longer than that.
SESSION_TIMEOUT = 7 * 86_400
INSTALL_HINT = "install it with `pip install -e '.[bench]'` (medallion==3.0.0)"


@dataclass(frozen=True)
class MedallionRun:
    """One medallion run.

    Attributes:
        seconds: from the first POST to the last answer (or to the time limit).
        stored: objects the server's status resources confirmed.
        peak_rss: the server process's peak resident set size in bytes (None: unknown).
        timed_out: True when the time limit came first.
    """

    seconds: float
    stored: int
    peak_rss: int | None
    timed_out: bool


def find_medallion(explicit: Path | None) -> Path:
    """Find the ``medallion`` executable.

    The given one, else the one beside this Python (the ``bench`` extra), else
    ``.venv-bench/bin/medallion``, else one on PATH.

    Raises:
        ContenderUnavailableError: when none is found.
    """
    if explicit is not None:
        if not explicit.is_file():
            raise ContenderUnavailableError(f"--medallion {explicit}: no such file")
        return explicit
    for candidate in (
        Path(sys.executable).with_name("medallion"),
        REPO_ROOT / ".venv-bench" / "bin" / "medallion",
    ):
        if candidate.is_file():
            return candidate
    which = shutil.which("medallion")
    if which is None:
        raise ContenderUnavailableError(f"`medallion` not found; {INSTALL_HINT}")
    return Path(which)


def medallion_version(exe: Path) -> str:
    """The version medallion reports in its ``--help`` (``medallion v3.0.0``)."""
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60, check=False)
    for word in out.stdout.split():
        if word.startswith("v") and word[1:2].isdigit():
            return word[1:]
    raise ContenderUnavailableError(
        f"`medallion --help` did not answer: {out.stderr.strip()[-200:]}"
    )


def _write_config(directory: Path, port: int) -> Path:
    """medallion's configuration and the memory backend's initial data (empty collection)."""
    base = f"http://127.0.0.1:{port}/{API_ROOT}/"
    data = {
        "/discovery": {"title": "bench", "api_roots": [base], "default": base},
        API_ROOT: {
            "information": {
                "title": "bench",
                "versions": [MEDIA_TYPE],
                "max_content_length": MAX_CONTENT_LENGTH,
            },
            "status": [],
            "collections": [
                {
                    "id": COLLECTION_ID,
                    "title": "bench",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }
    (directory / "data.json").write_bytes(orjson.dumps(data))
    config = {
        "users": {USER: PASSWORD},
        "taxii": {"max_page_size": MAX_PAGE},
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(directory / "data.json"),
            "session_timeout": SESSION_TIMEOUT,
        },
    }
    path = directory / "config.json"
    path.write_bytes(orjson.dumps(config))
    return path


def headers(body: bool) -> dict[str, str]:
    """Basic auth and the TAXII 2.1 media type (as ``Content-Type`` too, with a body)."""
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    out = {"Authorization": f"Basic {token}", "Accept": MEDIA_TYPE}
    if body:
        out["Content-Type"] = MEDIA_TYPE
    return out


def envelopes(lines: list[bytes]) -> list[tuple[bytes, int]]:
    """TAXII envelopes of ``ENVELOPE`` objects (body, object count), joined from raw JSON."""
    out = []
    for start in range(0, len(lines), ENVELOPE):
        chunk = lines[start : start + ENVELOPE]
        out.append((b'{"objects":[' + b",".join(chunk) + b"]}", len(chunk)))
    return out


def _post(conn: http.client.HTTPConnection, path: str, body: bytes, expected: int) -> None:
    """POST one envelope; check that its status resource counts every object a success."""
    conn.request("POST", path, body=body, headers=headers(body=True))
    response = conn.getresponse()
    answer = response.read()
    if response.status != 202:
        raise RuntimeError(f"medallion answered {response.status}: {answer[:200]!r}")
    status = orjson.loads(answer)
    if status.get("status") != "complete" or status.get("success_count") != expected:
        raise RuntimeError(
            f"medallion stored {status.get('success_count')} of {expected}"
            f" (failures: {status.get('failure_count')})"
        )


def _post_all(port: int, bodies: list[tuple[bytes, int]], timeout: float) -> tuple[float, int]:
    """POST every envelope in order; return (seconds, objects stored) and stop at the limit."""
    path = OBJECTS_PATH
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    stored = 0
    start = time.perf_counter()
    try:
        for body, expected in bodies:
            left = timeout - (time.perf_counter() - start)
            if left <= 0:
                break
            conn.timeout = left
            if conn.sock is not None:
                conn.sock.settimeout(left)
            _post(conn, path, body, expected)
            stored += expected
    except TimeoutError:
        pass
    finally:
        conn.close()
    return time.perf_counter() - start, stored


@contextmanager
def medallion_server(exe: Path, scratch: Path) -> Iterator[Server]:
    """A fresh medallion (memory backend, one empty collection) for the time of the block.

    Its configuration, data file and log are written in ``scratch``; its peak memory is in
    the server's ``peak_rss`` after the block.
    """
    scratch.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = _write_config(scratch, port)
    with serving(
        "medallion",
        [exe, "--host", "127.0.0.1", "--port", str(port), "--log-level", "ERROR", config],
        port=port,
        env=None,
        logs=scratch / "medallion",
        ready_path="/taxii2/",
        ready_headers=headers(body=False),
    ) as server:
        yield server


def run_medallion(exe: Path, lines: list[bytes], scratch: Path, timeout: float) -> MedallionRun:
    """Start a fresh medallion, POST ``lines`` (one object each) to it, and measure."""
    bodies = envelopes(lines)
    with medallion_server(exe, scratch) as server:
        seconds, stored = _post_all(server.port, bodies, timeout)
    return MedallionRun(seconds, stored, server.peak_rss, timed_out=stored < len(lines))
