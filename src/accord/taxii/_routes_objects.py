"""Objects: get a page, add an envelope, get and delete one object, its versions.

TAXII 2.1 §5.4 to 5.8. Reads are plain functions (FastAPI runs them in its
thread pool, where the store's blocking calls belong); Add Objects is a
coroutine so that it can count the body while it arrives and stop at
max_content_length, then stores it in the thread pool.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from accord.service import taxii as service
from accord.taxii import _resources as resources
from accord.taxii._body import read_body
from accord.taxii._media import TaxiiResponse, require_taxii_accept, require_taxii_body
from accord.taxii._openapi import parameters, request_body, responses
from accord.taxii._routes_collections import COLLECTION
from accord.taxii._routes_server import Requester
from accord.taxii._state import node_of, server_state

router = APIRouter(dependencies=[Depends(require_taxii_accept)], tags=["TAXII 2.1 objects"])

OBJECTS = COLLECTION + "objects/"
OBJECT = OBJECTS + "{object_id}/"
_PAGING = (service.ADDED_AFTER, service.LIMIT, service.NEXT)


def _filters(request: Request, allowed: frozenset[str], **kw: tuple[str, ...]) -> service.Filters:
    return service.parse_filters(
        request.query_params.multi_items(),
        allowed,
        max_page=server_state(request).settings.taxii_max_page,
        **kw,
    )


def _readable(request: Request, collection_id: str, member: Requester) -> service.Access:
    access = service.collection_for(node_of(request), member, collection_id)
    service.require_read(access)
    return access


def _page_response(
    request: Request, access: service.Access, channel: str, body: bytes, page: service.PageOut
) -> Response:
    # The answer is in the transparency log (committed) before a byte of it is sent.
    receipt = service.log_answer(node_of(request), access, channel, page, body)
    return TaxiiResponse(body, headers={**resources.date_headers(page), **receipt})


@router.get(
    OBJECTS,
    response_class=TaxiiResponse,
    responses=responses(200, "Envelope", 400, 401, 403, 404, dated=True),
    openapi_extra=parameters(
        *_PAGING, service.M_ID, service.M_TYPE, service.M_VERSION, service.M_SPEC
    ),
    summary="Get objects (§5.4)",
    operation_id="get_objects",
)
def get_objects(request: Request, collection_id: str, member: Requester) -> Response:
    """A page of the collection's objects, oldest date_added first."""
    access = _readable(request, collection_id, member)
    filters = _filters(request, service.OBJECTS_FILTERS)
    page = service.objects_page(node_of(request), access, filters)
    return _page_response(request, access, "taxii-objects", resources.envelope(page), page)


@router.post(
    OBJECTS,
    status_code=202,
    response_class=TaxiiResponse,
    responses=responses(202, "Status", 400, 401, 403, 404, 413, 415, 422),
    openapi_extra=request_body(),
    summary="Add objects (§5.5)",
    operation_id="add_objects",
)
async def add_objects(request: Request, collection_id: str, member: Requester) -> Response:
    """Store an envelope's objects; the status (202) says what became of each one."""
    received = datetime.now(UTC)
    node = node_of(request)
    access = await run_in_threadpool(service.collection_for, node, member, collection_id)
    service.require_write(access, member)
    require_taxii_body(request.headers.get("content-type"))
    body = await read_body(request, server_state(request).settings.taxii_max_content_length)
    assert member is not None  # require_write let only members through
    status = await run_in_threadpool(
        service.add_objects,
        node,
        member,
        access,
        body,
        received=received,
        limiter=server_state(request).limiter,
    )
    return TaxiiResponse(status, status_code=202)


@router.get(
    OBJECT,
    response_class=TaxiiResponse,
    responses=responses(200, "Envelope", 400, 401, 403, 404, dated=True),
    openapi_extra=parameters(*_PAGING, service.M_VERSION, service.M_SPEC),
    summary="Get an object (§5.6)",
    operation_id="get_object",
)
def get_object(request: Request, collection_id: str, object_id: str, member: Requester) -> Response:
    """Versions of one object (the last one unless match[version] says otherwise)."""
    access = _readable(request, collection_id, member)
    filters = _filters(request, service.OBJECT_FILTERS)
    page = service.object_page(node_of(request), access, object_id, filters)
    return _page_response(request, access, "taxii-object", resources.envelope(page), page)


@router.delete(
    OBJECT,
    responses=responses(200, None, 400, 401, 403, 404),
    openapi_extra=parameters(service.M_VERSION, service.M_SPEC),
    summary="Delete an object (§5.7)",
    operation_id="delete_object",
)
def delete_object(
    request: Request, collection_id: str, object_id: str, member: Requester
) -> Response:
    """Take an object (every version, or those match[version] names) out of the collection.

    Needs both read and write access (§5.7: no deletes in write-only collections).
    """
    access = _readable(request, collection_id, member)
    service.require_write(access, member)
    filters = _filters(request, service.DELETE_FILTERS, default_versions=("all",))
    service.delete_object(node_of(request), access, object_id, filters)
    return Response(status_code=200)


@router.get(
    OBJECT + "versions/",
    response_class=TaxiiResponse,
    responses=responses(200, "Versions", 400, 401, 403, 404, dated=True),
    openapi_extra=parameters(*_PAGING, service.M_SPEC),
    summary="Get object versions (§5.8)",
    operation_id="get_object_versions",
)
def get_object_versions(
    request: Request, collection_id: str, object_id: str, member: Requester
) -> Response:
    """Every version of one object in the collection, as its timestamp."""
    access = _readable(request, collection_id, member)
    filters = _filters(request, service.VERSIONS_FILTERS)
    page = service.versions_page(node_of(request), access, object_id, filters)
    return _page_response(request, access, "taxii-versions", resources.versions(page), page)
