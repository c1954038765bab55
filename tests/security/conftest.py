"""A real uvicorn server on loopback over a fresh SQLite node, for the security tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from accord.service import egress
from tests.conftest import NodeFactory
from tests.taxii.helpers import Server, make_server
from tests.taxii.live import running


@dataclass
class Live:
    """The node's fixtures (collections, members, tokens) and its base URL."""

    server: Server
    base: str

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=10)


def agree(server: Server, member: str, text: str) -> None:
    """A sharing agreement for one member (as the owner writes it in agreements/)."""
    folder = egress.agreements_dir(server.node)
    folder.mkdir(exist_ok=True)
    (folder / f"{member}.toml").write_text(f'members = ["{member}"]\n' + text)


@pytest.fixture
def live(make_node: NodeFactory) -> Iterator[Live]:
    """A node served over real HTTP: see `tests.taxii.helpers.Server` for who may see what."""
    server = make_server(make_node(), taxii_max_page=2, taxii_max_content_length=1024 * 1024)
    with running(server.app, server.app.state.taxii.settings) as base:
        yield Live(server, base)
