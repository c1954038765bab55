"""Console sessions: signed cookies, CSRF tokens, login rate limits, role checks.

A session is a cookie signed with the node's console key (`accord.service.users`):
the user's name, its epoch, the session's CSRF token and when it was issued. It
is ``HttpOnly`` and ``SameSite=Strict``, ``Secure`` when the request came over
HTTPS (``ACCORD_WEB_SECURE_COOKIES``), and it expires ``ACCORD_WEB_SESSION_SECONDS``
after login whatever the browser does with it. Nothing but this cookie opens the
console: an ``Authorization`` header (a member's TAXII token) is never read here.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeSerializer

from accord.exceptions import ConsoleForbidden, ConsoleUnauthorized, CsrfRefused, TooManyLogins
from accord.service import users
from accord.service.node import Node
from accord.service.users import RIGHTS, Right
from accord.settings import Settings
from accord.store import User

COOKIE = "accord_session"
LOGIN_COOKIE = "accord_login"  # the CSRF token of the login form, before any session
WINDOW = 300.0  # seconds over which failed logins are counted
SWEEP_AT = 10_000  # names and addresses tracked before the stale ones are dropped

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in user and its session's CSRF token."""

    user: User
    csrf: str
    issued: float

    def can(self, right: Right) -> bool:
        return right in RIGHTS[users.check_role(self.user.role)]


class Sessions:
    """Signs, reads and checks sessions; counts failed logins (per process)."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self._serializer: URLSafeSerializer | None = None
        self._failures: dict[str, deque[float]] = {}
        self._sweep_at = SWEEP_AT
        self._lock = threading.Lock()

    def serializer(self, node: Node) -> URLSafeSerializer:
        if self._serializer is None:
            self._serializer = URLSafeSerializer(
                users.session_secret(node), salt="accord-console-session"
            )
        return self._serializer

    def secure(self, request: Request) -> bool:
        mode = self.settings.web_secure_cookies
        return mode == "always" or (mode == "auto" and request.url.scheme == "https")

    # -- login ------------------------------------------------------------------

    def _recent(self, key: str, now: float) -> deque[float]:
        found = self._failures.get(key, deque())
        while found and now - found[0] > WINDOW:
            found.popleft()
        return found

    def _count(self, key: str, now: float) -> int:
        found = self._recent(key, now)
        if not found:
            self._failures.pop(key, None)
        return len(found)

    def check_rate(self, name: str, address: str) -> None:
        """Raises TooManyLogins when this name or address failed too often lately."""
        now = self.clock()
        with self._lock:
            for key in (f"user:{name}", f"addr:{address}"):
                if self._count(key, now) >= self.settings.web_login_attempts:
                    raise TooManyLogins(
                        "too many failed logins for this user or address: "
                        f"wait {int(WINDOW // 60)} minutes and try again"
                    )

    def failed(self, name: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            for key in (f"user:{name}", f"addr:{address}"):
                found = self._recent(key, now)
                found.append(now)
                self._failures[key] = found
            if len(self._failures) > self._sweep_at:
                self._sweep(now)

    def _sweep(self, now: float) -> None:
        # Names and addresses whose failures are all older than the window: without
        # this, every name or address ever tried stays in memory (SECURITY.md, finding 6).
        for key in [k for k, found in self._failures.items() if now - found[-1] > WINDOW]:
            del self._failures[key]
        # The next sweep when the count doubles: a spray within one window costs
        # amortised constant time per failure, never a sweep per failure.
        self._sweep_at = max(SWEEP_AT, 2 * len(self._failures))

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(f"user:{name}", None)

    def start(self, node: Node, request: Request, response: Response, user: User) -> None:
        """Set the session cookie of a user who just logged in."""
        payload: dict[str, object] = {
            "u": user.name,
            "e": user.epoch,
            "c": secrets.token_urlsafe(24),
        }
        payload["t"] = self.clock()
        response.set_cookie(
            COOKIE,
            self.serializer(node).dumps(payload),
            max_age=int(self.settings.web_session_seconds),
            httponly=True,
            samesite="strict",
            secure=self.secure(request),
            path="/console",
        )

    def end(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/console")

    # -- each request -----------------------------------------------------------------

    def read(self, node: Node, request: Request) -> Session | None:
        """The request's session, or None (no cookie, bad signature, expired, user gone)."""
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            payload = self.serializer(node).loads(raw)
            name, epoch, csrf, issued = payload["u"], payload["e"], payload["c"], payload["t"]
        except (BadSignature, KeyError, TypeError):
            return None
        if not isinstance(issued, int | float) or not isinstance(name, str):
            return None
        if self.clock() - issued > self.settings.web_session_seconds:
            return None
        user = users.session_user(node, name, int(epoch))
        return None if user is None else Session(user, str(csrf), float(issued))

    def require(self, node: Node, request: Request, right: Right) -> Session:
        """The session, with this right.

        Raises:
            ConsoleUnauthorized: no valid session (never logged in, expired, ended).
            ConsoleForbidden: the user's role lacks the right.
        """
        session = self.read(node, request)
        if session is None:
            expired = COOKIE in request.cookies
            raise ConsoleUnauthorized(
                "your session has expired or was ended: log in again"
                if expired
                else "log in to use the console"
            )
        if not session.can(right):
            raise ConsoleForbidden(
                f"the role {session.user.role!r} may not do this (it needs the {right!r} right)"
            )
        return session


def check_csrf(expected: str, given: object) -> None:
    """Raises CsrfRefused unless the form's token is the session's."""
    if not isinstance(given, str) or not hmac.compare_digest(expected, given):
        raise CsrfRefused(
            "this form's security token is missing or stale: reload the page and submit it again"
        )
