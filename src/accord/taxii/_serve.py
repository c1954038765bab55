"""Run the TAXII server under uvicorn, with deadlines that slow clients cannot stretch.

Uvicorn closes idle keep-alive connections, but it waits without end for a
request that a client starts and never finishes (headers dribbled a byte at a
time, a body that stalls): each such connection holds a slot until the server
runs out. `DeadlineH11Protocol` gives every request a deadline, counted from
the connection or from the request's first byte, for its headers *and* body;
past it the connection is closed. A request head (request line and headers)
over h11's limit (16 KiB) is refused with 431 however fast it arrives.
``limit_concurrency`` bounds the
connections of a process (beyond it: 503).

Several workers: uvicorn starts them as fresh processes that import the app
by name; they read their settings from the environment, which `serve` fills
from its own settings first. Its supervisor replaces a worker that dies, and one
that does not answer its health check within ``ACCORD_TAXII_WORKER_TIMEOUT``.
Over SQLite, writes queue on the file's lock; over PostgreSQL, workers read in
parallel and write under the store's lock.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
from typing import Any

import h11
import uvicorn
from fastapi import FastAPI
from h11._connection import DEFAULT_MAX_INCOMPLETE_EVENT_SIZE  # what uvicorn passes h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from accord.service.node import open_node
from accord.settings import SETTINGS, Settings, load_settings
from accord.taxii._app import create_app

log = logging.getLogger("accord.taxii")

APP_FACTORY = "accord.taxii._serve:app_from_environment"


class ServerConfig(uvicorn.Config):
    """uvicorn's configuration, plus the request deadline (seconds)."""

    def __init__(self, app: Any, *, request_timeout: float, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.request_timeout = request_timeout


def _deadline(config: uvicorn.Config) -> float:
    given = getattr(config, "request_timeout", None)
    if isinstance(given, float | int):
        return float(given)
    # A worker process started by uvicorn.run: its settings are in its environment.
    return load_settings().taxii_request_timeout


class DeadlineH11Protocol(H11Protocol):
    """HTTP/1.1 with a deadline on receiving each whole request."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.request_timeout = _deadline(config)
        self.deadline: asyncio.TimerHandle | None = None
        self.max_head = config.h11_max_incomplete_event_size or DEFAULT_MAX_INCOMPLETE_EVENT_SIZE

    def _receiving(self) -> bool:
        # h11's view of the client: IDLE before a request, SEND_BODY inside one.
        return self.conn.their_state in (h11.IDLE, h11.SEND_BODY)

    def _arm(self) -> None:
        if self.deadline is None:
            self.deadline = self.loop.call_later(self.request_timeout, self._expired)

    def _disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _expired(self) -> None:
        self.deadline = None
        if self._receiving() and not self.transport.is_closing():
            log.info("closing a connection whose request took over %ss", self.request_timeout)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def _head_too_large(self, data: bytes) -> bool:
        # h11 measures a request head only while it is incomplete: one that arrives
        # whole in one read (asyncio reads up to 256 KiB) passes its limit. Here the
        # end of the head must come within the limit, however the bytes arrive
        # (SECURITY.md, finding 4).
        if self.conn.their_state is not h11.IDLE:
            return False
        head = self.conn.trailing_data[0] + data
        return head.find(b"\r\n\r\n", 0, self.max_head + 4) == -1 and len(head) > self.max_head

    def _refuse_head(self) -> None:
        body = f"the request line and headers are over {self.max_head} bytes\n".encode()
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
            b"content-length: %d\r\n\r\n%s" % (len(body), body)
        )
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._head_too_large(data):
            log.info("refusing a request whose head is over %s bytes", self.max_head)
            self._disarm()
            self._refuse_head()
            return
        if self._receiving():
            self._arm()
        super().data_received(data)
        if not self._receiving():
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def environment(settings: Settings) -> dict[str, str]:
    """The ``ACCORD_*`` variables that give a fresh process these settings."""
    env: dict[str, str] = {}
    for s in SETTINGS:
        field = s.name.removeprefix("ACCORD_").lower()
        if hasattr(settings, field):
            value = getattr(settings, field)
            env[s.name] = ("on" if value else "off") if isinstance(value, bool) else str(value)
    return env


def app_from_environment() -> FastAPI:
    """The app of a worker process, from the settings in its environment."""
    return create_app(load_settings())


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The protocol, timeouts and limits of every Accord server process."""
    return {
        "http": DeadlineH11Protocol,
        "timeout_keep_alive": max(1, round(settings.taxii_keep_alive)),
        "limit_concurrency": settings.taxii_max_connections,
        "server_header": False,
    }


def server_config(
    settings: Settings, app: FastAPI, *, host: str, port: int, **extra: Any
) -> ServerConfig:
    """The configuration of a one-process server (`serve`; tests run it in a thread).

    Args:
        settings: the node's settings (timeouts and limits).
        app: the app to serve.
        host: the address to bind.
        port: the TCP port.
        extra: further uvicorn options (log level, ...).
    """
    return ServerConfig(
        app,
        request_timeout=settings.taxii_request_timeout,
        host=host,
        port=port,
        **{**uvicorn_options(settings), **extra},
    )


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve the node's TAXII 2.1 API until interrupted.

    Args:
        settings: the node's settings.
        host: the address to bind (loopback by default: say 0.0.0.0 to be reached).
        port: the TCP port.
        workers: server processes; more than one needs a store that many
            processes can share (PostgreSQL serves them best).

    Raises:
        NodeNotFound: there is no node at ``settings.home``.
        StoreError: the store cannot be opened or migrated.
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    # Open (and migrate) once here, so that a missing node or a bad database
    # fails before the port is bound, and workers never race a migration.
    open_node(settings).close()
    if workers == 1:
        config = server_config(settings, create_app(settings), host=host, port=port)
        uvicorn.Server(config).run()
        return
    os.environ.update(environment(settings))
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        **uvicorn_options(settings),
        **supervisor_options(settings),
    )


def supervisor_options(settings: Settings) -> dict[str, Any]:
    """How long uvicorn's supervisor waits for a worker before it kills and replaces it.

    uvicorn's default, 5 s, is shorter than a worker takes to import Accord on a busy
    machine: each new worker was killed as hung before it answered, and a restart loop
    kept ``serve --workers 4`` from ever serving (seen under the load benchmark on two
    shared cores). The supervisor still replaces a worker that dies (``kill -9``) at once.
    """
    if "timeout_worker_healthcheck" not in inspect.signature(uvicorn.Config).parameters:
        return {}  # an older uvicorn: no health check, nothing to lengthen
    return {"timeout_worker_healthcheck": settings.taxii_worker_timeout}
