"""Redaction of personal data on an outgoing copy (never on the stored object).

Each transform finds one kind of personal or internal data in the text of an
object and replaces it with a marker; every replacement is reported as a
`Removal` (kind, property path, the value removed) so that ``accord policy
explain`` can say what left and what did not. The transforms:

==================  ===============================================================
kind                what it replaces
==================  ===============================================================
email               e-mail addresses (``[redacted-email]``)
user-account        references to ``user-account`` objects (the objects stay home)
phone               phone numbers written with a country code (``+49 30 1234567``)
                    or as ``(555) 123-4567``
x509-name           personal name parts of ``x509-certificate`` subjects and
                    issuers: CN (unless it is a host name), GN, SN, givenName,
                    surname, initials, emailAddress
internal-address    RFC 1918, RFC 4193, loopback and link-local addresses
profile-path        the user name in ``C:\\Users\\NAME\\`` and ``/home/NAME/``,
                    ``/Users/NAME/``
==================  ===============================================================

Identifiers, references, timestamps and hashes are never touched: they carry
no free text, and changing them would break the object.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

KINDS = ("email", "user-account", "phone", "x509-name", "internal-address", "profile-path")

EMAIL_MARK = "[redacted-email]"
PHONE_MARK = "[redacted-phone]"
NAME_MARK = "[redacted-name]"
ADDRESS_MARK = "[redacted-address]"
USER_MARK = "[redacted-user]"
FIELD_MARK = "[redacted]"

_LOCAL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+'-")
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# A country code, then groups of digits; or the North American (555) 123-4567.
_PHONE_RE = re.compile(
    r"(?<![\w+])\+\d{1,3}(?:[ .\-]?\(?\d{1,5}\)?){2,6}(?![\w])"
    r"|(?<![\w)])\(\d{3}\) ?\d{3}-\d{4}(?!\w)"
)
_IPV4_RE = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]*\d)")
_IPV6_RE = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_PROFILE_RE = re.compile(
    r"(?i)(?P<pre>[a-z]:(?:\\+|/)(?:users|documents and settings)(?:\\+|/))(?P<name>[^\\/\"'\s]+)"
    r"|(?P<pre2>/(?:home|Users)/)(?P<name2>[^/\"'\s]+)"
)
# Where a profile path can be at all (case-insensitive "users", "/home/", "settings").
_PROFILE_HINT = re.compile(r"(?i)users|/home/|settings")
# x509 distinguished name parts that name a person (RFC 4519 attribute types).
_DN_PERSONAL = {"cn", "gn", "sn", "givenname", "surname", "initials", "emailaddress", "e", "uid"}
_DN_PART_RE = re.compile(r"(?P<key>[A-Za-z][A-Za-z0-9.]*)\s*=\s*(?P<value>(?:\\.|[^,;+/])*)")
_HOSTNAME_RE = re.compile(r"(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\Z")

# RFC 1918, RFC 4193, loopback (RFC 1122, RFC 4291) and link-local (RFC 3927, RFC 4291).
# Not ipaddress's is_private: that also covers the documentation ranges of
# RFC 5737 (198.51.100.0/24 ...), which are anything but personal.
_INTERNAL = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "fc00::/7",
        "::1/128",
        "fe80::/10",
    )
)

# Properties whose values are never free text.
_STRUCTURAL = frozenset(
    {
        "id",
        "type",
        "spec_version",
        "created",
        "modified",
        "valid_from",
        "valid_until",
        "first_seen",
        "last_seen",
        "first_observed",
        "last_observed",
        "published",
        "hashes",
        "granular_markings",
        "pattern_type",
        "pattern_version",
        "lang",
        "defanged",
        "payload_bin",
    }
)


@dataclass(frozen=True, slots=True)
class Removal:
    """One thing a transform took out of an outgoing copy.

    Attributes:
        kind: the transform (one of KINDS), ``field``, ``granular-marking``,
            ``reference`` or ``attribution``.
        path: the property, dotted, with list positions (``external_references.[0].url``).
        value: what was removed; shown to this node's operator, never sent.
    """

    kind: str
    path: str
    value: str


_QUAD_RE = re.compile(r"([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})")


def is_internal_address(text: str) -> bool:
    """An RFC 1918, RFC 4193, loopback or link-local address (optionally with a /prefix)."""
    head = text.split("/", 1)[0].split("%", 1)[0]
    quad = _QUAD_RE.fullmatch(head)
    if quad is not None:
        # A dotted quad, the common case, without `ipaddress` (as strict: at most
        # 255, no leading zero).
        for octet in quad.groups():
            if octet[0] == "0" and len(octet) > 1:
                return False
        a, b, c, d = map(int, quad.groups())
        if a > 255 or b > 255 or c > 255 or d > 255:
            return False
        return (
            a in (10, 127)
            or (a == 192 and b == 168)
            or (a == 172 and 16 <= b <= 31)
            or (a == 169 and b == 254)
        )
    try:
        addr = ipaddress.ip_address(head)
    except ValueError:
        return False
    return any(addr.version == n.version and addr in n for n in _INTERNAL)


def _sub_ips(text: str, out: list[Removal], path: str) -> str:
    # Every internal IPv4 address starts with one of the prefixes _INTERNAL_V4_HINT
    # finds: the full pattern is tried there only, not at every position. A quad
    # found (internal or not) is passed over whole, as a substitution would.
    parts: list[str] = []
    done = copied = 0
    for hint in _INTERNAL_V4_HINT.finditer(text):
        start = hint.start()
        if start < done:
            continue
        m = _IPV4_RE.match(text, start)
        if m is None:
            continue
        done = m.end()
        value = m.group(0)
        if is_internal_address(value):
            out.append(Removal("internal-address", path, value))
            parts += [text[copied:start], ADDRESS_MARK]
            copied = done
    if parts:
        text = "".join(parts) + text[copied:]
    # Every IPv6 address has "::" or eight groups (see `might_redact`).
    if "::" in text or _FULL_V6_HINT.search(text):

        def one(m: re.Match[str]) -> str:
            if is_internal_address(m.group(0)):
                out.append(Removal("internal-address", path, m.group(0)))
                return ADDRESS_MARK
            return m.group(0)

        text = _IPV6_RE.sub(one, text)
    return text


def _sub_emails(text: str, out: list[Removal], path: str) -> str:
    # From each "@", back over the local part, then the full pattern from there:
    # a scan at every position would cost a run of letters at each of them.
    parts: list[str] = []
    done = 0
    at = text.find("@")
    while at >= 0:
        start = at
        while start > done and text[start - 1] in _LOCAL_CHARS:
            start -= 1
        m = _EMAIL_RE.match(text, start)
        if m is not None and m.end() > at:
            out.append(Removal("email", path, m.group(0)))
            parts += [text[done:start], EMAIL_MARK]
            done = m.end()
        at = text.find("@", max(at + 1, done))
    return "".join(parts) + text[done:] if parts else text


def _sub_simple(
    regex: re.Pattern[str], kind: str, mark: str
) -> Callable[[str, list[Removal], str], str]:
    def transform(text: str, out: list[Removal], path: str) -> str:
        def one(m: re.Match[str]) -> str:
            out.append(Removal(kind, path, m.group(0)))
            return mark

        return regex.sub(one, text)

    return transform


def _sub_profiles(text: str, out: list[Removal], path: str) -> str:
    def one(m: re.Match[str]) -> str:
        pre = m.group("pre") or m.group("pre2")
        name = m.group("name") or m.group("name2")
        out.append(Removal("profile-path", path, name))
        return pre + USER_MARK

    return _PROFILE_RE.sub(one, text)


def redact_dn(text: str, out: list[Removal], path: str) -> str:
    """Replace the personal parts of an X.509 distinguished name (RFC 4514 or OpenSSL form)."""

    def one(m: re.Match[str]) -> str:
        key, value = m.group("key"), m.group("value").strip()
        if key.lower() not in _DN_PERSONAL or not value:
            return m.group(0)
        if key.lower() == "cn" and _HOSTNAME_RE.match(value):
            return m.group(0)  # a server certificate's host name is no personal name
        out.append(Removal("x509-name", path, value))
        return f"{key}={NAME_MARK}"

    return _DN_PART_RE.sub(one, text)


_TEXT_TRANSFORMS: dict[str, Callable[[str, list[Removal], str], str]] = {
    "email": _sub_emails,
    "phone": _sub_simple(_PHONE_RE, "phone", PHONE_MARK),
    "internal-address": _sub_ips,
    "profile-path": _sub_profiles,
}
# Whole-document tests (see `might_redact`): each matches wherever its transform would.
_EMAIL_HINT = re.compile(r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# A literal first character lets the regular expression engine skip ahead to it.
_INTERNAL_V4_HINT = re.compile(r"1(?:0|27|92\.168|72\.(?:1[6-9]|2\d|3[01])|69\.254)\.\d")
_DIGIT_OR_DOT = frozenset("0123456789.")
_V4_BODY = re.compile(r"(?:\d{1,3}\.){3}\d{1,3}")
_FULL_V6_HINT = re.compile(r":[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:")
_V6_HINT = re.compile(r":(?::|[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:)")  # "::" or three groups
# Quick tests that let most strings skip a transform's regular expression.
_HINTS: dict[str, Callable[[str], bool]] = {
    "email": lambda t: "@" in t,
    "phone": lambda t: "+" in t or "(" in t,
    "internal-address": lambda t: "." in t or ":" in t,
    "profile-path": lambda t: _PROFILE_HINT.search(t) is not None,
}


def redact_text(text: str, kinds: Iterable[str], out: list[Removal], path: str) -> str:
    """Apply the text transforms among ``kinds`` to one string."""
    for kind in kinds:
        transform = _TEXT_TRANSFORMS.get(kind)
        if transform is not None and _HINTS[kind](text):
            text = transform(text, out, path)
    return text


def might_redact(text: str, kinds: frozenset[str]) -> bool:
    """Whether any text transform among ``kinds`` could change an object, given its JSON text.

    A cheap test over the whole document, a superset of the transforms: every
    value a transform would replace inside a string property also shows in the
    JSON text (none of the patterns spans a character JSON escapes, and the
    profile-path pattern takes doubled backslashes). Each test starts from a
    literal (``@``, ``+``, ``::``...) so that most documents are passed over
    by substring searches, not by a regular expression at every position.
    """
    for kind in kinds:
        if kind == "email":
            if "@" in text and _EMAIL_HINT.search(text):
                return True
        elif kind == "phone":
            if ("+" in text or "(" in text) and _PHONE_RE.search(text):
                return True
        elif kind == "profile-path":
            lower = text.lower()
            if "users" in lower or "/home/" in lower or "settings" in lower:
                return True
        elif kind == "internal-address":
            # The regular expressions start with a literal ("1", ":"): the engine
            # skips ahead to it at C speed.
            for m in _INTERNAL_V4_HINT.finditer(text):
                if m.start() == 0 or text[m.start() - 1] not in _DIGIT_OR_DOT:
                    # A dotted quad from there, internal: digits and dots are written
                    # alike in JSON text and in its strings, and `_IPV4_RE` matches
                    # only where this does (its last group ends at the last digit).
                    quad = _V4_BODY.match(text, m.start())
                    if quad is not None and is_internal_address(quad.group(0)):
                        return True
            # Every IPv6 address is written with "::" or in full (eight groups).
            if _V6_HINT.search(text):
                return True
    return False


def _walk(value: Any, kinds: tuple[str, ...], out: list[Removal], path: str) -> Any:
    if isinstance(value, str):
        return redact_text(value, kinds, out, path)
    if isinstance(value, list):
        return [_walk(v, kinds, out, f"{path}.[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {
            k: v
            if k in _STRUCTURAL or k.endswith(("_ref", "_refs"))
            else _walk(v, kinds, out, f"{path}.{k}" if path else k)
            for k, v in value.items()
        }
    return value


@functools.lru_cache(maxsize=64)
def _text_kinds(kinds: frozenset[str]) -> tuple[str, ...]:
    return tuple(k for k in KINDS if k in kinds and k in _TEXT_TRANSFORMS)


def redact_object(
    obj: dict[str, Any],
    kinds: frozenset[str],
    fields: tuple[str, ...],
    text: str | None = None,
) -> tuple[dict[str, Any], list[Removal]]:
    """The outgoing copy of one object with personal data replaced, and what was removed.

    Args:
        obj: the parsed object (not changed).
        kinds: the transforms to apply (see KINDS).
        fields: top-level free-text properties whose whole text is replaced.
        text: the object's JSON text, when the caller has it: a document no
            transform could change is not walked (see `might_redact`), and an
            SDO's or SRO's text is transformed whole (its removals name no path).

    Returns:
        The copy (``obj`` itself when nothing changed) and the removals.
    """
    out: list[Removal] = []
    copy = obj
    text_kinds = _text_kinds(kinds)
    if text_kinds and (text is None or might_redact(text, kinds)):
        if text is not None and "created" in obj and "\\" not in text:
            # An SDO or SRO: the transforms run over its JSON text at once. They match
            # the same values there as in its string properties (nothing they match
            # spans a character JSON escapes), and never an identifier, reference,
            # timestamp, hash or property name (none has an @, a dotted quad, a
            # "::", a "+digits" or a profile path). Removals name no property. Not
            # with escapes: "\\nbob@x.example" would lose the "n" of its "\\n".
            new = redact_text(text, text_kinds, out, "")
            copy = orjson.loads(new) if new != text else obj
        else:
            copy = _walk(obj, text_kinds, out, "")
    if "x509-name" in kinds and obj.get("type") == "x509-certificate":
        for key in ("subject", "issuer"):
            value = copy.get(key)
            if isinstance(value, str):
                new = redact_dn(value, out, key)
                if new != value:
                    copy = {**copy, key: new}
    for name in fields:
        value = copy.get(name)
        if isinstance(value, str) and value != FIELD_MARK:
            out.append(Removal("field", name, value))
            copy = {**copy, name: FIELD_MARK}
    return (copy if out else obj), out
