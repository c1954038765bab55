"""Log entries: typed records in canonical JSON (RFC 8785), and the share entry.

An entry is ``{"type": T, "v": N, ...fields}`` serialised by the JSON
Canonicalization Scheme, so that anybody who knows the fields rebuilds the same
bytes, and so the same leaf hash (RFC 9162: SHA-256(0x00 || entry)).

A share entry records one answer that left the node: when, on which channel,
from which collection, under which agreement (the SHA-256 of its file), how
many objects and the SHA-256 of the exact bytes sent. The recipient appears
only as a salted commitment, SHA-256("accord/recipient/v1" || 0x00 || salt ||
name); the 32-byte salt goes to the recipient alone (in the response headers),
so the public log shows neither who received an answer nor what it held.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import rfc8785

from accord.exceptions import EntryInvalid

MAX_ENTRY_BYTES = 65535  # tlog-tiles entry bundles prefix each entry with a uint16 length
MAX_DEPTH = 64  # nesting of objects and arrays, the entry itself being level 0
_SAFE_INTEGER = 2**53 - 1  # RFC 8785 §3.2.2.3 / I-JSON: the integers a double holds exactly
SHARE = "share"
_RESERVED = ("type", "v")
_COMMITMENT_PREFIX = b"accord/recipient/v1\x00"

# The channels of the egress paths a share entry names.
CHANNELS = (
    "taxii-objects",
    "taxii-manifest",
    "taxii-object",
    "taxii-versions",
    "push",
    "export",
    "sighting",
    "feed",
)


_SAFE_INT = 2**53


def _plain(value: Any) -> bool:
    """Only printable ASCII strings, safe integers, booleans, null, lists and objects with
    such keys: values whose RFC 8785 form orjson writes byte for byte (sorted keys)."""
    t = type(value)
    if t is str:
        return bool(value.isascii() and value.isprintable())
    if t is int:
        return bool(-_SAFE_INT < value < _SAFE_INT)
    if t is bool or value is None:
        return True
    if t is list:
        return all(_plain(v) for v in value)
    if t is dict:
        return all(
            type(k) is str and k.isascii() and k.isprintable() and _plain(v)
            for k, v in value.items()
        )
    return False


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON bytes of a value.

    orjson with sorted keys writes the same bytes for printable-ASCII strings and
    safe integers (every share entry), several times faster than the pure-Python
    reference, which writes all other values (a property test checks the two agree).
    """
    if _plain(value):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    return rfc8785.dumps(value)


@dataclass(frozen=True, slots=True)
class Entry:
    """One typed log entry.

    Attributes:
        type: what the entry records (``share``, ``agreement``, ``member``, ...).
        version: the version of that type's field set.
        body: the fields (JSON values; integers, strings, lists, objects).
    """

    type: str
    version: int
    body: Mapping[str, Any] = field(default_factory=dict)

    def canonical(self) -> bytes:
        """The entry's bytes: RFC 8785 canonical JSON.

        Raises:
            EntryInvalid: a reserved field name, a value JSON cannot hold, or too long.
        """
        if not self.type or not self.type.isascii():
            raise EntryInvalid(f"entry type {self.type!r} is not an ASCII name")
        clash = [k for k in _RESERVED if k in self.body]
        if clash:
            raise EntryInvalid(f"entry field {clash[0]!r} is reserved")
        _jcs_numbers(self.body, 0)  # the depth parse_entry reads back (fields are level 1)
        try:
            data = canonical_json({"type": self.type, "v": self.version, **self.body})
        except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
            raise EntryInvalid(f"entry of type {self.type!r}: {exc}") from exc
        if len(data) > MAX_ENTRY_BYTES:
            raise EntryInvalid(f"entry of type {self.type!r} is over {MAX_ENTRY_BYTES} bytes")
        return data


