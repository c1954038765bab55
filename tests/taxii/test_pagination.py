"""Pagination (TAXII 2.1 §3.4): following ``next`` never skips or repeats, even while
objects arrive between pages; bodies over max_content_length are refused (413)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from accord.service.node import Node
from accord.store import PageQuery
from tests.taxii.helpers import TAXII, Server, indicator, make_server, malware, stamp

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("match_version", ["last", "all"])
async def test_no_skip_no_repeat_while_objects_arrive(
    server: Server, client: httpx.AsyncClient, match_version: str
) -> None:
    server.add("shared", [indicator(n) for n in range(120)])
    served: list[tuple[str, str]] = []
    params = {"limit": "7", "match[version]": match_version}
    arrivals = 0
    for page_number in range(200):
        r = await client.get(
            server.url("shared", "objects/"), headers=server.auth("reader"), params=params
        )
        body = r.json()
        served += [(o["id"], o["modified"]) for o in body.get("objects", [])]
        if not body["more"]:
            break
        params["next"] = body["next"]
        if page_number < 20:
            # Between pages: a new object, a new version of one already served,
            # a new version of one not served yet.
            second = page_number + 1
            server.add(
                "shared",
                [
                    malware(page_number),
                    indicator(page_number, stamp(second)),
                    indicator(119 - page_number, stamp(second)),
                ],
            )
            arrivals += 3
    assert arrivals == 60
    assert len(served) == len(set(served)), "a version was served twice"
    everything = server.node.store.collection_page(
        PageQuery(server.collections["shared"].pk, versions=(match_version,), limit=10_000)
    )
    final = {(i.obj.id, orjson.loads(i.obj.data)["modified"]) for i in everything.items}
    # Every version the collection selects at the end was served...
    assert final <= set(served)
    if match_version == "all":
        assert set(served) == final  # ...and with "all", nothing else.
    else:
        # With "last", only versions that were the last one when their page was read.
        assert {oid for oid, _ in served} == {oid for oid, _ in final}


async def test_limit_and_next_walk_the_whole_collection_in_order(
    server: Server, client: httpx.AsyncClient
) -> None:
    server.add("shared", [indicator(n) for n in range(25)])
    order = [
        i.obj.id
        for i in server.node.store.collection_page(PageQuery(server.collections["shared"].pk)).items
    ]
    got: list[str] = []
    params: dict[str, str] = {"limit": "10"}
    pages = 0
    while True:
        body = (
            await client.get(
                server.url("shared", "objects/"), headers=server.auth("reader"), params=params
            )
        ).json()
        pages += 1
        got += [o["id"] for o in body["objects"]]
        if not body["more"]:
            break
        params["next"] = body["next"]
    assert got == order
    assert pages == 3


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_a_body_over_max_content_length_is_413(node: Node) -> None:
    objects = [indicator(n) for n in range(20)]
    body = orjson.dumps({"objects": objects})
    server = make_server(node, taxii_max_content_length=len(body) - 1)
    url = server.url("shared", "objects/")
    headers = {**server.auth("writer"), "Content-Type": TAXII}
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        # Declared too large: refused before reading.
        r = await client.post(url, headers=headers, content=body)
        assert r.status_code == 413
        assert r.json()["details"]["max_content_length"] == len(body) - 1
        assert r.headers["connection"] == "close"
        # Chunked, without a length: counted as it arrives.
        r = await client.post(url, headers=headers, content=_chunks(body, 100))
        assert r.status_code == 413
        # A declared length that lies low is caught by the count too.
        lying: dict[str, Any] = {**headers, "Content-Length": "10"}
        r = await client.post(url, headers=lying, content=_chunks(body, 100))
        assert r.status_code == 413
        assert (await client.get(url, headers=headers)).json() == {"more": False}
        # One byte less fits.
        small = orjson.dumps({"objects": objects[:19]})
        r = await client.post(url, headers=headers, content=_chunks(small, 100))
        assert r.status_code == 202
        assert r.json()["success_count"] == 19


async def test_a_content_length_that_is_no_number_is_400(
    server: Server, client: httpx.AsyncClient
) -> None:
    r = await client.post(
        server.url("shared", "objects/"),
        headers={**server.auth("writer"), "Content-Type": TAXII, "Content-Length": "x"},
        content=_chunks(b'{"objects": []}', 4),
    )
    assert r.status_code == 400
