"""The TAXII app in-process (httpx.ASGITransport) on each backend."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from accord.service.node import Node
from tests.taxii.helpers import Server, make_server


@pytest.fixture
def anyio_backend() -> str:
    """The TAXII tests run on asyncio (what uvicorn runs)."""
    return "asyncio"


@pytest.fixture
def server(node: Node) -> Server:
    """The TAXII app over a fresh node (each backend), pages of at most 1000."""
    return make_server(node)


@pytest.fixture
async def client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client calling the app in-process."""
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
