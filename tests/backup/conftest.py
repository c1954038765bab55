"""Nodes with real data to back up.

A PostgreSQL backup restores into the schema it was dumped from: the tests drop
the original's schema and restore into it through the same URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from accord.service import sharing
from accord.service.ingest import import_paths
from accord.service.node import Node
from tests.conftest import NodeFactory

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
