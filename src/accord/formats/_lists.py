"""Plain IOC lists: text (one value a line) and CSV, to STIX indicators.

The layout is maltrail's: ``#`` starts a comment (a whole line, or the rest of
a line after a value), and ``# Reference: URL`` lines name the sources of the
list; they become the indicators' external references. A value's type is
detected from the value (`detect`), or given for the whole list, or read from
a CSV column. An entry becomes an indicator whose id is derived from the
producer and the pattern (UUIDv5): the same entry from the same producer is the
same indicator on every import, so a list imported again adds nothing new.

Decisions where the lists are silent:

- ``host:port`` and ``ip:port`` keep the address; the port goes to the
  description (a sensor's intel list has no port).
- A URL without a scheme (maltrail writes ``evil.example/path``) gets
  ``http://``: STIX 2.1 ``url:value`` is a URL (RFC 3986).
- A CIDR block becomes ``ipv4-addr:value ISSUBSET 'a.b.c.d/n'`` (STIX 2.1 §9.5).
"""

from __future__ import annotations

import csv
import functools
import ipaddress
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from accord.stix import TLP1_IDS, TLP2_ID_OF, Tlp

__all__ = [
    "KINDS",
    "ListEntry",
    "ListProblem",
    "ParsedList",
    "detect",
    "indicator",
    "indicator_id",
    "parse_csv",
    "parse_text",
    "pattern_for",
    "producer_identity",
]

# Namespace of the ids of list entries and producers (UUIDv5, RFC 9562 §5.5).
NAMESPACE = uuid.UUID("7f6c3b4e-2a1d-5e8f-9c0b-acc0d0f11e57")
KINDS = (
    "ipv4",
    "ipv6",
    "cidr4",
    "cidr6",
    "domain",
    "url",
    "md5",
    "sha1",
    "sha256",
    "sha512",
    "email",
)
_HEX = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
_HASH_KEY = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256", "sha512": "SHA-512"}
_HEX_RE = re.compile(r"[0-9a-fA-F]+\Z")
_DOMAIN_RE = re.compile(
    r"(?=.{1,253}\Z)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}[a-z0-9]?\Z"
)
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}\Z")
_SCHEME_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://")
_TLP_MARKING = {level: mid for mid, level in TLP1_IDS.items()}
MAX_REFERENCES = 3


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One value of a list, its type, and where it was."""

    kind: str
    value: str
    line: int
    comment: str = ""


@dataclass(frozen=True, slots=True)
class ListProblem:
    """A line that is no value of a known type."""

    line: int
    text: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}: {self.text[:80]!r}"


@dataclass(slots=True)
class ParsedList:
    """A list's entries, references and refused lines."""

    entries: list[ListEntry] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    problems: list[ListProblem] = field(default_factory=list)


def detect(value: str) -> tuple[str, str] | None:
    """The type of one value and the value as it is matched; None when none fits."""
    v = value.strip()
    if not v or any(c.isspace() for c in v):
        return None
    try:
        ip = ipaddress.ip_address(v)
        return ("ipv4" if ip.version == 4 else "ipv6"), str(ip)
    except ValueError:
        pass
    if "/" in v and _SCHEME_RE.match(v) is None:
        try:
            net = ipaddress.ip_network(v, strict=False)
            return ("cidr4" if net.version == 4 else "cidr6"), str(net)
        except ValueError:
            pass
    if len(v) in _HEX and _HEX_RE.match(v):
        return _HEX[len(v)], v.lower()
    if _SCHEME_RE.match(v):
        return "url", v
    if "@" in v:
        return ("email", v) if _EMAIL_RE.match(v) else None
    host, slash, _ = v.partition("/")
    hostname, colon, port = host.rpartition(":") if ":" in host else (host, "", "")
    if colon and not port.isdigit():
        return None
    if slash:
        return ("url", "http://" + v) if _host_ok(hostname) else None
    if colon:  # host:port: the address or name alone
        found = detect(hostname)
        return found if found and found[0] in ("ipv4", "domain") else None
    lowered = v.lower().rstrip(".")
    return ("domain", lowered) if _DOMAIN_RE.match(lowered) else None


