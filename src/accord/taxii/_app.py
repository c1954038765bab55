"""The TAXII 2.1 server as a FastAPI app: one node per process, every TAXII endpoint."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from accord import __version__
from accord.service.node import Node, open_node
from accord.settings import Settings
from accord.taxii import _errors, _openapi
from accord.taxii._limits import limited
from accord.taxii._routes_collections import router as collections_router
from accord.taxii._routes_feeds import router as feeds_router
from accord.taxii._routes_log import router as log_router
from accord.taxii._routes_lookup import router as lookup_router
from accord.taxii._routes_objects import router as objects_router
from accord.taxii._routes_server import router as server_router
from accord.taxii._state import ServerState

DESCRIPTION = """\
The TAXII 2.1 server of an Accord node (OASIS TAXII Version 2.1).

Every TAXII resource, errors included, is `application/taxii+json;version=2.1`.
Authenticate with HTTP Basic (user name: the member's name, password: one of its
tokens) or `Authorization: Bearer TOKEN`; collections opened to anonymous reading
answer without credentials.
"""


def create_app(
    settings: Settings, node: Node | None = None, *, clock: Callable[[], float] = time.time
) -> FastAPI:
    """The TAXII 2.1 app, with the analyst's console at /console/ (ACCORD_WEB_ENABLED).

    Args:
        settings: the node's settings (ACCORD_HOME, database, ACCORD_TAXII_*).
        node: an open node to serve (tests); by default the app opens the node
            of ``settings`` when it starts and closes it when it stops.
        clock: the clock of the console's session expiry and of the rate limits
            (tests move it).
    """
    state = ServerState(settings, clock=clock)
    state.open(node)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = None
        if state.node is None:
            opened = await run_in_threadpool(open_node, settings)
            await run_in_threadpool(state.open, opened)
        try:
            yield
        finally:
            if opened is not None:
                state.open(None)
                opened.close()

    app = FastAPI(
        title="Accord TAXII 2.1",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        # Every TAXII route is rate limited (docs/limits.md), before its own checks.
        dependencies=[Depends(limited)],
    )
    app.state.taxii = state
    _errors.install(app)
    routers = (
        server_router,
        collections_router,
        objects_router,
        log_router,
        lookup_router,
        feeds_router,
    )
    for router in routers:
        app.include_router(router)
    if settings.web_enabled:
        # The analyst's console shares this process, its node and its lifespan.
        from accord.web import create_console

        app.mount("/console", create_console(settings, lambda: state.node, clock))

        @app.get("/", include_in_schema=False)
        def root() -> RedirectResponse:
            return RedirectResponse("/console/", status_code=307)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = _openapi.finish(spec)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
