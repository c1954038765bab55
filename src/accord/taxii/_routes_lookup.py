"""Private lookup endpoints, beside the TAXII API root (RFC 9497 VOPRF; docs/lookup.md).

Not TAXII resources: the offers are ``application/json`` and the filter, the
context table and the evaluations ``application/octet-stream``. Errors are
the TAXII error message resource, like every other answer of this server.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from accord.service import lookup as service
from accord.taxii._body import read_body
from accord.taxii._routes_server import Requester
from accord.taxii._state import API_ROOT, node_of

# Out of the OpenAPI document: it describes the TAXII 2.1 API (and Schemathesis fuzzes
# what it describes); these endpoints are described in docs/lookup.md.
router = APIRouter(tags=["Accord private lookup"], include_in_schema=False)

LOOKUP = API_ROOT + "accord/lookup/"
OFFER = LOOKUP + "{collection_id}/"
EPOCH = OFFER + "{epoch}/"
JSON = "application/json"
BYTES = "application/octet-stream"
_MAX_BODY = 65_535 * 32


@router.get(LOOKUP, summary="The private lookups offered to the requester", operation_id="lookups")
def get_offers(request: Request, member: Requester) -> Response:
    """Every collection's current offer to the requesting member."""
    offers = service.offers_for(node_of(request), member)
    return Response(orjson.dumps({"offers": [o.to_json() for o in offers]}), media_type=JSON)


@router.get(OFFER, summary="A collection's current private lookup offer", operation_id="lookup")
def get_offer(request: Request, collection_id: str, member: Requester) -> Response:
    """The current epoch's key, filter digest and limits for the requesting member."""
    (offer,) = service.offers_for(node_of(request), member, collection_id)
    return Response(orjson.dumps(offer.to_json()), media_type=JSON)


@router.get(EPOCH + "filter", summary="The member's filter", operation_id="lookup_filter")
def get_filter(request: Request, collection_id: str, epoch: int, member: Requester) -> Response:
    """The filter made for the requesting member in this epoch."""
    data = service.blob(node_of(request), member, collection_id, epoch, "filter")
    return Response(data, media_type=BYTES)


@router.get(EPOCH + "context", summary="The member's hit context", operation_id="lookup_context")
def get_context(request: Request, collection_id: str, epoch: int, member: Requester) -> Response:
    """The sealed hit context made for the requesting member in this epoch."""
    data = service.blob(node_of(request), member, collection_id, epoch, "context")
    return Response(data, media_type=BYTES)


@router.get(EPOCH + "log", summary="The epoch's log entries", operation_id="lookup_log")
def get_log(
    request: Request, collection_id: str, epoch: int, member: Requester, size: int | None = None
) -> Response:
    """The epoch's lookup-epoch log entries with inclusion proofs to a checkpoint (``size``)."""
    doc = service.announcements(node_of(request), member, collection_id, epoch, size)
    return Response(orjson.dumps(doc), media_type=JSON)


@router.post(EPOCH + "evaluate", summary="Evaluate blinded values", operation_id="lookup_evaluate")
async def post_evaluate(
    request: Request, collection_id: str, epoch: int, member: Requester
) -> Response:
    """Blinded elements in, evaluated elements and one DLEQ proof out."""
    # At most 65,535 elements of 32 bytes: a longer body is refused before it is read.
    body = await read_body(request, _MAX_BODY, "65,535 elements")
    answer, left = await run_in_threadpool(
        service.answer, node_of(request), member, collection_id, epoch, body
    )
    return Response(answer, media_type=BYTES, headers={"Accord-Lookup-Remaining": str(left)})