def _host_ok(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(_DOMAIN_RE.match(host.lower().rstrip(".")))


def _given(kind: str, value: str) -> tuple[str, str] | None:
    found = detect(value)
    if found is None or found[0] != kind:
        # A value that does not read as the declared type is refused, not guessed.
        return None
    return found


def _entry(kind: str | None, raw: str, line: int, comment: str) -> ListEntry | ListProblem:
    found = detect(raw) if kind is None else _given(kind, raw)
    if found is None:
        reason = "not a value of a known type" if kind is None else f"not a {kind}"
        return ListProblem(line, raw, reason)
    port = raw.rpartition(":")[2] if found[0] in ("ipv4", "domain") and ":" in raw else ""
    if port:
        comment = f"port {port}" + (f"; {comment}" if comment else "")
    return ListEntry(found[0], found[1], line, comment)


def _add(out: ParsedList, item: ListEntry | ListProblem) -> None:
    if isinstance(item, ListEntry):
        out.entries.append(item)
    else:
        out.problems.append(item)


def parse_text(lines: Iterable[str], kind: str | None = None) -> ParsedList:
    """A text list: one value a line, ``#`` comments, ``# Reference:`` headers."""
    out = ParsedList()
    for n, raw_line in enumerate(lines, 1):
        line = raw_line.strip().lstrip("\ufeff")
        if not line:
            continue
        if line.startswith("#"):
            body = line[1:].strip()
            if body.lower().startswith("reference:"):
                ref = body.split(":", 1)[1].strip()
                if ref:
                    out.references.append(ref)
            continue
        value, _, comment = line.partition("#")
        value = value.strip()
        if not value:
            continue
        _add(out, _entry(kind, value, n, comment.strip()))
    return out


def parse_csv(
    lines: Iterable[str],
    *,
    value_column: str | int = 0,
    type_column: str | int | None = None,
    kind: str | None = None,
    delimiter: str = ",",
) -> ParsedList:
    """A CSV list: the value in one column (by header name or 0-based index).

    A first row that names ``value_column`` is the header. ``type_column``
    gives each row's type (one of `KINDS`; else detected); ``kind`` one for all.
    """
    out = ParsedList()
    rows = _reader_rows(_uncommented(lines, out), delimiter)
    header: list[str] | None = None
    for n, row in rows:
        if not row or all(not c.strip() for c in row):
            continue
        if header is None and isinstance(value_column, str) and not value_column.isdigit():
            header = [c.strip().lower() for c in row]
            if value_column.lower() not in header:
                out.problems.append(ListProblem(n, ",".join(row), f"no column {value_column!r}"))
                return out
            continue
        vi = _column(value_column, header)
        if vi >= len(row):
            out.problems.append(ListProblem(n, ",".join(row), f"no column {vi}"))
            continue
        row_kind = kind
        if type_column is not None:
            ti = _column(type_column, header)
            given = row[ti].strip().lower() if ti < len(row) else ""
            row_kind = given if given in KINDS else None
        _add(out, _entry(row_kind, row[vi].strip(), n, ""))
    return out


def _column(ref: str | int, header: list[str] | None) -> int:
    if isinstance(ref, int):
        return ref
    if ref.isdigit():
        return int(ref)
    assert header is not None
    return header.index(ref.lower())


def _uncommented(lines: Iterable[str], out: ParsedList) -> Iterator[tuple[int, str]]:
    for n, line in enumerate(lines, 1):
        text = line.strip().lstrip("\ufeff")
        if text.startswith("#"):
            body = text[1:].strip()
            if body.lower().startswith("reference:"):
                out.references.append(body.split(":", 1)[1].strip())
            continue
        yield n, line


def _reader_rows(
    pairs: Iterator[tuple[int, str]], delimiter: str
) -> Iterator[tuple[int, list[str]]]:
    for n, text in pairs:
        for row in csv.reader([text], delimiter=delimiter):
            yield n, row


def pattern_for(kind: str, value: str) -> str:
    """The STIX pattern of one list value."""
    v = value.replace("\\", "\\\\").replace("'", "\\'")
    if kind in ("ipv4", "ipv6"):
        return f"[{kind}-addr:value = '{v}']"
    if kind in ("cidr4", "cidr6"):
        return f"[ipv{kind[-1]}-addr:value ISSUBSET '{v}']"
    if kind == "domain":
        return f"[domain-name:value = '{v}']"
    if kind == "url":
        return f"[url:value = '{v}']"
    if kind == "email":
        return f"[email-addr:value = '{v}']"
    return f"[file:hashes.'{_HASH_KEY[kind]}' = '{v}']"


@functools.lru_cache(maxsize=256)
def _producer_id(name: str) -> str:
    return f"identity--{uuid.uuid5(NAMESPACE, 'producer:' + name)}"


def producer_identity(name: str, created: str) -> dict[str, Any]:
    """The identity of a list's producer (its id derived from the name)."""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": _producer_id(name),
        "created": created,
        "modified": created,
        "name": name,
        "identity_class": "organization",
    }


def indicator_id(producer: str, pattern: str) -> str:
    """The id of the indicator a producer's list entry becomes."""
    return f"indicator--{uuid.uuid5(NAMESPACE, producer + '|' + pattern)}"


def indicator(
    entry: ListEntry,
    *,
    producer: str,
    list_name: str,
    tlp: Tlp,
    now: str,
    references: Iterable[str] = (),
    valid_until: str | None = None,
) -> dict[str, Any]:
    """The STIX indicator of one list entry (``now``: created, modified and valid_from)."""
    pattern = pattern_for(entry.kind, entry.value)
    ident = _producer_id(producer)
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": indicator_id(producer, pattern),
        "created": now,
        "modified": now,
        "created_by_ref": ident,
        "name": entry.value,
        "indicator_types": ["malicious-activity"],
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": now,
        "labels": [list_name],
        "object_marking_refs": [_TLP_MARKING.get(tlp) or TLP2_ID_OF[tlp]],
    }
    if entry.comment:
        obj["description"] = entry.comment
    # A list may name hundreds of references: each indicator carries the first few
    # (a sensor shows one), not hundreds of kilobytes of them.
    urls = [r for r in references if r.startswith("http")][:MAX_REFERENCES]
    refs = [{"source_name": list_name, "url": r} for r in urls]
    if refs:
        obj["external_references"] = refs
    if valid_until is not None:
        obj["valid_until"] = valid_until
    return obj
