"""Objects (TAXII 2.1 §5.4 to 5.8): every filter and their combinations, against an oracle.

The oracle is a plain Python model of the collection (every version with its
date_added, read from the store) and of the filter rules; each combination is
fetched through the app, following ``next`` with a small page, and must give
exactly the oracle's versions in the oracle's order.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from accord.service.node import Node
from accord.service.taxii import format_us
from accord.stix import version_key
from accord.store import PageQuery
from tests.taxii.helpers import TAXII, Server, indicator, make_server, malware, oid, stamp

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class Version:
    date_added: int
    id: str
    type: str
    version: str  # the version key
    spec_version: str


def populate(server: Server) -> list[Version]:
    """Five indicators (the first with three versions, the second with two), two malware."""
    server.add("shared", [indicator(n) for n in range(1, 6)])
    server.add("shared", [malware(1), indicator(1, stamp(10)), indicator(2, stamp(5, "5000"))])
    server.add("shared", [malware(2), indicator(1, stamp(20))])
    # Another collection's objects must never show.
    server.add("hidden", [indicator(99), malware(99)])
    page = server.node.store.collection_page(
        PageQuery(server.collections["shared"].pk, versions=("all",), limit=10_000)
    )
    return [
        Version(i.date_added, i.obj.id, i.obj.type, i.obj.version, i.obj.spec_version)
        for i in page.items
    ]


def oracle(
    versions: list[Version],
    *,
    ids: tuple[str, ...] = (),
    types: tuple[str, ...] = (),
    match_version: tuple[str, ...] = ("last",),
    spec: tuple[str, ...] = (),
    added_after: int | None = None,
) -> list[Version]:
    """What TAXII 2.1 §3.4 selects: every filter ANDed, the values of one ORed."""
    pool = [v for v in versions if not spec or v.spec_version in spec]
    newest = {v.id: max(w.version for w in pool if w.id == v.id) for v in pool}
    oldest = {v.id: min(w.version for w in pool if w.id == v.id) for v in pool}
    keys = {version_key(t) for t in match_version if t not in ("last", "first", "all")}

    def chosen(v: Version) -> bool:
        return (
            "all" in match_version
            or ("last" in match_version and v.version == newest[v.id])
            or ("first" in match_version and v.version == oldest[v.id])
            or v.version in keys
        )

    return [
        v
        for v in pool
        if (not ids or v.id in ids)
        and (not types or v.type in types)
        and (added_after is None or v.date_added > added_after)
        and chosen(v)
    ]


async def walk(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], params: dict[str, str], key: str
) -> tuple[list[Any], list[httpx.Response]]:
    """Follow ``next`` to the end; every item of ``key`` and every response."""
    items: list[Any] = []
    responses: list[httpx.Response] = []
    query = dict(params)
    for _ in range(100):
        r = await client.get(url, headers=headers, params=query)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == TAXII
        responses.append(r)
        body = r.json()
        items.extend(body.get(key, []))
        if not body.get("more"):
            assert "next" not in body
            return items, responses
        assert body["next"]
        query = {**params, "next": body["next"]}
    raise AssertionError("pagination did not end")


def page_headers_agree(responses: list[httpx.Response], key: str) -> None:
    for r in responses:
        items = r.json().get(key, [])
        if not items:
            assert "x-taxii-date-added-first" not in r.headers
            continue
        assert r.headers["x-taxii-date-added-first"] <= r.headers["x-taxii-date-added-last"]


ID_CHOICES: list[tuple[str, ...]] = [(), (oid("indicator", 1), oid("malware", 2))]
TYPE_CHOICES: list[tuple[str, ...]] = [(), ("malware",), ("indicator", "malware")]
VERSION_CHOICES: list[tuple[str, ...]] = [
    ("last",),
    ("first",),
    ("all",),
    (stamp(10),),
    ("first", "last"),
    (stamp(5, "5000"), stamp(20)),
]
SPEC_CHOICES: list[tuple[str, ...]] = [(), ("2.0",), ("2.0", "2.1")]


async def test_every_filter_combination_of_get_objects_and_manifest(
    server: Server, client: httpx.AsyncClient
) -> None:
    versions = populate(server)
    middle = versions[len(versions) // 2].date_added
    headers = server.auth("reader")
    checked = 0
    for ids, types, match_version, spec, added_after in itertools.product(
        ID_CHOICES, TYPE_CHOICES, VERSION_CHOICES, SPEC_CHOICES, (None, middle)
    ):
        expected = oracle(
            versions,
            ids=ids,
            types=types,
            match_version=match_version,
            spec=spec,
            added_after=added_after,
        )
        params = {"limit": "3"}
        if ids:
            params["match[id]"] = ",".join(ids)
        if types:
            params["match[type]"] = ",".join(types)
        if match_version != ("last",):
            params["match[version]"] = ",".join(match_version)
        if spec:
            params["match[spec_version]"] = ",".join(spec)
        if added_after is not None:
            params["added_after"] = format_us(added_after)
        objects, responses = await walk(
            client, server.url("shared", "objects/"), headers, params, "objects"
        )
        got = [(o["id"], version_key(o["modified"])) for o in objects]
        assert got == [(v.id, v.version) for v in expected], params
        page_headers_agree(responses, "objects")
        records, _ = await walk(
            client, server.url("shared", "manifest/"), headers, params, "objects"
        )
        assert [(r["id"], r["date_added"]) for r in records] == [
            (v.id, format_us(v.date_added)) for v in expected
        ], params
        checked += bool(expected)
    assert checked > 100  # most combinations select something: the test is not vacuous


async def test_default_is_the_last_version_of_each_object(
    server: Server, client: httpx.AsyncClient
) -> None:
    populate(server)
    r = await client.get(server.url("shared", "objects/"), headers=server.auth("reader"))
    body = r.json()
    assert body["more"] is False
    assert "next" not in body
    by_id = {o["id"]: o["modified"] for o in body["objects"]}
    assert len(body["objects"]) == len(by_id) == 7
    assert by_id[oid("indicator", 1)] == stamp(20)
    assert by_id[oid("indicator", 2)] == stamp(5, "5000")
    assert oid("indicator", 99) not in by_id


async def test_objects_are_served_as_stored_bytes(
    server: Server, client: httpx.AsyncClient
) -> None:
    populate(server)
    stored = server.node.store.collection_page(
        PageQuery(server.collections["shared"].pk, limit=1000)
    )
    r = await client.get(server.url("shared", "objects/"), headers=server.auth("reader"))
    expected = b'{"more":false,"objects":[' + b",".join(i.obj.data for i in stored.items) + b"]}"
    assert r.content == expected


async def test_date_added_headers_are_the_first_and_last_of_the_page(
    server: Server, client: httpx.AsyncClient
) -> None:
    versions = populate(server)
    r = await client.get(
        server.url("shared", "objects/"),
        headers=server.auth("reader"),
        params={"match[version]": "all", "limit": "4"},
    )
    assert r.headers["x-taxii-date-added-first"] == format_us(versions[0].date_added)
    assert r.headers["x-taxii-date-added-last"] == format_us(versions[3].date_added)
    assert r.json()["next"]


async def test_empty_selection_is_an_empty_envelope(
    server: Server, client: httpx.AsyncClient
) -> None:
    populate(server)
    for path in ("objects/", "manifest/"):
        r = await client.get(
            server.url("shared", path),
            headers=server.auth("reader"),
            params={"match[type]": "campaign"},
        )
        assert r.status_code == 200
        assert r.json() == {"more": False}
        assert "x-taxii-date-added-first" not in r.headers


async def test_limit_is_capped_by_the_server_maximum(node: Node) -> None:
    server = make_server(node, taxii_max_page=4)
    server.add("shared", [indicator(n) for n in range(10)])
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get(
            server.url("shared", "objects/"), headers=server.auth("reader"), params={"limit": "50"}
        )
        assert len(r.json()["objects"]) == 4
        assert r.json()["more"] is True
        r = await client.get(server.url("shared", "objects/"), headers=server.auth("reader"))
        assert len(r.json()["objects"]) == 4
        r = await client.get(
            server.url("shared", "objects/"), headers=server.auth("reader"), params={"limit": "2"}
        )
        assert len(r.json()["objects"]) == 2


# -- one object, its versions, deleting it ------------------------------------------


async def test_get_an_object_and_its_versions(server: Server, client: httpx.AsyncClient) -> None:
    versions = populate(server)
    headers = server.auth("reader")
    one = server.url("shared", f"objects/{oid('indicator', 1)}/")
    r = await client.get(one, headers=headers)
    assert [o["modified"] for o in r.json()["objects"]] == [stamp(20)]
    r = await client.get(one, headers=headers, params={"match[version]": "all", "limit": "2"})
    assert [o["modified"] for o in r.json()["objects"]] == [stamp(0), stamp(10)]
    assert r.json()["more"] is True
    r = await client.get(one, headers=headers, params={"match[version]": "first"})
    assert [o["modified"] for o in r.json()["objects"]] == [stamp(0)]
    r = await client.get(one, headers=headers, params={"match[version]": stamp(10)})
    assert [o["modified"] for o in r.json()["objects"]] == [stamp(10)]
    # A filter that selects nothing of an object that is there: 200, empty.
    r = await client.get(one, headers=headers, params={"match[spec_version]": "2.0"})
    assert r.status_code == 200
    assert r.json() == {"more": False}
    listed, responses = await walk(client, one + "versions/", headers, {"limit": "2"}, "versions")
    assert listed == [stamp(0), stamp(10), stamp(20)]
    mine = [v for v in versions if v.id == oid("indicator", 1)]
    assert responses[0].headers["x-taxii-date-added-first"] == format_us(mine[0].date_added)
    after = {"added_after": format_us(mine[0].date_added)}
    listed, _ = await walk(client, one + "versions/", headers, after, "versions")
    assert listed == [stamp(10), stamp(20)]
    # Versions keep the precision STIX asks for: at least milliseconds.
    two = server.url("shared", f"objects/{oid('indicator', 2)}/versions/")
    assert (await client.get(two, headers=headers)).json()["versions"] == [
        stamp(0),
        stamp(5, "500"),
    ]


@pytest.mark.parametrize(
    "object_id", [oid("indicator", 42), oid("indicator", 99), "not-an-id", "indicator--x"]
)
async def test_an_absent_object_is_404(
    server: Server, client: httpx.AsyncClient, object_id: str
) -> None:
    populate(server)  # indicator 99 is in another collection: absent from this one
    for tail in (f"objects/{object_id}/", f"objects/{object_id}/versions/"):
        r = await client.get(server.url("shared", tail), headers=server.auth("reader"))
        assert r.status_code == 404, (tail, r.text)
        assert r.json()["http_status"] == "404"


async def test_delete_takes_every_version_out_by_default(
    server: Server, client: httpx.AsyncClient
) -> None:
    populate(server)
    server.add("public", [indicator(1, stamp(20))])  # the same version in another collection
    one = server.url("shared", f"objects/{oid('indicator', 1)}/")
    r = await client.delete(one, headers=server.auth("writer"))
    assert r.status_code == 200
    assert r.content == b""
    r = await client.get(one, headers=server.auth("writer"))
    assert r.status_code == 404
    r = await client.get(
        server.url("shared", "manifest/"),
        headers=server.auth("writer"),
        params={"match[version]": "all"},
    )
    assert oid("indicator", 1) not in {m["id"] for m in r.json()["objects"]}
    # The other collection keeps its copy.
    r = await client.get(server.url("public", f"objects/{oid('indicator', 1)}/"))
    assert r.status_code == 200
    r = await client.delete(one, headers=server.auth("writer"))
    assert r.status_code == 404


async def test_delete_one_version(server: Server, client: httpx.AsyncClient) -> None:
    populate(server)
    one = server.url("shared", f"objects/{oid('indicator', 1)}/")
    r = await client.delete(one, headers=server.auth("writer"), params={"match[version]": "last"})
    assert r.status_code == 200
    r = await client.get(one + "versions/", headers=server.auth("writer"))
    assert r.json()["versions"] == [stamp(0), stamp(10)]
    r = await client.delete(one, headers=server.auth("writer"), params={"match[version]": stamp(0)})
    assert r.status_code == 200
    r = await client.get(one, headers=server.auth("writer"))
    assert [o["modified"] for o in r.json()["objects"]] == [stamp(10)]
    r = await client.delete(one, headers=server.auth("writer"), params={"match[version]": stamp(0)})
    assert r.status_code == 404


# -- Add Objects ----------------------------------------------------------------------


async def test_add_objects_reports_each_object(server: Server, client: httpx.AsyncClient) -> None:
    server.add("shared", [indicator(7), indicator(8)])
    good = [indicator(1), malware(1), indicator(8)]  # indicator 8: already stored, a success
    conflicting = indicator(7, name="another name, same version")
    bad = [
        {"type": "indicator", "id": oid("indicator", 3)},  # missing properties
        {"no": "type"},
        "not an object",
        conflicting,
    ]
    r = await client.post(
        server.url("shared", "objects/"),
        headers={**server.auth("writer"), "Content-Type": TAXII},
        content=orjson.dumps({"objects": good + bad}),
    )
    assert r.status_code == 202
    assert r.headers["content-type"] == TAXII
    status = r.json()
    assert status["status"] == "complete"
    assert (status["total_count"], status["success_count"]) == (7, 3)
    assert (status["failure_count"], status["pending_count"]) == (4, 0)
    assert [s["id"] for s in status["successes"]] == [o["id"] for o in good]
    assert all(s["version"] == stamp(0) for s in status["successes"])
    failures = status["failures"]
    assert [f["id"] for f in failures] == [oid("indicator", 3), "", "", oid("indicator", 7)]
    assert "object 3 of the envelope" in failures[0]["message"]
    assert ".created: is required" in failures[0]["message"]  # the reason, with the property
    assert "already stored" in failures[3]["message"]
    # The valid ones are stored and served; the status can be read back, identical.
    r2 = await client.get(server.url("shared", "objects/"), headers=server.auth("writer"))
    assert {o["id"] for o in r2.json()["objects"]} == {oid("indicator", n) for n in (1, 7, 8)} | {
        oid("malware", 1)
    }
    r3 = await client.get(f"/api/v21/status/{status['id']}/", headers=server.auth("writer"))
    assert r3.status_code == 200
    assert r3.content == r.content


async def test_a_bundle_is_an_envelope_too(server: Server, client: httpx.AsyncClient) -> None:
    bundle = {"type": "bundle", "id": oid("bundle", 1), "objects": [indicator(1)]}
    r = await client.post(
        server.url("shared", "objects/"),
        headers={**server.auth("writer"), "Content-Type": "application/taxii+json"},
        content=orjson.dumps(bundle),
    )
    assert r.status_code == 202
    assert r.json()["success_count"] == 1


async def test_an_empty_envelope_is_accepted(server: Server, client: httpx.AsyncClient) -> None:
    r = await client.post(
        server.url("shared", "objects/"),
        headers={**server.auth("writer"), "Content-Type": TAXII},
        content=b'{"objects": []}',
    )
    assert r.status_code == 202
    assert (r.json()["total_count"], r.json()["success_count"]) == (0, 0)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"", 400),
        (b"\xff\xfe", 400),
        (b"[]", 422),
        (b'{"type": "bundle"}', 422),
        (b'{"objects": {"a": 1}}', 422),
        (b'{"objects": "x"}', 422),
    ],
)
async def test_a_body_that_is_no_envelope_is_refused(
    server: Server, client: httpx.AsyncClient, body: bytes, status: int
) -> None:
    r = await client.post(
        server.url("shared", "objects/"),
        headers={**server.auth("writer"), "Content-Type": TAXII},
        content=body,
    )
    assert r.status_code == status, r.text
    assert r.json()["http_status"] == str(status)
    r = await client.get(server.url("shared", "objects/"), headers=server.auth("writer"))
    assert r.json() == {"more": False}
