"""Every error Accord raises on purpose, in one tree.

::

    AccordError
    ├── ConfigError (ValueError)            a setting or a node directory is wrong
    ├── AgreementInvalid (ValueError)        a sharing agreement file: file, key, reason
    ├── CommunityError (ValueError)          a community charter or record: what, reason
    │   └── RecordRefused                    a record refused (or deferred): record id, reason
    ├── NodeNotFound (FileNotFoundError)     no node at ACCORD_HOME: run `accord init`
    ├── InputError (ValueError)              input that cannot be read as STIX at all
    │   ├── MalformedJSON                    not JSON: file and byte offset
    │   ├── InputTooLarge                    over a size or depth limit
    │   ├── NotStix                          JSON, but neither a bundle nor an object
    │   └── UnreadableDocument               a report (PDF, HTML, text) with no text to
    │                                        read: encrypted, scanned, corrupt, binary
    ├── InvalidObject (ValueError)           one STIX object breaks the specification:
    │                                        object id, property, reason
    ├── PatternError (ValueError)            a STIX pattern Accord cannot use
    │   ├── PatternSyntaxError               not the STIX 2.1 grammar: position, expected
    │   ├── PatternTooComplex                over a complexity limit (depth, IN list, regex)
    │   └── PatternMatchError                cannot be evaluated on these data (the
    │                                        reference matcher's MatcherException)
    ├── StrictImportFailed                   --strict and at least one object was invalid
    ├── StoreError                           the database refused or failed
    │   ├── SchemaOutOfDate                  database older/newer than this Accord
    │   ├── StoreUnavailable (ConnectionError) the database cannot be reached, lost the
    │   │                                    connection, or is busy: try again (503)
    │   ├── StoreFull (OSError)              the disk under the database is full (507)
    │   ├── UnknownCollection (KeyError)     no collection with that id or title
    │   ├── UnknownMember (KeyError)         no member with that name
    │   ├── UnknownPeer (KeyError)           no peer with that name
    │   ├── UnknownDraft (KeyError)          no report draft with that id
    │   ├── UnknownUser (KeyError)           no console user with that name
    │   └── UnknownFeed (KeyError)           no feed with that name
    ├── NotFound (LookupError)               no object with that id
    ├── LedgerError (ValueError)             the transparency log: a proof, note or
    │   │                                    entry that does not hold
    │   ├── ProofInvalid                     a Merkle proof: kind (inclusion, consistency), reason
    │   ├── NoteInvalid                      a signed note, checkpoint, key or cosignature
    │   ├── EntryInvalid                     a log entry that is not canonical typed JSON
    │   ├── LogTampered                      the stored log disagrees with itself: first bad index
    │   └── WitnessRefused                   tlog-witness add-checkpoint refused: HTTP status,
    │                                        reason, the size on record (409)
    ├── BackupError                          a backup or restore could not be made: where, reason
    │   ├── BackupInvalid (ValueError)       a backup that is damaged, incomplete, or disagrees
    │   │                                    with its manifest (or the restored node with it)
    │   └── RestoreRefused                   the target node or database is not empty (--force)
    ├── RemoteError (ConnectionError)        a server asked failed: URL, reason, HTTP status
    │   ├── PeerError                        a peer's TAXII server failed or refused
    │   └── FeedError                        a feed's server failed, or sent what is no feed
    ├── PrivateLookupError (ValueError)      a private lookup message, key, proof or filter
    │   │                                    is wrong (accord.privacy): what, and where
    │   ├── BadElement                       not a canonical ristretto255 element (index)
    │   ├── DleqProofInvalid                 a DLEQ proof fails against the epoch's key
    │   ├── KeyNotAnnounced                  the key is not the one the holder's log announced
    │   └── FilterMismatch                   a filter or context whose digest is not announced
    ├── ConsoleError                         a console request refused; carries its HTTP
    │   │                                    status, rendered as the console's error page
    │   ├── ConsoleUnauthorized (PermissionError) 401: not logged in, or the session expired
    │   ├── ConsoleForbidden (PermissionError)    403: the user's role lacks the right
    │   ├── CsrfRefused (PermissionError)         403: a form without the session's CSRF token
    │   ├── ConsoleTooLarge                       413: an upload over ACCORD_WEB_MAX_UPLOAD
    │   └── TooManyLogins                         429: too many failed logins: wait
    └── TaxiiError                           a TAXII request refused; carries its HTTP
        │                                    status (TAXII 2.1 §3.6), rendered as the
        │                                    TAXII error message resource
        ├── TaxiiBadRequest (ValueError)     400: body not JSON; bad filter, limit, next
        ├── TaxiiUnauthorized (PermissionError) 401: no, wrong or revoked credentials
        ├── TaxiiForbidden (PermissionError) 403: sees the collection, may not do this
        ├── TaxiiNotFound (LookupError)      404: no such resource, or not visible
        ├── TaxiiMethodNotAllowed            405: the resource has no such method
        ├── TaxiiNotAcceptable               406: Accept names no TAXII 2.1 media type
        ├── TaxiiTooLarge                    413: body over max_content_length
        ├── TaxiiUnsupportedMediaType        415: Content-Type is not TAXII 2.1
        ├── TaxiiGone                        410: a private lookup epoch that has ended
        ├── TaxiiUnprocessable (ValueError)  422: JSON, but not a TAXII envelope
        ├── TaxiiTooManyRequests             429: over a rate limit or quota (Retry-After)
        ├── TaxiiServerError                 500: the server failed (details stay in its log)
        ├── TaxiiUnavailable                 503: the store is unreachable now (Retry-After)
        └── TaxiiInsufficientStorage         507: the store's disk is full

Errors carry fields, not only a message, so that edges (CLI, TAXII, web) can
render them in their own shape without parsing strings.
"""

