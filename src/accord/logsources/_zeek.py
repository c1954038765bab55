"""Zeek logs, TSV and JSON: conn, dns, http, ssl, files, x509, and the addresses of any other.

(The readers that apply this mapping fast, and the TSV header, are in
`_zeek_fast`.) The TSV form is self-describing: ``#separator``, ``#set_separator``,
``#unset_field``, ``#empty_field``, ``#path`` and ``#fields`` head each log (and
may come again mid-file, when Zeek rotates into the same stream). A JSON line is
one record; its log is its ``_path`` when Zeek wrote one, else recognised by its
fields. Both forms give one record as a ``{field: value}`` dictionary to the same
per-log mapping, which lists the STIX object paths of the record (the event's
keys). Values stay strings in TSV (``-`` is unset), typed in JSON.

Mapping (Zeek field → STIX object path):

- every log with ``id.orig_h``/``id.resp_h``: ``ipv4-addr:value`` (or ipv6),
  ``network-traffic:src_ref.value``/``dst_ref.value``, ``src_port``/``dst_port``,
  ``protocols[*]`` (``proto``, and ``service`` on conn);
- dns: ``query`` and CNAME answers → ``domain-name:value``; address answers →
  ``ipv4-addr:value``/``ipv6-addr:value``; every answer →
  ``domain-name:resolves_to_refs[*].value``;
- http: ``host`` → ``domain-name:value`` (without its port; an address is an
  address); ``http://host`` + ``uri`` → ``url:value``; ``method``, ``uri``,
  ``version``, ``host``, ``user_agent``, ``referrer`` →
  ``network-traffic:extensions.http-request-ext.request_method``,
  ``request_value``, ``request_version``, ``request_header.Host``,
  ``request_header.User-Agent``, ``request_header.Referer``;
- ssl: ``server_name`` → ``domain-name:value``; ``subject``, ``issuer`` (or
  ``issuer_subject``) → ``x509-certificate:subject``/``issuer``; the first of
  ``cert_chain_fps`` (Zeek 6: SHA-256) → ``x509-certificate:hashes.SHA-256``;
  ``cert_hash`` (older Zeek: MD5) → ``x509-certificate:hashes.MD5``;
- files: ``md5``, ``sha1``, ``sha256`` → ``file:hashes.MD5``, ``SHA-1``,
  ``SHA-256``; ``filename`` → ``file:name``; ``mime_type`` → ``file:mime_type``;
  ``total_bytes`` → ``file:size``; ``tx_hosts``, ``rx_hosts`` → addresses;
- x509: ``certificate.serial`` → ``serial_number``; ``subject``, ``issuer``;
  ``fingerprint`` → ``hashes.SHA-256`` (or SHA-1/MD5 by its length);
  ``version``; ``key_alg`` → ``subject_public_key_algorithm``; ``sig_alg`` →
  ``signature_algorithm``; ``exponent`` → ``subject_public_key_exponent``;
  ``not_valid_before``/``after`` → ``validity_not_before``/``after``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accord.logsources._objects import Keys, addr_key, endpoint_keys, is_addr, stix_time

__all__ = ["ZEEK_KINDS", "kind_of", "record_keys"]

_UNSET = frozenset(("-", "(empty)", ""))
_HTTP = "network-traffic:extensions.http-request-ext."
_HASH_BY_LENGTH = {32: "MD5", 40: "SHA-1", 64: "SHA-256"}


def _s(value: object) -> str | None:
    """A string field, None when unset (``-`` in TSV, absent or null in JSON)."""
    if value is None:
        return None
    if isinstance(value, str):
        return None if value in _UNSET else value
    return str(value)


def _int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _list(value: object, set_sep: str = ",") -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if v is not None and str(v) not in _UNSET]
    s = _s(value)
    if s is None:
        return []
    return [v for v in s.split(set_sep) if v not in _UNSET]


def _conn_keys(rec: dict[str, Any], keys: Keys) -> None:
    endpoint_keys(keys, _s(rec.get("id.orig_h")), _s(rec.get("id.resp_h")))
    sport = _int(rec.get("id.orig_p"))
    if sport is not None:
        keys.append(("network-traffic:src_port", sport))
    dport = _int(rec.get("id.resp_p"))
    if dport is not None:
        keys.append(("network-traffic:dst_port", dport))
    proto = _s(rec.get("proto"))
    if proto:
        keys.append(("network-traffic:protocols[*]", proto.lower()))


def _conn(rec: dict[str, Any], keys: Keys, sep: str) -> None:
    _conn_keys(rec, keys)
    for service in _list(rec.get("service"), sep):
        keys.append(("network-traffic:protocols[*]", service.lower()))


def _dns(rec: dict[str, Any], keys: Keys, sep: str) -> None:
    query = _s(rec.get("query"))
    if query:
        keys.append(("domain-name:value", query))
    for answer in _list(rec.get("answers"), sep):
        if answer.startswith("TXT "):
            continue
        if is_addr(answer):
            keys.append((addr_key(answer), answer))
        else:
            keys.append(("domain-name:value", answer))
        if query:
            keys.append(("domain-name:resolves_to_refs[*].value", answer))
    _conn_keys(rec, keys)


def _http(rec: dict[str, Any], keys: Keys, sep: str) -> None:
    host = _s(rec.get("host"))
    uri = _s(rec.get("uri"))
    if host:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        if not is_addr(name):
            keys.append(("domain-name:value", name))
    if uri and uri.startswith(("http://", "https://")):
        keys.append(("url:value", uri))
    elif host:
        keys.append(("url:value", f"http://{host}{uri or '/'}"))
    method = _s(rec.get("method"))
    if method:
        keys.append((_HTTP + "request_method", method.lower()))
    if uri:
        keys.append((_HTTP + "request_value", uri))
    version = _s(rec.get("version"))
    if version:
        keys.append((_HTTP + "request_version", f"http/{version}"))
    if host:
        keys.append((_HTTP + "request_header.Host", host))
    agent = _s(rec.get("user_agent"))
    if agent:
        keys.append((_HTTP + "request_header.User-Agent", agent))
    referrer = _s(rec.get("referrer"))
    if referrer:
        keys.append((_HTTP + "request_header.Referer", referrer))
    _conn_keys(rec, keys)


def _ssl(rec: dict[str, Any], keys: Keys, sep: str) -> None:
    sni = _s(rec.get("server_name"))
    if sni:
        keys.append(("domain-name:value", sni))
    subject = _s(rec.get("subject"))
    if subject:
        keys.append(("x509-certificate:subject", subject))
    issuer = _s(rec.get("issuer")) or _s(rec.get("issuer_subject"))
    if issuer:
        keys.append(("x509-certificate:issuer", issuer))
    fps = _list(rec.get("cert_chain_fps"), sep)
    if fps:
        keys.append(("x509-certificate:hashes.SHA-256", fps[0]))
    cert_hash = _s(rec.get("cert_hash"))
    if cert_hash and len(cert_hash) in _HASH_BY_LENGTH:
        keys.append((f"x509-certificate:hashes.{_HASH_BY_LENGTH[len(cert_hash)]}", cert_hash))
    _conn_keys(rec, keys)


def _files(rec: dict[str, Any], keys: Keys, sep: str) -> None:
    for field, alg in (("md5", "MD5"), ("sha1", "SHA-1"), ("sha256", "SHA-256")):
        value = _s(rec.get(field))
        if value:
            keys.append((f"file:hashes.{alg}", value))
    name = _s(rec.get("filename"))
    if name:
        keys.append(("file:name", name))
    mime = _s(rec.get("mime_type"))
    if mime:
        keys.append(("file:mime_type", mime))
    size = _int(rec.get("total_bytes"))
    if size is not None:
        keys.append(("file:size", size))
    for field in ("tx_hosts", "rx_hosts"):
        for host in _list(rec.get(field), sep):
            keys.append((addr_key(host), host))


def _x509(rec: dict[str, Any], keys: Keys, sep: str) -> None:
    x = "x509-certificate:"
    for field, prop in (
        ("certificate.serial", "serial_number"),
        ("certificate.subject", "subject"),
        ("certificate.issuer", "issuer"),
        ("certificate.key_alg", "subject_public_key_algorithm"),
        ("certificate.sig_alg", "signature_algorithm"),
    ):
        value = _s(rec.get(field))
        if value:
            keys.append((x + prop, value))
    fingerprint = _s(rec.get("fingerprint"))
    if fingerprint and len(fingerprint) in _HASH_BY_LENGTH:
        keys.append((f"{x}hashes.{_HASH_BY_LENGTH[len(fingerprint)]}", fingerprint))
    version = _s(rec.get("certificate.version"))
    if version:
        keys.append((x + "version", version))
    exponent = _int(rec.get("certificate.exponent"))
    if exponent is not None:
        keys.append((x + "subject_public_key_exponent", exponent))
    for field, prop in (
        ("certificate.not_valid_before", "validity_not_before"),
        ("certificate.not_valid_after", "validity_not_after"),
    ):
        value = rec.get(field)
        try:
            when = float(value) if isinstance(value, (str, int, float)) else None
        except ValueError:
            when = None
        if when is not None and 0 <= when < 253402300800:
            keys.append((x + prop, stix_time(when)))


def _other(rec: dict[str, Any], keys: Keys, sep: str) -> None:
    _conn_keys(rec, keys)


Mapper = Callable[[dict[str, Any], Keys, str], None]
ZEEK_KINDS: dict[str, Mapper] = {
    "conn": _conn,
    "dns": _dns,
    "http": _http,
    "ssl": _ssl,
    "files": _files,
    "x509": _x509,
}


def kind_of(rec: dict[str, Any]) -> str:
    """The log a Zeek JSON record belongs to: its ``_path``, else guessed by its fields."""
    path = rec.get("_path")
    if isinstance(path, str):
        return path
    if "certificate.serial" in rec or "certificate.subject" in rec:
        return "x509"
    if "fuid" in rec and ("md5" in rec or "sha1" in rec or "mime_type" in rec or "source" in rec):
        return "files"
    if "query" in rec and ("qtype_name" in rec or "trans_id" in rec or "rcode" in rec):
        return "dns"
    if "method" in rec or "uri" in rec or "trans_depth" in rec:
        return "http"
    if "cipher" in rec or "server_name" in rec or "cert_chain_fuids" in rec:
        return "ssl"
    if "conn_state" in rec or "history" in rec:
        return "conn"
    return "other"


def record_keys(kind: str, rec: dict[str, Any], set_sep: str = ",") -> Keys:
    """The (object path, value) pairs of one Zeek record of log ``kind``."""
    keys: Keys = []
    ZEEK_KINDS.get(kind, _other)(rec, keys, set_sep)
    return keys
