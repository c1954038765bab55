"""Every error as the TAXII 2.1 error message resource (§3.6.1), rendered in one place.

The HTTP status lives on the exception (`accord.exceptions.TaxiiError`); the
framework's own errors (no route, wrong method, unreadable parameters) and any
unexpected failure are first turned into a TaxiiError, so every answer that
is not a success has the same shape and media type.
"""

from __future__ import annotations

import logging
import uuid

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from accord.exceptions import (
    StoreFull,
    StoreUnavailable,
    TaxiiBadRequest,
    TaxiiError,
    TaxiiInsufficientStorage,
    TaxiiMethodNotAllowed,
    TaxiiNotFound,
    TaxiiServerError,
    TaxiiUnavailable,
)
from accord.taxii._auth import CHALLENGE
from accord.taxii._media import TaxiiResponse

log = logging.getLogger("accord.taxii")


def error_body(exc: TaxiiError) -> bytes:
    """The error message resource; ``http_status`` is a string (§3.6.1)."""
    body: dict[str, object] = {
        "title": exc.title,
        "description": exc.description,
        "http_status": str(exc.status),
    }
    error_id = exc.details.get("error_id")
    if isinstance(error_id, str):
        body["error_id"] = error_id
    details = {k: v for k, v in exc.details.items() if k != "error_id"}
    if details:
        body["details"] = details
    return orjson.dumps(body)


async def taxii_error(request: Request, exc: Exception) -> Response:
    """The one handler that renders errors."""
    assert isinstance(exc, TaxiiError)
    headers = dict(exc.headers)
    if exc.status == 401:
        headers.setdefault("WWW-Authenticate", CHALLENGE)
    return TaxiiResponse(error_body(exc), status_code=exc.status, headers=headers)


def _from_http(exc: HTTPException) -> TaxiiError:
    if exc.status_code == 404:
        return TaxiiNotFound("no TAXII resource at this URL (TAXII URLs end with a slash)")
    if exc.status_code == 405:
        return TaxiiMethodNotAllowed(
            "this TAXII resource does not take that method", headers=dict(exc.headers or {})
        )
    if exc.status_code == 400:
        return TaxiiBadRequest(str(exc.detail))
    error = TaxiiServerError(str(exc.detail))
    error.status = exc.status_code  # keep the framework's status, in TAXII's shape
    error.title = str(exc.detail)
    return error


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (routing, methods), as TAXII errors."""
    assert isinstance(exc, HTTPException)
    return await taxii_error(request, _from_http(exc))


async def validation_error(request: Request, exc: Exception) -> Response:
    """Parameters the framework could not read, as 400."""
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"where": ".".join(map(str, e.get("loc", ()))), "problem": e.get("msg", "")}
        for e in exc.errors()[:20]
    ]
    bad = TaxiiBadRequest("the request's parameters are not valid", details={"errors": problems})
    return await taxii_error(request, bad)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    """Anything else: 500, logged with an id the answer carries, no internals leaked."""
    error_id = str(uuid.uuid4())
    log.error(
        "TAXII request failed (error_id %s): %s %s",
        error_id,
        request.method,
        request.url.path,
        exc_info=exc,
    )
    error = TaxiiServerError(
        "the server failed; give the error_id to its operator", details={"error_id": error_id}
    )
    return await taxii_error(request, error)


async def store_unavailable(request: Request, exc: Exception) -> Response:
    """The database is unreachable or busy: 503 with Retry-After, never a stack trace."""
    log.warning("TAXII %s %s: %s", request.method, request.url.path, exc)
    error = TaxiiUnavailable(
        "the node's database cannot be reached now; nothing of this request was kept, try again",
        headers={"Retry-After": str(StoreUnavailable.retry_after)},
    )
    return await taxii_error(request, error)


async def store_full(request: Request, exc: Exception) -> Response:
    """The database's disk is full: 507; the operator must free space."""
    log.error("TAXII %s %s: %s", request.method, request.url.path, exc)
    error = TaxiiInsufficientStorage(
        "the node's disk is full; nothing of this request was kept (tell its operator)"
    )
    return await taxii_error(request, error)


def install(app: FastAPI) -> None:
    """Register the handlers on an app."""
    app.add_exception_handler(TaxiiError, taxii_error)
    app.add_exception_handler(StoreUnavailable, store_unavailable)
    app.add_exception_handler(StoreFull, store_full)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected_error)