from __future__ import annotations


def _rebuild(cls: type[AccordError], args: tuple[object, ...], kwargs: dict[str, object]) -> object:
    return cls(*args, **kwargs)


class AccordError(Exception):
    """Base of every error Accord raises on purpose.

    Errors cross process boundaries (the import's parser process), so each
    class names the fields its constructor takes: ``_fields`` positionally,
    ``_keywords`` by keyword; pickling rebuilds the error from them.
    """

    _fields: tuple[str, ...] = ()
    _keywords: tuple[str, ...] = ()

    def __reduce__(self) -> str | tuple[object, ...]:
        if not self._fields:
            return super().__reduce__()
        args = tuple(getattr(self, f) for f in self._fields)
        kwargs = {k: getattr(self, k) for k in self._keywords}
        return (_rebuild, (type(self), args, kwargs))


class ConfigError(AccordError, ValueError):
    """A setting has a bad value or the node directory is unusable.

    Args:
        name: the setting (``ACCORD_...``) or path at fault.
        reason: what is wrong with it.
    """

    _fields = ("name", "reason")

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason}")


class AgreementInvalid(AccordError, ValueError):
    """A sharing agreement file is not valid.

    Args:
        source: the file (or other origin) of the agreement.
        key: the TOML key at fault (dotted; empty for the file as a whole).
        reason: what is wrong with it.
    """

    _fields = ("source", "key", "reason")

    def __init__(self, source: str, key: str, reason: str) -> None:
        self.source = source
        self.key = key
        self.reason = reason
        super().__init__(f"{f'{source}: {key}' if key else source}: {reason}")


class CommunityError(AccordError, ValueError):
    """A community charter, command or record is not acceptable.

    Args:
        what: the charter, file or record at fault.
        reason: what is wrong with it.
    """

    _fields = ("what", "reason")

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(f"{what}: {reason}")


class RecordRefused(CommunityError):
    """A community record that is refused, or deferred until what it needs arrives.

    Args:
        what: the record id (or ``record`` when it has none yet).
        reason: why it does not count.
        deferred: True when it may count later (its base state or proposal is unknown).
    """

    _fields = ("what", "reason")
    _keywords = ("deferred",)

    def __init__(self, what: str, reason: str, deferred: bool = False) -> None:
        self.deferred = deferred
        super().__init__(what, reason)


class NodeNotFound(AccordError, FileNotFoundError):
    """There is no initialised node where one was expected."""

    _fields = ("home",)

    def __init__(self, home: str) -> None:
        self.home = home
        super().__init__(f"no Accord node at {home}: run `accord init {home}` first")


class InputError(AccordError, ValueError):
    """Input that cannot be read as STIX at all.

    Args:
        source: the file name (or ``<stdin>``).
        reason: what is wrong.
        offset: byte offset in the (decompressed) input, where known.
        line: 1-based line number, where known (JSON lines).
    """

    _fields = ("source", "reason")
    _keywords = ("offset", "line")

    def __init__(
        self,
        source: str,
        reason: str,
        *,
        offset: int | None = None,
        line: int | None = None,
    ) -> None:
        self.source = source
        self.reason = reason
        self.offset = offset
        self.line = line
        where = source
        if line is not None:
            where += f", line {line}"
        if offset is not None:
            where += f", byte {offset}"
        super().__init__(f"{where}: {reason}")