def _jcs_numbers(value: Any, depth: int) -> Any:
    """``value`` with integers past ±(2^53 - 1) as floats, refusing nesting past `MAX_DEPTH`.

    RFC 8785 §3.2.2.3: numbers are IEEE 754 doubles, so the canonical form of the float
    2^53 is ``9007199254740992``, which orjson reads as an int; read as a double it
    writes back the same bytes. The depth bound keeps the recursion here and in rfc8785
    far from Python's stack limit (a RecursionError at about 1,000 levels).
    """
    if depth > MAX_DEPTH:
        raise EntryInvalid(f"the entry nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, Mapping):
        return {k: _jcs_numbers(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jcs_numbers(v, depth + 1) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _SAFE_INTEGER:
        return float(value)
    return value


def parse_entry(data: bytes) -> Entry:
    """Read an entry's bytes back, checking they are canonical.

    Raises:
        EntryInvalid: not a JSON object with a type and version, or not canonical.
    """
    try:
        obj = _jcs_numbers(orjson.loads(data), 0)
    except orjson.JSONDecodeError as exc:
        raise EntryInvalid(f"the entry is not JSON: {exc}") from exc
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise EntryInvalid("the entry is not an object with a type")
    version = obj.get("v")
    if not isinstance(version, int) or isinstance(version, bool):
        raise EntryInvalid("the entry has no integer version 'v'")
    entry = Entry(obj.pop("type"), version, {k: v for k, v in obj.items() if k != "v"})
    if entry.canonical() != data:
        raise EntryInvalid("the entry's bytes are not its canonical JSON")
    return entry


def commitment(salt: bytes, recipient: str) -> str:
    """The salted commitment to a recipient's name, hex."""
    if len(salt) != 32:
        raise EntryInvalid(f"a recipient salt is 32 bytes, not {len(salt)}")
    return hashlib.sha256(_COMMITMENT_PREFIX + salt + recipient.encode()).hexdigest()


def share_entry(
    *,
    time: str,
    channel: str,
    collection: str,
    agreement: str | None,
    count: int,
    digest: str,
    recipient: str,
) -> Entry:
    """The entry of one answer that left the node (``recipient`` is the commitment)."""
    if channel not in CHANNELS:
        raise EntryInvalid(f"unknown channel {channel!r}")
    return Entry(
        SHARE,
        1,
        {
            "time": time,
            "channel": channel,
            "collection": collection,
            "agreement": agreement,
            "count": count,
            "digest": digest,
            "recipient": recipient,
        },
    )


# -- receipts: what a recipient gets to rebuild its entry ----------------------------

H_INDEX = "X-Accord-Log-Index"
H_ORIGIN = "X-Accord-Log-Origin"
H_TIME = "X-Accord-Log-Time"
H_CHANNEL = "X-Accord-Log-Channel"
H_COLLECTION = "X-Accord-Log-Collection"
H_AGREEMENT = "X-Accord-Log-Agreement"
H_COUNT = "X-Accord-Log-Count"
H_RECIPIENT = "X-Accord-Log-Recipient"
H_SALT = "X-Accord-Log-Salt"
RECEIPT_HEADERS = (
    H_INDEX,
    H_ORIGIN,
    H_TIME,
    H_CHANNEL,
    H_COLLECTION,
    H_AGREEMENT,
    H_COUNT,
    H_RECIPIENT,
    H_SALT,
)


def receipt_headers(
    index: int, origin: str, entry: Entry, recipient: str, salt: bytes
) -> dict[str, str]:
    """The headers that let the recipient rebuild ``entry`` from the body it received."""
    b = entry.body
    return {
        H_INDEX: str(index),
        H_ORIGIN: origin,
        H_TIME: str(b["time"]),
        H_CHANNEL: str(b["channel"]),
        H_COLLECTION: str(b["collection"]),
        H_AGREEMENT: b["agreement"] or "",
        H_COUNT: str(b["count"]),
        H_RECIPIENT: recipient,
        H_SALT: salt.hex(),
    }


def entry_from_receipt(headers: Mapping[str, str], body: bytes) -> tuple[int, Entry]:
    """Rebuild a share entry from a response's receipt headers and its body.

    The digest is the SHA-256 of ``body`` and the recipient the commitment to
    the header's name under its salt, so an entry rebuilt so matches the node's
    only if the node logged exactly these bytes for this recipient.

    Raises:
        EntryInvalid: a header is missing or malformed.
    """
    lower = {k.lower(): v for k, v in headers.items()}

    def get(name: str) -> str:
        value = lower.get(name.lower())
        if value is None:
            raise EntryInvalid(f"the response has no {name} header")
        return value

    index, count = get(H_INDEX), get(H_COUNT)
    if not index.isdigit() or not count.isdigit():
        raise EntryInvalid(f"{H_INDEX} or {H_COUNT} is not a number")
    try:
        salt = bytes.fromhex(get(H_SALT))
    except ValueError as exc:
        raise EntryInvalid(f"{H_SALT} is not hex") from exc
    entry = share_entry(
        time=get(H_TIME),
        channel=get(H_CHANNEL),
        collection=get(H_COLLECTION),
        agreement=get(H_AGREEMENT) or None,
        count=int(count),
        digest=hashlib.sha256(body).hexdigest(),
        recipient=commitment(salt, get(H_RECIPIENT)),
    )
    return int(index), entry
