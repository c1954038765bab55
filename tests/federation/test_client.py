"""The TAXII client against a fake peer (httpx.MockTransport): retries, 429, errors, secrets."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.exceptions import PeerError
from accord.taxii.client import RetryPolicy, TaxiiClient, parse_retry_after

TOKEN = "acc_secret-token-that-must-never-show"
ROOT = "http://peer.test/api/v21/"


def _client(
    handler: Callable[[httpx.Request], httpx.Response],
    sleeps: list[float],
    *,
    username: str | None = None,
    attempts: int = 4,
) -> TaxiiClient:
    return TaxiiClient(
        "http://peer.test",
        "/api/v21/",
        token=TOKEN,
        username=username,
        retry=RetryPolicy(attempts=attempts, backoff=0.5, max_wait=30),
        transport=httpx.MockTransport(handler),
        sleep=sleeps.append,
    )


def _page(objects: list[dict[str, object]], more: bool = False) -> httpx.Response:
    body: dict[str, object] = {"objects": objects, "more": more}
    if more:
        body["next"] = "n1"
    return httpx.Response(
        200,
        content=orjson.dumps(body),
        headers={
            "Content-Type": "application/taxii+json;version=2.1",
            "X-TAXII-Date-Added-Last": "2024-01-01T00:00:00.000001Z",
        },
    )


def test_5xx_is_retried_with_growing_backoff_then_succeeds() -> None:
    answers = [500, 503, 200]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        code = answers[len(seen) - 1]
        return _page([{"id": "x"}]) if code == 200 else httpx.Response(code, text="boom")

    sleeps: list[float] = []
    with _client(handler, sleeps) as client:
        page = client.get_objects("c1", added_after="2024-01-01T00:00:00.000Z", limit=10)
    assert page.objects == [{"id": "x"}]
    assert page.added_last == "2024-01-01T00:00:00.000001Z"
    assert len(seen) == 3
    assert len(sleeps) == 2 and 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0
    params = seen[0].url.params
    assert params["added_after"] == "2024-01-01T00:00:00.000Z" and params["limit"] == "10"
    assert params["match[version]"] == "all"
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert seen[0].headers["Accept"] == "application/taxii+json;version=2.1"


def test_429_waits_for_retry_after() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(429, headers={"Retry-After": "7"})
        return _page([])

    sleeps: list[float] = []
    with _client(handler, sleeps) as client:
        client.get_objects("c1")
    assert sleeps == [7.0]


def test_a_4xx_is_final_and_carries_the_status_and_title() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        body = {"title": "not found", "description": "no collection c1", "http_status": "404"}
        return httpx.Response(404, content=orjson.dumps(body))

    sleeps: list[float] = []
    with _client(handler, sleeps) as client, pytest.raises(PeerError) as caught:
        client.get_objects("c1")
    assert calls == 1 and sleeps == []
    assert caught.value.status == 404
    assert "no collection c1" in str(caught.value)


def test_connection_failures_end_in_a_peer_error_after_every_try(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("connection refused", request=request)

    sleeps: list[float] = []
    caplog.set_level(logging.DEBUG)
    with _client(handler, sleeps, attempts=3) as client, pytest.raises(PeerError) as caught:
        client.collections()
    assert calls == 3 and len(sleeps) == 2
    assert caught.value.status is None
    assert "after 3 tries" in str(caught.value)
    # The token is in no log line and in no error.
    assert caplog.records
    assert TOKEN not in caplog.text
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value.__reduce__())


def test_timeouts_are_retried() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise httpx.ReadTimeout("slow", request=request)
        return _page([])

    sleeps: list[float] = []
    with _client(handler, sleeps) as client:
        client.get_objects("c1")
    assert calls == 3


def test_basic_auth_with_a_user_name_and_pages_follow_next() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if "next" in request.url.params:
            return _page([{"id": "b"}])
        return _page([{"id": "a"}], more=True)

    with _client(handler, [], username="node-b") as client:
        pages = list(client.pages("c1", added_after="2024-01-01T00:00:00.000Z"))
    assert [p.objects for p in pages] == [[{"id": "a"}], [{"id": "b"}]]
    assert seen[1].url.params["next"] == "n1"
    assert seen[1].url.params["added_after"] == "2024-01-01T00:00:00.000Z"
    expected = base64.b64encode(f"node-b:{TOKEN}".encode()).decode()
    assert seen[0].headers["Authorization"] == f"Basic {expected}"


def test_add_objects_follows_the_status_until_complete() -> None:
    polls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal polls
        if request.method == "POST":
            assert request.headers["Content-Type"] == "application/taxii+json;version=2.1"
            assert orjson.loads(request.content) == {"objects": [{"id": "a"}]}
            return httpx.Response(202, content=orjson.dumps({"id": "s1", "status": "pending"}))
        polls += 1
        status = "complete" if polls == 2 else "pending"
        return httpx.Response(200, content=orjson.dumps({"id": "s1", "status": status}))

    sleeps: list[float] = []
    with _client(handler, sleeps) as client:
        status = client.wait_status(client.add_objects("c1", [b'{"id":"a"}']))
    assert status["status"] == "complete" and polls == 2


@given(st.integers(min_value=0, max_value=10**6))
def test_retry_after_seconds(seconds: int) -> None:
    assert parse_retry_after(str(seconds)) == float(seconds)


@given(st.integers(min_value=0, max_value=86_400))
def test_retry_after_http_date(seconds: int) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    text = format_datetime(now + timedelta(seconds=seconds), usegmt=True)
    assert parse_retry_after(text, now) == float(seconds)


def test_retry_after_garbage_and_cap() -> None:
    assert parse_retry_after("soon") is None
    policy = RetryPolicy(max_wait=5)
    assert policy.wait(1, "3600") == 5
    assert 0.25 <= policy.wait(1, "soon") <= 0.5


def test_peer_errors_survive_pickling() -> None:
    import pickle

    from accord.exceptions import UnknownPeer

    err = pickle.loads(pickle.dumps(PeerError("http://p/x/", "timed out", 504)))
    assert (err.url, err.reason, err.status) == ("http://p/x/", "timed out", 504)
    assert str(err) == "http://p/x/: HTTP 504: timed out"
    unknown = pickle.loads(pickle.dumps(UnknownPeer("p")))
    assert unknown.name == "p" and "accord peer list" in str(unknown)
