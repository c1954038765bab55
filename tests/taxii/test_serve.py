"""A real server on loopback with real clients: OASIS taxii2-client, the stix2 library,
slow and broken clients, and several uvicorn workers over PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
import pytest
import requests
import stix2
from taxii2client.v21 import (  # type: ignore[import-untyped]
    ApiRoot,
    Collection,
    Server,
    Status,
    as_pages,
)

from accord.service.node import Node
from accord.store import PageQuery
from accord.taxii._serve import environment
from tests.taxii.helpers import TAXII, indicator, make_server, oid, stamp
from tests.taxii.helpers import Server as Accord
from tests.taxii.live import running


def _status(error: requests.HTTPError) -> int:
    assert error.response is not None
    return error.response.status_code


class BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer`` for requests (taxii2-client's TokenAuth says "Token")."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


@pytest.fixture
def accord(node: Node) -> Accord:
    """The members and collections of the in-process tests, on a node of each backend."""
    return make_server(node)


@pytest.fixture
def url(accord: Accord) -> Iterator[str]:
    with running(accord.app, accord.app.state.taxii.settings) as base:
        yield base


@pytest.mark.slow
def test_taxii2_client_end_to_end(accord: Accord, url: str) -> None:
    token = accord.tokens["writer"]
    server = Server(f"{url}/taxii2/", user="writer", password=token)
    assert server.title == "Accord node test"
    root = server.default
    assert root is not None
    assert isinstance(root, ApiRoot)
    assert root.url == f"{url}/api/v21/"
    assert root.versions == [TAXII]
    assert root.max_content_length == 100 * 1024 * 1024
    by_title = {c.title: c for c in root.collections}
    assert set(by_title) == {"shared", "dropbox", "public"}
    shared: Collection = by_title["shared"]
    assert shared.can_read
    assert shared.can_write
    assert shared.media_types == ["application/stix+json;version=2.1"]

    # add_objects: 3,000 objects in three envelopes, each status complete at once.
    objects = [indicator(n) for n in range(3000)]
    for start in range(0, 3000, 1000):
        status = shared.add_objects({"objects": objects[start : start + 1000]})
        assert status.status == "complete"
        assert (status.total_count, status.success_count, status.failure_count) == (1000, 1000, 0)
        # Polling, as wait_until_final does: the client's own relative status URL...
        status.refresh()
        assert status.success_count == 1000
        # ...and the resource under the API root.
        again = Status(f"{root.url}status/{status.id}/", user="writer", password=token)
        assert again.total_count == 1000
    status = shared.add_objects(
        {"objects": [indicator(0, stamp(60)), {"type": "indicator"}]}, wait_for_completion=False
    )
    assert (status.success_count, status.failure_count) == (1, 1)
    assert status.failures[0]["message"]

    # get_objects, 50 at a time: every id exactly once.
    seen: list[str] = []
    pages = 0
    for envelope in as_pages(shared.get_objects, per_request=50):
        pages += 1
        seen += [o["id"] for o in envelope.get("objects", [])]
    assert pages == 60
    assert len(seen) == 3000
    assert set(seen) == {o["id"] for o in objects}

    # get_object, object_versions, get_manifest.
    first = shared.get_object(oid("indicator", 0))
    assert [o["modified"] for o in first["objects"]] == [stamp(60)]
    every = shared.get_object(oid("indicator", 0), version="all")
    assert [o["modified"] for o in every["objects"]] == [stamp(0), stamp(60)]
    assert shared.object_versions(oid("indicator", 0))["versions"] == [stamp(0), stamp(60)]
    records = [r for m in as_pages(shared.get_manifest, per_request=500) for r in m["objects"]]
    assert len(records) == 3000
    assert {r["media_type"] for r in records} == {"application/stix+json;version=2.1"}
    typed = shared.get_objects(type="malware")
    assert "objects" not in typed

    # delete_object: gone afterwards.
    shared.delete_object(oid("indicator", 1))
    with pytest.raises(requests.HTTPError) as info:
        shared.get_object(oid("indicator", 1))
    assert _status(info.value) == 404


def test_taxii2_client_sees_permissions_and_refusals(accord: Accord, url: str) -> None:
    accord.add("public", [indicator(5)])
    anonymous = Collection(f"{url}/api/v21/collections/{accord.collections['public'].id}/")
    assert anonymous.can_read
    assert not anonymous.can_write
    assert anonymous.get_objects()["objects"][0]["id"] == oid("indicator", 5)
    reader = Collection(
        accord.url("shared").replace("/api", f"{url}/api", 1),
        auth=BearerAuth(accord.tokens["reader"]),
    )
    assert reader.can_read
    assert not reader.can_write
    with pytest.raises(requests.HTTPError) as info:
        Collection(
            f"{url}/api/v21/collections/{accord.collections['hidden'].id}/",
            user="reader",
            password=accord.tokens["reader"],
        ).refresh()
    assert _status(info.value) == 404
    with pytest.raises(requests.HTTPError) as info:
        Server(f"{url}/taxii2/", user="reader", password="acc_wrong").refresh()
    assert _status(info.value) == 401


def test_stix2_taxii_source_and_sink(accord: Accord, url: str) -> None:
    collection = Collection(
        f"{url}/api/v21/collections/{accord.collections['shared'].id}/",
        auth=BearerAuth(accord.tokens["writer"]),
    )
    sink = stix2.TAXIICollectionSink(collection)
    ind = stix2.Indicator(
        name="bad host",
        pattern="[domain-name:value = 'waafefuvuko.com']",
        pattern_type="stix",
        valid_from="2024-01-01T00:00:00Z",
    )
    newer = ind.new_version(name="bad host, confirmed")
    mal = stix2.Malware(name="IcedID", is_family=True)
    sink.add([ind, mal])
    sink.add(newer)
    source = stix2.TAXIICollectionSource(collection)
    got = source.get(ind.id)
    assert got is not None
    assert got.name == "bad host, confirmed"
    assert [v.modified for v in source.all_versions(ind.id)] == [ind.modified, newer.modified]
    found = source.query([stix2.Filter("type", "=", "malware")])
    assert [m.id for m in found] == [mal.id]
    assert source.get(oid("indicator", 404)) is None
    store = stix2.CompositeDataSource()
    store.add_data_source(source)
    assert len(store.query([stix2.Filter("type", "=", "indicator")])) == 1


def test_the_way_misp_pushes(accord: Accord, url: str) -> None:
    """MISP's TAXII push (app/files/scripts/taxii/taxii_push.py): base URL + "/" + API root,
    a base64 "member:token" key as HTTP Basic, envelopes sized to max_content_length."""
    baseurl, api_root, key = url, "api/v21", f"writer:{accord.tokens['writer']}"
    user, password = key.split(":")
    auth = requests.auth.HTTPBasicAuth(user, password)
    api_root_url = baseurl + "/" + api_root
    assert ApiRoot(api_root_url, auth=auth).max_content_length > 0
    collection_url = api_root_url + "/collections/" + accord.collections["shared"].id
    collection = Collection(collection_url, auth=auth)
    envelope = b'{"objects":[' + b",".join(orjson.dumps(indicator(n)) for n in range(5)) + b"]}"
    status = collection.add_objects(envelope, wait_for_completion=False)
    assert status.success_count == 5


def test_the_way_opencti_ingests(node: Node) -> None:
    """OpenCTI's TAXII ingester: GET {uri}collections/{id}/objects/ with `next` and
    `added_after` together, then X-TAXII-Date-Added-Last as the next run's added_after."""
    accord = make_server(node, taxii_max_page=10)
    accord.add("shared", [indicator(n) for n in range(25)])
    with running(accord.app, accord.app.state.taxii.settings) as base:
        uri = base + "/api/v21"  # as typed in OpenCTI, without the trailing slash
        objects_url = f"{uri}/collections/{accord.collections['shared'].id}/objects/"
        headers = {"Accept": TAXII}
        auth = requests.auth.HTTPBasicAuth("reader", accord.tokens["reader"])

        def run(added_after: str | None) -> tuple[list[str], str | None]:
            seen: list[str] = []
            cursor: str | None = None
            last = None
            while True:
                params = {"next": cursor, "added_after": added_after}
                r = requests.get(objects_url, headers=headers, auth=auth, params=params)
                assert r.status_code == 200, r.text
                data = r.json()
                seen += [o["id"] for o in data.get("objects", [])]
                last = r.headers.get("x-taxii-date-added-last", last)
                if not data.get("more"):
                    return seen, last
                cursor = data["next"]

        first, last = run(None)
        assert len(first) == len(set(first)) == 25
        accord.add("shared", [indicator(n) for n in range(25, 30)])
        second, _ = run(last)
        assert second == [oid("indicator", n) for n in range(25, 30)]
        third, _ = run(None)  # a full re-read sees all 30
        assert len(third) == 30


