"""Zeek logs, TSV and JSON: conn, dns, http, ssl, files, x509, and the addresses of any other.

The TSV form is self-describing: ``#separator``, ``#set_separator``,
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

import operator
from collections.abc import Callable
from typing import Any

from accord.logsources._objects import stix_time

__all__ = [
    "ZEEK_KINDS",
    "ZeekHeader",
    "extractor",
    "json_extractor",
    "kind_of",
    "record_keys",
]

Keys = list[tuple[str, object]]
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


def _addr_type(value: str) -> str:
    return "ipv6-addr:value" if ":" in value else "ipv4-addr:value"


def _is_addr(value: str) -> bool:
    if ":" in value:
        return all(c in "0123456789abcdefABCDEF:." for c in value)
    parts = value.split(".")
    return len(parts) == 4 and all(p.isdigit() for p in parts)


def _conn_keys(rec: dict[str, Any], keys: Keys) -> None:
    src = _s(rec.get("id.orig_h"))
    dst = _s(rec.get("id.resp_h"))
    if src:
        keys.append((_addr_type(src), src))
        keys.append(("network-traffic:src_ref.value", src))
    if dst:
        keys.append((_addr_type(dst), dst))
        keys.append(("network-traffic:dst_ref.value", dst))
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
        if _is_addr(answer):
            keys.append((_addr_type(answer), answer))
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
        if not _is_addr(name):
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
            keys.append((_addr_type(host), host))


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


class ZeekHeader:
    """The state of a Zeek TSV stream: its separators and fields, from its ``#`` lines."""

    __slots__ = ("_extract", "fields", "label", "path", "separator", "set_separator", "ts")

    def __init__(self) -> None:
        self.separator = "\t"
        self.set_separator = ","
        self.path = ""
        self.fields: list[str] = []
        self.label = "zeek log"
        self.ts = -1
        self._extract: Extractor | None = None

    def extract(self, parts: list[str]) -> KeyTuple:
        """The keys of one data line, split on the separator."""
        if self._extract is None:
            self._extract = extractor(self.path, self.fields, self.set_separator)
        return self._extract(parts)

    def directive(self, line: str) -> bool:
        """Read one ``#`` line; False when it is not a Zeek directive."""
        if line.startswith("#separator"):
            raw = line[len("#separator") :].strip()
            # Written as an escape: "#separator \x09".
            self.separator = raw.encode().decode("unicode_escape") if raw else "\t"
            return True
        self._extract = None
        name, sep, value = line.partition(self.separator)
        if not sep:  # "#open 2024-..." with a space, as some tools rewrite headers
            name, _, value = line.partition(" ")
        if name == "#set_separator":
            self.set_separator = value or ","
        elif name == "#path":
            self.path = value
            self.label = f"zeek {value or 'log'}"
        elif name == "#fields":
            self.fields = value.split(self.separator)
            self.ts = self.fields.index("ts") if "ts" in self.fields else -1
        elif name not in ("#unset_field", "#empty_field", "#open", "#close", "#types"):
            return False
        return True


# --- Fast TSV extractors ------------------------------------------------------------------
#
# The mappings above read a record as a dictionary; for TSV the common logs are
# read straight from the split line by field position, with the positions bound
# once per header (a 20-field conn line is then read in a fraction of the time).
# They give exactly the keys of the mappings above (a test holds them together);
# a header without one of the fields they read falls back to the dictionary.

KeyTuple = tuple[tuple[str, object], ...]
Extractor = Callable[[list[str]], KeyTuple]
_V4 = "ipv4-addr:value"
_V6 = "ipv6-addr:value"
_SRC = "network-traffic:src_ref.value"
_DST = "network-traffic:dst_ref.value"
_SPORT = "network-traffic:src_port"
_DPORT = "network-traffic:dst_port"
_PROTO = "network-traffic:protocols[*]"


_CACHE_LIMIT = 1 << 16  # distinct values remembered per field; then the memo starts over


