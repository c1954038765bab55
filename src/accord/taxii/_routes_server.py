"""Server discovery, API root information and status resources (TAXII 2.1 §4)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from accord.service import taxii as service
from accord.store import Member
from accord.taxii import _resources as resources
from accord.taxii._auth import requester
from accord.taxii._media import TaxiiResponse, require_taxii_accept
from accord.taxii._openapi import responses
from accord.taxii._state import API_ROOT, DISCOVERY, node_of, server_state

Requester = Annotated[Member | None, Depends(requester)]

router = APIRouter(dependencies=[Depends(require_taxii_accept)], tags=["TAXII 2.1 server"])


def root_url(request: Request) -> str:
    """The API root's absolute URL, as the client reached this server."""
    return str(request.base_url).rstrip("/") + API_ROOT


@router.get(
    DISCOVERY,
    response_class=TaxiiResponse,
    responses=responses(200, "Discovery", 401),
    summary="Server discovery (§4.1)",
    operation_id="discovery",
)
def discovery(request: Request, member: Requester) -> Response:
    """The server's title and its API root; open to anonymous clients."""
    return TaxiiResponse(resources.discovery(server_state(request).title, root_url(request)))


@router.get(
    API_ROOT,
    response_class=TaxiiResponse,
    responses=responses(200, "ApiRoot", 401),
    summary="API root information (§4.2)",
    operation_id="api_root",
)
def api_root(request: Request, member: Requester) -> Response:
    """The API root: the TAXII version it speaks and the largest body it takes."""
    state = server_state(request)
    return TaxiiResponse(resources.api_root(state.title, state.settings.taxii_max_content_length))


def _status(request: Request, status_id: str, member: Member | None) -> Response:
    return TaxiiResponse(service.get_status(node_of(request), member, status_id))


@router.get(
    API_ROOT + "status/{status_id}/",
    response_class=TaxiiResponse,
    responses=responses(200, "Status", 401, 404),
    summary="Get a status (§4.3)",
    operation_id="get_status",
)
def get_status(request: Request, status_id: str, member: Requester) -> Response:
    """The status of an Add Objects request, to the member that made it."""
    return _status(request, status_id, member)


# taxii2-client polls ``../../status/{id}`` relative to the collection: no
# trailing slash. Served as is rather than redirected (a redirect costs a
# round trip per poll and some clients drop credentials on it).
@router.get(API_ROOT + "status/{status_id}", include_in_schema=False)
def get_status_unslashed(request: Request, status_id: str, member: Requester) -> Response:
    """The same status resource, without the trailing slash."""
    return _status(request, status_id, member)
