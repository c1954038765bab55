"""Discovery, API root and status resources (TAXII 2.1 §4)."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from tests.taxii.helpers import TAXII, Server, indicator, make_server

pytestmark = pytest.mark.anyio


async def test_discovery_names_the_one_api_root(server: Server, client: httpx.AsyncClient) -> None:
    r = await client.get("/taxii2/", headers={"Accept": TAXII})
    body = r.json()
    assert body["title"] == "Accord node test"
    assert body["api_roots"] == ["http://testserver/api/v21/"]
    assert body["default"] == body["api_roots"][0]
    root = await client.get(body["api_roots"][0], headers={"Accept": TAXII})
    assert root.status_code == 200


async def test_discovery_follows_the_host_the_client_used(server: Server) -> None:
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(transport=transport, base_url="https://cti.example:8443") as c:
        r = await c.get("/taxii2/", headers={"Accept": TAXII})
    assert r.json()["api_roots"] == ["https://cti.example:8443/api/v21/"]


async def test_api_root_information(node: Any) -> None:
    server = make_server(node, taxii_title="CERT-X exchange", taxii_max_content_length=12345)
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get("/api/v21/", headers={"Accept": TAXII})
        d = await client.get("/taxii2/", headers={"Accept": TAXII})
    assert r.json()["title"] == d.json()["title"] == "CERT-X exchange"
    assert r.json()["versions"] == [TAXII]
    assert r.json()["max_content_length"] == 12345


async def test_status_with_and_without_trailing_slash(
    server: Server, client: httpx.AsyncClient
) -> None:
    r = await client.post(
        server.url("shared", "objects/"),
        headers={**server.auth("writer"), "Content-Type": TAXII},
        content=orjson.dumps({"objects": [indicator(1), {"type": "x"}]}),
    )
    posted = r.json()
    for url in (f"/api/v21/status/{posted['id']}/", f"/api/v21/status/{posted['id']}"):
        got = await client.get(url, headers=server.auth("writer"))
        assert got.status_code == 200, url
        assert got.headers["content-type"] == TAXII
        assert got.json() == posted
    assert posted["request_timestamp"].endswith("Z")
    assert (posted["success_count"], posted["failure_count"]) == (1, 1)
