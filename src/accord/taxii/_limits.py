"""The rate limits at the TAXII edge: a dependency of every TAXII route.

It runs before the route's own checks (Accept, access), so a request over its
limit costs the server one bucket update, and it holds the request's
concurrency slot until the route has answered. Who is counted is decided here
once: the member of valid credentials, else the client's address; a request
with wrong credentials costs its address a token before its 401, so that
guessing tokens is slowed like any other anonymous traffic.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request

from accord.exceptions import TaxiiUnauthorized
from accord.taxii._auth import remember, requester
from accord.taxii._state import server_state


def limited(request: Request) -> Iterator[None]:
    """Dependency: count the request, or refuse it with 429 (``Retry-After``).

    Raises:
        TaxiiTooManyRequests: over the key's rate, or too many of its requests
            in progress (`accord.service.limits.Limiter.enter`).
        TaxiiUnauthorized: the credentials are wrong (counted against the address).
    """
    limiter = server_state(request).limiter
    if limiter is None or not limiter.enabled:
        yield
        return
    peer = request.client.host if request.client else None
    address = limiter.address(peer, request.headers.getlist("x-forwarded-for"))
    try:
        member = requester(request)
    except TaxiiUnauthorized:
        limiter.refused_credentials(address)
        raise
    remember(request, member)
    ticket = limiter.enter(member, address)
    try:
        yield
    finally:
        limiter.leave(ticket)
