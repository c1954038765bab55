"""The 404-not-403 rule on every route, over real HTTP, as a member holding one token.

Every route of the app's route table is walked (a new route cannot escape): a
collection the requester may not see answers exactly as one that does not exist
(status, headers, body but for the id), for a member and for an anonymous
client; an object the member's agreement withholds answers as one never stored;
another member's status resource and ``next`` cursor give nothing.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from fastapi.routing import APIRoute

from accord.policy import Tlp
from accord.store import PageQuery
from tests.policy.objects import indicator
from tests.security.conftest import Live, agree
from tests.taxii.helpers import TAXII, bearer, envelope

# Routes without a collection in their path, each with where its rule is proved.
ELSEWHERE = {
    "/taxii2/": "open to all: no data",
    "/api/v21/": "open to all: no data",
    "/api/v21/collections/": "test_the_collection_list_shows_only_what_is_visible",
    "/api/v21/status/{status_id}/": "test_another_members_status_is_not_found",
    "/api/v21/status/{status_id}": "test_another_members_status_is_not_found",
    "/api/v21/accord/lookup/": "lists only the requester's own offers (tests/lookup)",
    "/log/checkpoint": "hashes and signed notes only, members only (test_log_needs_a_member)",
    "/log/vkey": "test_log_needs_a_member",
    "/log/witness-key": "test_log_needs_a_member",
    "/log/tile/{path:path}": "test_log_needs_a_member",
    "/log/proof/inclusion": "test_log_needs_a_member",
    "/log/proof/consistency": "test_log_needs_a_member",
    "/log/cosignature": "test_log_needs_a_member",
    "/log/openings": "test_openings_do_not_exist_for_non_auditors",
    "/witness/add-checkpoint": "signed input only (tests/ledger); size: test_limits.py",
    "/": "a redirect to the console",
    "/openapi.json": "the API's description",
    "/docs": "the API's description",
    "/docs/oauth2-redirect": "the API's description",
}
_VOLATILE = {"date", "content-length", "server-timing"}


def _walk(routes: list[Any]) -> list[APIRoute]:
    # FastAPI keeps an included router as one entry holding the router's own routes
    # (these routers are included without a prefix: their paths are the app's).
    out: list[APIRoute] = []
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            out += _walk(list(inner.routes))
        elif isinstance(r, APIRoute):
            out.append(r)
    return out


def _routes(live: Live) -> list[APIRoute]:
    routes = _walk(list(live.server.app.routes))
    assert len(routes) > 30  # the whole table, not the app's top level only
    return routes


def _fill(path: str, collection_id: str, object_id: str) -> str:
    values = {
        "collection_id": collection_id,
        "object_id": object_id,
        "status_id": str(uuid.UUID(int=7)),
        "epoch": "1",
        "name": "accord-md5.txt",
        "event_file": f"{uuid.UUID(int=9)}.json",
    }
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values[m.group(1)], path)


def _same(a: httpx.Response, b: httpx.Response, a_id: str, b_id: str, where: str) -> None:
    assert a.status_code == b.status_code, (where, a.status_code, b.status_code, a.text, b.text)
    assert a.content.replace(a_id.encode(), b"ID") == b.content.replace(b_id.encode(), b"ID"), (
        where,
        a.text,
        b.text,
    )
    heads = [{k: v for k, v in r.headers.items() if k not in _VOLATILE} for r in (a, b)]
    assert heads[0] == heads[1], where


def _call(c: httpx.Client, method: str, url: str, headers: dict[str, str]) -> httpx.Response:
    body: dict[str, Any] = {}
    if method in ("POST", "PUT", "PATCH"):
        body = {"content": envelope([]), "headers": {**headers, "Content-Type": TAXII}}
    return c.request(method, url, **({"headers": headers} | body))


def test_every_route_answers_an_invisible_collection_as_a_missing_one(live: Live) -> None:
    s = live.server
    hidden = s.collections["hidden"].id  # exists; only admin has a grant
    missing = str(uuid.uuid4())
    s.add("hidden", [indicator(1, Tlp.GREEN)])
    object_id = indicator(1)["id"]
    covered = 0
    with live.client() as c:
        for route in _routes(live):
            if "{collection_id}" not in route.path:
                assert route.path in ELSEWHERE, f"classify {route.path} in this test"
                continue
            for method in sorted(route.methods or ()):
                for who in ({"Accept": TAXII, **bearer(s.tokens["stranger"])}, {"Accept": TAXII}):
                    answers = [
                        _call(c, method, _fill(route.path, cid, object_id), who)
                        for cid in (hidden, missing)
                    ]
                    where = f"{method} {route.path} {'member' if len(who) > 1 else 'anonymous'}"
                    assert answers[0].status_code in (401, 404), (where, answers[0].text)
                    _same(answers[0], answers[1], hidden, missing, where)
                    covered += 1
    assert covered >= 2 * 19  # every TAXII, feed and lookup route with a collection, both ways
    hidden_pk = s.collections["hidden"].pk
    assert s.node.store.collection_page(PageQuery(hidden_pk)).items, "the hidden object stays"


def test_an_object_the_agreement_withholds_answers_as_a_missing_one(live: Live) -> None:
    s = live.server
    red, green = indicator(1, Tlp.RED), indicator(2, Tlp.GREEN)
    s.add("shared", [red, green])
    agree(s, "writer", 'collections = ["shared"]\ntlp_ceiling = "green"\n')
    never = indicator(3, Tlp.RED)["id"]
    shared = s.collections["shared"].id
    object_routes = [r for r in _routes(live) if "{object_id}" in r.path]
    assert len(object_routes) >= 2
    with live.client() as c:
        seen = c.get(
            f"/api/v21/collections/{shared}/objects/{green['id']}/", headers=s.auth("writer")
        )
        assert seen.status_code == 200 and green["id"] in seen.text
        for route in object_routes:
            for method in sorted(route.methods or ()):
                answers = [
                    _call(c, method, _fill(route.path, shared, oid), s.auth("writer"))
                    for oid in (red["id"], never)
                ]
                _same(answers[0], answers[1], red["id"], never, f"{method} {route.path}")
                assert answers[0].status_code == 404
        # The withheld object is still there for those who may see it.
        agree(s, "writer", 'collections = ["shared"]\ntlp_ceiling = "red"\n')
        back = c.get(
            f"/api/v21/collections/{shared}/objects/{red['id']}/", headers=s.auth("writer")
        )
        assert back.status_code == 200 and red["id"] in back.text


def test_the_collection_list_shows_only_what_is_visible(live: Live) -> None:
    s = live.server
    with live.client() as c:
        r = c.get("/api/v21/collections/", headers=s.auth("stranger"))
        assert r.status_code == 200
        assert {x["id"] for x in r.json()["collections"]} == {s.collections["public"].id}
        for name in ("shared", "dropbox", "hidden"):
            assert s.collections[name].id not in r.text


def test_another_members_status_is_not_found(live: Live) -> None:
    s = live.server
    with live.client() as c:
        posted = c.post(
            f"/api/v21/collections/{s.collections['shared'].id}/objects/",
            content=envelope([indicator(1)]),
            headers={**s.auth("writer"), "Content-Type": TAXII},
        )
        assert posted.status_code == 202, posted.text
        sid = posted.json()["id"]
        assert c.get(f"/api/v21/status/{sid}/", headers=s.auth("writer")).status_code == 200
        other = str(uuid.uuid4())
        for tail in ("/", ""):
            theirs = c.get(f"/api/v21/status/{sid}{tail}", headers=s.auth("reader"))
            nobody = c.get(f"/api/v21/status/{other}{tail}", headers=s.auth("reader"))
            _same(theirs, nobody, sid, other, "status")
            assert theirs.status_code == 404
            assert (
                c.get(f"/api/v21/status/{sid}{tail}", headers={"Accept": TAXII}).status_code == 401
            )


def test_a_next_cursor_gives_its_bearer_only_its_own_view(live: Live) -> None:
    s = live.server
    levels = [Tlp.GREEN, Tlp.RED, Tlp.GREEN, Tlp.RED, Tlp.RED, Tlp.GREEN, Tlp.RED]
    objs = [indicator(n, level) for n, level in enumerate(levels)]
    s.add("shared", objs)
    agree(s, "reader", 'collections = ["shared"]\ntlp_ceiling = "green"\n')
    withheld = [
        o["id"] for o in objs if o["object_marking_refs"] != indicator(0)["object_marking_refs"]
    ]
    url = f"/api/v21/collections/{s.collections['shared'].id}/objects/"
    with live.client() as c:
        first = c.get(url, headers=s.auth("writer"), params={"limit": "1"}).json()
        assert first["more"] is True
        cursors = [first["next"]]
        page = first
        while page.get("more"):  # every cursor the writer is given
            page = c.get(url, headers=s.auth("writer"), params={"next": page["next"]}).json()
            if page.get("more"):
                cursors.append(page["next"])
        assert len(cursors) >= 3
        for cursor in [*cursors, "0", str(2**63 - 1)]:
            r = c.get(url, headers=s.auth("reader"), params={"next": cursor, "limit": "100"})
            assert r.status_code == 200, r.text
            for oid in withheld:
                assert oid not in r.text
        # On a collection the bearer cannot see, the cursor opens nothing.
        hidden = f"/api/v21/collections/{s.collections['hidden'].id}/objects/"
        missing = f"/api/v21/collections/{uuid.uuid4()}/objects/"
        a = c.get(hidden, headers=s.auth("reader"), params={"next": cursors[0]})
        b = c.get(missing, headers=s.auth("reader"), params={"next": cursors[0]})
        _same(a, b, s.collections["hidden"].id, missing.split("/")[4], "cursor")
        assert a.status_code == 404


def test_log_needs_a_member(live: Live) -> None:
    with live.client() as c:
        for path in ("/log/checkpoint", "/log/vkey", "/log/witness-key", "/log/tile/0/000"):
            assert c.get(path).status_code == 401
        assert c.get("/log/proof/inclusion", params={"size": "1", "index": "0"}).status_code == 401
        assert c.get("/log/proof/consistency", params={"old": "0", "size": "1"}).status_code == 401
        assert c.post("/log/cosignature", content=b"x").status_code == 401
        assert c.get("/log/checkpoint", headers=live.server.auth("stranger")).status_code == 200


def test_openings_do_not_exist_for_non_auditors(live: Live) -> None:
    with live.client() as c:
        r = c.get("/log/openings", headers=live.server.auth("writer"))
        assert r.status_code == 404
        assert "shares" not in r.text
        assert c.get("/log/openings").status_code == 401


def test_under_an_agreement_a_member_deletes_only_what_it_may_receive(live: Live) -> None:
    s = live.server
    red, green = indicator(1, Tlp.RED), indicator(2, Tlp.GREEN)
    s.add("shared", [red, green])
    agree(s, "writer", 'collections = ["shared"]\ntlp_ceiling = "green"\n')
    url = f"/api/v21/collections/{s.collections['shared'].id}/objects/"
    with live.client() as c:
        assert c.delete(url + red["id"] + "/", headers=s.auth("writer")).status_code == 404
        assert c.delete(url + green["id"] + "/", headers=s.auth("writer")).status_code == 200
        assert c.get(url + green["id"] + "/", headers=s.auth("writer")).status_code == 404
    left = s.node.store.collection_page(PageQuery(s.collections["shared"].pk, versions=("all",)))
    assert [i.obj.id for i in left.items] == [red["id"]]
