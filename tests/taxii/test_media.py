"""Content negotiation (TAXII 2.1 §1.6.8): 406 on Accept, 415 on Content-Type."""

from __future__ import annotations

import httpx
import orjson
import pytest

from accord.exceptions import TaxiiUnsupportedMediaType
from accord.taxii._media import accepts_taxii, require_taxii_body
from tests.taxii.helpers import TAXII, Server, bearer, indicator

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "accept",
    [
        None,
        TAXII,
        "application/taxii+json",
        "application/taxii+json; version=2.1",
        'application/taxii+json;version="2.1"',
        "APPLICATION/TAXII+JSON;VERSION=2.1",
        "*/*",
        "application/*",
        "text/html, application/taxii+json;version=2.1;q=0.5",
        "application/taxii+json;version=2.0, application/taxii+json;version=2.1",
    ],
)
def test_accept_headers_that_admit_taxii_21(accept: str | None) -> None:
    assert accepts_taxii(accept)


@pytest.mark.parametrize(
    "accept",
    [
        "application/json",
        "text/html",
        "application/taxii+json;version=2.0",
        "application/vnd.oasis.taxii+json; version=2.0",
        "application/stix+json;version=2.1",
        "application/taxii+json;version=2.1;q=0",
        "*/*;q=0",
        "application/taxii+json;q=nonsense",
    ],
)
def test_accept_headers_that_do_not(accept: str) -> None:
    assert not accepts_taxii(accept)


@pytest.mark.parametrize(
    "content_type",
    [TAXII, "application/taxii+json", "application/taxii+json; version=2.1; charset=utf-8"],
)
def test_bodies_in_taxii_21_are_read(content_type: str) -> None:
    require_taxii_body(content_type)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "application/json",
        "application/stix+json;version=2.1",
        "text/plain",
        "application/taxii+json;version=2.0",
        "multipart/form-data",
    ],
)
def test_other_bodies_are_refused(content_type: str | None) -> None:
    with pytest.raises(TaxiiUnsupportedMediaType):
        require_taxii_body(content_type)


ENDPOINTS = [
    "/taxii2/",
    "/api/v21/",
    "/api/v21/collections/",
    "COLLECTION",
    "COLLECTION manifest/",
    "COLLECTION objects/",
    "COLLECTION objects/indicator--00000000-0000-4000-8000-000000000001/",
    "COLLECTION objects/indicator--00000000-0000-4000-8000-000000000001/versions/",
    "/api/v21/status/00000000-0000-4000-8000-000000000001/",
]


def _url(server: Server, endpoint: str) -> str:
    if endpoint.startswith("COLLECTION"):
        return server.url("shared", endpoint.removeprefix("COLLECTION").strip())
    return endpoint


async def test_every_endpoint_answers_406_to_a_foreign_accept(
    server: Server, client: httpx.AsyncClient
) -> None:
    server.add("shared", [indicator(1)])
    for endpoint in ENDPOINTS:
        url = _url(server, endpoint)
        r = await client.get(
            url, headers={"Accept": "application/json", **bearer(server.tokens["writer"])}
        )
        assert r.status_code == 406, url
        assert r.headers["content-type"] == TAXII
        assert r.json()["http_status"] == "406"
        assert TAXII in r.json()["details"]["supported"]
        ok = await client.get(url, headers=server.auth("writer"))
        assert ok.status_code in (200, 404), (url, ok.text)  # 404: the made-up status id
        assert ok.headers["content-type"] == TAXII


async def test_every_success_is_in_the_taxii_media_type(
    server: Server, client: httpx.AsyncClient
) -> None:
    server.add("shared", [indicator(1)])
    for endpoint in ENDPOINTS[:-1]:
        r = await client.get(_url(server, endpoint), headers=server.auth("writer"))
        assert r.status_code == 200, endpoint
        assert r.headers["content-type"] == TAXII


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/stix+json;version=2.1", None]
)
async def test_add_objects_answers_415_to_another_body_type(
    server: Server, client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = server.auth("writer")
    if content_type:
        headers["Content-Type"] = content_type
    r = await client.post(
        server.url("shared", "objects/"),
        headers=headers,
        content=orjson.dumps({"objects": [indicator(1)]}),
    )
    assert r.status_code == 415
    assert r.json()["http_status"] == "415"
    r = await client.get(server.url("shared", "objects/"), headers=server.auth("writer"))
    assert r.json() == {"more": False}  # nothing was stored
