"""Real Accord nodes for the federation tests: a directory, a database, `accord serve`.

Each node is initialised in-process (fast), and served by a real ``accord serve``
subprocess on a free loopback port, whose background sync runs as in production.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from accord.service import sync
from accord.service.node import Node, init_node, open_node
from accord.service.sharing import create_collection, grant
from accord.settings import Settings, load_settings
from accord.store import Collection

CLI = [sys.executable, "-c", "from accord.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def stix_id(kind: str) -> str:
    return f"{kind}--{uuid.uuid4()}"


def indicator(n: int, modified: str = "2024-01-01T00:00:00.000Z", **extra: Any) -> dict[str, Any]:
    """A valid indicator with a deterministic id for ``n``."""
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=n, version=4)}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": modified,
        "name": f"indicator {n}",
        "pattern": f"[ipv4-addr:value = '198.51.{n // 250 % 250}.{n % 250}']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00.000Z",
    }
    obj.update(extra)
    return obj


@dataclass
class LiveNode:
    """A node directory, its settings, and (while served) its URL."""

    name: str
    home: Path
    settings: Settings
    env: dict[str, str]
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def open(self) -> Node:
        return open_node(self.settings)

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run ``accord ARGS`` on this node."""
        return subprocess.run(
            [*CLI, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )

    def share(self, title: str, member: str) -> tuple[Collection, str]:
        """A collection readable and writable by a new member; (collection, its token)."""
        with self.open() as node:
            c = create_collection(node, title)
            m = node.store.create_member(member)
            token = node.store.create_token(m.pk)[0]
            grant(node, title, member, read=True, write=True)
        self.tokens[member] = token
        return c, token

    def pull_from(
        self, other: LiveNode, collection: Collection, token: str, into: str, **extra: Any
    ) -> None:
        """Make the served node ``other`` a peer (named as it is), pulled into ``into``."""
        with self.open() as node:
            sync.add_peer(
                node,
                other.name,
                url=other.url,
                api_root="/api/v21/",
                collection=collection.id,
                token=token,
                into=into,
                **extra,
            )

    def serve(self) -> None:
        """Start ``accord serve`` and wait until it answers."""
        self.port = self.port or free_port()
        self.log = self.home.parent / f"{self.name}-serve.log"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [*CLI, "serve", "--port", str(self.port)],
                env=self.env,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/taxii2/", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.proc = None


NodeMaker = Callable[..., LiveNode]


@contextmanager
def live_nodes(root: Path) -> Iterator[NodeMaker]:
    """Make nodes under ``root``; every server started is stopped at the end."""
    made: list[LiveNode] = []

    def make(name: str, database_url: str = "", **env: str) -> LiveNode:
        home = root / name
        environment = {
            **os.environ,
            "ACCORD_HOME": str(home),
            "ACCORD_DATABASE_URL": database_url,
            "ACCORD_PEER_BACKOFF": "0.05",
            "ACCORD_PEER_RETRIES": "3",
            "ACCORD_PEER_TIMEOUT": "3",
            **env,
        }
        settings = load_settings(environment)
        init_node(settings, name)
        node = LiveNode(name, home, settings, environment)
        made.append(node)
        return node

    try:
        yield make
    finally:
        for node in made:
            node.stop()


def wait_for(what: str, check: Callable[[], bool], limit: float = 30.0) -> None:
    """Poll ``check`` until it holds; fail with ``what`` after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