class _Memo(dict[str, tuple[tuple[str, object], ...]]):
    """The keys one field's value gives, remembered: logs repeat addresses, ports, protocols."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[str], tuple[tuple[str, object], ...]]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, value: str) -> tuple[tuple[str, object], ...]:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        keys = self[value] = self.make(value)
        return keys


def _addr_keys(ref: str) -> Callable[[str], tuple[tuple[str, object], ...]]:
    def make(value: str) -> tuple[tuple[str, object], ...]:
        if value in _UNSET:
            return ()
        return ((_V6 if ":" in value else _V4, value), (ref, value))

    return make


def _port_keys(prop: str) -> Callable[[str], tuple[tuple[str, object], ...]]:
    def make(value: str) -> tuple[tuple[str, object], ...]:
        return ((prop, int(value)),) if value.isdigit() else ()

    return make


def _proto_keys(sep: str) -> Callable[[str], tuple[tuple[str, object], ...]]:
    def make(value: str) -> tuple[tuple[str, object], ...]:
        if value in _UNSET:
            return ()
        return tuple((_PROTO, v.lower()) for v in value.split(sep) if v not in _UNSET)

    return make


def _fast_conn(fields: list[str], sep: str, service: bool) -> Extractor | None:
    try:
        i_src, i_sport, i_dst, i_dport = (
            fields.index(f) for f in ("id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p")
        )
    except ValueError:
        return None
    i_proto = fields.index("proto") if "proto" in fields else -1  # ssl.log has none
    i_service = fields.index("service") if service and "service" in fields else -1
    src_keys = _Memo(_addr_keys(_SRC))
    dst_keys = _Memo(_addr_keys(_DST))
    sport_keys = _Memo(_port_keys(_SPORT))
    dport_keys = _Memo(_port_keys(_DPORT))
    # `proto` is one value; `service` may be a set ("ssl,http").
    proto_keys = _Memo(_proto_keys("\0"))
    service_keys = _Memo(_proto_keys(sep))

    if i_proto < 0 and i_service < 0:

        def extract_addresses(p: list[str]) -> KeyTuple:
            return (
                src_keys[p[i_src]]
                + dst_keys[p[i_dst]]
                + sport_keys[p[i_sport]]
                + dport_keys[p[i_dport]]
            )

        return extract_addresses

    if i_service < 0:

        def extract(p: list[str]) -> KeyTuple:
            return (
                src_keys[p[i_src]]
                + dst_keys[p[i_dst]]
                + sport_keys[p[i_sport]]
                + dport_keys[p[i_dport]]
                + proto_keys[p[i_proto]]
            )

        return extract

    if i_proto < 0:
        return None  # conn always has proto; leave odd headers to the dictionary

    def extract_with_service(p: list[str]) -> KeyTuple:
        return (
            src_keys[p[i_src]]
            + dst_keys[p[i_dst]]
            + sport_keys[p[i_sport]]
            + dport_keys[p[i_dport]]
            + proto_keys[p[i_proto]]
            + service_keys[p[i_service]]
        )

    return extract_with_service


def _by_dict(fields: list[str], kind: str, sep: str) -> Extractor:
    mapper = ZEEK_KINDS.get(kind, _other)

    def extract_by_dict(p: list[str]) -> KeyTuple:
        keys: Keys = []
        mapper(dict(zip(fields, p, strict=True)), keys, sep)
        return tuple(keys)

    return extract_by_dict


def _fast_app(fields: list[str], kind: str, sep: str, reads: tuple[str, ...]) -> Extractor | None:
    """The dictionary mapping of a log's own fields, remembered by their values, then conn's.

    The mapping sees only the fields in ``reads`` (not the connection's), so it
    gives the log's own keys; those of the connection come from the conn reader.
    """
    conn = _fast_conn(fields, sep, service=False)
    if conn is None and kind not in ("files", "x509"):
        return None
    mapper = ZEEK_KINDS[kind]
    present = [f for f in reads if f in fields]
    if not present:
        return None
    get = operator.itemgetter(*(fields.index(f) for f in present))
    memo: dict[Any, KeyTuple] = {}

    def own(values: Any) -> KeyTuple:
        if len(memo) >= _CACHE_LIMIT:
            memo.clear()
        record = dict(zip(present, values if len(present) > 1 else (values,), strict=True))
        keys: Keys = []
        mapper(record, keys, sep)
        found = memo[values] = tuple(keys)
        return found

    if conn is None:

        def extract(p: list[str]) -> KeyTuple:
            values = get(p)
            found = memo.get(values)
            return own(values) if found is None else found

        return extract

    def extract_with_conn(p: list[str]) -> KeyTuple:
        values = get(p)
        found = memo.get(values)
        if found is None:
            found = own(values)
        return found + conn(p)

    return extract_with_conn


# The fields each log's own mapping reads (beyond the connection's).
_READS: dict[str, tuple[str, ...]] = {
    "dns": ("query", "answers"),
    "http": ("host", "uri", "method", "version", "user_agent", "referrer"),
    "ssl": ("server_name", "subject", "issuer", "issuer_subject", "cert_chain_fps", "cert_hash"),
    "files": (
        "md5",
        "sha1",
        "sha256",
        "filename",
        "mime_type",
        "total_bytes",
        "tx_hosts",
        "rx_hosts",
    ),
    "x509": (
        "certificate.serial",
        "certificate.subject",
        "certificate.issuer",
        "certificate.key_alg",
        "certificate.sig_alg",
        "fingerprint",
        "certificate.version",
        "certificate.exponent",
        "certificate.not_valid_before",
        "certificate.not_valid_after",
    ),
}


def extractor(kind: str, fields: list[str], sep: str) -> Extractor:
    """The fastest way to read the keys of lines of log ``kind`` with these fields."""
    fast: Extractor | None = None
    if kind == "conn":
        fast = _fast_conn(fields, sep, service=True)
    elif kind in _READS:
        fast = _fast_app(fields, kind, sep, _READS[kind])
    elif kind not in ZEEK_KINDS:
        fast = _fast_conn(fields, sep, service=False)
    return fast or _by_dict(fields, kind, sep)


# --- Fast JSON extractors -----------------------------------------------------------------
#
# The same idea for Zeek's JSON logs: the connection's keys from memos of its
# fields, the log's own keys from the dictionary mapping remembered by the values
# of the fields it reads (lists, such as dns answers, as tuples).

JsonExtractor = Callable[[dict[str, Any]], KeyTuple]


def _int_keys(prop: str) -> Callable[[Any], KeyTuple]:
    def make(value: Any) -> KeyTuple:
        number = _int(value)
        return () if number is None else ((prop, number),)

    return make


class _AnyMemo(dict[Any, KeyTuple]):
    """A memo like `_Memo` for JSON values (strings, numbers, None)."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[Any], KeyTuple]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, value: Any) -> KeyTuple:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        keys = self[value] = self.make(value)
        return keys


def _json_addr(ref: str) -> Callable[[Any], KeyTuple]:
    make = _addr_keys(ref)

    def wrapped(value: Any) -> KeyTuple:
        text = _s(value)
        return make(text) if text is not None else ()

    return wrapped


def _json_proto(value: Any) -> KeyTuple:
    text = _s(value)
    return ((_PROTO, text.lower()),) if text else ()


def _json_services(value: Any) -> KeyTuple:
    if isinstance(value, tuple) and value and type(value[0]) is type:  # a frozen number
        value = value[1]
    items = list(value) if isinstance(value, tuple) else value
    return tuple((_PROTO, v.lower()) for v in _list(items))


def _freeze(values: list[Any] | tuple[Any, ...]) -> tuple[Any, ...] | None:
    """JSON values as a memo key that tells their types apart, or None when they cannot be.

    Strings and None stand for themselves, lists of strings become tuples, numbers
    are paired with their type (``3`` and ``3.0`` read differently); anything else
    (booleans, objects) is not remembered.
    """
    out: list[Any] = []
    for v in values:
        t = type(v)
        if v is None or t is str:
            out.append(v)
        elif t is list:
            if not all(type(x) is str for x in v):
                return None
            out.append(tuple(v))
        elif t is int or t is float:
            out.append((t, v))
        else:
            return None
    return tuple(out)


def json_extractor(kind: str) -> JsonExtractor:
    """Reads the keys of Zeek JSON records of log ``kind``, as `record_keys` gives them."""
    src, dst = _AnyMemo(_json_addr(_SRC)), _AnyMemo(_json_addr(_DST))
    sport, dport = _AnyMemo(_int_keys(_SPORT)), _AnyMemo(_int_keys(_DPORT))
    proto = _AnyMemo(_json_proto)
    services = _AnyMemo(_json_services)
    with_service = kind == "conn"

    def conn(rec: dict[str, Any]) -> KeyTuple:
        g = rec.get
        orig, resp, orig_p, resp_p, proto_name = (
            g("id.orig_h"),
            g("id.resp_h"),
            g("id.orig_p"),
            g("id.resp_p"),
            g("proto"),
        )
        # Memos only for the types Zeek writes (True == 1 in a dictionary's eyes).
        if (
            type(orig) is str
            and type(resp) is str
            and type(orig_p) is int
            and type(resp_p) is int
            and (proto_name is None or type(proto_name) is str)
        ):
            keys = src[orig] + dst[resp] + sport[orig_p] + dport[resp_p] + proto[proto_name]
        else:
            plain: Keys = []
            _conn_keys(rec, plain)
            keys = tuple(plain)
        if with_service:
            service = g("service")
            frozen = _freeze((service,))
            keys += _json_services(service) if frozen is None else services[frozen[0]]
        return keys

    reads = _READS.get(kind)
    if reads is None:
        return conn
    mapper = ZEEK_KINDS[kind]
    memo: dict[Any, KeyTuple] = {}
    has_conn = kind != "files" and kind != "x509"

    def own(rec: dict[str, Any]) -> KeyTuple:
        keys: Keys = []
        mapper({f: rec[f] for f in reads if f in rec}, keys, ",")
        return tuple(keys)

    def extract(rec: dict[str, Any]) -> KeyTuple:
        values = _freeze([rec.get(f) for f in reads])
        if values is None:  # values of types Zeek does not write: no memo for those
            found = own(rec)
        else:
            known = memo.get(values)
            if known is None:
                if len(memo) >= _CACHE_LIMIT:
                    memo.clear()
                known = memo[values] = own(rec)
            found = known
        return found + conn(rec) if has_conn else found

    return extract
