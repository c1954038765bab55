"""TAXII 2.1 resources on the wire (§4, §5), built from what the service returns.

Envelopes are assembled from the stored JSON bytes of each version, joined
with commas: the objects are never parsed or re-serialised on the way out.
"""

from __future__ import annotations

import orjson

from accord.service.taxii import (
    STIX_MEDIA_TYPE,
    TAXII_MEDIA_TYPE,
    Access,
    PageOut,
    format_us,
    version_timestamp,
)

DATE_ADDED_FIRST = "X-TAXII-Date-Added-First"
DATE_ADDED_LAST = "X-TAXII-Date-Added-Last"


def _head(page: PageOut) -> bytes:
    # §3.7: `more` says whether another page follows; `next` is present with it.
    if page.more and page.next is not None:
        return b'{"more":true,"next":' + orjson.dumps(page.next)
    return b'{"more":false'


def envelope(page: PageOut) -> bytes:
    """The envelope resource (§3.7) of a page: ``objects`` left out when empty."""
    if not page.items:
        return _head(page) + b"}"
    return _head(page) + b',"objects":[' + b",".join(i.obj.data for i in page.items) + b"]}"


def manifest(page: PageOut) -> bytes:
    """The manifest resource (§5.3.1): one record per version."""
    records = [
        {
            "id": i.obj.id,
            "date_added": format_us(i.date_added),
            "version": version_timestamp(i),
            "media_type": STIX_MEDIA_TYPE,
        }
        for i in page.items
    ]
    if not records:
        return _head(page) + b"}"
    return _head(page) + b',"objects":' + orjson.dumps(records) + b"}"


def versions(page: PageOut) -> bytes:
    """The versions resource (§5.8.1)."""
    if not page.items:
        return _head(page) + b"}"
    listed = [version_timestamp(i) for i in page.items]
    return _head(page) + b',"versions":' + orjson.dumps(listed) + b"}"


def date_headers(page: PageOut) -> dict[str, str]:
    """``X-TAXII-Date-Added-First``/``-Last`` of a page (§3.4), when it has items."""
    if page.first_added is None or page.last_added is None:
        return {}
    return {
        DATE_ADDED_FIRST: format_us(page.first_added),
        DATE_ADDED_LAST: format_us(page.last_added),
    }


def collection(access: Access) -> dict[str, object]:
    """The collection resource (§5.2.1) as the requester sees it."""
    c = access.collection
    body: dict[str, object] = {"id": c.id, "title": c.title}
    if c.description:
        body["description"] = c.description
    body.update(can_read=access.can_read, can_write=access.can_write, media_types=[STIX_MEDIA_TYPE])
    return body


def collections(seen: list[Access]) -> bytes:
    """The collections resource (§5.1.1): ``collections`` left out when there are none."""
    if not seen:
        return b"{}"
    return orjson.dumps({"collections": [collection(a) for a in seen]})


def discovery(title: str, root_url: str) -> bytes:
    """The discovery resource (§4.1.1): this server's one API root."""
    return orjson.dumps(
        {
            "title": title,
            "description": "TAXII 2.1 server of an Accord threat-intelligence node.",
            "default": root_url,
            "api_roots": [root_url],
        }
    )


def api_root(title: str, max_content_length: int) -> bytes:
    """The API root resource (§4.2.1)."""
    return orjson.dumps(
        {
            "title": title,
            "description": "The collections this node shares over TAXII 2.1.",
            "versions": [TAXII_MEDIA_TYPE],
            "max_content_length": max_content_length,
        }
    )
