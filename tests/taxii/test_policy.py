"""Sharing agreements on TAXII egress, asserted on the raw response bytes: objects,
manifest, object, versions; pages, ``more``/``next`` and the date headers never count
or hint at a withheld object; other members stay confidential."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.policy import TLP2_ID_OF, Tlp, tlp_of_refs
from accord.service import egress
from accord.service.taxii import format_us
from accord.store import PageQuery
from tests.policy.objects import email_addr, indicator
from tests.taxii.helpers import TAXII, Server, envelope, post_headers

pytestmark = pytest.mark.anyio

READER = 'members = ["reader"]\ncollections = ["shared"]\n'


def _agree(server: Server, text: str, name: str = "reader") -> None:
    folder = egress.agreements_dir(server.node)
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.toml").write_text(text)


async def _all_pages(
    client: httpx.AsyncClient, server: Server, tail: str, limit: int, member: str = "reader"
) -> list[httpx.Response]:
    pages: list[httpx.Response] = []
    params = {"limit": str(limit)}
    while True:
        r = await client.get(server.url("shared", tail), headers=server.auth(member), params=params)
        assert r.status_code == 200, r.text
        pages.append(r)
        body = r.json()
        if not body.get("more"):
            return pages
        params["next"] = body["next"]


def _added(server: Server) -> dict[str, int]:
    page = server.node.store.collection_page(
        PageQuery(server.collections["shared"].pk, versions=("all",), limit=10_000)
    )
    return {i.obj.id: i.date_added for i in page.items}


async def test_pages_serve_exactly_what_the_agreement_allows(
    server: Server, client: httpx.AsyncClient
) -> None:
    levels = [Tlp.CLEAR, Tlp.RED, Tlp.RED, Tlp.GREEN, Tlp.AMBER, Tlp.RED, Tlp.GREEN]
    objs = [indicator(n, level) for n, level in enumerate(levels)]
    objs.append(indicator(20, Tlp.GREEN, description="mail bob@victim.example"))
    objs += [indicator(30 + n, Tlp.RED) for n in range(5)]  # withheld, at the end
    server.add("shared", objs)
    _agree(server, READER + 'tlp_ceiling = "green"\n[redact]\npersonal = ["email"]\n')
    allowed = [
        o["id"] for o in objs if (tlp_of_refs(o["object_marking_refs"]) or Tlp.AMBER) <= Tlp.GREEN
    ]
    withheld = [o["id"] for o in objs if o["id"] not in allowed]
    added = _added(server)
    for tail in ("objects/", "manifest/"):
        pages = await _all_pages(client, server, tail, limit=2)
        served: list[str] = []
        for r in pages:
            raw = r.content
            for oid in withheld:
                assert oid.encode() not in raw
            assert b"bob@victim.example" not in raw
            body = r.json()
            ids = [o["id"] for o in body.get("objects", [])]
            served += ids
            if body["more"]:
                # A page that promises more is full, and next is its last served object.
                assert len(ids) == 2 and body["next"] == str(added[ids[-1]])
            if ids:
                assert r.headers["X-TAXII-Date-Added-First"] == format_us(added[ids[0]])
                assert r.headers["X-TAXII-Date-Added-Last"] == format_us(added[ids[-1]])
        assert served == allowed, tail
        # The five withheld objects at the end do not make a last, empty page.
        assert pages[-1].json().get("objects")
    r = await client.get(server.url("shared", "objects/"), headers=server.auth("reader"))
    assert b"[redacted-email]" in r.content
    # The writer has no agreement: its grant alone decides (ACCORD_POLICY_UNCOVERED=share).
    r = await client.get(server.url("shared", "objects/"), headers=server.auth("writer"))
    assert len(r.json()["objects"]) == len(objs)


async def test_a_withheld_object_is_not_found(server: Server, client: httpx.AsyncClient) -> None:
    red, green = indicator(1, Tlp.RED), indicator(2, Tlp.GREEN)
    server.add("shared", [red, green])
    _agree(server, READER + 'tlp_ceiling = "green"\n')
    missing = indicator(99)["id"]
    for tail in ("", "versions/"):
        r = await client.get(
            server.url("shared", f"objects/{red['id']}/{tail}"), headers=server.auth("reader")
        )
        absent = await client.get(
            server.url("shared", f"objects/{missing}/{tail}"), headers=server.auth("reader")
        )
        assert r.status_code == absent.status_code == 404
        assert r.content.replace(red["id"].encode(), b"X") == absent.content.replace(
            missing.encode(), b"X"
        )
        ok = await client.get(
            server.url("shared", f"objects/{green['id']}/{tail}"), headers=server.auth("reader")
        )
        assert ok.status_code == 200
    # Another member, with no agreement, still reads it.
    r = await client.get(
        server.url("shared", f"objects/{red['id']}/"), headers=server.auth("writer")
    )
    assert r.status_code == 200


async def test_other_members_stay_confidential(server: Server, client: httpx.AsyncClient) -> None:
    writer = server.members["writer"]
    identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": writer.identity_id,
        "created": "2024-05-01T00:00:00.000Z",
        "modified": "2024-05-01T00:00:00.000Z",
        "name": "Writer CERT",
    }
    by_writer = indicator(3, Tlp.CLEAR, created_by_ref=writer.identity_id)
    sighting = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": "sighting--ee20065d-2555-424f-ad9e-0f8428623c75",
        "created": "2024-05-01T00:00:00.000Z",
        "modified": "2024-05-01T00:00:00.000Z",
        "sighting_of_ref": by_writer["id"],
        "object_marking_refs": [TLP2_ID_OF[Tlp.CLEAR]],
    }
    r = await client.post(
        server.url("shared", "objects/"),
        headers=post_headers(server, "writer"),
        content=envelope([identity, by_writer, sighting]),
    )
    assert r.status_code == 202 and r.json()["success_count"] == 3
    _agree(server, READER + 'tlp_ceiling = "amber"\nunmarked_tlp = "clear"\n')
    r = await client.get(server.url("shared", "objects/"), headers=server.auth("reader"))
    raw = r.content
    assert writer.identity_id.encode() not in raw and b"Writer CERT" not in raw
    assert sighting["id"].encode() not in raw
    assert [o["id"] for o in r.json()["objects"]] == [by_writer["id"]]
    assert r.json()["objects"][0]["created_by_ref"] == server.node.info.id


async def test_personal_objects_stay_home(server: Server, client: httpx.AsyncClient) -> None:
    victim = email_addr("carol@victim.example")
    server.add("shared", [victim, indicator(1, Tlp.CLEAR)])
    _agree(server, READER + 'tlp_ceiling = "amber"\n[redact]\npersonal = ["all"]\n')
    r = await client.get(server.url("shared", "objects/"), headers=server.auth("reader"))
    assert b"carol@victim.example" not in r.content and victim["id"].encode() not in r.content
    assert len(r.json()["objects"]) == 1


_levels = st.lists(st.sampled_from([*list(Tlp), None]), min_size=1, max_size=12)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(levels=_levels, ceiling=st.sampled_from(list(Tlp)), limit=st.integers(1, 4))
async def test_nothing_above_the_ceiling_in_any_page(
    server: Server, client: httpx.AsyncClient, levels: list[Tlp | None], ceiling: Tlp, limit: int
) -> None:
    base = len(_added(server)) + 100
    objs: list[dict[str, Any]] = [indicator(base + n, level) for n, level in enumerate(levels)]
    server.add("shared", objs)
    _agree(server, READER + f'tlp_ceiling = "{ceiling.name.lower().replace("_", "+")}"\n')
    pages = await _all_pages(client, server, "objects/", limit)
    raw = b"".join(p.content for p in pages)
    for o in objs:
        level = tlp_of_refs(o.get("object_marking_refs", ())) or Tlp.AMBER
        assert (o["id"].encode() in raw) is (level <= ceiling), (level, ceiling)
    for p in pages[:-1]:
        assert len(p.json()["objects"]) == limit
    assert orjson.loads(pages[-1].content)["more"] is False


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    levels=_levels,
    links=st.lists(
        st.tuples(st.integers(0, 11), st.integers(0, 11), st.sampled_from(list(Tlp))),
        max_size=6,
    ),
    ceiling=st.sampled_from(list(Tlp)),
)
async def test_no_reference_to_a_withheld_object_in_any_page(
    server: Server,
    client: httpx.AsyncClient,
    levels: list[Tlp | None],
    links: list[tuple[int, int, Tlp]],
    ceiling: Tlp,
) -> None:
    base = len(_added(server)) + 1000
    objs: list[dict[str, Any]] = [indicator(base + n, level) for n, level in enumerate(levels)]
    rels: list[dict[str, Any]] = []
    for k, (a, b, level) in enumerate(links):
        src, dst = objs[a % len(objs)], objs[b % len(objs)]
        rels.append(
            {
                "type": "relationship",
                "spec_version": "2.1",
                "id": f"relationship--{base + k:08x}-2222-4222-8222-222222222222",
                "created": "2024-05-01T00:00:00.000Z",
                "modified": "2024-05-01T00:00:00.000Z",
                "relationship_type": "related-to",
                "source_ref": src["id"],
                "target_ref": dst["id"],
                "object_marking_refs": [TLP2_ID_OF[level]],
            }
        )
    server.add("shared", [*objs, *rels])
    _agree(server, READER + f'tlp_ceiling = "{ceiling.name.lower().replace("_", "+")}"\n')
    raw = b"".join(p.content for p in await _all_pages(client, server, "objects/", 3))

    def shared(o: dict[str, Any]) -> bool:
        return (tlp_of_refs(o.get("object_marking_refs", ())) or Tlp.AMBER) <= ceiling

    for o in objs:  # a withheld indicator is not even named by a relationship
        assert (o["id"].encode() in raw) is shared(o)
    by_id = {o["id"]: o for o in objs}
    for r in rels:
        goes = shared(r) and shared(by_id[r["source_ref"]]) and shared(by_id[r["target_ref"]])
        assert (r["id"].encode() in raw) is goes


async def test_anonymous_readers_are_covered_only_through_a_star(
    server: Server, client: httpx.AsyncClient
) -> None:
    public = server.collections["public"]
    objs = [indicator(1, Tlp.CLEAR), indicator(2, Tlp.GREEN)]
    server.add("public", objs)
    url = server.url("public", "objects/")
    headers = {"Accept": TAXII}
    _agree(server, 'members = ["reader"]\ntlp_ceiling = "clear"\n')
    r = await client.get(url, headers=headers)
    assert len(r.json()["objects"]) == 2  # a named agreement does not cover anonymous readers
    _agree(
        server, f'members = ["*"]\ncollections = ["{public.id}"]\ntlp_ceiling = "clear"\n', "all"
    )
    r = await client.get(url, headers=headers)
    assert [o["id"] for o in r.json()["objects"]] == [objs[0]["id"]]
    assert objs[1]["id"].encode() not in r.content