class MalformedJSON(InputError):
    """The bytes are not JSON (or not UTF-8)."""


class InputTooLarge(InputError):
    """The input breaks a size or nesting limit."""


class NotStix(InputError):
    """Valid JSON, but not a STIX bundle, object or list of objects."""


class UnreadableDocument(InputError):
    """A report has no text Accord can read (encrypted, scanned, corrupt or binary)."""


class InvalidObject(AccordError, ValueError):
    """One STIX object breaks the STIX 2.1 specification.

    Args:
        object_id: the object's ``id`` as given (``None`` if it has none).
        prop: the property at fault (``None`` for the object as a whole).
        reason: what is wrong, citing the specification where useful.
    """

    _fields = ("object_id", "prop", "reason")

    def __init__(self, object_id: str | None, prop: str | None, reason: str) -> None:
        self.object_id = object_id
        self.prop = prop
        self.reason = reason
        subject = object_id or "<object without id>"
        if prop:
            subject += f" .{prop}"
        super().__init__(f"{subject}: {reason}")


class PatternError(AccordError, ValueError):
    """A STIX pattern that Accord cannot parse, accept or evaluate.

    The OASIS reference (stix2-patterns, stix2-matcher) raises ``ParseException``
    and ``MatcherException``, both direct subclasses of ``Exception``; a caller
    catching ``Exception`` (or ``ValueError``) catches these too.

    Args:
        pattern: the pattern text.
        reason: what is wrong.
    """

    _fields = ("pattern", "reason")

    def __init__(self, pattern: str, reason: str) -> None:
        self.pattern = pattern
        self.reason = reason
        super().__init__(reason)


class PatternSyntaxError(PatternError):
    """Not the STIX 2.1 pattern grammar (STIX 2.1 §9); stands for ``ParseException``.

    Args:
        pattern: the pattern text.
        reason: what is wrong, with the position.
        position: 0-based offset of the offending token in ``pattern``.
        expected: what the grammar allowed there (token names).
    """

    _fields = ("pattern", "reason")
    _keywords = ("position", "expected")

    def __init__(
        self, pattern: str, reason: str, *, position: int = 0, expected: tuple[str, ...] = ()
    ) -> None:
        self.position = position
        self.expected = expected
        super().__init__(pattern, reason)


class PatternTooComplex(PatternError):
    """Over a complexity limit: length, nesting depth, IN-list size, a risky regex."""


class PatternMatchError(PatternError):
    """The pattern cannot be evaluated on the data; stands for ``MatcherException``."""


class StrictImportFailed(AccordError):
    """A ``--strict`` import met invalid objects; nothing of the input was stored.

    Args:
        errors: the invalid objects (all of them found before stopping).
    """

    _fields = ("errors",)

    def __init__(self, errors: list[InvalidObject]) -> None:
        self.errors = errors
        first = errors[0] if errors else None
        super().__init__(
            f"strict import rejected: {len(errors)} invalid object(s)"
            + (f", first: {first}" if first else "")
        )


class StoreError(AccordError):
    """The database refused or failed an operation."""


class StoreUnavailable(StoreError, ConnectionError):
    """The database cannot be reached, dropped the connection, or is too busy: try again.

    Nothing the failed operation wrote is kept (its transaction never committed).

    Args:
        reason: the driver's message.
    """

    _fields = ("reason",)
    # Seconds a client is asked to wait (Retry-After) before it tries again: a
    # reconnect, a restart or a failover takes about that long.
    retry_after = 2

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"the database is unavailable: {reason}")


class StoreFull(StoreError, OSError):
    """The disk under the database is full: the write was rolled back whole.

    Args:
        reason: the driver's message.
    """

    _fields = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"the database's disk is full: {reason}")


class SchemaOutOfDate(StoreError):
    """The database schema is not at this Accord's migration head."""

    _fields = ("current", "head")

    def __init__(self, current: str | None, head: str) -> None:
        self.current = current
        self.head = head
        super().__init__(f"database schema is at {current or 'nothing'}, this Accord needs {head}")


class UnknownCollection(StoreError, KeyError):
    """No collection has that id or title."""

    _fields = ("ref",)

    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(ref)

    def __str__(self) -> str:
        return f"no collection with id or title {self.ref!r}: see `accord collection list`"


class UnknownMember(StoreError, KeyError):
    """No member has that name."""

    _fields = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(name)

    def __str__(self) -> str:
        return f"no member named {self.name!r}: see `accord member list`"


class UnknownPeer(StoreError, KeyError):
    """No peer has that name."""

    _fields = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(name)

    def __str__(self) -> str:
        return f"no peer named {self.name!r}: see `accord peer list`"


