"""Who is asking: HTTP Basic (member name, token) or Bearer (token), or nobody.

The token is checked against its stored digest (``accord.store``); it is
never logged, never echoed in an error, and never kept beyond the request.
"""

from __future__ import annotations

import base64
import binascii

from fastapi import Request

from accord.exceptions import TaxiiUnauthorized
from accord.service.taxii import authenticate
from accord.store import Member
from accord.taxii._state import node_of

# RFC 9110 §11.6.1 / RFC 7617 / RFC 6750: the schemes a client may answer with.
CHALLENGE = 'Basic realm="Accord TAXII", charset="UTF-8", Bearer realm="Accord TAXII"'


def _basic(credentials: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise TaxiiUnauthorized("malformed HTTP Basic credentials") from None
    user, colon, password = decoded.partition(":")
    if not colon:
        raise TaxiiUnauthorized("malformed HTTP Basic credentials")
    return user, password


def remember(request: Request, member: Member | None) -> None:
    """Keep who asked for the rest of the request (the rate limits look first)."""
    request.state.accord_requester = (member,)


def requester(request: Request) -> Member | None:
    """Dependency: the authenticated member, or None for a request without credentials.

    Raises:
        TaxiiUnauthorized: the credentials are malformed, unknown, revoked, or of
            an unsupported scheme.
    """
    known: tuple[Member | None] | None = getattr(request.state, "accord_requester", None)
    if known is not None:
        return known[0]
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "basic":
        user, token = _basic(credentials)
        return authenticate(node_of(request), token, user)
    if scheme == "bearer" and credentials.strip():
        return authenticate(node_of(request), credentials.strip())
    raise TaxiiUnauthorized("use HTTP Basic (member name, token) or a Bearer token")
