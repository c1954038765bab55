"""Faults of the database under load: PostgreSQL connections cut, the SQLite disk full.

What a client must see: 503 (the database cannot be reached: try again, with
Retry-After) or 507 (the disk is full), in TAXII's error shape, never a 500 with a stack
trace in the log and never wrong data; what the store must hold: every acknowledged
object once, no envelope in part. And the node must recover by itself: the pool drops
cut connections (and checks each one it hands out), and a write that failed for space
left nothing behind, so the next one succeeds once space is freed.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import terminate_backends
from tests.faults.served import MEDIA, Load, Served, check_store, indicator, make_site

ANSWERS = {"200", "202", "503"}
# Set to take the RLIMIT_FSIZE fallback of the full-disk test even where tmpfs mounts.
FALLBACK = "ACCORD_TEST_NO_MOUNT"
FAILED = "TAXII request failed"  # what the TAXII edge logs for a 500


@pytest.mark.postgres
def test_pg_terminate_backend_under_load(
    tmp_path: Path, postgres_url: str, postgres_server: str
) -> None:
    name = f"accord-fault-{uuid.uuid4().hex[:8]}"
    url = make_url(postgres_url).update_query_dict({"application_name": name})
    site = make_site(tmp_path / "node", url.render_as_string(hide_password=False))
    served = Served(site)
    served.start()
    cut = 0
    try:
        load = Load(served.url, site, writers=2, readers=3).start()
        time.sleep(0.5)
        for _ in range(12):  # only this node's connections: others share the server
            cut += terminate_backends(postgres_server, name)
            time.sleep(0.15)
        load.stop()
        # Recovered by itself: no restart, every request answered again.
        after = Load(served.url, site, writers=1, readers=1).start()
        time.sleep(1.0)
        after.stop()
    finally:
        served.stop()
    assert cut > 0, "no connection of the node was cut: the fault did not happen"
    assert not load.unexpected(ANSWERS), (load.statuses, load.bodies)
    if 503 in load.bodies:
        assert orjson.loads(load.bodies[503])["http_status"] == "503"
    assert not after.unexpected({"200", "202"}), (after.statuses, after.bodies)
    assert after.statuses["202"] > 0 and after.statuses["200"] > 0
    check_store(site, load)
    check_store(site, after)
    # The 500 handler's line (with its stack trace). SQLAlchemy's pool may log a failed
    # rollback of a connection cut between statements: it drops that connection itself.
    logged = served.log.read_text()
    assert FAILED not in logged, logged[logged.find(FAILED) :][:3000]


@contextlib.contextmanager
def small_disk(path: Path, size_kib: int) -> Iterator[bool]:
    """A tmpfs of ``size_kib`` at ``path`` (True), or nothing where mounting is refused."""
    path.mkdir()
    mounted = False
    if os.geteuid() == 0 and shutil.which("mount") and not os.environ.get(FALLBACK):
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(path)],
            capture_output=True,
            check=False,
        )
        mounted = done.returncode == 0
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], check=False)


def _post(http: httpx.Client, path: str, headers: dict[str, str], load: Load) -> int:
    objs = [indicator("full", 16_000) for _ in range(5)]
    load.envelopes.append([o["id"] for o in objs])
    r = http.post(path, content=orjson.dumps({"objects": objs}), headers=headers)
    if r.status_code == 202:
        load.acked |= {s["id"] for s in orjson.loads(r.content).get("successes", ())}
    elif r.status_code >= 400:
        body = orjson.loads(r.content)
        assert body["http_status"] == str(r.status_code), body
    return r.status_code


def test_sqlite_disk_full(tmp_path: Path) -> None:
    """A full disk under the SQLite file: 507 (tmpfs) or 503 (RLIMIT_FSIZE fallback)."""
    with small_disk(tmp_path / "disk", 8 * 1024) as mounted:
        site = make_site(tmp_path / "disk" / "node")
        served = Served(site)
        served.start()
        filler = tmp_path / "disk" / "filler"
        try:
            assert served.proc is not None
            if mounted:
                free = shutil.disk_usage(filler.parent).free
                filler.write_bytes(b"\0" * max(0, free - 400 * 1024))
                expected = {"507"}
            else:
                # Fallback where mounting is refused: a file-size limit on the server.
                # Only the soft limit: raising a hard limit back needs CAP_SYS_RESOURCE.
                db = site.home / "accord.db"
                limit = db.stat().st_size + 400 * 1024
                _, hard = resource.prlimit(served.proc.pid, resource.RLIMIT_FSIZE)
                resource.prlimit(served.proc.pid, resource.RLIMIT_FSIZE, (limit, hard))
                expected = {"503", "507"}
            load = Load(served.url, site, writers=0, readers=0)
            headers = {**site.auth, "Content-Type": MEDIA}
            refused: list[int] = []
            with httpx.Client(base_url=served.url, timeout=30) as http:
                for _ in range(200):
                    code = _post(http, site.objects_path, headers, load)
                    if code != 202:
                        refused.append(code)
                        if len(refused) >= 3:
                            break
                assert refused, "the disk never filled"
                assert {str(c) for c in refused} <= expected, refused
                # Space freed: the node writes again, without a restart.
                if mounted:
                    filler.unlink()
                else:
                    resource.prlimit(served.proc.pid, resource.RLIMIT_FSIZE, (hard, hard))
                assert _post(http, site.objects_path, headers, load) == 202
        finally:
            served.stop()
        assert load.acked, "nothing was acknowledged"
        check_store(site, load)
        logged = served.log.read_text()
        assert FAILED not in logged, logged[logged.find(FAILED) :][:3000]