class UnknownDraft(StoreError, KeyError):
    """No report draft has that id (or unique id prefix)."""

    _fields = ("ref",)

    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(ref)

    def __str__(self) -> str:
        return f"no report draft {self.ref!r}: see `accord report list`"


class UnknownUser(StoreError, KeyError):
    """No console user has that name."""

    _fields = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(name)

    def __str__(self) -> str:
        return f"no user named {self.name!r}: see `accord user list`"


class UnknownFeed(StoreError, KeyError):
    """No feed has that name."""

    _fields = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(name)

    def __str__(self) -> str:
        return f"no feed named {self.name!r}: see `accord feed list`"


class ConsoleError(AccordError):
    """A console request refused: the status and a message for the error page."""

    status = 400
    title = "Bad request"
    _fields = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class ConsoleUnauthorized(ConsoleError, PermissionError):
    """Not logged in, or the session expired or was ended."""

    status = 401
    title = "Please log in"


class ConsoleForbidden(ConsoleError, PermissionError):
    """The user's role lacks the right this page needs."""

    status = 403
    title = "Not allowed"


class CsrfRefused(ConsoleError, PermissionError):
    """A form that does not carry this session's CSRF token."""

    status = 403
    title = "Form refused"


class ConsoleNotFound(ConsoleError, LookupError):
    """A console page for something that is not there (a report draft, say)."""

    status = 404
    title = "Not found"


class ConsoleTooLarge(ConsoleError):
    """An upload over the console's size limit."""

    status = 413
    title = "Upload too large"


class TooManyLogins(ConsoleError):
    """Too many failed logins for this user or address: wait before trying again."""

    status = 429
    title = "Too many attempts"


class RemoteError(AccordError, ConnectionError):
    """A server Accord asked failed, refused or did not answer (after the retries).

    Args:
        url: the URL asked (never with credentials).
        reason: what happened.
        status: the HTTP status, or None when no answer came.
    """

    _fields = ("url", "reason", "status")

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        self.url = url
        self.reason = reason
        self.status = status
        super().__init__(url, reason, status)

    def __str__(self) -> str:
        code = f"HTTP {self.status}: " if self.status is not None else ""
        return f"{self.url}: {code}{self.reason}"


class PeerError(RemoteError):
    """A peer's TAXII server failed, refused or did not answer (after the retries)."""


class PrivateLookupError(AccordError, ValueError):
    """A private lookup message, key, proof or filter is wrong (`accord.privacy`).

    The reason never names a looked-up value: it says what failed and where
    (an element's index, the epoch), never which value it stood for.

    Args:
        reason: what is wrong.
    """

    _fields = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class BadElement(PrivateLookupError):
    """Bytes that are not a canonical ristretto255 element (RFC 9496 §4.3.1)."""


class DleqProofInvalid(PrivateLookupError):
    """A DLEQ proof (RFC 9497 §2.2) that does not verify against the epoch's key."""


class KeyNotAnnounced(PrivateLookupError):
    """An epoch key that is not the one, or not the only one, the holder's log announced."""


class FilterMismatch(PrivateLookupError):
    """A filter or context table whose SHA-256 is not the one the holder announced."""


class NotFound(AccordError, LookupError):
    """No stored object has that id."""

    _fields = ("object_id",)

    def __init__(self, object_id: str) -> None:
        self.object_id = object_id
        super().__init__(f"no object with id {object_id}")


class LedgerError(AccordError, ValueError):
    """The transparency log refused a proof, note, checkpoint or entry."""

    _fields: tuple[str, ...] = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class ProofInvalid(LedgerError):
    """A Merkle inclusion or consistency proof does not hold.

    Args:
        kind: ``inclusion`` or ``consistency``.
        reason: why.
    """

    _fields = ("kind", "reason")

    def __init__(self, kind: str, reason: str) -> None:
        self.kind = kind
        super().__init__(reason)

    def __str__(self) -> str:
        return f"{self.kind} proof: {self.reason}"


class NoteInvalid(LedgerError):
    """A signed note, checkpoint, verifier key or cosignature is malformed or unsigned."""


class EntryInvalid(LedgerError):
    """A log entry is not canonical typed JSON (or cannot be made one)."""


class LogTampered(LedgerError):
    """The stored log disagrees with itself or with a checkpoint it signed.

    Args:
        index: the first entry (or stored hash) found bad, or None for the head.
        reason: what disagrees.
    """

    _fields = ("index", "reason")

    def __init__(self, index: int | None, reason: str) -> None:
        self.index = index
        super().__init__(reason)

    def __str__(self) -> str:
        where = f"entry {self.index}: " if self.index is not None else ""
        return f"{where}{self.reason}"


