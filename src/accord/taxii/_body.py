"""Request bodies read with a ceiling: refused (413) as soon as they are known to be over it.

Every route that takes a body reads it here, never with ``request.body()``,
which buffers whatever a client sends (SECURITY.md, finding 2): a declared
Content-Length over the ceiling is refused before a byte of the body is read,
and a chunked body (no length) or a lying one is counted as it arrives.
"""

from __future__ import annotations

from fastapi import Request
from starlette.requests import ClientDisconnect

from accord.exceptions import TaxiiBadRequest, TaxiiTooLarge


async def read_body(request: Request, limit: int, name: str = "max_content_length") -> bytes:
    """The request body, refused with 413 as soon as it is known to be over ``limit``.

    Content-Length is checked first; the bytes are counted as they arrive too,
    since a chunked body has no length and a declared one can lie.

    Args:
        request: the request whose body to read.
        limit: the most bytes taken.
        name: what the limit is called, in the error (the API root's
            ``max_content_length`` for TAXII bodies).

    Raises:
        TaxiiTooLarge: over the limit (the connection is then closed).
        TaxiiBadRequest: a Content-Length that is no length, or a client gone mid-body.
    """
    too_large = TaxiiTooLarge(
        f"the body is over {name} ({limit} bytes)",
        details={name if name == "max_content_length" else "limit": limit},
        headers={"Connection": "close"},
    )
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isascii() or not declared.isdigit():
            raise TaxiiBadRequest(f"Content-Length {declared!r} is not a length")
        if int(declared) > limit:
            raise too_large
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
    except ClientDisconnect:
        raise TaxiiBadRequest("the client closed the connection before the body ended") from None
    return b"".join(chunks)
