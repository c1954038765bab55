"""Media types and content negotiation (TAXII 2.1 §1.6.8).

Every TAXII 2.1 resource, error messages included, is
``application/taxii+json;version=2.1``; the STIX content inside envelopes is
``application/stix+json;version=2.1`` (announced by collections and manifest
records, never a response's own type).

Accept: a request is served when its Accept header admits the TAXII 2.1
media type: ``application/taxii+json;version=2.1``, ``application/taxii+json``
(no version means the latest the server has, §1.6.8.1: 2.1 here), or a range
that covers it (``application/*``, ``*/*``, RFC 9110 §12.5.1); a request
without Accept accepts anything (RFC 9110). A range with ``q=0`` refuses.
Anything else, another TAXII version included, gets 406.

Content-Type: a POST body must be ``application/taxii+json`` with version 2.1
or no version; anything else gets 415.
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from accord.exceptions import TaxiiNotAcceptable, TaxiiUnsupportedMediaType
from accord.service.taxii import STIX_MEDIA_TYPE, TAXII_MEDIA_TYPE

__all__ = [
    "STIX_MEDIA_TYPE",
    "TAXII_MEDIA_TYPE",
    "TaxiiResponse",
    "accepts_taxii",
    "require_taxii_accept",
    "require_taxii_body",
]

_TAXII = "application/taxii+json"
_VERSION = "2.1"


class TaxiiResponse(Response):
    """A response in the TAXII 2.1 media type."""

    media_type = TAXII_MEDIA_TYPE


def _parse(value: str) -> tuple[str, dict[str, str]]:
    kind, *raw_params = value.split(";")
    params: dict[str, str] = {}
    for raw in raw_params:
        name, _, param = raw.partition("=")
        params[name.strip().lower()] = param.strip().strip('"')
    return kind.strip().lower(), params


def _is_taxii_21(kind: str, params: dict[str, str]) -> bool:
    return kind == _TAXII and params.get("version", _VERSION) == _VERSION


def accepts_taxii(header: str | None) -> bool:
    """Whether an Accept header admits ``application/taxii+json;version=2.1``."""
    if header is None or not header.strip():
        return True
    for item in header.split(","):
        kind, params = _parse(item)
        try:
            if float(params.get("q", "1")) <= 0:
                continue
        except ValueError:
            continue
        if kind in ("*/*", "application/*") or _is_taxii_21(kind, params):
            return True
    return False


async def require_taxii_accept(request: Request) -> None:
    """Dependency: 406 unless the client accepts TAXII 2.1 (§1.6.8.1).

    Raises:
        TaxiiNotAcceptable: with the media type the server answers in.
    """
    header = request.headers.get("accept")
    if not accepts_taxii(header):
        raise TaxiiNotAcceptable(
            f"this server answers in {TAXII_MEDIA_TYPE} only; Accept was {header!r}",
            details={"supported": [TAXII_MEDIA_TYPE]},
        )


def require_taxii_body(content_type: str | None) -> None:
    """415 unless a request body is TAXII 2.1 (§1.6.8.1).

    Raises:
        TaxiiUnsupportedMediaType: with the media type the server reads.
    """
    if content_type is not None:
        kind, params = _parse(content_type)
        if _is_taxii_21(kind, params):
            return
    raise TaxiiUnsupportedMediaType(
        f"a TAXII 2.1 body must be sent as {TAXII_MEDIA_TYPE}; Content-Type was {content_type!r}",
        details={"supported": [TAXII_MEDIA_TYPE]},
    )
