"""Who may do what: Basic and Bearer, 401 / 403 / 404, anonymous reading, statuses."""

from __future__ import annotations

import base64
import logging

import httpx
import orjson
import pytest

from tests.taxii.helpers import TAXII, Server, basic, bearer, indicator

pytestmark = pytest.mark.anyio


async def test_bearer_and_basic_both_authenticate(
    server: Server, client: httpx.AsyncClient
) -> None:
    server.add("shared", [indicator(1)])
    url = server.url("shared", "objects/")
    for auth in (bearer(server.tokens["reader"]), basic("reader", server.tokens["reader"])):
        r = await client.get(url, headers={"Accept": TAXII, **auth})
        assert r.status_code == 200, r.text
        assert len(r.json()["objects"]) == 1


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer acc_not-a-token",
        "Bearer ",
        "Basic " + base64.b64encode(b"reader:acc_wrong").decode(),
        "Basic not-base64!",
        "Basic " + base64.b64encode(b"no colon").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "Token something",
        "Digest username=reader",
    ],
)
async def test_wrong_credentials_get_401_everywhere(
    server: Server, client: httpx.AsyncClient, authorization: str
) -> None:
    for url in ("/taxii2/", "/api/v21/", "/api/v21/collections/", server.url("public")):
        r = await client.get(url, headers={"Accept": TAXII, "Authorization": authorization})
        assert r.status_code == 401, (url, r.text)
        challenge = r.headers["www-authenticate"]
        assert challenge.startswith("Basic realm=")
        assert "Bearer realm=" in challenge
        assert r.json()["http_status"] == "401"


async def test_basic_with_another_members_name_is_401(
    server: Server, client: httpx.AsyncClient
) -> None:
    r = await client.get(
        server.url("shared"), headers={"Accept": TAXII, **basic("writer", server.tokens["reader"])}
    )
    assert r.status_code == 401


async def test_a_revoked_token_is_401(server: Server, client: httpx.AsyncClient) -> None:
    url = server.url("shared", "objects/")
    assert (await client.get(url, headers=server.auth("reader"))).status_code == 200
    assert server.node.store.revoke_token(server.tokens["reader"]) == 1
    r = await client.get(url, headers=server.auth("reader"))
    assert r.status_code == 401
    r = await client.get("/api/v21/collections/", headers=server.auth("reader"))
    assert r.status_code == 401


async def test_a_collection_the_member_may_not_see_is_404_not_403(
    server: Server, client: httpx.AsyncClient
) -> None:
    missing = "/api/v21/collections/6f4b6a4e-0000-4000-8000-000000000000/"
    for member in ("writer", "reader", "stranger"):
        for url in (server.url("hidden"), missing):
            for tail in ("", "objects/", "manifest/", f"objects/{indicator(1)['id']}/"):
                r = await client.get(url + tail, headers=server.auth(member))
                assert r.status_code == 404, (member, url + tail)
            r = await client.post(
                url + "objects/",
                headers={**server.auth(member), "Content-Type": TAXII},
                content=b'{"objects": []}',
            )
            assert r.status_code == 404
    # Its owner sees it.
    assert (await client.get(server.url("hidden"), headers=server.auth("admin"))).status_code == 200


async def test_403_only_where_the_member_sees_the_collection(
    server: Server, client: httpx.AsyncClient
) -> None:
    server.add("shared", [indicator(1)])
    one = f"objects/{indicator(1)['id']}/"
    # A reader may not write or delete.
    r = await client.post(
        server.url("shared", "objects/"),
        headers={**server.auth("reader"), "Content-Type": TAXII},
        content=b'{"objects": []}',
    )
    assert r.status_code == 403
    assert (
        await client.delete(server.url("shared", one), headers=server.auth("reader"))
    ).status_code == 403
    # A write-only member may not read, nor delete (§5.7).
    for tail in ("objects/", "manifest/", one, one + "versions/"):
        r = await client.get(server.url("dropbox", tail), headers=server.auth("writer"))
        assert r.status_code == 403, tail
    r = await client.delete(server.url("dropbox", one), headers=server.auth("writer"))
    assert r.status_code == 403
    r = await client.post(
        server.url("dropbox", "objects/"),
        headers={**server.auth("writer"), "Content-Type": TAXII},
        content=orjson.dumps({"objects": [indicator(2)]}),
    )
    assert r.status_code == 202
    assert r.json()["success_count"] == 1
    # Still stored: nothing was deleted by the refused DELETE.
    r = await client.get(server.url("shared", one), headers=server.auth("reader"))
    assert r.status_code == 200


