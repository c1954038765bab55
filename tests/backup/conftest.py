"""Nodes with real data to back up, and empty targets to restore them into.

A PostgreSQL backup restores into the schema it was dumped from, so its target
is a fresh database of the same server (made here, dropped afterwards) whose
search_path names that schema.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from accord.service import sharing
from accord.service.ingest import import_paths
from accord.service.node import Node
from accord.settings import Settings
from tests.conftest import NodeFactory, settings_for

# A slice of the ESET events converted to STIX 2.1 by misp-stix: some hundreds of objects.
ESET_SLICE = 3


@dataclass
class Filled:
    """A node with real data in a collection a member may read."""

    node: Node
    collection: str  # its id
    token: str  # the member ``reader``'s


def fill(node: Node, shared_data: Path) -> Filled:
    """Import a slice of ../shared/data into collection ``eset``; a member who reads it."""
    files = sorted((shared_data / "eset" / "stix21").glob("*.json"))[:ESET_SLICE]
    if not files:
        pytest.skip(f"no ESET STIX 2.1 bundles under {shared_data / 'eset' / 'stix21'}")
    report = import_paths(node, [str(f) for f in files], collection="eset")
    assert report.stored > 100, report
    collection = node.store.collection("eset")
    sharing.add_member(node, "reader")
    sharing.grant(node, "eset", "reader", read=True, write=False)
    token, _ = sharing.create_token(node, "reader")
    return Filled(node, collection.id, token)


@pytest.fixture
def filled(make_node: NodeFactory, backend: str, shared_data: Path) -> Filled:
    """A node of each backend holding a real slice."""
    return fill(make_node("" if backend.startswith("sqlite") else backend), shared_data)


@pytest.fixture
def target(
    tmp_path: Path, postgres_server_if: Callable[[], str]
) -> Iterator[Callable[[Node], Settings]]:
    """Settings of an empty node for a restore of a node: a new home, an empty database."""
    made: list[str] = []
    server: list[str] = []

    def factory(original: Node) -> Settings:
        home = tmp_path / f"restored-{len(made)}-{uuid.uuid4().hex[:6]}"
        url = original.settings.database_url
        if not url:
            return settings_for(home)
        conninfo = postgres_server_if()
        server[:] = [conninfo]
        name = f"accord_r_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return settings_for(home, make_url(url).set(database=name).render_as_string(False))

    yield factory
    if made:
        with psycopg.connect(server[0], autocommit=True) as conn:
            for name in made:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_server_if(request: pytest.FixtureRequest) -> Callable[[], str]:
    """The PostgreSQL conninfo, asked only by a test that uses PostgreSQL."""
    return lambda: str(request.getfixturevalue("postgres_server"))
