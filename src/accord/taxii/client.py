"""A TAXII 2.1 client (httpx) for federation: Accord's own nodes or any TAXII 2.1 server.

Discovery, the API root, collections, pages of objects (``added_after``,
``limit``, ``next``), Add Objects with the status followed to completion.
Requests are retried on timeouts, connection failures and 5xx answers with
backoff, and a 429 waits for its ``Retry-After`` (`RetryPolicy`). Errors leave
as `PeerError` with the URL, the reason and the status.

The token goes in the ``Authorization`` header only; it is never logged nor
put in an error: httpx logs the method, URL and status of each request, and
this module logs no more than that.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx
import orjson

from accord.exceptions import LedgerError, PeerError
from accord.ledger import RECEIPT_HEADERS, entry_from_receipt
from accord.service._sync_wire import envelope_body
from accord.service.sync import PeerEndpoint
from accord.settings import Settings
from accord.taxii._client_retry import RETRY_STATUSES, RetryPolicy, parse_retry_after

__all__ = [
    "MEDIA_TYPE",
    "Connector",
    "ObjectsPage",
    "RetryPolicy",
    "TaxiiClient",
    "connector",
    "parse_retry_after",
]

log = logging.getLogger("accord.taxii.client")

MEDIA_TYPE = "application/taxii+json;version=2.1"
_STATUS_TERMINAL = "complete"


@dataclass(frozen=True, slots=True)
class ObjectsPage:
    """One page of a collection's objects.

    Attributes:
        objects: the STIX objects, parsed.
        more: the server has more after this page.
        next: the token to ask for the rest (None: none given).
        added_first / added_last: the ``X-TAXII-Date-Added-First``/``-Last`` headers.
    """

    objects: list[dict[str, Any]]
    more: bool
    next: str | None
    added_first: str | None
    added_last: str | None
    receipt: tuple[int, bytes] | None = None  # the peer's log entry of this page, rebuilt


def _receipt(response: httpx.Response) -> tuple[int, bytes] | None:
    """The page's entry in the peer's log, rebuilt from its receipt headers and body."""
    if RECEIPT_HEADERS[0] not in response.headers:  # X-Accord-Log-Index
        return None
    try:
        index, entry = entry_from_receipt(dict(response.headers), response.content)
    except LedgerError:
        return None  # malformed receipt headers: the page counts, without a receipt
    return index, entry.canonical()


def _hashes(url: str, items: object) -> list[bytes]:
    if not isinstance(items, list):
        raise PeerError(url, "the proof is not a list of hashes")
    try:
        return [base64.b64decode(str(h), validate=True) for h in items]
    except binascii.Error as exc:
        raise PeerError(url, "a proof hash is not base64") from exc


def api_root_url(url: str, api_root: str) -> str:
    """The API root's absolute URL from a server URL and a path (or an absolute URL)."""
    if api_root.startswith(("http://", "https://")):
        root = api_root
    else:
        root = urljoin(url.rstrip("/") + "/", api_root.strip("/"))
    return root.rstrip("/") + "/"