async def test_anonymous_clients_read_open_collections_only(
    server: Server, client: httpx.AsyncClient
) -> None:
    server.add("public", [indicator(1)])
    server.add("shared", [indicator(2)])
    accept = {"Accept": TAXII}
    for url in ("/taxii2/", "/api/v21/"):
        assert (await client.get(url, headers=accept)).status_code == 200
    r = await client.get("/api/v21/collections/", headers=accept)
    assert [c["title"] for c in r.json()["collections"]] == ["public"]
    assert r.json()["collections"][0]["can_read"] is True
    assert r.json()["collections"][0]["can_write"] is False
    r = await client.get(server.url("public", "objects/"), headers=accept)
    assert [o["id"] for o in r.json()["objects"]] == [indicator(1)["id"]]
    # Everything else asks for credentials, existing or not, without telling which.
    missing = "/api/v21/collections/6f4b6a4e-0000-4000-8000-000000000000/objects/"
    for url in (server.url("shared", "objects/"), server.url("hidden", "objects/"), missing):
        r = await client.get(url, headers=accept)
        assert r.status_code == 401, url
        assert "www-authenticate" in r.headers
    r = await client.post(
        server.url("public", "objects/"),
        headers={**accept, "Content-Type": TAXII},
        content=orjson.dumps({"objects": [indicator(3)]}),
    )
    assert r.status_code == 401
    r = await client.delete(server.url("public", f"objects/{indicator(1)['id']}/"), headers=accept)
    assert r.status_code == 401
    r = await client.get(server.url("public", "objects/"), headers=accept)
    assert len(r.json()["objects"]) == 1


async def test_members_see_open_collections_and_their_grants(
    server: Server, client: httpx.AsyncClient
) -> None:
    r = await client.get("/api/v21/collections/", headers=server.auth("writer"))
    seen = {c["title"]: (c["can_read"], c["can_write"]) for c in r.json()["collections"]}
    assert seen == {"shared": (True, True), "dropbox": (False, True), "public": (True, False)}
    r = await client.get("/api/v21/collections/", headers=server.auth("stranger"))
    assert [c["title"] for c in r.json()["collections"]] == ["public"]
    server.node.store.set_anonymous_read(server.collections["public"].pk, False)
    r = await client.get("/api/v21/collections/", headers=server.auth("stranger"))
    assert r.json() == {}


async def test_a_status_is_its_posters_only(server: Server, client: httpx.AsyncClient) -> None:
    r = await client.post(
        server.url("shared", "objects/"),
        headers={**server.auth("writer"), "Content-Type": TAXII},
        content=orjson.dumps({"objects": [indicator(1)]}),
    )
    status_id = r.json()["id"]
    url = f"/api/v21/status/{status_id}/"
    assert (await client.get(url, headers=server.auth("writer"))).status_code == 200
    assert (await client.get(url, headers=server.auth("reader"))).status_code == 404
    r = await client.get(url, headers={"Accept": TAXII})
    assert r.status_code == 401
    for other in ("00000000-0000-4000-8000-000000000000", "not-a-uuid", "%00"):
        r = await client.get(f"/api/v21/status/{other}/", headers=server.auth("writer"))
        assert r.status_code == 404, other


async def test_tokens_are_never_echoed_nor_logged(
    server: Server, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = server.tokens["reader"]
    wrong = secret[:-4] + "AAAA"
    answers = []
    for headers in (
        bearer(wrong),
        basic("reader", wrong),
        basic("writer", secret),
        bearer(secret),
    ):
        for url in (server.url("shared", "objects/"), server.url("hidden"), "/api/v21/status/x/"):
            r = await client.get(url, headers={"Accept": TAXII, **headers})
            answers.append(r.text + str(r.headers))
    assert any('"http_status":"401"' in a for a in answers)
    for text in [*answers, caplog.text]:
        assert secret not in text
        assert wrong not in text
