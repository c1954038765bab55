"""The console as a FastAPI app, mounted by `accord serve` at /console/ beside TAXII.

Every response carries a strict Content-Security-Policy (scripts, styles and
images from the node itself only: no inline script or style anywhere), and
``X-Content-Type-Options``, ``Referrer-Policy`` and ``frame-ancestors`` that
keep pages from being sniffed, leaked or framed. Errors render one page with
the right status (`accord.exceptions.ConsoleError` carries it).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from accord import __version__
from accord.exceptions import (
    AccordError,
    ConsoleError,
    CsrfRefused,
    NotFound,
    StoreError,
    StoreFull,
    StoreUnavailable,
)
from accord.service import dashboard as boards
from accord.service import users
from accord.service.node import Node
from accord.settings import Settings
from accord.web import _render
from accord.web._session import LOGIN_COOKIE, Clock, Session, Sessions, check_csrf

HERE = Path(__file__).resolve().parent
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}

NAV = (
    ("dashboard", "/console/", "read"),
    ("search", "/console/search", "read"),
    ("detection", "/console/detection", "read"),
    ("log", "/console/log", "read"),
    ("reports", "/console/reports", "read"),
    ("community", "/console/community", "read"),
    ("lookup", "/console/lookup", "read"),
    ("intake", "/console/intake", "import"),
    ("administration", "/console/admin", "audit"),
)


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "svg"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        t=_render.inert,
        when=_render.when,
        when_text=_render.when_text,
        pattern=_render.pattern,
        safe_url=_render.safe_url,
    )
    env.globals.update(version=__version__, day_label=_render.day_label, utc=_render.utc)
    return env


@dataclass(frozen=True, slots=True)
class Upload:
    """An uploaded file, read."""

    filename: str
    data: bytes


class Console:
    """What the console's routes share: settings, the node, sessions, templates."""

    def __init__(self, settings: Settings, node: Callable[[], Node | None], clock: Clock) -> None:
        self.settings = settings
        self._node = node
        self.sessions = Sessions(settings, clock)
        self.templates = environment()
        self.warmed = False

    @property
    def node(self) -> Node:
        node = self._node()
        if node is None:  # only when the app runs without its parent's lifespan
            raise RuntimeError("the console has no open node")
        return node

    def render(
        self,
        request: Request,
        name: str,
        session: Session | None,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        nav = [(label, href) for label, href, right in NAV if session and session.can(right)]  # type: ignore[arg-type]
        body = self.templates.get_template(name).render(
            request=request,
            session=session,
            csrf=session.csrf if session else "",
            nav=nav,
            path=request.url.path,
            node_name=self.node.info.name,
            **context,
        )
        return HTMLResponse(body, status_code=status)

    async def need(self, request: Request, right: users.Right) -> Session:
        return await run_in_threadpool(self.sessions.require, self.node, request, right)

    async def form(self, request: Request, session: Session) -> dict[str, Any]:
        """The posted form, once its CSRF token is the session's (else CsrfRefused)."""
        async with request.form() as form:
            check_csrf(session.csrf, form.get("csrf"))
            out: dict[str, Any] = {}
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    # Bounded: the intake checked Content-Length against ACCORD_WEB_MAX_UPLOAD.
                    out[key] = Upload(value.filename or "", await value.read())
                else:
                    out.setdefault(key, value)
        return out


# The most a form without a file may hold (SECURITY.md, finding 3): a report's findings
# form with thousands of checkboxes stays far below it. Uploads have ACCORD_WEB_MAX_UPLOAD.
FORM_LIMIT = 1024 * 1024
UPLOADS = ("/intake", "/intake/report")


def body_refusal(request: Request) -> tuple[int, str] | None:
    """Why a request's body is refused unread (411 without a length, 413 over the limit)."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return None
    if request.url.path.rstrip("/").endswith(UPLOADS):
        return None  # the upload routes check their length against ACCORD_WEB_MAX_UPLOAD
    declared = request.headers.get("content-length")
    if declared is None or not declared.isascii() or not declared.isdigit():
        return 411, "a console form must declare its Content-Length\n"
    if int(declared) > FORM_LIMIT:
        return 413, f"a console form is limited to {FORM_LIMIT:,} bytes\n"
    return None


def console_of(request: Request) -> Console:
    c: Console = request.app.state.console
    return c


def create_console(
    settings: Settings, node: Callable[[], Node | None], clock: Clock = time.time
) -> FastAPI:
    """The console app (mount it at /console).

    Args:
        settings: the node's settings (ACCORD_WEB_*).
        node: gives the open node (the TAXII app's, opened by its lifespan).
        clock: seconds since the epoch; tests pass one they can move.
    """
    from accord.web import _admin, _pages, _reports

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    console = Console(settings, node, clock)
    app.state.console = console

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        refused = body_refusal(request)
        if refused is not None:
            # Before anything reads the body: browsers always declare a form's length.
            status, text = refused
            return PlainTextResponse(text, status_code=status, headers={"Connection": "close"})
        if not console.warmed:
            # The dashboard's first count starts with the first request (the login page).
            console.warmed = True
            boards.warm(console.node)
        response = await call_next(request)
        # The server's own time for the page (W3C Server Timing): bench/web.py reads it.
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1e3:.1f}"
        for k, v in HEADERS.items():
            response.headers.setdefault(k, v)
        if not request.url.path.startswith("/console/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(ConsoleError)
    async def console_error(request: Request, exc: ConsoleError) -> HTMLResponse:
        session = await run_in_threadpool(console.sessions.read, console.node, request)
        if isinstance(exc, CsrfRefused) and session is None:
            session = None
        return console.render(
            request,
            "error.html",
            session,
            exc.status,
            title=exc.title,
            message=exc.message,
            login=exc.status == 401,
        )

    @app.exception_handler(StoreUnavailable)
    async def store_unavailable(request: Request, exc: StoreUnavailable) -> HTMLResponse:
        # No session is read: the database it lives in is what failed.
        page = console.render(
            request,
            "error.html",
            None,
            503,
            title="Try again shortly",
            message="The node's database cannot be reached now; nothing of this request"
            " was kept. Try again in a moment.",
            login=False,
        )
        page.headers["Retry-After"] = str(exc.retry_after)
        return page

    @app.exception_handler(StoreFull)
    async def store_full(request: Request, exc: StoreFull) -> HTMLResponse:
        return console.render(
            request,
            "error.html",
            None,
            507,
            title="The node's disk is full",
            message="Nothing of this request was kept; tell the node's operator.",
            login=False,
        )

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> HTMLResponse:
        session = await run_in_threadpool(console.sessions.read, console.node, request)
        return console.render(
            request, "error.html", session, 404, title="Not found", message=str(exc), login=False
        )

    @app.exception_handler(AccordError)
    async def accord_error(request: Request, exc: AccordError) -> HTMLResponse:
        session = await run_in_threadpool(console.sessions.read, console.node, request)
        status = 500 if isinstance(exc, StoreError) and not isinstance(exc, KeyError) else 400
        return console.render(
            request, "error.html", session, status, title="Refused", message=str(exc), login=False
        )

    @app.exception_handler(ValueError)
    async def value_error(request: Request, exc: ValueError) -> HTMLResponse:
        session = await run_in_threadpool(console.sessions.read, console.node, request)
        return console.render(
            request, "error.html", session, 400, title="Bad request", message=str(exc), login=False
        )

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _login_routes(app, console)
    app.include_router(_pages.router)
    app.include_router(_admin.router)
    app.include_router(_reports.router)
    return app


def _login_routes(app: FastAPI, console: Console) -> None:
    import secrets

    def login_page(request: Request, status: int = 200, message: str = "") -> HTMLResponse:
        token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
        response = console.render(
            request, "login.html", None, status, login_csrf=token, message=message
        )
        response.set_cookie(
            LOGIN_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=console.sessions.secure(request),
            path="/console",
        )
        return response

    @app.get("/login", include_in_schema=False)
    def login_form(request: Request) -> HTMLResponse:
        return login_page(request)

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        async with request.form() as form:
            expected = request.cookies.get(LOGIN_COOKIE, "")
            check_csrf(expected or "-", form.get("csrf"))
            name, password = str(form.get("name", "")), str(form.get("password", ""))
        address = request.client.host if request.client else "?"
        sessions, node = console.sessions, console.node
        sessions.check_rate(name, address)
        user = await run_in_threadpool(users.authenticate, node, name, password)
        if user is None:
            sessions.failed(name, address)
            return login_page(request, 401, "wrong user name or password")
        sessions.succeeded(name)
        response = RedirectResponse("/console/", status_code=303)
        sessions.start(node, request, response, user)
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        session = await run_in_threadpool(console.sessions.read, console.node, request)
        if session is not None:
            async with request.form() as form:
                check_csrf(session.csrf, form.get("csrf"))
        response = RedirectResponse("/console/login", status_code=303)
        console.sessions.end(response)
        return response
