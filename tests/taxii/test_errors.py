"""Every error is the TAXII 2.1 error message (§3.6.1), in one shape, from one handler."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from accord.exceptions import TaxiiError
from accord.taxii._errors import error_body
from tests.taxii.helpers import TAXII, Server, indicator, make_server

pytestmark = pytest.mark.anyio

ALLOWED_KEYS = {
    "title",
    "description",
    "error_id",
    "error_code",
    "http_status",
    "external_details",
    "details",
}


def check_shape(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == TAXII
    body = r.json()
    assert set(body) <= ALLOWED_KEYS
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["description"], str)
    assert body["description"]
    assert body["http_status"] == str(status)  # a string that matches the HTTP status
    assert isinstance(body.get("details", {}), dict)
    return dict(body)


async def test_every_error_has_the_same_shape(node: Any) -> None:
    server = make_server(node, taxii_max_content_length=1000)
    server.add("shared", [indicator(1)])
    objects = server.url("shared", "objects/")
    post = {**server.auth("writer"), "Content-Type": TAXII}
    cases: list[tuple[str, str, dict[str, str], bytes | None, int]] = [
        ("GET", objects + "?limit=0", server.auth("reader"), None, 400),
        ("GET", objects + "?limit=ten", server.auth("reader"), None, 400),
        ("GET", objects + "?next=abc", server.auth("reader"), None, 400),
        ("GET", objects + "?added_after=yesterday", server.auth("reader"), None, 400),
        ("GET", objects + "?match[colour]=red", server.auth("reader"), None, 400),
        ("GET", objects + "?match[version]=latest", server.auth("reader"), None, 400),
        ("POST", objects, post, b"{oops", 400),
        ("GET", objects, {"Accept": TAXII, "Authorization": "Bearer nope"}, None, 401),
        ("GET", server.url("shared"), {"Accept": TAXII}, None, 401),
        ("POST", objects, {**post, **server.auth("reader")}, b'{"objects":[]}', 403),
        ("GET", server.url("hidden"), server.auth("reader"), None, 404),
        ("GET", "/api/v21/nowhere/", server.auth("reader"), None, 404),
        ("GET", "/taxii2/elsewhere/", server.auth("reader"), None, 404),
        ("PUT", objects, post, b"{}", 405),
        ("GET", objects, {**server.auth("reader"), "Accept": "text/html"}, None, 406),
        ("POST", objects, post, b'{"objects": [' + b'"x",' * 400 + b'"x"]}', 413),
        ("POST", objects, {**post, "Content-Type": "application/json"}, b"{}", 415),
        ("POST", objects, post, b'{"objects": 1}', 422),
    ]
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        seen = set()
        for method, url, headers, body, status in cases:
            r = await client.request(method, url, headers=headers, content=body)
            check_shape(r, status)
            seen.add(status)
        assert seen == {400, 401, 403, 404, 405, 406, 413, 415, 422}


async def test_405_names_the_methods_allowed(server: Server, client: httpx.AsyncClient) -> None:
    r = await client.patch("/api/v21/collections/", headers=server.auth("reader"))
    check_shape(r, 405)
    assert r.headers["allow"] == "GET"


async def test_an_unexpected_failure_is_a_500_with_an_error_id_and_no_internals(
    server: Server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("secret internals: /var/lib/db password=hunter2")

    monkeypatch.setattr(server.node.store, "collection_page", broken)
    transport = httpx.ASGITransport(app=server.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get(server.url("shared", "objects/"), headers=server.auth("reader"))
    body = check_shape(r, 500)
    assert "hunter2" not in r.text
    assert body["error_id"] in caplog.text  # the operator finds the cause in the log
    assert "hunter2" in caplog.text


def test_the_error_body_keeps_details_and_a_string_status() -> None:
    class TeapotError(TaxiiError):
        status = 418
        title = "I'm a teapot"

    body = orjson.loads(error_body(TeapotError("short and stout", details={"spout": 1})))
    assert body == {
        "title": "I'm a teapot",
        "description": "short and stout",
        "http_status": "418",
        "details": {"spout": 1},
    }
