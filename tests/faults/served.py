"""What the fault tests share: a node served by ``accord serve``, and a few seconds of load.

`Served` is a real ``accord serve`` subprocess (its own session, so ``kill -9`` of it
reaches no one else). `Load` runs writers and readers in threads with httpx: writers
POST envelopes of new indicators and keep every envelope they sent (answered or not)
and every object a status acknowledged; readers page a collection with ``next`` and
record every answer's status. After a fault, the tests check the store: every
acknowledged object once, every envelope all or nothing.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import create_engine, text

from accord.service.node import init_node, open_node
from accord.service.sharing import create_collection, grant
from accord.settings import Settings, load_settings

CLI = [sys.executable, "-c", "from accord.cli import main; main()"]
MEDIA = "application/taxii+json;version=2.1"
ROOT = "/api/v21/"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Site:
    """A node directory with a collection and a member that may read and write it."""

    home: Path
    env: dict[str, str]
    settings: Settings
    collection_id: str
    member: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        secret = base64.b64encode(f"{self.member}:{self.token}".encode()).decode()
        return {"Authorization": f"Basic {secret}", "Accept": MEDIA}

    @property
    def objects_path(self) -> str:
        return f"{ROOT}collections/{self.collection_id}/objects/"

    def stored(self) -> Counter[str]:
        """How many versions of each object id the collection holds, from the store."""
        engine = create_engine(self.settings.effective_database_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    text(
                        "SELECT o.id, count(*) FROM objects o"
                        " JOIN collection_objects co ON co.object_added = o.added"
                        " JOIN collections c ON c.pk = co.collection_pk"
                        " WHERE c.id = :cid GROUP BY o.id"
                    ),
                    {"cid": self.collection_id},
                ).all()
        finally:
            engine.dispose()
        return Counter({str(oid): int(n) for oid, n in rows})


def make_site(home: Path, database_url: str = "", **env: str) -> Site:
    """``accord init`` (in-process) a node with collection ``shared`` and member ``partner``."""
    environ = {
        **os.environ,
        "ACCORD_HOME": str(home),
        "ACCORD_DATABASE_URL": database_url,
        **env,
    }
    settings = load_settings(environ)
    init_node(settings, "faulty")
    with open_node(settings) as node:
        collection = create_collection(node, "shared")
        member = node.store.create_member("partner")
        token = node.store.create_token(member.pk)[0]
        grant(node, "shared", "partner", read=True, write=True)
    return Site(home, environ, settings, collection.id, "partner", token)


class Served:
    """``accord serve`` on a free loopback port, in a session of its own."""

    def __init__(self, site: Site, workers: int = 1) -> None:
        self.site = site
        self.workers = workers
        self.port = free_port()
        self.log = site.home.parent / f"serve-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, limit: float = 60) -> None:
        cmd = [*CLI, "serve", "--port", str(self.port), "--workers", str(self.workers)]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                cmd, env=self.site.env, stdout=out, stderr=out, start_new_session=True
            )
        self.wait_answering(limit)
        if self.workers > 1:
            self.wait_workers(limit)

    def wait_answering(self, limit: float) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"accord serve ended: {self.log.read_text()[-2000:]}")
            try:
                got = httpx.get(f"{self.url}/taxii2/", headers=self.site.auth, timeout=2)
                if got.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"accord serve did not answer: {self.log.read_text()[-2000:]}")

    def worker_pids(self) -> list[int]:
        """The live worker processes: multiprocessing's spawned children in the server's
        session (not its resource tracker), found by scanning /proc."""
        assert self.proc is not None
        found: list[int] = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            # stat after the name: state, ppid, pgrp, session, ...
            if stat[0] != "Z" and int(stat[3]) == self.proc.pid and b"spawn_main" in cmdline:
                found.append(int(entry))
        return sorted(found)

    def wait_workers(self, limit: float, besides: frozenset[int] = frozenset()) -> list[int]:
        """Wait until ``workers`` live workers, none of them in ``besides``, run."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            if len(pids) == self.workers and not besides & set(pids):
                return pids
            time.sleep(0.1)
        raise AssertionError(f"workers now {self.worker_pids()}, wanted {self.workers}")

    def kill(self) -> None:
        """``kill -9`` of the whole server: supervisor and workers."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None


def indicator(tag: str, size: int = 0) -> dict[str, Any]:
    n = uuid.uuid4()
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{n}",
        "created": "2025-01-01T00:00:00.000Z",
        "modified": "2025-01-01T00:00:00.000Z",
        "name": f"{tag} {n.hex[:8]}",
        "pattern": f"[domain-name:value = '{n.hex}.{tag}.example']",
        "pattern_type": "stix",
        "valid_from": "2025-01-01T00:00:00.000Z",
    }
    if size:
        obj["description"] = os.urandom(size // 2).hex()
    return obj


@dataclass
class Load:
    """Writers and readers against one server, in threads, until stopped.

    Attributes:
        envelopes: the ids of every envelope a writer sent, answered or not.
        acked: every object id a 202 status listed as a success.
        statuses: every answer's HTTP status, and transport errors by name.
        bad_pages: pages whose ids repeated one seen earlier in the same pass.
    """

    url: str
    site: Site
    writers: int = 2
    readers: int = 2
    envelope: int = 5
    object_bytes: int = 0
    envelopes: list[list[str]] = field(default_factory=list)
    acked: set[str] = field(default_factory=set)
    statuses: Counter[str] = field(default_factory=Counter)
    bodies: dict[int, bytes] = field(default_factory=dict)
    bad_pages: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _note(self, outcome: str, response: httpx.Response | None = None) -> None:
        with self._lock:
            self.statuses[outcome] += 1
            if response is not None and response.status_code >= 400:
                self.bodies.setdefault(response.status_code, response.content)

    def _write(self, number: int) -> None:
        headers = {**self.site.auth, "Content-Type": MEDIA}
        with httpx.Client(base_url=self.url, timeout=10) as http:
            while not self._stop.is_set():
                objs = [indicator(f"w{number}", self.object_bytes) for _ in range(self.envelope)]
                with self._lock:
                    self.envelopes.append([o["id"] for o in objs])
                try:
                    r = http.post(
                        self.site.objects_path,
                        content=orjson.dumps({"objects": objs}),
                        headers=headers,
                    )
                except httpx.TransportError as exc:
                    self._note(type(exc).__name__)
                    time.sleep(0.05)
                    continue
                self._note(str(r.status_code), r)
                if r.status_code == 202:
                    done = {s["id"] for s in orjson.loads(r.content).get("successes", ())}
                    with self._lock:
                        self.acked |= done
                time.sleep(0.02)

    def _read(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10, headers=self.site.auth) as http:
            while not self._stop.is_set():
                seen: set[str] = set()
                params: dict[str, str | int] = {"limit": 20}
                while not self._stop.is_set():
                    try:
                        r = http.get(self.site.objects_path, params=params)
                    except httpx.TransportError as exc:
                        self._note(type(exc).__name__)
                        time.sleep(0.05)
                        break
                    self._note(str(r.status_code), r)
                    if r.status_code != 200:
                        break
                    body = orjson.loads(r.content)
                    ids = [o["id"] for o in body.get("objects", ())]
                    if seen & set(ids) or len(set(ids)) != len(ids):
                        with self._lock:
                            self.bad_pages += 1
                    seen.update(ids)
                    if not body.get("more"):
                        break
                    params["next"] = body["next"]

    def start(self) -> Load:
        self._threads = [
            threading.Thread(target=self._write, args=(i,), daemon=True)
            for i in range(self.writers)
        ] + [threading.Thread(target=self._read, daemon=True) for _ in range(self.readers)]
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)

    def unexpected(self, allowed: set[str]) -> dict[str, int]:
        """Outcomes that are neither an allowed status nor a transport error."""
        return {k: n for k, n in self.statuses.items() if k.isdigit() and k not in allowed}


def check_store(site: Site, load: Load) -> None:
    """Every acknowledged object stored once; every envelope whole or absent."""
    stored = site.stored()
    lost = [a for a in load.acked if stored.get(a, 0) == 0]
    assert not lost, f"{len(lost)} acknowledged objects lost, e.g. {lost[:3]}"
    doubled = {k: n for k, n in stored.items() if n != 1}
    assert not doubled, f"objects stored more than once: {list(doubled.items())[:3]}"
    halves = [e for e in load.envelopes if 0 < sum(1 for i in e if i in stored) < len(e)]
    assert not halves, f"{len(halves)} envelopes half stored, e.g. {halves[:1]}"
