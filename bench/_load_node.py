"""The node under load: its collections, members and tokens, and the server's processes.

A fresh node is made in-process through Accord's services (``init_node``, collections,
members, tokens, grants), as ``accord init`` / ``accord member add`` / ``accord token
create`` / ``accord collection grant`` would make it, because the benchmark needs over
two hundred tokens; the partners' collection is filled by ``accord import`` of real STIX.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from accord.service.node import init_node, open_node
from accord.service.sharing import create_collection, grant
from accord.settings import load_settings

READ = "partners"  # paged by the readers; no writes during the run
WRITE = "inbox"  # the writers' envelopes; pulled by the peers
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Tokens:
    """The members of each role and their tokens (name → token)."""

    readers: dict[str, str] = field(default_factory=dict)
    writers: dict[str, str] = field(default_factory=dict)
    peers: dict[str, str] = field(default_factory=dict)
    read_id: str = ""
    write_id: str = ""


def populate(env: dict[str, str], readers: int, writers: int, peers: int) -> Tokens:
    """Make the node in ``env["ACCORD_HOME"]`` with its collections and members.

    Readers share ten members (partners run several clients each), writers five; every
    peer is a member of its own.
    """
    settings = load_settings(env)
    init_node(settings, "loaded")
    tokens = Tokens()
    with open_node(settings) as node:
        tokens.read_id = create_collection(node, READ).id
        tokens.write_id = create_collection(node, WRITE).id
        for role, count, kinds in (
            ("reader", min(readers, 10), (READ,)),
            ("writer", min(writers, 5), (WRITE,)),
            ("peer", peers, (WRITE,)),
        ):
            for i in range(count):
                name = f"{role}-{i}"
                member = node.store.create_member(name)
                secret = node.store.create_token(member.pk)[0]
                for title in kinds:
                    grant(node, title, name, read=True, write=role == "writer")
                getattr(tokens, role + "s")[name] = secret
    return tokens


def stored_versions(database_url: str, collection_title: str) -> dict[str, int]:
    """How many versions of each object id a collection of the node's store holds."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT o.id, count(*) FROM objects o"
                    " JOIN collection_objects co ON co.object_added = o.added"
                    " JOIN collections c ON c.pk = co.collection_pk"
                    " WHERE c.title = :title GROUP BY o.id"
                ),
                {"title": collection_title},
            ).all()
    finally:
        engine.dispose()
    return {str(oid): int(n) for oid, n in rows}


# --- the server's processes, from /proc ------------------------------------------------


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            text_ = Path(f"/proc/{pid}/task/{task}/children").read_text(encoding="ascii")
        except OSError:
            continue
        found.extend(int(c) for c in text_.split())
    return found


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (not ``pid`` itself)."""
    out: list[int] = []
    todo = _children(pid)
    while todo:
        child = todo.pop()
        out.append(child)
        todo.extend(_children(child))
    return out


def rss_bytes(pids: list[int]) -> int:
    """The resident set size of these processes, summed."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/statm").read_text(encoding="ascii").split()
        except OSError:
            continue
        total += int(fields[1]) * PAGE_SIZE
    return total


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds of these processes so far, summed."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total
