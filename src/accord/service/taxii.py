"""TAXII 2.1 use cases over the store: who sees what, filtered pages, adds, statuses.

The HTTP edge (``accord.taxii``) parses headers and renders resources; every
decision a TAXII server makes about data is here, on the store's interface:

- access: a member sees a collection it holds a grant on, or one open to
  anonymous reading; it may read with ``can_read`` (or anonymous read) and
  write with ``can_write``. A collection it may not see is "not found" (404),
  never "forbidden", so that its existence does not leak. A request without
  credentials that reaches for anything non-anonymous is asked to
  authenticate (401) whether or not the thing exists.
- filters: the URL parameters of TAXII 2.1 §3.4 (``added_after``, ``limit``,
  ``next``, ``match[id|type|version|spec_version]``), checked and typed once,
  with the set each endpoint accepts (§5.3 to 5.8).
- pages: ordered by date_added in the collection; ``next`` is the last
  date_added served, so following it neither skips nor repeats a version
  even while new ones arrive (see ``accord.store._pages``).
- adds: a POSTed envelope goes through `ingest_objects`, the CLI's path; the
  status resource (§4.3.1) is kept and can be read back by its poster.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import orjson

from accord.exceptions import (
    TaxiiBadRequest,
    TaxiiForbidden,
    TaxiiNotFound,
    TaxiiUnauthorized,
    TaxiiUnprocessable,
)
from accord.policy import Agreement
from accord.service import egress, ledger
from accord.service.egress import Gate
from accord.service.ingest import ingest_objects
from accord.service.limits import Limiter
from accord.service.node import Node
from accord.stix import is_identifier, is_type_name, parse_timestamp, version_key
from accord.store import Collection, Grant, Member, PageItem, PageQuery

# TAXII 2.1 §1.6.8: the media types of TAXII resources and of the STIX content.
TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"

# The URL parameters each endpoint takes (TAXII 2.1 §3.4; §5.3 to 5.8 say which take which).
ADDED_AFTER, LIMIT, NEXT = "added_after", "limit", "next"
M_ID, M_TYPE, M_VERSION, M_SPEC = (
    "match[id]",
    "match[type]",
    "match[version]",
    "match[spec_version]",
)
PAGING = frozenset({ADDED_AFTER, LIMIT, NEXT})
OBJECTS_FILTERS = PAGING | {M_ID, M_TYPE, M_VERSION, M_SPEC}
MANIFEST_FILTERS = OBJECTS_FILTERS
OBJECT_FILTERS = PAGING | {M_VERSION, M_SPEC}
VERSIONS_FILTERS = PAGING | {M_SPEC}
DELETE_FILTERS = frozenset({M_VERSION, M_SPEC})
KNOWN_FILTERS = OBJECTS_FILTERS

# One filter holds at most this many comma-separated values: a URL that
# names more is not a query a client means (and a database caps parameters).
MAX_VALUES = 1000
_SPEC_VERSION_RE = re.compile(r"\d\.\d{1,2}\Z")
_MAX_CURSOR = 2**63 - 1  # date_added is a signed 64-bit integer in the store
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# -- access ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Access:
    """One collection as one requester may use it."""

    collection: Collection
    can_read: bool
    can_write: bool
    member: Member | None = None  # who asks (None: an anonymous requester)


def authenticate(node: Node, token: str, username: str | None = None) -> Member:
    """The member a live token belongs to (with HTTP Basic, the name must be the member's).

    Raises:
        TaxiiUnauthorized: the token is unknown or revoked, or names another member.
    """
    member = node.store.member_for_token(token) if token else None
    if member is None or (username is not None and username != member.name):
        raise TaxiiUnauthorized("the credentials are not valid (unknown, revoked or mismatched)")
    return member


def _access(c: Collection, g: Grant | None, member: Member | None) -> Access | None:
    """What a grant (or none) lets the requester do with a collection; None: nothing."""
    can_read = c.anonymous_read or (g is not None and g.can_read)
    can_write = g is not None and g.can_write
    return Access(c, can_read, can_write, member) if can_read or can_write else None


def collections_for(node: Node, member: Member | None) -> list[Access]:
    """Every collection the requester may see (``None``: an anonymous requester)."""
    store = node.store
    grants = {g.collection_pk: g for g in store.grants(member.pk)} if member else {}
    seen = (_access(c, grants.get(c.pk), member) for c in store.collections())
    return [a for a in seen if a is not None]


def collection_for(node: Node, member: Member | None, collection_id: str) -> Access:
    """One collection the requester may see.

    Raises:
        TaxiiNotFound: no such collection, or the member may not see it.
        TaxiiUnauthorized: an anonymous requester reaches for a collection that
            is not open to anonymous reading (existing or not).
    """
    found = node.store.collection_grant(collection_id, member.pk if member else None)
    access = _access(*found, member) if found is not None else None
    if access is not None:
        return access
    if member is None:
        raise TaxiiUnauthorized("this collection needs credentials (HTTP Basic or Bearer)")
    raise TaxiiNotFound(f"no collection {collection_id!r} in this API root")


def require_read(access: Access) -> None:
    """Raises TaxiiForbidden unless the requester may read (anonymous ones always may)."""
    if not access.can_read:
        raise TaxiiForbidden(f"no read access to collection {access.collection.id}")


def require_write(access: Access, member: Member | None) -> None:
    """Raises TaxiiForbidden (TaxiiUnauthorized when anonymous) unless the requester may write."""
    if member is None:
        raise TaxiiUnauthorized("writing to a collection needs credentials")
    if not access.can_write:
        raise TaxiiForbidden(f"no write access to collection {access.collection.id}")


# -- filters ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filters:
    """The TAXII filters of one request, checked and typed (TAXII 2.1 §3.4)."""

    limit: int
    added_after: int | None = None  # microseconds, exclusive
    after: int | None = None  # the ``next`` cursor: a date_added in microseconds
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("last",)
    spec_versions: tuple[str, ...] = ()

    def query(self, collection_pk: int, **overrides: object) -> PageQuery:
        """The store query for one collection."""
        fields: dict[str, object] = {
            "collection_pk": collection_pk,
            "after": self.after,
            "added_after": self.added_after,
            "ids": self.ids,
            "types": self.types,
            "versions": self.versions,
            "spec_versions": self.spec_versions,
            "limit": self.limit,
        }
        fields.update(overrides)
        return PageQuery(**fields)  # type: ignore[arg-type]


def _bad(name: str, value: str, reason: str) -> TaxiiBadRequest:
    return TaxiiBadRequest(
        f"{name}={value!r}: {reason}", details={"parameter": name, "value": value[:200]}
    )


def _values(name: str, raw: list[str]) -> list[str]:
    values = [v.strip() for text in raw for v in text.split(",")]
    if len(values) > MAX_VALUES:
        raise _bad(name, ",".join(raw)[:200], f"more than {MAX_VALUES} values")
    for v in values:
        if not v:
            raise _bad(name, ",".join(raw), "an empty value (values are comma-separated)")
    return list(dict.fromkeys(values))


def _single(name: str, raw: list[str]) -> str:
    if len(raw) != 1:
        raise _bad(name, ",".join(raw), "given more than once")
    return raw[0]


def timestamp_us(name: str, text: str) -> int:
    """A STIX timestamp as microseconds since the epoch (a finer fraction is cut off).

    Cutting off is exact for "added after": date_added values are whole
    microseconds, so ``> floor(t)`` and ``> t`` select the same ones.
    """
    try:
        version_key(text)  # a full STIX timestamp, not a bare date
        moment = parse_timestamp(text)
    except ValueError as exc:
        reason = f"not a STIX timestamp (e.g. 2024-05-01T12:00:00.000Z): {exc}"
        raise _bad(name, text, reason) from None
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _versions(raw: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for v in _values(M_VERSION, raw):
        if v in ("last", "first", "all"):
            out.append(v)
            continue
        try:
            out.append(version_key(v))
        except ValueError as exc:
            reason = f"not last, first, all or a STIX timestamp: {exc}"
            raise _bad(M_VERSION, v, reason) from None
    return tuple(out)


def parse_filters(
    params: Iterable[tuple[str, str]],
    allowed: frozenset[str],
    *,
    max_page: int,
    default_versions: tuple[str, ...] = ("last",),
) -> Filters:
    """Check and type the URL parameters of one request.

    Parameters that are no TAXII filter are ignored (HTTP lets clients add
    their own); a TAXII filter the endpoint does not take, an unknown
    ``match[...]`` and any malformed value are refused, never ignored, so
    that no client gets more (or deletes more) than it asked for.

    Args:
        params: the query string's (name, value) pairs, in order.
        allowed: the filters this endpoint takes.
        max_page: the server's page size cap (``limit`` is capped to it).
        default_versions: ``match[version]`` when absent (§3.4: ``last``).

    Raises:
        TaxiiBadRequest: with the parameter and what is wrong with it.
    """
    given: dict[str, list[str]] = {}
    for name, value in params:
        if name in KNOWN_FILTERS or name.startswith("match["):
            given.setdefault(name, []).append(value)
    for name in given:
        if name not in allowed:
            if name not in KNOWN_FILTERS:
                reason = "no such filter: TAXII 2.1 defines match[id], match[type], "
                reason += "match[version] and match[spec_version]"
            else:
                reason = "this endpoint does not take it; it takes " + ", ".join(sorted(allowed))
            raise _bad(name, ",".join(given[name]), reason)
    limit = max_page
    if LIMIT in given:
        text = _single(LIMIT, given[LIMIT])
        if not text.isascii() or not text.isdigit() or int(text[:19]) == 0:
            raise _bad(LIMIT, text, "must be a positive integer")
        limit = min(int(text[:19]), max_page)
    added_after = None
    if ADDED_AFTER in given:
        added_after = timestamp_us(ADDED_AFTER, _single(ADDED_AFTER, given[ADDED_AFTER]))
    after = None
    if NEXT in given:
        text = _single(NEXT, given[NEXT])
        if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) > _MAX_CURSOR:
            raise _bad(NEXT, text, "not a value this server gave as `next`")
        after = int(text)
    ids = tuple(_values(M_ID, given.get(M_ID, [])))
    for oid in ids:
        if not is_identifier(oid):
            raise _bad(M_ID, oid, "not a STIX identifier (type--UUID)")
    types = tuple(_values(M_TYPE, given.get(M_TYPE, [])))
    for t in types:
        if not is_type_name(t):
            raise _bad(M_TYPE, t, "not a STIX type name")
    spec_versions = tuple(_values(M_SPEC, given.get(M_SPEC, [])))
    for sv in spec_versions:
        if not _SPEC_VERSION_RE.match(sv):
            raise _bad(M_SPEC, sv, "not a STIX specification version such as 2.1")
    versions = _versions(given[M_VERSION]) if M_VERSION in given else default_versions
    return Filters(limit, added_after, after, ids, types, versions, spec_versions)


# -- reads ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageOut:
    """One page of versions, with what the envelope and headers need."""

    items: list[PageItem]
    more: bool
    agreement: Agreement | None = None  # the agreement it was served under

    @property
    def next(self) -> str | None:
        """The cursor of the following page (present when ``more``, TAXII 2.1 §3.7)."""
        return str(self.items[-1].date_added) if self.more and self.items else None

    @property
    def first_added(self) -> int | None:
        """date_added of the first version served (``X-TAXII-Date-Added-First``)."""
        return self.items[0].date_added if self.items else None

    @property
    def last_added(self) -> int | None:
        """date_added of the last version served (``X-TAXII-Date-Added-Last``)."""
        return self.items[-1].date_added if self.items else None


def _gate(node: Node, access: Access) -> Gate | None:
    """The sharing agreements' gate for the requester (None: its grant alone decides)."""
    return egress.read_gate(node, access.member, access.collection)


def _page(node: Node, query: PageQuery, gate: Gate | None = None) -> PageOut:
    """One page; through a gate, filled by reading on past what it withholds.

    ``more`` is true only when another version the requester may receive
    follows, and ``next`` is the last one served: a withheld version is never
    counted in a page, in ``more`` or in the date headers.
    """
    if gate is None:
        page = node.store.collection_page(query)
        return PageOut(page.items, page.more)
    # What the agreement withholds for certain the store leaves out (never read).
    query = replace(query, withheld=gate.withheld())
    served: list[PageItem] = []
    after, chunk, scanned = query.after, query.limit + 1, 0
    while True:
        page = node.store.collection_page(replace(query, after=after, limit=chunk))
        served += gate.filter(page.items)
        scanned += len(page.items)
        if len(served) > query.limit:
            return PageOut(served[: query.limit], True, gate.agreement)
        if not page.more or not page.items:
            return PageOut(served, False, gate.agreement)
        after = page.items[-1].date_added
        # Read on about what is still needed, at the rate the gate let through so far
        # (what is read beyond the page is decided again by the next request).
        needed = query.limit + 1 - len(served)
        chunk = min(query.limit + 1, max(16, needed * scanned // max(len(served), 1) + 8))


def log_answer(
    node: Node, access: Access, channel: str, page: PageOut, body: bytes
) -> dict[str, str]:
    """Log a page in the transparency log before it is sent; its receipt headers."""
    return ledger.share(
        node,
        channel=channel,
        collection=access.collection,
        member=access.member,
        agreement=page.agreement,
        added=[item.obj.added for item in page.items],
        body=body,
    )


def _object_present(node: Node, access: Access, object_id: str, gate: Gate | None) -> bool:
    if not is_identifier(object_id):
        return False
    probe = PageQuery(access.collection.pk, ids=(object_id,), versions=("all",), limit=1)
    return bool(_page(node, probe, gate).items)


def objects_page(node: Node, access: Access, filters: Filters) -> PageOut:
    """Get Objects (TAXII 2.1 §5.4), as the sharing agreements let the requester have them."""
    return _page(node, filters.query(access.collection.pk), _gate(node, access))


def manifest_page(node: Node, access: Access, filters: Filters) -> PageOut:
    """Get Object Manifests (TAXII 2.1 §5.3): the same selection as Get Objects."""
    return _page(node, filters.query(access.collection.pk), _gate(node, access))


def object_page(node: Node, access: Access, object_id: str, filters: Filters) -> PageOut:
    """Get An Object (TAXII 2.1 §5.6): its versions under the filters.

    Raises:
        TaxiiNotFound: the collection holds no version of the object.
    """
    if not is_identifier(object_id):
        raise TaxiiNotFound(f"no object {object_id!r} in this collection")
    gate = _gate(node, access)
    out = _page(node, filters.query(access.collection.pk, ids=(object_id,)), gate)
    # An object none of whose versions the requester may receive is not found, as if absent.
    if not out.items and not _object_present(node, access, object_id, gate):
        raise TaxiiNotFound(f"no object {object_id!r} in this collection")
    return out


def versions_page(node: Node, access: Access, object_id: str, filters: Filters) -> PageOut:
    """Get Object Versions (TAXII 2.1 §5.8): every version, oldest date_added first.

    Raises:
        TaxiiNotFound: the collection holds no version of the object.
    """
    return object_page(node, access, object_id, replace(filters, versions=("all",)))


def _receivable_versions(node: Node, query: PageQuery, gate: Gate) -> list[str]:
    """The version keys of the versions ``query`` selects that ``gate`` lets through."""
    versions: list[str] = []
    after = None
    while True:
        page = _page(node, replace(query, after=after, limit=1000), gate)
        versions += [i.obj.version for i in page.items]
        if not page.more or not page.items:
            return versions
        after = page.items[-1].date_added


def delete_object(node: Node, access: Access, object_id: str, filters: Filters) -> int:
    """Delete An Object (TAXII 2.1 §5.7): take its chosen versions out of the collection.

    Without ``match[version]`` every version goes: afterwards the object must
    be "not found" (a later Get An Object answers 404). The versions stay
    stored for the other collections that hold them.

    Returns:
        How many versions left the collection.

    Raises:
        TaxiiNotFound: no version of the object matched.
    """
    removed = 0
    if is_identifier(object_id):
        query = filters.query(access.collection.pk, ids=(object_id,))
        gate = _gate(node, access)
        if gate is None:
            removed = node.store.remove_from_collection(query)
        else:
            # Only the versions the requester may receive: one its agreement withholds
            # is not there for it (404, as if absent), so it can neither delete it nor
            # learn from the answer that it exists (SECURITY.md, finding 1).
            for version in _receivable_versions(node, query, gate):
                one = replace(query, versions=(version,) if version else ("all",))
                removed += node.store.remove_from_collection(one)
    if not removed:
        raise TaxiiNotFound(f"no object {object_id!r} (with those filters) in this collection")
    return removed


# -- wire forms shared with the edge ---------------------------------------------


def format_us(us: int) -> str:
    """Microseconds since the epoch as a TAXII timestamp with microsecond precision."""
    return (_EPOCH + timedelta(microseconds=us)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def version_timestamp(item: PageItem) -> str:
    """The version of a stored object as a timestamp: its ``modified`` (or ``created``).

    The version key has a nine-digit fraction; trailing zeros go, down to the
    millisecond precision STIX 2.1 §3.2 asks for. An object with neither
    property (an SCO) has its date_added as its version.
    """
    key = item.obj.version
    if not key:
        return format_us(item.date_added)
    fraction = key[20:-1].rstrip("0").ljust(3, "0")
    return f"{key[:19]}.{fraction}Z"


# -- adds and statuses -------------------------------------------------------------


def read_envelope(body: bytes) -> list[object]:
    """The objects of a TAXII envelope (TAXII 2.1 §3.7).

    Raises:
        TaxiiBadRequest: the body is not JSON (the server cannot understand it).
        TaxiiUnprocessable: JSON, but not an object with an ``objects`` list.
    """
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise TaxiiBadRequest(f"the body is not valid JSON: {exc}") from None
    # §5.5: a body that is JSON but cannot be processed as an envelope is 422.
    if not isinstance(doc, dict):
        raise TaxiiUnprocessable("the body must be a TAXII envelope: a JSON object with `objects`")
    if "objects" not in doc:
        raise TaxiiUnprocessable("the envelope has no `objects` property")
    objects = doc["objects"]
    if not isinstance(objects, list):
        raise TaxiiUnprocessable("the envelope's `objects` must be a list of STIX objects")
    return objects


@dataclass(slots=True)
class StatusReport:
    """A status resource (TAXII 2.1 §4.3.1); every add completes before the answer."""

    id: str
    request_timestamp: str
    successes: list[dict[str, str]] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        """The resource as JSON; empty lists are left out."""
        body: dict[str, object] = {
            "id": self.id,
            "status": "complete",
            "request_timestamp": self.request_timestamp,
            "total_count": len(self.successes) + len(self.failures),
            "success_count": len(self.successes),
            "failure_count": len(self.failures),
            "pending_count": 0,
        }
        if self.successes:
            body["successes"] = self.successes
        if self.failures:
            body["failures"] = self.failures
        return orjson.dumps(body)


def add_objects(
    node: Node,
    member: Member,
    access: Access,
    body: bytes,
    *,
    received: datetime,
    limiter: Limiter | None = None,
) -> bytes:
    """Add Objects (TAXII 2.1 §5.5): store the envelope's valid objects, report each one.

    Invalid objects fail one by one with the reason; the valid ones are
    stored in the same transaction. The status is kept for its poster. With a
    ``limiter``, the envelope's objects count against the member's daily
    quota first: an envelope that would go over is refused whole.

    Returns:
        The status resource, as JSON.

    Raises:
        TaxiiBadRequest: the body is not JSON.
        TaxiiUnprocessable: the body is not an envelope.
        TaxiiTooManyRequests: the envelope would go over the member's quota.
        TaxiiTooLarge: the envelope holds more objects than the whole quota.
    """
    require_write(access, member)
    objects = read_envelope(body)
    if limiter is not None and limiter.enabled:
        limiter.take_objects(member, len(objects))
    outcomes = ingest_objects(
        node,
        objects,
        source=("taxii", member.name),
        collection_pks=[access.collection.pk],
        speaker=(f"member {member.name}", member.identity_id),
    )
    stamp = format_us((received - _EPOCH) // timedelta(microseconds=1))
    report = StatusReport(str(uuid.uuid4()), stamp)
    for position, outcome in enumerate(outcomes):
        detail = {"id": outcome.id or ""}
        if outcome.version is not None:
            detail["version"] = outcome.version
        if outcome.ok:
            report.successes.append(detail)
        else:
            detail["message"] = f"object {position} of the envelope: {outcome.message}"
            report.failures.append(detail)
    data = report.to_bytes()
    node.store.save_status(report.id, access.collection.pk, member.pk, data)
    return data


def get_status(node: Node, member: Member | None, status_id: str) -> bytes:
    """Get Status (TAXII 2.1 §4.3): a status resource, to the member that posted.

    Raises:
        TaxiiUnauthorized: an anonymous requester.
        TaxiiNotFound: no such status, or another member's.
    """
    if member is None:
        raise TaxiiUnauthorized("status resources need credentials")
    try:
        canonical = str(uuid.UUID(status_id))
    except ValueError:
        raise TaxiiNotFound(f"no status {status_id!r}") from None
    found = node.store.status(canonical)
    if found is None or found[0] != member.pk:
        raise TaxiiNotFound(f"no status {status_id!r}")
    return found[1]
