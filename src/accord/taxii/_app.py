"""The TAXII 2.1 server as a FastAPI app: one node per process, every TAXII endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.concurrency import run_in_threadpool

from accord import __version__
from accord.service.node import Node, open_node
from accord.settings import Settings
from accord.taxii import _errors, _openapi
from accord.taxii._routes_collections import router as collections_router
from accord.taxii._routes_feeds import router as feeds_router
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


def create_app(settings: Settings, node: Node | None = None) -> FastAPI:
    """The TAXII 2.1 app.

    Args:
        settings: the node's settings (ACCORD_HOME, database, ACCORD_TAXII_*).
        node: an open node to serve (tests); by default the app opens the node
            of ``settings`` when it starts and closes it when it stops.
    """
    state = ServerState(settings, node)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = None
        if state.node is None:
            opened = state.node = await run_in_threadpool(open_node, settings)
        try:
            yield
        finally:
            if opened is not None:
                state.node = None
                opened.close()

    app = FastAPI(
        title="Accord TAXII 2.1",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.taxii = state
    _errors.install(app)
    for router in (server_router, collections_router, objects_router, feeds_router):
        app.include_router(router)

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
