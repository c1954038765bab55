"""Accord as a TAXII server for the benchmark: a fresh node, a member with a token, served.

A node is made with the CLI, as an operator would: ``accord init DIR``, ``accord collection
create bench``, ``accord member add bench``, ``accord token create --member bench`` (its
standard output is the token) and ``accord collection grant bench --member bench --read
--write``, all with ``ACCORD_HOME=DIR`` (and ``ACCORD_DATABASE_URL`` for PostgreSQL). Then
``accord serve --port P [--workers N]`` runs under the spawner until the block ends, so
its peak memory is known (for several workers: the largest of its processes).
"""

from __future__ import annotations

import base64
import os
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from _common import Server, free_port, serving
from _ingest_contenders import COLLECTION, accord_env
from _ingest_medallion import MEDIA_TYPE
from _ingest_proc import Measurement, run_measured

MEMBER = "bench"
API_ROOT = "/api/v21/"
# uvicorn answers as soon as one worker is up; give the others time to finish starting.
WORKERS_SETTLE = 3.0


@dataclass(frozen=True)
class Node:
    """A fresh Accord node with the benchmark's member.

    Attributes:
        home: its ``ACCORD_HOME``.
        env: the environment of every command on it.
        token: the member's token (the Basic auth password).
    """

    home: Path
    env: dict[str, str]
    token: str


def _cli(accord: Path, args: Sequence[str | os.PathLike[str]], env: dict[str, str]) -> str:
    """Run one ``accord`` command; its standard output.

    Raises:
        RuntimeError: the command failed (with the last line it wrote).
    """
    done = subprocess.run(
        [accord, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"`accord {args[0]}` failed: {last[0][:200]}")
    return done.stdout


def make_node(accord: Path, home: Path, database_url: str | None) -> Node:
    """``accord init`` a node in ``home`` with the collection, the member and its grant.

    Args:
        accord: the executable.
        home: an empty directory for the node.
        database_url: PostgreSQL URL, or None for the default SQLite store.
    """
    env = accord_env(home, database_url)
    _cli(accord, ["init", home], env)
    _cli(accord, ["collection", "create", COLLECTION], env)
    _cli(accord, ["member", "add", MEMBER], env)
    token = _cli(accord, ["token", "create", "--member", MEMBER], env).strip()
    if not token:
        raise RuntimeError("`accord token create` printed no token")
    _cli(accord, ["collection", "grant", COLLECTION, "--member", MEMBER, "--read", "--write"], env)
    return Node(home, env, token)


def import_file(accord: Path, node: Node, path: Path, timeout: float) -> Measurement:
    """``accord import PATH --collection bench`` into the node, measured."""
    return run_measured(
        [accord, "import", path, "--collection", COLLECTION],
        env=node.env,
        timeout=timeout,
        log_prefix=node.home.with_name(node.home.name + "-import"),
    )


def _auth(node: Node) -> dict[str, str]:
    token = base64.b64encode(f"{MEMBER}:{node.token}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Accept": MEDIA_TYPE}


@contextmanager
def accord_server(accord: Path, node: Node, workers: int = 1) -> Iterator[Server]:
    """``accord serve`` on a free port of 127.0.0.1 for the time of the block."""
    port = free_port()
    cmd: list[str | os.PathLike[str]] = [accord, "serve", "--port", str(port)]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    with serving(
        f"accord serve ({workers} worker{'s' if workers > 1 else ''})",
        cmd,
        port=port,
        env=node.env,
        logs=node.home.with_name(node.home.name + "-serve"),
        ready_path="/taxii2/",
        ready_headers=_auth(node),
    ) as server:
        if workers > 1:
            time.sleep(WORKERS_SETTLE)
        yield server


def objects_path(http: httpx.Client) -> str:
    """The objects URL path of the benchmark's collection, from the collections list."""
    response = http.get(API_ROOT + "collections/")
    response.raise_for_status()
    for collection in response.json().get("collections", []):
        if collection.get("title") == COLLECTION:
            return f"{API_ROOT}collections/{collection['id']}/objects/"
    raise RuntimeError(f"collection {COLLECTION!r} is not in {API_ROOT}collections/")
