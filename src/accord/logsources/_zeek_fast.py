"""Zeek logs read fast: the TSV stream's header, and readers bound to its fields.

`accord.logsources._zeek` maps a Zeek record (a dictionary) to its keys. On
the hot path that costs a dictionary per line; the readers here give exactly
the same keys (tests hold them together, on real logs and with hypothesis)
by reading fields by position (TSV) and remembering what each distinct value
gives (logs repeat addresses, ports, protocols, queries).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from accord.logsources._objects import Keys
from accord.logsources._zeek import (
    _UNSET,
    ZEEK_KINDS,
    _conn_keys,
    _int,
    _list,
    _other,
    _s,
)

__all__ = ["ZeekHeader", "extractor", "json_extractor"]


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
            try:
                separator = raw.encode().decode("unicode_escape") if raw else "\t"
            except UnicodeDecodeError:  # "\x{": no escape at all: a malformed directive
                return False
            if not separator:
                return False
            self.separator = separator
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
