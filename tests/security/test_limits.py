"""Request and header size limits over a real socket: refused early, nothing read in full.

A client declaring a huge body gets its answer before it sends a byte of it;
one streaming a chunked body without end is cut off once it passes the route's
limit. Oversized request lines and headers are refused by the HTTP parser.
(Slow clients: tests/taxii/test_serve.py proves the deadline on headers and bodies.)
"""

from __future__ import annotations

import socket
import uuid

import pytest

from tests.security.conftest import Live
from tests.taxii.helpers import TAXII

HUGE = 10**12  # a terabyte, never sent
_REFUSED = {"/witness/add-checkpoint": 400}  # its text answers; 413 everywhere else


def _address(live: Live) -> tuple[str, int]:
    host, port = live.base.removeprefix("http://").split(":")
    return host, int(port)


def _answer(sock: socket.socket) -> bytes:
    """What the server sends until it closes (or 5 s pass: then the test fails)."""
    sock.settimeout(5)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def _exchange(live: Live, head: bytes, body: bytes = b"") -> bytes:
    with socket.create_connection(_address(live)) as sock:
        sock.sendall(head + body)
        return _answer(sock)


def _status(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer[9:12])


def _head(method: str, path: str, *lines: str) -> bytes:
    text = f"{method} {path} HTTP/1.1\r\nHost: x\r\n" + "".join(f"{x}\r\n" for x in lines)
    return (text + "\r\n").encode()


def _routes(live: Live) -> dict[str, tuple[str, ...]]:
    s = live.server
    shared = s.collections["shared"].id
    member = f"Authorization: Bearer {s.tokens['writer']}"
    return {
        f"/api/v21/collections/{shared}/objects/": (member, f"Content-Type: {TAXII}"),
        "/log/cosignature": (member,),
        "/witness/add-checkpoint": (),  # anonymous: the tlog-witness protocol
        f"/api/v21/accord/lookup/{shared}/1/evaluate": (member,),
        "/console/login": ("Content-Type: application/x-www-form-urlencoded",),
    }


def test_a_declared_huge_body_is_refused_before_it_is_sent(live: Live) -> None:
    for path, lines in _routes(live).items():
        head = _head("POST", path, f"Accept: {TAXII}", *lines, f"Content-Length: {HUGE}")
        answer = _exchange(live, head)  # the body never comes
        assert _status(answer) == _REFUSED.get(path, 413), (path, answer[:300])


def test_an_endless_chunked_body_is_cut_off_at_the_limit(live: Live) -> None:
    chunk = b"10000\r\n" + b"a" * 0x10000 + b"\r\n"  # 64 KiB a chunk
    for path, lines in _routes(live).items():
        if path.startswith("/console/"):
            continue  # the console takes declared lengths only (next test)
        head = _head("POST", path, f"Accept: {TAXII}", *lines, "Transfer-Encoding: chunked")
        with socket.create_connection(_address(live)) as sock:
            sock.sendall(head)
            sent = 0
            try:
                # Up to 64 MiB, never the final chunk: only the limit can end this.
                while sent < 1024:
                    sock.sendall(chunk)
                    sent += 1
            except (BrokenPipeError, ConnectionResetError):
                pass
            answer = _answer(sock)
        assert sent < 1024, path
        assert answer == b"" or _status(answer) == _REFUSED.get(path, 413), (path, answer[:300])


def test_the_console_wants_a_declared_length(live: Live) -> None:
    head = _head(
        "POST",
        "/console/login",
        "Content-Type: application/x-www-form-urlencoded",
        "Transfer-Encoding: chunked",
    )
    answer = _exchange(live, head, b"5\r\nname=\r\n")
    assert _status(answer) == 411, answer[:300]


@pytest.mark.parametrize("where", ["request line", "header"])
def test_an_oversized_request_line_or_header_is_refused(live: Live, where: str) -> None:
    long = "a" * (64 * 1024)
    if where == "request line":
        head = _head("GET", f"/taxii2/?{long}", "Accept: */*")
    else:
        head = _head("GET", "/taxii2/", "Accept: */*", f"X-Long: {long}")
    answer = _exchange(live, head)
    assert _status(answer) in (400, 414, 431), answer[:300]
    # The server is still there for everyone else.
    assert (
        _status(_exchange(live, _head("GET", "/taxii2/", "Accept: */*", "Connection: close")))
        == 200
    )


def test_many_headers_are_refused_too(live: Live) -> None:
    lines = [f"X-{uuid.uuid4().hex}: {'b' * 40}" for _ in range(1000)]  # 80 KB of headers
    answer = _exchange(live, _head("GET", "/taxii2/", "Accept: */*", *lines))
    assert _status(answer) in (400, 431), answer[:300]
