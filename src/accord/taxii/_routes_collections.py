"""Collections, one collection and its manifest (TAXII 2.1 §5.1, §5.2)."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from accord.service import taxii as service
from accord.taxii import _resources as resources
from accord.taxii._media import TaxiiResponse, require_taxii_accept
from accord.taxii._openapi import parameters, responses
from accord.taxii._routes_server import Requester
from accord.taxii._state import API_ROOT, node_of, server_state

router = APIRouter(dependencies=[Depends(require_taxii_accept)], tags=["TAXII 2.1 collections"])

COLLECTION = API_ROOT + "collections/{collection_id}/"


@router.get(
    API_ROOT + "collections/",
    response_class=TaxiiResponse,
    responses=responses(200, "Collections", 401),
    summary="Get collections (§5.1)",
    operation_id="get_collections",
)
def get_collections(request: Request, member: Requester) -> Response:
    """The collections the requester may see, with what it may do with each."""
    return TaxiiResponse(resources.collections(service.collections_for(node_of(request), member)))


@router.get(
    COLLECTION,
    response_class=TaxiiResponse,
    responses=responses(200, "Collection", 401, 404),
    summary="Get a collection (§5.2)",
    operation_id="get_collection",
)
def get_collection(request: Request, collection_id: str, member: Requester) -> Response:
    """One collection, if the requester may see it."""
    access = service.collection_for(node_of(request), member, collection_id)
    return TaxiiResponse(orjson.dumps(resources.collection(access)))


@router.get(
    COLLECTION + "manifest/",
    response_class=TaxiiResponse,
    responses=responses(200, "Manifest", 400, 401, 403, 404, dated=True),
    openapi_extra=parameters(
        service.ADDED_AFTER,
        service.LIMIT,
        service.NEXT,
        service.M_ID,
        service.M_TYPE,
        service.M_VERSION,
        service.M_SPEC,
    ),
    summary="Get object manifests (§5.3)",
    operation_id="get_manifest",
)
def get_manifest(request: Request, collection_id: str, member: Requester) -> Response:
    """One manifest record (id, date_added, version, media type) per selected version."""
    node = node_of(request)
    access = service.collection_for(node, member, collection_id)
    service.require_read(access)
    filters = service.parse_filters(
        request.query_params.multi_items(),
        service.MANIFEST_FILTERS,
        max_page=server_state(request).settings.taxii_max_page,
    )
    page = service.manifest_page(node, access, filters)
    body = resources.manifest(page)
    receipt = service.log_answer(node, access, "taxii-manifest", page, body)
    return TaxiiResponse(body, headers={**resources.date_headers(page), **receipt})
