"""Suricata ``eve.json``: flow, dns, http, tls, fileinfo and alert records.

Every record gives its 5-tuple (``src_ip``, ``src_port``, ``dest_ip``,
``dest_port``, ``proto``, and ``app_proto`` as a second protocol), and every
application-layer object it carries, whatever its ``event_type`` (an alert
carries the ``http``, ``dns`` or ``tls`` object of its flow when Suricata is set
to log it):

- ``dns``: ``rrname`` (v1, v2), ``queries[*].rrname`` (v3) → ``domain-name:value``;
  ``answers[*].rdata``, ``grouped.A``/``AAAA``/``CNAME`` and a v1 answer's
  ``rdata`` → addresses or ``domain-name:value``, and
  ``domain-name:resolves_to_refs[*].value``;
- ``http``: ``hostname`` → ``domain-name:value``; ``http://hostname[:port]`` +
  ``url`` → ``url:value``; ``http_method``, ``url``, ``protocol``,
  ``http_user_agent``, ``http_refer`` → the http-request-ext properties;
- ``tls``: ``sni`` → ``domain-name:value``; ``subject``, ``issuerdn``,
  ``serial`` → ``x509-certificate:subject``, ``issuer``, ``serial_number``;
  ``fingerprint`` (SHA-1, colon-separated) → ``x509-certificate:hashes.SHA-1``
  without its colons;
- ``fileinfo``: ``filename``, ``md5``, ``sha1``, ``sha256``, ``size``,
  ``magic`` → ``file:name``, ``hashes``, ``size``, ``mime_type`` (only when
  ``magic`` looks like a MIME type).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accord.logsources._objects import Keys, addr_key, endpoint_keys, is_addr
from accord.logsources._stixlines import epoch_time

__all__ = ["eve_keys", "eve_time"]

_HTTP = "network-traffic:extensions.http-request-ext."


def eve_time(value: object) -> float | None:
    """An eve ``timestamp`` (``2024-03-01T10:00:00.123456+0000``) as epoch seconds."""
    if not isinstance(value, str):
        return None
    try:
        return epoch_time(datetime.fromisoformat(value).timestamp())
    except (ValueError, OverflowError):
        return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _flow(rec: dict[str, Any], keys: Keys) -> None:
    endpoint_keys(keys, _str(rec.get("src_ip")), _str(rec.get("dest_ip")))
    for field, prop in (("src_port", "src_port"), ("dest_port", "dst_port")):
        port = rec.get(field)
        if isinstance(port, int) and not isinstance(port, bool):
            keys.append(("network-traffic:" + prop, port))
    for field in ("proto", "app_proto"):
        proto = _str(rec.get(field))
        if proto and proto != "failed":
            keys.append(("network-traffic:protocols[*]", proto.lower()))


def _answer(query: str | None, value: object, keys: Keys) -> None:
    if not isinstance(value, str) or not value:
        return
    if is_addr(value):
        keys.append((addr_key(value), value))
    elif "." in value and " " not in value:
        keys.append(("domain-name:value", value))
    else:
        return
    if query:
        keys.append(("domain-name:resolves_to_refs[*].value", value))


def _dns(dns: dict[str, Any], keys: Keys) -> None:
    query = _str(dns.get("rrname"))
    queries = dns.get("queries")
    if query is None and isinstance(queries, list) and queries and isinstance(queries[0], dict):
        query = _str(queries[0].get("rrname"))
    if query:
        keys.append(("domain-name:value", query))
    if dns.get("type") == "answer" and "rdata" in dns:
        _answer(query, dns.get("rdata"), keys)
    answers = dns.get("answers")
    if isinstance(answers, list):
        for answer in answers:
            if isinstance(answer, dict) and answer.get("rrtype") in ("A", "AAAA", "CNAME"):
                _answer(query, answer.get("rdata"), keys)
    grouped = dns.get("grouped")
    if isinstance(grouped, dict):
        for rrtype in ("A", "AAAA", "CNAME"):
            values = grouped.get(rrtype)
            if isinstance(values, list):
                for value in values:
                    _answer(query, value, keys)


def _http(http: dict[str, Any], rec: dict[str, Any], keys: Keys) -> None:
    host = _str(http.get("hostname"))
    url = _str(http.get("url"))
    if host and not is_addr(host):
        keys.append(("domain-name:value", host))
    if url and url.startswith(("http://", "https://")):
        keys.append(("url:value", url))
    elif host:
        port = http.get("http_port")
        authority = f"{host}:{port}" if isinstance(port, int) and port != 80 else host
        keys.append(("url:value", f"http://{authority}{url or '/'}"))
    for field, prop in (
        ("http_method", "request_method"),
        ("url", "request_value"),
        ("protocol", "request_version"),
        ("hostname", "request_header.Host"),
        ("http_user_agent", "request_header.User-Agent"),
        ("http_refer", "request_header.Referer"),
    ):
        value = _str(http.get(field))
        if value:
            if prop in ("request_method", "request_version"):
                value = value.lower()
            keys.append((_HTTP + prop, value))


def _tls(tls: dict[str, Any], keys: Keys) -> None:
    sni = _str(tls.get("sni"))
    if sni:
        keys.append(("domain-name:value", sni))
    for field, prop in (
        ("subject", "subject"),
        ("issuerdn", "issuer"),
        ("serial", "serial_number"),
    ):
        value = _str(tls.get(field))
        if value:
            keys.append(("x509-certificate:" + prop, value))
    fingerprint = _str(tls.get("fingerprint"))
    if fingerprint:
        keys.append(("x509-certificate:hashes.SHA-1", fingerprint.replace(":", "")))


def _fileinfo(info: dict[str, Any], keys: Keys) -> None:
    for field, alg in (("md5", "MD5"), ("sha1", "SHA-1"), ("sha256", "SHA-256")):
        value = _str(info.get(field))
        if value:
            keys.append(("file:hashes." + alg, value))
    name = _str(info.get("filename"))
    if name:
        keys.append(("file:name", name))
    size = info.get("size")
    if isinstance(size, int) and not isinstance(size, bool):
        keys.append(("file:size", size))
    magic = _str(info.get("mime_type")) or _str(info.get("magic"))
    if magic and "/" in magic and " " not in magic:
        keys.append(("file:mime_type", magic))


def eve_keys(rec: dict[str, Any]) -> Keys:
    """The (object path, value) pairs of one eve record."""
    keys: Keys = []
    dns = rec.get("dns")
    if isinstance(dns, dict):
        _dns(dns, keys)
    http = rec.get("http")
    if isinstance(http, dict):
        _http(http, rec, keys)
    tls = rec.get("tls")
    if isinstance(tls, dict):
        _tls(tls, keys)
    info = rec.get("fileinfo")
    if isinstance(info, dict):
        _fileinfo(info, keys)
    _flow(rec, keys)
    return keys
