"""Collections and one collection (TAXII 2.1 §5.1, §5.2); the manifest's records (§5.3)."""

from __future__ import annotations

import httpx
import pytest

from accord.service.taxii import format_us
from accord.store import PageQuery
from tests.taxii.helpers import STIX_MEDIA, Server, indicator, stamp

pytestmark = pytest.mark.anyio


async def test_one_collection(server: Server, client: httpx.AsyncClient) -> None:
    shared = server.collections["shared"]
    r = await client.get(server.url("shared"), headers=server.auth("reader"))
    assert r.json() == {
        "id": shared.id,
        "title": "shared",
        "can_read": True,
        "can_write": False,
        "media_types": [STIX_MEDIA],
    }
    c = server.node.store.create_collection("described", "ATT&CK for ICS")
    server.node.store.set_grant(c.pk, server.members["reader"].pk, True, True)
    r = await client.get(f"/api/v21/collections/{c.id}/", headers=server.auth("reader"))
    assert r.json()["description"] == "ATT&CK for ICS"
    assert r.json()["can_write"] is True
    r = await client.get("/api/v21/collections/", headers=server.auth("reader"))
    assert [x["id"] for x in r.json()["collections"]] == [
        shared.id,
        server.collections["public"].id,
        c.id,
    ]


async def test_manifest_records(server: Server, client: httpx.AsyncClient) -> None:
    server.add("shared", [indicator(1), indicator(1, stamp(30, "123456"))])
    page = server.node.store.collection_page(
        PageQuery(server.collections["shared"].pk, versions=("all",))
    )
    r = await client.get(
        server.url("shared", "manifest/"),
        headers=server.auth("reader"),
        params={"match[version]": "all"},
    )
    assert r.json() == {
        "more": False,
        "objects": [
            {
                "id": indicator(1)["id"],
                "date_added": format_us(item.date_added),
                "version": version,
                "media_type": STIX_MEDIA,
            }
            for item, version in zip(page.items, (stamp(0), stamp(30, "123456")), strict=True)
        ],
    }
    assert r.headers["x-taxii-date-added-last"] == format_us(page.items[-1].date_added)


async def test_an_observable_has_its_date_added_as_version(
    server: Server, client: httpx.AsyncClient
) -> None:
    sco = {
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
        "value": "198.51.100.3",
    }
    server.add("shared", [sco])
    r = await client.get(server.url("shared", "manifest/"), headers=server.auth("reader"))
    record = r.json()["objects"][0]
    assert record["version"] == record["date_added"]
    r = await client.get(
        server.url("shared", f"objects/{sco['id']}/versions/"), headers=server.auth("reader")
    )
    assert r.json()["versions"] == [record["date_added"]]
