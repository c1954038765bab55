"""Rate limits and quotas through the real TAXII app (docs/limits.md), on each backend.

The app's clock is a `Clock` the tests move; nothing here waits on the wall clock.
"""

from __future__ import annotations

import dataclasses
import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from fastapi import FastAPI

from accord.service import limits as service
from accord.store import Query
from accord.taxii import create_app
from accord.taxii._serve import environment
from tests.cli_run import run
from tests.conftest import NodeFactory
from tests.taxii.helpers import TAXII, Server, envelope, indicator, make_server, post_headers
from tests.taxii.test_errors import check_shape
from tests.taxii.test_serve import _free_port

pytestmark = pytest.mark.anyio

BASE = "http://testserver"


class Clock:
    """Seconds since the epoch, moved by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def accord(make_node: NodeFactory) -> Server:
    """The TAXII tests' members and collections on a SQLite node (the buckets: memory)."""
    return make_server(make_node())


def _where(request: pytest.FixtureRequest, make_node: NodeFactory) -> tuple[Server, str]:
    if request.param == "postgres":
        url = str(request.getfixturevalue("postgres_url"))
        return make_server(make_node(url)), "auto"
    return make_server(make_node()), str(request.param)


@pytest.fixture(params=["memory", "database", "postgres"])
def where(request: pytest.FixtureRequest, make_node: NodeFactory) -> tuple[Server, str]:
    """The same on each home of the buckets: SQLite's process memory or its database, and
    PostgreSQL (the database)."""
    return _where(request, make_node)


@pytest.fixture(params=["memory", "postgres"])
def shared(request: pytest.FixtureRequest, make_node: NodeFactory) -> tuple[Server, str]:
    """This process's memory (SQLite), and the database that workers share (PostgreSQL)."""
    return _where(request, make_node)