class WitnessRefused(LedgerError):
    """The witness did not cosign a checkpoint (c2sp.org/tlog-witness statuses).

    Args:
        status: 400 (bad request), 403 (bad signature), 404 (unknown log),
            409 (old size is not the size on record), 422 (inconsistent).
        reason: why.
        size: the size on record, for 409.
    """

    _fields = ("status", "reason", "size")

    def __init__(self, status: int, reason: str, size: int | None = None) -> None:
        self.status = status
        self.size = size
        super().__init__(reason)

    def __str__(self) -> str:
        return f"witness refused ({self.status}): {self.reason}"


class BackupError(AccordError):
    """A backup or a restore could not be made (a tool missing, a file unwritable).

    Args:
        where: the backup, file, database or tool at fault.
        reason: what is wrong.
    """

    _fields = ("where", "reason")

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}")


class BackupInvalid(BackupError, ValueError):
    """A backup that is damaged or incomplete, or a database that disagrees with its manifest."""


class RestoreRefused(BackupError):
    """The restore's target already holds a node or data (``--force`` replaces it)."""


class TaxiiError(AccordError):
    """A TAXII request refused, with the HTTP status that says why (TAXII 2.1 §3.6).

    Args:
        description: what went wrong, for a human; never a secret.
        details: machine-readable specifics (the filter, the object id, ...).
        headers: HTTP headers the answer must carry (``Allow`` for 405).
    """

    _fields = ("description",)
    _keywords = ("details", "headers")

    status = 500
    title = "Internal Server Error"

    def __init__(
        self,
        description: str,
        *,
        details: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.description = description
        self.details = details or {}
        self.headers = headers or {}
        super().__init__(f"{self.status} {self.title}: {description}")


class TaxiiBadRequest(TaxiiError, ValueError):
    """400: the request cannot be understood (body, envelope, filters, limit, next)."""

    status = 400
    title = "Bad Request"


class TaxiiUnauthorized(TaxiiError, PermissionError):
    """401: the request needs credentials, or the ones given are wrong or revoked."""

    status = 401
    title = "Unauthorized"


class TaxiiForbidden(TaxiiError, PermissionError):
    """403: the requester sees the collection but may not do this with it."""

    status = 403
    title = "Forbidden"


class TaxiiNotFound(TaxiiError, LookupError):
    """404: no such resource, or one the requester may not see."""

    status = 404
    title = "Not Found"


class TaxiiMethodNotAllowed(TaxiiError):
    """405: the resource exists but has no such method."""

    status = 405
    title = "Method Not Allowed"


class TaxiiNotAcceptable(TaxiiError):
    """406: the Accept header names no media type this server answers with."""

    status = 406
    title = "Not Acceptable"


class TaxiiTooLarge(TaxiiError):
    """413: the request body is over the API root's max_content_length."""

    status = 413
    title = "Payload Too Large"


class TaxiiUnsupportedMediaType(TaxiiError):
    """415: the request body's Content-Type is not one this server reads."""

    status = 415
    title = "Unsupported Media Type"


class TaxiiGone(TaxiiError):
    """410: the private lookup epoch asked for has ended (its key is deleted)."""

    status = 410
    title = "Gone"


class TaxiiTooManyRequests(TaxiiError):
    """429: over a rate limit or quota; ``Retry-After`` says when it renews (RFC 6585 §4).

    Raised by the TAXII rate limits (`accord.service.limits`, whose
    ``details["limit"]`` names the limit) and by the private lookup's quota.
    """

    status = 429
    title = "Too Many Requests"


class TaxiiUnprocessable(TaxiiError, ValueError):
    """422: the body is JSON but cannot be processed as a TAXII envelope (§5.5)."""

    status = 422
    title = "Unprocessable Content"


class TaxiiServerError(TaxiiError):
    """500: the server failed; the cause is in its log, not in the answer."""

    status = 500
    title = "Internal Server Error"


class TaxiiUnavailable(TaxiiError):
    """503: the store cannot be reached now; ``Retry-After`` says when to try again."""

    status = 503
    title = "Service Unavailable"


class TaxiiInsufficientStorage(TaxiiError):
    """507: the store's disk is full; nothing of the request was kept (RFC 4918 §11.5)."""

    status = 507
    title = "Insufficient Storage"


class FeedError(RemoteError):
    """A feed's server failed, refused, did not answer, or sent what is no feed."""