# -- slow and broken clients ----------------------------------------------------------


@pytest.fixture
def quick(node: Node) -> Iterator[tuple[tuple[str, int], Accord]]:
    """A server whose clients have one second to send a request; its address."""
    accord = make_server(node, taxii_request_timeout=1.0, taxii_keep_alive=1.0)
    with running(accord.app, accord.app.state.taxii.settings) as base:
        host, port = base.removeprefix("http://").split(":")
        yield (host, int(port)), accord


def _closed_after(sock: socket.socket, *, limit: float = 6.0) -> float:
    """Seconds until the server closes the connection (reading whatever it sends)."""
    started = time.monotonic()
    sock.settimeout(limit)
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        received += chunk
    assert b" 200 " not in received
    assert b" 202 " not in received
    return time.monotonic() - started


@pytest.mark.parametrize("stall", ["connection", "headers", "body"])
def test_a_stalled_request_is_cut_off(quick: tuple[tuple[str, int], Accord], stall: str) -> None:
    address, accord = quick
    partial = {
        "connection": b"",  # connects and says nothing
        "headers": b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\n",  # headers never end
        # A valid Add Objects whose body stalls: the app is waiting to read it.
        "body": (
            f"POST {accord.url('shared', 'objects/')} HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {accord.tokens['writer']}\r\nAccept: {TAXII}\r\n"
            f"Content-Type: {TAXII}\r\nContent-Length: 1000\r\n\r\n"
            '{"objects": ['
        ).encode(),
    }[stall]
    with socket.create_connection(address) as sock:
        sock.sendall(partial)
        waited = _closed_after(sock)
    assert 0.5 < waited < 4
    assert accord.node.store.collection_page(PageQuery(accord.collections["shared"].pk)).items == []