def limited_app(accord: Server, clock: Clock, **settings: Any) -> FastAPI:
    """The TAXII app over the test node, with these ACCORD_LIMIT_* values (others off)."""
    off: dict[str, Any] = {
        "web_enabled": False,
        "limit_requests_per_second": 0,
        "limit_anonymous_requests_per_second": 0,
        "limit_objects_per_day": 0,
        "limit_concurrent": 0,
        "limit_anonymous_concurrent": 0,
    }
    return create_app(
        dataclasses.replace(accord.node.settings, **{**off, **settings}), accord.node, clock=clock
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def client_for(app: FastAPI, peer: str = "192.0.2.10") -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        yield c


def check_429(r: httpx.Response, retry_after: int) -> dict[str, Any]:
    body = check_shape(r, 429)
    assert body["title"] == "Too Many Requests"
    # RFC 9110 §10.2.3: delay-seconds, a non-negative integer.
    assert r.headers["retry-after"] == str(retry_after)
    return body


async def test_a_member_over_its_rate_gets_429_then_recovers(
    where: tuple[Server, str], clock: Clock
) -> None:
    accord, state = where
    app = limited_app(accord, clock, limit_requests_per_second=2, limit_burst=3, limit_state=state)
    async for c in client_for(app):
        url = accord.url("shared", "objects/")
        for _ in range(3):
            assert (await c.get(url, headers=accord.auth("writer"))).status_code == 200
        r = await c.get(url, headers=accord.auth("writer"))
        body = check_429(r, 1)
        assert "member writer" in body["description"]
        assert body["details"] == {"limit": "requests", "per_second": 2.0, "burst": 3}
        # Every TAXII route is limited, the discovery and API root resources too.
        check_429(await c.get("/taxii2/", headers=accord.auth("writer")), 1)
        # Another member has its own bucket.
        assert (await c.get(url, headers=accord.auth("reader"))).status_code == 200
        clock.now += 0.5  # one token back (2 a second)
        assert (await c.get(url, headers=accord.auth("writer"))).status_code == 200
        check_429(await c.get(url, headers=accord.auth("writer")), 1)
        clock.now += 10  # a full bucket again, and no more than that
        for _ in range(3):
            assert (await c.get(url, headers=accord.auth("writer"))).status_code == 200
        assert (await c.get(url, headers=accord.auth("writer"))).status_code == 429


async def test_anonymous_clients_are_counted_by_address_trusted_proxies_too(
    accord: Server, clock: Clock
) -> None:
    app = limited_app(
        accord,
        clock,
        limit_anonymous_requests_per_second=0.1,
        limit_anonymous_burst=2,
        limit_requests_per_second=100,
    )
    url = accord.url("public", "objects/")
    headers = {"Accept": TAXII}
    async for first in client_for(app, "192.0.2.10"):
        assert (await first.get(url, headers=headers)).status_code == 200
        assert (await first.get(url, headers=headers)).status_code == 200
        body = check_429(await first.get(url, headers=headers), 10)  # one token per 10 s
        assert "address 192.0.2.10" in body["description"]
        # A member from the same address is counted as itself, not as the address.
        assert (await first.get(url, headers=accord.auth("reader"))).status_code == 200
        # X-Forwarded-For means nothing from a peer that is no trusted proxy.
        forged = {**headers, "X-Forwarded-For": "203.0.113.5"}
        assert (await first.get(url, headers=forged)).status_code == 429
        # Wrong credentials cost the address: guessing is slowed (429 before 401).
        wrong = {"Accept": TAXII, "Authorization": "Bearer acc_guess"}
        assert (await first.get(url, headers=wrong)).status_code == 429
    async for other in client_for(app, "198.51.100.20"):
        assert (await other.get(url, headers=headers)).status_code == 200
        wrong = {"Accept": TAXII, "Authorization": "Bearer acc_guess"}
        assert (await other.get(url, headers=wrong)).status_code == 401
        assert (await other.get(url, headers=headers)).status_code == 429
    # Behind trusted proxies, X-Forwarded-For names the client.
    app = limited_app(
        accord,
        clock,
        limit_anonymous_requests_per_second=1,
        limit_anonymous_burst=1,
        limit_trusted_proxies="10.0.0.0/8",
    )
    url = accord.url("public", "objects/")
    async for proxy in client_for(app, "10.0.0.2"):
        for client in ("203.0.113.5", "203.0.113.6"):
            h = {"Accept": TAXII, "X-Forwarded-For": f"{client}, 10.0.0.9"}
            assert (await proxy.get(url, headers=h)).status_code == 200
            body = check_429(await proxy.get(url, headers=h), 1)
            assert f"address {client}" in body["description"]


async def test_a_post_over_the_daily_quota_is_refused_whole(
    where: tuple[Server, str], clock: Clock
) -> None:
    accord, state = where
    # One object per 100 s.
    app = limited_app(accord, clock, limit_objects_per_day=864, limit_state=state)
    url = accord.url("shared", "objects/")
    headers = post_headers(accord)
    async for c in client_for(app):
        first = [indicator(n) for n in range(800)]
        assert (await c.post(url, content=envelope(first), headers=headers)).status_code == 202
        over = [indicator(n) for n in range(800, 870)]
        r = await c.post(url, content=envelope(over), headers=headers)
        # 64 left, 70 asked: 6 short, one per 100 s: 600 s.
        body = check_429(r, 600)
        assert body["details"] == {"limit": "objects", "objects_per_day": 864, "objects": 70}
        assert "nothing was stored" in body["description"]
        stored = {o.id for o in accord.node.store.query(Query())}
        assert len(stored) == 800
        assert indicator(800)["id"] not in stored
        # Whatever fits still goes in; the rest after the Retry-After.
        fits = [indicator(n) for n in range(800, 864)]
        assert (await c.post(url, content=envelope(fits), headers=headers)).status_code == 202
        more = envelope([indicator(900)])
        check_429(await c.post(url, content=more, headers=headers), 100)
        clock.now += 100
        assert (await c.post(url, content=more, headers=headers)).status_code == 202
        # Reads spend no objects.
        assert (await c.get(url, headers=accord.auth("writer"))).status_code == 200
        # An envelope larger than the whole quota can never pass: 413, split it.
        huge = envelope([indicator(n) for n in range(1000, 1865)])
        body = check_shape(await c.post(url, content=huge, headers=headers), 413)
        assert "smaller envelopes" in body["description"]


async def test_concurrent_requests_are_bounded(shared: tuple[Server, str], clock: Clock) -> None:
    accord, state = shared
    app = limited_app(accord, clock, limit_concurrent=2, limit_state=state)
    limiter = app.state.taxii.limiter
    assert limiter.shared == (state != "memory")
    writer = accord.members["writer"]
    url = accord.url("shared", "objects/")
    async for c in client_for(app):
        # Two requests of the member's in progress (held here as the edge holds them).
        held = [limiter.enter(writer, "192.0.2.10") for _ in range(2)]
        body = check_429(await c.get(url, headers=accord.auth("writer")), 1)
        assert body["details"] == {"limit": "concurrent", "concurrent": 2}
        assert (await c.get(url, headers=accord.auth("reader"))).status_code == 200
        limiter.leave(held.pop())
        assert (await c.get(url, headers=accord.auth("writer"))).status_code == 200
        # The slot of an answered request comes back: the next one passes too.
        assert (await c.get(url, headers=accord.auth("writer"))).status_code == 200
        # A holder that never says it ended (a worker killed mid-request) lapses.
        clock.now += accord.node.settings.limit_lease_seconds
        limiter.enter(writer, "192.0.2.10")
        assert (await c.get(url, headers=accord.auth("writer"))).status_code == 200


async def test_a_members_own_limits_win(accord: Server, clock: Clock) -> None:
    # Every limit off and no member's own: no limiter at all.
    off = limited_app(accord, clock)
    assert not off.state.taxii.limiter.enabled
    async for c in client_for(off):
        url = accord.url("shared", "objects/")
        codes = [(await c.get(url, headers=accord.auth("writer"))).status_code for _ in range(5)]
        assert codes == [200] * 5
    app = limited_app(accord, clock, limit_requests_per_second=1, limit_burst=1)
    url = accord.url("shared", "objects/")
    service.set_member_limits(accord.node, "writer", requests_per_second=100, burst=3)
    async for c in client_for(app):
        codes = [(await c.get(url, headers=accord.auth("writer"))).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        codes = [(await c.get(url, headers=accord.auth("reader"))).status_code for _ in range(2)]
        assert codes == [200, 429]
        # 0 turns a limit off for one member; the change is seen within OVERRIDES_SECONDS.
        service.set_member_limits(accord.node, "reader", requests_per_second=0)
        clock.now += service.OVERRIDES_SECONDS
        codes = [(await c.get(url, headers=accord.auth("reader"))).status_code for _ in range(5)]
        assert codes == [200] * 5


def test_member_limits_command(accord: Server) -> None:
    node = accord.node
    node.store.create_member("cert-y")
    home = node.settings.home
    env = {"ACCORD_DATABASE_URL": node.settings.database_url}
    code, out, err = run(
        home, "member", "limits", "cert-y", "--objects-per-day", "500", "--concurrent", "0", env=env
    )
    assert code == 0, err
    assert "500 (this member's own)" in out
    assert "in progress at once  off (this member's own)" in out
    code, out, err = run(home, "member", "limits", "cert-y", env=env)
    assert code == 0, err
    assert "500 (this member's own)" in out
    code, out, err = run(home, "member", "limits", "cert-y", "--reset", env=env)
    assert code == 0, err
    assert "this member's own" not in out
    assert "10000000" in out
    code, out, err = run(home, "member", "limits", "nobody", "--burst", "1", env=env)
    assert code != 0
    code, out, err = run(home, "member", "limits", "cert-y", "--burst", "-1", env=env)
    assert code != 0


# -- two workers over PostgreSQL: one bucket -------------------------------------------


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *_children(int(child))]
    return found


def _worker_of(
    conn: http.client.HTTPConnection, server_port: int, workers: list[int]
) -> int | None:
    """The worker process holding the server end of a connection (Linux's /proc)."""
    assert conn.sock is not None
    client_port = conn.sock.getsockname()[1]
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if (
            int(local.split(":")[1], 16) == server_port
            and int(remote.split(":")[1], 16) == client_port
        ):
            inode = fields[9]
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


def _one_per_worker(port: int, master: int, path: str) -> list[http.client.HTTPConnection]:
    """A keep-alive connection to each of the two workers (opened until both answered)."""
    held: dict[int, http.client.HTTPConnection] = {}
    spare: list[http.client.HTTPConnection] = []

    def probe(_: int) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", path, headers={"Accept": TAXII})
        conn.getresponse().read()
        return conn

    deadline = time.monotonic() + 60
    with ThreadPoolExecutor(8) as pool:
        while len(held) < 2:
            assert time.monotonic() < deadline, f"connections reached only workers {list(held)}"
            # Several at once, kept open: the workers race to accept them.
            for conn in pool.map(probe, range(8)):
                worker = _worker_of(conn, port, _children(master))
                if worker is not None and worker not in held:
                    held[worker] = conn
                else:
                    spare.append(conn)
    for conn in spare:
        conn.close()
    return list(held.values())


def _get(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> tuple[int, str]:
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    r.read()
    return r.status, r.getheader("Retry-After") or ""


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="finds workers through /proc")
def test_limits_hold_across_two_workers(
    make_node: NodeFactory, postgres_url: str, tmp_path: Path
) -> None:
    """`serve(workers=2)` on PostgreSQL: a member's requests, alternating between a
    connection to each worker, spend one bucket of 10 (one token per 1,000 s: no refill
    meanwhile); and its daily quota of objects is one quota too."""
    node = make_node(
        postgres_url,
        limit_requests_per_second=0.001,
        limit_burst=10,
        limit_objects_per_day=50,
        web_enabled=False,
    )
    accord = make_server(node)
    port = _free_port()
    env = {**os.environ, **environment(node.settings)}
    code = (
        "from accord.settings import load_settings; from accord.taxii import serve; "
        f"serve(load_settings(), '127.0.0.1', {port}, workers=2)"
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    path = accord.url("shared", "objects/")
    try:
        deadline = time.monotonic() + 60
        while log.read_text().count("Application startup complete") < 2:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.1)
        # Anonymous probes: the address's bucket, not the member's.
        workers = _one_per_worker(port, proc.pid, "/taxii2/")
        answers = [_get(workers[n % 2], path, accord.auth("reader")) for n in range(30)]
        by_worker = [sorted(a[0] for a in answers[w::2]) for w in (0, 1)]
        # Each worker let some in, and together no more than the one bucket holds.
        assert all(200 in codes for codes in by_worker), by_worker
        assert sorted(a[0] for a in answers) == [200] * 10 + [429] * 20
        assert all(int(after) > 900 for status, after in answers if status == 429)
        for conn in workers:
            conn.close()

        def post(n: int) -> int:
            body = envelope([indicator(n * 100 + i) for i in range(20)])
            r = requests.post(
                f"http://127.0.0.1:{port}{path}",
                data=body,
                headers=post_headers(accord),
                timeout=30,
            )
            return r.status_code

        with ThreadPoolExecutor(4) as pool:
            posted = sorted(pool.map(post, range(4)))
        assert posted == [202, 202, 429, 429]  # 50 a day: two envelopes of 20, not three
        assert len(list(accord.node.store.query(Query()))) == 40
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    output = log.read_text()
    assert output.count("Started server process") >= 2, output