class TaxiiClient:
    """A TAXII 2.1 client of one API root.

    Args:
        url: the server's base URL (``https://host:port``).
        api_root: the API root's path (``/api/v21/``) or absolute URL.
        token: the secret; sent as HTTP Basic password with ``username``, else as Bearer.
        username: the HTTP Basic user name (None: Bearer).
        timeout: seconds for connecting and for each read.
        retry: the retry policy.
        transport: an httpx transport (tests pass a MockTransport).
        sleep: how to wait between tries (tests pass a recorder).
    """

    def __init__(
        self,
        url: str,
        api_root: str,
        *,
        token: str | None = None,
        username: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url
        self.root = api_root_url(url, api_root)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        auth: httpx.Auth | None = None
        headers = {"Accept": MEDIA_TYPE}
        if token is not None and username is not None:
            auth = httpx.BasicAuth(username, token)
        elif token is not None:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            auth=auth,
            headers=headers,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TaxiiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the request loop ------------------------------------------------------

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        headers = {"Content-Type": MEDIA_TYPE} if body is not None else None
        attempts = max(1, self.retry.attempts)
        for attempt in range(1, attempts + 1):
            retry_after: str | None = None
            try:
                response = self._http.request(
                    method, url, params=params, content=body, headers=headers
                )
            except httpx.TimeoutException as exc:
                reason = f"timed out ({type(exc).__name__})"
                status: int | None = None
            except httpx.TransportError as exc:
                # Connection refused or reset, a server that closed mid-answer.
                reason = f"connection failed ({type(exc).__name__}: {exc})"
                status = None
            else:
                if response.status_code in ok:
                    return response
                status = response.status_code
                reason = _error_text(response)
                if status not in RETRY_STATUSES:
                    raise PeerError(url, reason, status)
                if status == 429:
                    retry_after = response.headers.get("Retry-After")
            if attempt == attempts:
                raise PeerError(url, f"{reason} (after {attempts} tries)", status)
            wait = self.retry.wait(attempt, retry_after)
            log.info(
                "%s %s: %s; try %d of %d in %.1f s",
                method,
                url,
                reason if status is None else f"HTTP {status}",
                attempt + 1,
                attempts,
                wait,
            )
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _json(self, response: httpx.Response) -> Any:
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise PeerError(
                str(response.url), f"answer is not JSON: {exc}", response.status_code
            ) from exc

    def _resource(self, response: httpx.Response) -> dict[str, Any]:
        """The answer as a TAXII resource: a JSON object (a peer's answer is untrusted)."""
        body = self._json(response)
        if not isinstance(body, dict):
            reason = f"answer is not a TAXII resource (a JSON object) but {type(body).__name__}"
            raise PeerError(str(response.url), reason, response.status_code)
        return body

    # -- resources -------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        """The server's discovery resource (``/taxii2/``, TAXII 2.1 §4.1)."""
        url = urljoin(self.url.rstrip("/") + "/", "taxii2/")
        return self._resource(self._request("GET", url))

    def api_root(self) -> dict[str, Any]:
        """The API root resource (§4.2)."""
        return self._resource(self._request("GET", self.root))

    def collections(self) -> list[dict[str, Any]]:
        """The collections the token may see (§5.1)."""
        response = self._request("GET", f"{self.root}collections/")
        collections = self._resource(response).get("collections", [])
        if not isinstance(collections, list):
            raise PeerError(str(response.url), "`collections` is not a list", response.status_code)
        return collections

    def collection(self, collection_id: str) -> dict[str, Any]:
        """One collection (§5.2)."""
        return self._resource(self._request("GET", f"{self.root}collections/{collection_id}/"))

    def get_objects(
        self,
        collection_id: str,
        *,
        added_after: str | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> ObjectsPage:
        """One page of objects (§5.4): all versions, in date_added order."""
        params = {"match[version]": "all"}
        if added_after is not None:
            params["added_after"] = added_after
        if limit is not None:
            params["limit"] = str(limit)
        if next_token is not None:
            params["next"] = next_token
        url = f"{self.root}collections/{collection_id}/objects/"
        response = self._request("GET", url, params=params)
        body = self._resource(response) if response.content else {}
        objects, more, next_token = (
            body.get("objects", []),
            body.get("more", False),
            body.get("next"),
        )
        # TAXII 2.1 §3.7: `objects` a list, `more` a boolean, `next` a string.
        if not isinstance(objects, list) or not isinstance(more, bool):
            reason = "not a TAXII envelope: `objects` must be a list and `more` a boolean"
            raise PeerError(str(response.url), reason, response.status_code)
        if next_token is not None and not isinstance(next_token, str):
            raise PeerError(
                str(response.url), "the envelope's `next` is not a string", response.status_code
            )
        return ObjectsPage(
            objects=objects,
            more=more,
            next=next_token,
            added_first=response.headers.get("X-TAXII-Date-Added-First"),
            added_last=response.headers.get("X-TAXII-Date-Added-Last"),
            receipt=_receipt(response),
        )

    # -- the peer's transparency log (accord.service._ledger_peer.LogClient) -----------

    def _log_url(self, path: str) -> str:
        return urljoin(self.url.rstrip("/") + "/", "log/" + path)

    def log_vkey(self) -> str:
        """The verifier key of the peer's log."""
        return self._request("GET", self._log_url("vkey")).text.strip()

    def log_checkpoint(self) -> str:
        """The peer's latest signed checkpoint, with its cosignatures."""
        return self._request("GET", self._log_url("checkpoint")).text

    def log_consistency(self, old: int, size: int) -> list[bytes]:
        """A consistency proof between two of the peer's tree sizes."""
        params = {"old": str(old), "size": str(size)}
        text = self._request("GET", self._log_url("proof/consistency"), params=params).text
        return _hashes(self._log_url("proof/consistency"), text.split())

    def log_inclusion(self, size: int, indexes: list[int]) -> dict[int, list[bytes]]:
        """Inclusion proofs of entries in the peer's tree of ``size``."""
        url = self._log_url("proof/inclusion")
        params = httpx.QueryParams([("size", size), *(("index", i) for i in indexes)])
        response = self._http.get(url, params=params)
        if response.status_code != 200:
            raise PeerError(url, _error_text(response), response.status_code)
        body = self._json(response)
        proofs = body.get("proofs", {}) if isinstance(body, dict) else {}
        return {int(k): _hashes(url, v) for k, v in proofs.items() if str(k).isdigit()}

    def log_tile(self, path: str) -> bytes:
        """A tlog-tiles resource (``tile/...``) of the peer's log."""
        return self._request("GET", self._log_url(path)).content

    def log_cosign(self, body: bytes, vkey: str) -> None:
        """Hand the peer our cosignature of its checkpoint."""
        url = self._log_url("cosignature")
        response = self._http.post(url, content=body, headers={"X-Accord-Witness-Key": vkey})
        if response.status_code != 200:
            raise PeerError(url, _error_text(response), response.status_code)

    def pages(
        self,
        collection_id: str,
        *,
        added_after: str | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> Iterator[ObjectsPage]:
        """Every page after ``added_after``, following ``next`` until ``more`` is false.

        With ``next_token``, it starts at that page of an earlier request.
        """
        page = self.get_objects(
            collection_id, added_after=added_after, limit=limit, next_token=next_token
        )
        yield page
        while page.more and page.next:
            page = self.get_objects(
                collection_id, added_after=added_after, limit=limit, next_token=page.next
            )
            yield page

    def add_objects(self, collection_id: str, objects: list[bytes]) -> dict[str, Any]:
        """POST an envelope of objects (their JSON bytes); returns the status resource (§5.5)."""
        body = envelope_body(objects)
        url = f"{self.root}collections/{collection_id}/objects/"
        # Add Objects is not idempotent in general, but a STIX version posted twice is
        # stored once (§5.4): a retry after a lost answer is harmless.
        return self._resource(self._request("POST", url, body=body, ok=(200, 201, 202)))

    def status(self, status_id: str) -> dict[str, Any]:
        """A status resource (§4.3)."""
        return self._resource(self._request("GET", f"{self.root}status/{status_id}/"))

    def wait_status(
        self, status: dict[str, Any], *, timeout: float = 300.0, poll: float = 0.5
    ) -> dict[str, Any]:
        """Follow a status resource until it is complete (or raise PeerError at the timeout)."""
        deadline = time.monotonic() + timeout
        while status.get("status") != _STATUS_TERMINAL:
            if time.monotonic() > deadline:
                raise PeerError(self.root, f"status {status.get('id')} not complete in {timeout}s")
            self._sleep(poll)
            status = self.status(str(status.get("id")))
            poll = min(poll * 2, 5.0)
        return status


def _error_text(response: httpx.Response) -> str:
    """A short reason from an error answer: the TAXII error's title, else the body's start."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        title = body.get("title")
        description = body.get("description")
        if isinstance(title, str):
            return f"{title}: {description}" if isinstance(description, str) else title
    text = response.content[:200].decode("utf-8", "replace").strip()
    return text or response.reason_phrase


@dataclass(frozen=True)
class Connector:
    """What the sync service calls to reach a peer: a client with the node's peer settings.

    Args:
        settings: the node's settings (ACCORD_PEER_*).
        transport: an httpx transport (tests); None: the network.
    """

    settings: Settings
    transport: httpx.BaseTransport | None = None

    def __call__(self, ep: PeerEndpoint) -> TaxiiClient:
        s = self.settings
        return TaxiiClient(
            ep.url,
            ep.api_root,
            token=ep.token,
            username=ep.username,
            timeout=s.peer_timeout,
            retry=RetryPolicy(attempts=s.peer_retries, backoff=s.peer_backoff),
            transport=self.transport,
        )


def connector(settings: Settings, transport: httpx.BaseTransport | None = None) -> Connector:
    """The `Connector` of a node's settings."""
    return Connector(settings, transport)