def test_a_dribbling_client_cannot_stretch_the_deadline(
    quick: tuple[tuple[str, int], Accord],
) -> None:
    request = b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nAccept: */*\r\nX-Slow: " + b"a" * 100
    started = time.monotonic()
    cut = False
    with socket.create_connection(quick[0]) as sock:
        for byte in request:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                cut = True
                break
            time.sleep(0.05)  # 20 bytes a second: the whole request would take 5 s
            if time.monotonic() - started > 4:
                break
        if not cut:
            sock.settimeout(1)
            cut = sock.recv(100) == b""
    assert cut
    assert time.monotonic() - started < 4


def _response(sock: socket.socket) -> bytes:
    """One whole HTTP/1.1 response (headers and a Content-Length body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head


def test_a_prompt_client_keeps_its_connection(quick: tuple[tuple[str, int], Accord]) -> None:
    with socket.create_connection(quick[0]) as sock:
        sock.settimeout(3)
        for _ in range(3):
            sock.sendall(b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n")
            assert _response(sock).startswith(b"HTTP/1.1 200 ")
            time.sleep(0.6)  # idle less than the keep-alive between requests


# -- several workers over PostgreSQL ----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.slow
@pytest.mark.postgres
def test_several_workers_over_postgresql(make_node: Any, postgres_url: str) -> None:
    node = make_node(postgres_url)
    accord = make_server(node)
    port = _free_port()
    env = {**os.environ, **environment(node.settings)}
    code = (
        "from accord.settings import load_settings; from accord.taxii import serve; "
        f"serve(load_settings(), '127.0.0.1', {port}, workers=2)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/taxii2/", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        shared = Collection(
            f"{base}/api/v21/collections/{accord.collections['shared'].id}/",
            user="writer",
            password=accord.tokens["writer"],
        )

        def post(batch: int) -> int:
            objects = [indicator(batch * 100 + n) for n in range(100)]
            return int(shared.add_objects({"objects": objects}).success_count)

        def read(_: int) -> int:
            return len(shared.get_objects(limit=10).get("objects", []))

        with ThreadPoolExecutor(8) as pool:
            posted = list(pool.map(post, range(8)))
            reads = list(pool.map(read, range(40)))
        assert posted == [100] * 8
        assert all(n == 10 for n in reads)
        ids = [o["id"] for e in as_pages(shared.get_objects, per_request=64) for o in e["objects"]]
        assert len(ids) == len(set(ids)) == 800
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            output = proc.communicate(timeout=20)[0].decode()
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output = proc.communicate()[0].decode()
    # uvicorn reports each worker it started.
    assert output.count("Started server process") == 2, output
    assert proc.returncode is not None
