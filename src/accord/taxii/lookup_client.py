"""The HTTP side of a private lookup against a peer (the service is `accord.service.lookup_check`).

Transport failures and 5xx answers are retried as every peer request is
(`RetryPolicy`); a 429 is not waited out (a quota renews with the next epoch,
hours away): it fails at once, naming the peer's ``Retry-After``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from accord.exceptions import PeerError
from accord.service.sync import PeerEndpoint
from accord.settings import Settings
from accord.taxii._client_retry import RetryPolicy
from accord.taxii.client import _error_text, api_root_url

__all__ = ["LookupClient", "lookup_connector"]

_RETRY = frozenset((500, 502, 503, 504))


class LookupClient:
    """The lookup endpoints of one peer's API root; counts the bytes each way."""

    def __init__(
        self,
        ep: PeerEndpoint,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base = api_root_url(ep.url, ep.api_root) + "accord/lookup/"
        self.retry = retry or RetryPolicy()
        auth: httpx.Auth | None = None
        headers = {}
        if ep.token is not None and ep.username is not None:
            auth = httpx.BasicAuth(ep.username, ep.token)
        elif ep.token is not None:
            headers["Authorization"] = f"Bearer {ep.token}"
        self._http = httpx.Client(
            auth=auth,
            headers=headers,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
        )
        self.sent = 0
        self.received = 0

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, url: str, body: bytes | None = None) -> httpx.Response:
        attempts = max(1, self.retry.attempts)
        for attempt in range(1, attempts + 1):
            try:
                response = self._http.request(
                    method,
                    url,
                    content=body,
                    headers={"Content-Type": "application/octet-stream"} if body else None,
                )
            except httpx.TransportError as exc:
                reason, status = f"connection failed ({type(exc).__name__})", None
            else:
                self.sent += len(body or b"")
                self.received += len(response.content)
                if response.status_code == 200:
                    return response
                status = response.status_code
                reason = _error_text(response)
                if status == 429:
                    after = response.headers.get("Retry-After", "?")
                    raise PeerError(url, f"{reason} (Retry-After: {after} s)", status)
                if status not in _RETRY:
                    raise PeerError(url, reason, status)
            if attempt == attempts:
                raise PeerError(url, f"{reason} (after {attempts} tries)", status)
            time.sleep(self.retry.wait(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _json(self, url: str) -> Any:
        response = self._request("GET", url)
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise PeerError(url, f"answer is not JSON: {exc}", 200) from exc

    def offers(self) -> list[dict[str, Any]]:
        """Every offer the peer makes us now."""
        body = self._json(self.base)
        offers = body.get("offers") if isinstance(body, dict) else None
        if not isinstance(offers, list):
            raise PeerError(self.base, "answer has no list of offers", 200)
        return offers

    def offer(self, collection_id: str) -> dict[str, Any]:
        """One collection's current offer."""
        body = self._json(f"{self.base}{quote(collection_id, safe='')}/")
        if not isinstance(body, dict):
            raise PeerError(self.base, "an offer is a JSON object", 200)
        return body

    def log(self, collection_id: str, epoch: int, size: int | None = None) -> Any:
        """The epoch's log entries with their inclusion proofs (a JSON document)."""
        url = f"{self.base}{quote(collection_id, safe='')}/{epoch}/log"
        return self._json(url if size is None else f"{url}?size={size}")

    def blob(self, collection_id: str, epoch: int, which: str) -> bytes:
        """An offer's ``filter`` or ``context`` bytes."""
        url = f"{self.base}{quote(collection_id, safe='')}/{epoch}/{which}"
        return self._request("GET", url).content

    def evaluate(self, collection_id: str, epoch: int, body: bytes) -> bytes:
        """Blinded elements in, evaluated elements and the proof out."""
        url = f"{self.base}{quote(collection_id, safe='')}/{epoch}/evaluate"
        return self._request("POST", url, body).content


@dataclass(frozen=True)
class _Connector:
    settings: Settings
    transport: httpx.BaseTransport | None = None

    def __call__(self, ep: PeerEndpoint) -> LookupClient:
        s = self.settings
        return LookupClient(
            ep,
            timeout=s.peer_timeout,
            retry=RetryPolicy(attempts=s.peer_retries, backoff=s.peer_backoff),
            transport=self.transport,
        )


def lookup_connector(
    settings: Settings, transport: httpx.BaseTransport | None = None
) -> _Connector:
    """What `accord.service.lookup_check` calls to reach a peer, with the node's peer settings."""
    return _Connector(settings, transport)
