"""Feeds for sensors and MISP over HTTP, beside TAXII: what a sensor or a MISP polls.

Every route reads one collection as one requester: the token authenticates
(HTTP Basic or Bearer, as for TAXII), the grant decides whether the collection
is seen at all (404 otherwise, 401 without credentials), and the member's
sharing agreement decides each indicator through the same egress `Gate` as
the TAXII pages. Exports stream: a sensor list of millions of indicators is
written while it is read.

- ``/feeds/{collection}/zeek.intel``: Zeek intel framework input;
- ``/feeds/{collection}/suricata.rules`` and ``/feeds/{collection}/suricata/{file}``
  (``accord-md5.txt`` ... , ``accord-domains.lst``, ``accord-datasets.rules``);
- ``/feeds/{collection}/indicators.csv``;
- ``/feeds/{collection}/misp/manifest.json``, ``.../misp/hashes.csv``,
  ``.../misp/{uuid}.json``: a MISP feed (MISP: add a feed of type "MISP Feed"
  with this URL and an ``Authorization`` header).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from accord.exceptions import TaxiiNotFound
from accord.service import feeds, ledger
from accord.service import taxii as service
from accord.service.egress import Gate
from accord.taxii._routes_server import Requester
from accord.taxii._state import node_of

# Not in the OpenAPI document: that describes the TAXII 2.1 API (and is tested as such).
router = APIRouter(tags=["Feeds for sensors and MISP"], include_in_schema=False)

FEEDS = "/feeds/{collection_id}/"
_TEXT = "text/plain; charset=utf-8"
_MEDIA = {"zeek-intel": _TEXT, "suricata": _TEXT, "csv": "text/csv; charset=utf-8"}


def _access(request: Request, collection_id: str, member: Requester) -> service.Access:
    access = service.collection_for(node_of(request), member, collection_id)
    service.require_read(access)
    return access


def _sensor(
    request: Request, collection_id: str, member: Requester, fmt: str, part: str | None = None
) -> Response:
    node = node_of(request)
    access = _access(request, collection_id, member)
    # Spooled (bounded memory) and logged in the transparency log before a byte is sent.
    spool, receipt = feeds.logged_sensor_feed(node, access, fmt, part)
    # A sync iterator: Starlette runs it in its thread pool.
    return StreamingResponse(ledger.read_spool(spool), media_type=_MEDIA[fmt], headers=receipt)


def _logged(
    request: Request, access: service.Access, gate: Gate | None, body: bytes
) -> dict[str, str]:
    """Log a MISP feed answer before it is sent; its receipt headers."""
    return ledger.share(
        node_of(request),
        channel="feed",
        collection=access.collection,
        member=access.member,
        agreement=gate.agreement if gate is not None else None,
        added=[],
        body=body,
    )


@router.get(FEEDS + "zeek.intel", summary="Indicators as a Zeek intel file")
def zeek_intel(request: Request, collection_id: str, member: Requester) -> Response:
    """The collection's indicators as the member may receive them, for Zeek's intel framework."""
    return _sensor(request, collection_id, member, "zeek-intel")


@router.get(FEEDS + "suricata.rules", summary="Indicators as Suricata rules")
def suricata_rules(request: Request, collection_id: str, member: Requester) -> Response:
    """Suricata rules (DNS, TLS SNI, HTTP host and URL, addresses) with stable sids."""
    return _sensor(request, collection_id, member, "suricata")


@router.get(FEEDS + "suricata/{name}", summary="A Suricata hash list or dataset")
def suricata_list(request: Request, collection_id: str, name: str, member: Requester) -> Response:
    """One of the files the rules load: hash lists, the domains dataset, the dataset rules."""
    part = next((k for k, f in feeds.SURICATA_FILES.items() if f == name), None)
    if part is None:
        raise TaxiiNotFound(
            f"no Suricata file {name!r} (one of {sorted(feeds.SURICATA_FILES.values())})"
        )
    return _sensor(request, collection_id, member, "suricata", part)


@router.get(FEEDS + "indicators.csv", summary="Indicators as CSV")
def indicators_csv(request: Request, collection_id: str, member: Requester) -> Response:
    """type, value, indicator id, source, description, valid_until, url."""
    return _sensor(request, collection_id, member, "csv")


def _misp(
    request: Request, collection_id: str, member: Requester
) -> tuple[feeds.MispFeed, service.Access, Gate | None]:
    node = node_of(request)
    access = _access(request, collection_id, member)
    gate = feeds.reader_gate(node, access)
    return feeds.misp_feed(node, access.collection, gate), access, gate


@router.get(FEEDS + "misp/manifest.json", summary="MISP feed: the manifest")
def misp_manifest(request: Request, collection_id: str, member: Requester) -> Response:
    """Event uuid -> summary, for every report and grouping the member may receive."""
    feed, access, gate = _misp(request, collection_id, member)
    body = feed.manifest_bytes()
    receipt = _logged(request, access, gate, body)
    return Response(body, media_type="application/json", headers=receipt)


@router.get(FEEDS + "misp/hashes.csv", summary="MISP feed: the hashes")
def misp_hashes(request: Request, collection_id: str, member: Requester) -> Response:
    """md5 of each attribute value, and its event's uuid."""
    feed, access, gate = _misp(request, collection_id, member)
    body = feed.hashes_csv()
    receipt = _logged(request, access, gate, body)
    return Response(body, media_type="text/csv; charset=utf-8", headers=receipt)


@router.get(FEEDS + "misp/{event_file}", summary="MISP feed: one event")
def misp_event(
    request: Request, collection_id: str, event_file: str, member: Requester
) -> Response:
    """One event, ``{uuid}.json``, as PyMISP writes it into a feed."""
    uuid = event_file.removesuffix(".json")
    node = node_of(request)
    access = _access(request, collection_id, member)
    gate = feeds.reader_gate(node, access)
    data = feeds.misp_feed_event(node, access.collection, gate, uuid)
    if data is None:
        raise TaxiiNotFound(f"no event {uuid!r} in this feed")
    receipt = _logged(request, access, gate, data)
    return Response(data, media_type="application/json", headers=receipt)
