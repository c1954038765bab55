"""Indicators for sensors: Zeek intel files, Suricata rules and lists, CSV.

Each writer takes stored indicator versions (their JSON bytes) one at a time
and writes lines as it goes: an export of millions of indicators holds one
indicator in memory (Suricata: plus the set of sids given, to keep them unique).

What an indicator says a sensor can look for is read from its pattern: the
comparisons ``object:path = 'value'`` (and ``ISSUBSET`` for networks) joined
by ``OR``. A pattern with ``AND``, qualifiers or other operators says more than
one value can, and is skipped (counted); so is a revoked or expired one.

Zeek: the intel framework's input format (Zeek ``base/frameworks/intel``): a
``#fields`` header, tab-separated, ``-`` for an unset field; URLs without
their scheme (Zeek's ``Intel::URL`` is ``host/path``). Suricata: one rule per
value for DNS queries, TLS SNI and HTTP hosts (``dotprefix``: the domain and
its subdomains), HTTP URLs, and IP addresses; file hashes go to
``filemd5``/``filesha1``/``filesha256`` lists, and domains and addresses also to
Suricata datasets (``dataset:isset``), one rule per dataset and buffer, in a rules
file of their own (``accord-datasets.rules``: load it instead of the per-domain
rules when millions of rules are too many for the sensor).
"""

from __future__ import annotations

import base64
import re
import zlib
from dataclasses import dataclass, field
from typing import IO, NamedTuple

import msgspec

__all__ = [
    "CSV_HEADER",
    "SENSOR_FORMATS",
    "ZEEK_HEADER",
    "CsvWriter",
    "Sensed",
    "SuricataWriter",
    "ZeekWriter",
    "sensed",
]

SENSOR_FORMATS = ("zeek-intel", "suricata", "csv")
ZEEK_HEADER = "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n"
CSV_HEADER = "type,value,indicator,source,description,valid_until,url\r\n"

# One comparison of a pattern: path, operator, quoted value.
_CMP = re.compile(
    r"\s*\[?\s*([a-z0-9-]+):([A-Za-z0-9_.'-]+)\s+(=|ISSUBSET)\s+'((?:[^'\\]|\\.)*)'\s*\]?\s*"
)
_JOIN = re.compile(r"\s+OR\s+|\]\s*OR\s*\[")
# The common case, one comparison: its "object:path operator" (a key of `_KIND_OF`) and value.
_ONE = re.compile(r"\[([a-z0-9-]+:[A-Za-z0-9_.'-]+ (?:=|ISSUBSET)) '((?:[^'\\]|\\.)*)'\]")
_KIND = {
    ("ipv4-addr", "value", "="): "ipv4",
    ("ipv6-addr", "value", "="): "ipv6",
    ("ipv4-addr", "value", "ISSUBSET"): "cidr",
    ("ipv6-addr", "value", "ISSUBSET"): "cidr",
    ("domain-name", "value", "="): "domain",
    ("url", "value", "="): "url",
    ("email-addr", "value", "="): "email",
    ("file", "hashes.MD5", "="): "md5",
    ("file", "hashes.'MD5'", "="): "md5",
    ("file", "hashes.'SHA-1'", "="): "sha1",
    ("file", "hashes.SHA1", "="): "sha1",
    ("file", "hashes.'SHA-256'", "="): "sha256",
    ("file", "hashes.SHA256", "="): "sha256",
    ("file", "name", "="): "filename",
}
_KIND_OF = {f"{obj}:{path} {op}": kind for (obj, path, op), kind in _KIND.items()}
_ZEEK_TYPE = {
    "ipv4": "Intel::ADDR",
    "ipv6": "Intel::ADDR",
    "cidr": "Intel::SUBNET",
    "domain": "Intel::DOMAIN",
    "url": "Intel::URL",
    "email": "Intel::EMAIL",
    "md5": "Intel::FILE_HASH",
    "sha1": "Intel::FILE_HASH",
    "sha256": "Intel::FILE_HASH",
    "filename": "Intel::FILE_NAME",
}
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")
_EXPIRED = "9999"


class Sensed(NamedTuple):
    """What a sensor can look for, from one indicator (a tuple: made once per indicator)."""

    id: str
    values: list[tuple[str, str]]  # (kind, value)
    source: str
    desc: str
    url: str
    valid_until: str


class _Reference(msgspec.Struct):
    url: str = ""


class _Indicator(msgspec.Struct):
    """The properties of an indicator a sensor export reads; the others are not decoded."""

    type: str = ""
    id: str = ""
    revoked: bool = False
    pattern_type: str = ""
    valid_until: str = ""
    pattern: str = ""
    created_by_ref: str = ""
    labels: list[str] = []
    external_references: list[_Reference] = []
    description: str = ""
    name: str = ""


_decode_indicator = msgspec.json.Decoder(_Indicator).decode


_new_sensed = tuple.__new__


def sensed(data: bytes, names: dict[str, str], now: str) -> Sensed | None:
    """The values of one stored indicator; None when it has none a sensor can use.

    Only the properties used are decoded (msgspec, about twice as fast as decoding
    the whole object in a big export). An indicator whose properties are not of
    STIX's types (the store holds none) has nothing a sensor can use.

    Args:
        data: the indicator's JSON.
        names: identity id -> name (the producers, for ``meta.source``).
        now: the export's time (STIX timestamp): an indicator whose
            ``valid_until`` is not after it is skipped.
    """
    try:
        ind = _decode_indicator(data)
    except msgspec.DecodeError:
        return None
    if ind.type != "indicator" or ind.revoked or ind.pattern_type != "stix":
        return None
    until = ind.valid_until
    if until and until <= now:
        return None
    pattern = ind.pattern
    single = _ONE.fullmatch(pattern)
    values: list[tuple[str, str]]
    if single is not None:  # the common case: one comparison
        key, value = single.groups()
        kind = _KIND_OF.get(key)
        if kind is None:
            return None
        values = [(kind, _unquote(value) if "\\" in value else value)]
    elif (address := _MISP_ADDRESS.fullmatch(pattern.strip())) is not None:
        values = [(address.group(1), address.group(2))]
    elif not pattern or " AND " in pattern or "FOLLOWEDBY" in pattern:
        return None
    else:
        values = []
        for part in _JOIN.split(pattern.strip()):
            m = _CMP.fullmatch(part)
            if m is None:
                return None
            kind = _KIND.get((m.group(1), m.group(2), m.group(3)))
            if kind is None:
                return None
            values.append((kind, _unquote(m.group(4))))
    source = names.get(ind.created_by_ref, "")
    if not source:
        source = ind.labels[0] if ind.labels else "accord"
    url = ""
    for ref in ind.external_references:
        if ref.url:
            url = ref.url
            break
    # tuple.__new__ directly: a NamedTuple's own __new__ is a Python call per indicator.
    return _new_sensed(Sensed, (ind.id, values, source, ind.description or ind.name, url, until))


def _unquote(value: str) -> str:
    return value.replace("\\'", "'").replace("\\\\", "\\")


def _clean(text: str, limit: int = 200) -> str:
    if text.isprintable():  # no control characters: the common case, without a regex
        return text[:limit].strip()
    return _UNSAFE.sub(" ", text)[:limit].strip()


@dataclass(slots=True)
class _Counts:
    indicators: int = 0
    lines: int = 0
    skipped: int = 0


class ZeekWriter:
    """Zeek intel framework input (``Intel::read_files``)."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.counts = _Counts()
        out.write(ZEEK_HEADER)

    def write(self, item: Sensed | None) -> None:
        if item is None:
            self.counts.skipped += 1
            return
        source = _clean(item.source) or "-"
        desc = _clean(item.desc) or "-"
        url = _clean(item.url, 2000) or "-"
        if len(item.values) == 1:  # the common case, without a list
            kind, value = item.values[0]
            if kind == "url":
                value = _SCHEME.sub("", value)
            if value and value.isprintable():
                self.out.write(f"{value}\t{_ZEEK_TYPE[kind]}\t{source}\t{desc}\t{url}\n")
                self.counts.indicators += 1
                self.counts.lines += 1
            else:
                self.counts.skipped += 1
            return
        lines = []
        for kind, value in item.values:
            if kind == "url":
                value = _SCHEME.sub("", value)
            if not value or not value.isprintable():
                continue
            lines.append(f"{value}\t{_ZEEK_TYPE[kind]}\t{source}\t{desc}\t{url}\n")
        if not lines:
            self.counts.skipped += 1
            return
        self.out.write("".join(lines))
        self.counts.indicators += 1
        self.counts.lines += len(lines)


class CsvWriter:
    """One row per value: type, value, indicator id, source, description, valid_until, url.

    RFC 4180 as Python's ``csv`` writes it (minimal quoting, CRLF). A row none of
    whose fields holds a comma, a quote or a line break is written as it is,
    without the csv module: the common case of a big export.
    """

    def __init__(self, out: IO[str]) -> None:
        import csv

        self.out = out
        self.counts = _Counts()
        self._csv = csv.writer(out, lineterminator="\r\n")
        out.write(CSV_HEADER)

    def write(self, item: Sensed | None) -> None:
        if item is None:
            self.counts.skipped += 1
            return
        ident, values, source, desc, url, until = item
        desc = _clean(desc)
        plain = _CSV_SPECIAL.search(source + desc + url) is None
        for kind, value in values:
            if plain and _CSV_SPECIAL.search(value) is None:
                self.out.write(f"{kind},{value},{ident},{source},{desc},{until},{url}\r\n")
            else:
                self._csv.writerow([kind, value, ident, source, desc, until, url])
        self.counts.indicators += 1
        self.counts.lines += len(values)


_CSV_SPECIAL = re.compile(r'[,"\r\n]')


# Suricata sids of Accord's rules: a reserved block of 3e9. Each (indicator, value) takes
# a slot of three consecutive sids from its key's hash (a domain's DNS, TLS and HTTP
# rules; one for the others), the next free slot on a collision: stable per export.
SID_BASE = 1_000_000_000
SID_SPAN = 3_000_000_000
_SLOTS = SID_SPAN // 3
DATASET_FILES = {"domain": "accord-domains.lst", "dataset-rules": "accord-datasets.rules"}
HASH_FILES = {"md5": "accord-md5.txt", "sha1": "accord-sha1.txt", "sha256": "accord-sha256.txt"}


@dataclass(slots=True)
class SuricataWriter:
    """Suricata rules (stable sids), and optionally its hash lists and datasets.

    Args:
        rules: where the rules go.
        lists: name -> stream for the files the rules load (`HASH_FILES`, the
            datasets); the rules that load a list are written only when it is given.
    """

    rules: IO[str]
    lists: dict[str, IO[str]] = field(default_factory=dict)
    counts: _Counts = field(default_factory=_Counts)
    _slots: set[int] = field(default_factory=set)
    _seen_lists: set[str] = field(default_factory=set)
    _sources: dict[str, str] = field(default_factory=dict)  # source -> its msg text

    def sid(self, key: str) -> int:
        """The first sid of the key's slot (see `SID_BASE`)."""
        return self._free(_hash(key))

    def _free(self, n: int) -> int:
        slot = n % _SLOTS
        slots = self._slots
        while slot in slots:
            slot = (slot + 1) % _SLOTS
        slots.add(slot)
        return SID_BASE + 3 * slot

    def write(self, item: Sensed | None) -> None:
        if item is None:
            self.counts.skipped += 1
            return
        values = item.values
        if len(values) == 1 and values[0][0] == "domain":  # most of a big export
            self.rules.write(self._domain(item, values[0][1]))
            self.counts.indicators += 1
            self.counts.lines += 3
            return
        out: list[str] = []
        for kind, value in values:
            if kind == "domain":
                out.append(self._domain(item, value))
            else:
                out.extend(self._rules(item, kind, value))
        if not out:
            self.counts.skipped += 1
            return
        text = "".join(out)
        self.rules.write(text)
        self.counts.indicators += 1
        self.counts.lines += text.count("\n")

    def _rule(self, item: Sensed, proto: str, head: str, what: str, body: str, key: str) -> str:
        msg = _msg(f"Accord {what} ({item.source})")
        sid = self.sid(f"{item.id}|{key}")
        ref = f"metadata:accord_indicator {item.id};"
        body = f"{body} {ref}" if body else ref
        return f'alert {proto} {head} (msg:"{msg}"; {body} sid:{sid}; rev:1;)\n'

    def _domain(self, item: Sensed, value: str) -> str:
        """The three rules of a domain (DNS query, TLS SNI, HTTP host): one hash, one string."""
        low = value.lower()
        # `_content`'s test inlined: most names need no escape, and this is the hot path.
        plain = low.isascii() and low.isprintable() and _NOT_PLAIN.search(low) is None
        v = low if plain else _content(low)
        if self.lists:
            self._list("domain", base64.b64encode(low.encode()).decode())
        src = self._sources.get(item.source)
        if src is None:
            src = _msg(item.source)
            if len(self._sources) < 4096:  # producers are few; a bound all the same
                self._sources[item.source] = src
        ident = item.id
        n = zlib.crc32(f"{ident}|{value}".encode())  # `_hash`, inlined
        slot = n % _SLOTS
        if slot in self._slots:
            sid = self._free(n)
        else:
            self._slots.add(slot)
            sid = SID_BASE + 3 * slot
        name = v[:200] if "|" not in v else _msg(v)
        tail = f'dotprefix; content:".{v}"; nocase; endswith; metadata:accord_indicator {ident};'
        return (
            f'alert dns any any -> any any (msg:"Accord DNS query {name} ({src})"; '
            f"dns.query; {tail} sid:{sid}; rev:1;)\n"
            f'alert tls any any -> any any (msg:"Accord TLS SNI {name} ({src})"; '
            f"tls.sni; {tail} sid:{sid + 1}; rev:1;)\n"
            f'alert http any any -> any any (msg:"Accord HTTP host {name} ({src})"; '
            f"http.host; {tail} sid:{sid + 2}; rev:1;)\n"
        )

    def _rules(self, item: Sensed, kind: str, value: str) -> list[str]:
        if kind in ("ipv4", "ipv6", "cidr"):
            if not _ADDR_OK.match(value):
                return []
            return [
                self._rule(
                    item, "ip", f"any any <> [{value}] any", f"address {value}", "", "ip|" + value
                )
            ]
        if kind == "url":
            host, path = _split_url(value)
            if not host:
                return []
            body = f'http.host; content:"{_content(host.lower())}"; nocase; endswith;'
            if path not in ("", "/"):
                body += f' http.uri; content:"{_content(path)}"; startswith;'
            return [
                self._rule(
                    item,
                    "http",
                    "any any -> any any",
                    f"URL {_content(value)}",
                    body,
                    "url|" + value,
                )
            ]
        if kind in HASH_FILES:
            self._list(kind, value.lower())
        return []

    def _list(self, name: str, line: str) -> None:
        stream = self.lists.get(name)
        if stream is None:
            return
        stream.write(line + "\n")
        self._seen_lists.add(name)

    def finish(self) -> None:
        """The rules that load the lists written (after the last indicator)."""
        for kind, file in HASH_FILES.items():
            if kind in self._seen_lists:
                keyword = "filemd5" if kind == "md5" else f"file{kind}"
                self.rules.write(
                    f'alert http any any -> any any (msg:"Accord file {kind} in {file}";'
                    f" {keyword}:{file}; sid:{self.sid('list|' + kind)}; rev:1;)\n"
                )
        dataset_rules = self.lists.get("dataset-rules")
        if "domain" in self._seen_lists and dataset_rules is not None:
            # Beside the per-domain rules, not with them: a sensor loads one or the other.
            f = DATASET_FILES["domain"]
            for proto, buf in (("dns", "dns.query"), ("tls", "tls.sni"), ("http", "http.host")):
                dataset_rules.write(
                    f"alert {proto} any any -> any any"
                    f' (msg:"Accord {buf} in dataset accord-domains";'
                    f" {buf}; dataset:isset,accord-domains,type string,load {f};"
                    f" sid:{self.sid('dataset|' + buf)}; rev:1;)\n"
                )


def _hash(key: str) -> int:
    # CRC-32: stable across runs and machines, and fast; sids collide in their span
    # (3e9) before CRC-32 values do, and a collision takes the next free sid.
    return zlib.crc32(key.encode())


_NOT_PLAIN = re.compile(r'["\\;|]')
_ADDR_OK = re.compile(r"[0-9A-Fa-f:.]+(/\d{1,3})?\Z")


def _split_url(url: str) -> tuple[str, str]:
    rest = _SCHEME.sub("", url)
    host, slash, path = rest.partition("/")
    host = host.rpartition("@")[2].partition(":")[0]
    return host, slash + path


def _content(text: str) -> str:
    """A Suricata content string: ``"``, ``;``, ``\\`` and ``|`` as hex bytes."""
    if text.isascii() and text.isprintable() and _NOT_PLAIN.search(text) is None:
        return text
    out = []
    for ch in text:
        if ch in '";\\|' or ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"|{ord(ch):02X}|")
        elif ord(ch) > 0x7E:
            out.append("".join(f"|{b:02X}|" for b in ch.encode()))
        else:
            out.append(ch)
    return "".join(out)


def _msg(text: str) -> str:
    if text.isprintable() and _NOT_PLAIN.search(text) is None:
        return text[:200]
    return re.sub(r'[";\\|]', " ", _UNSAFE.sub(" ", text))[:200]


# Kinds by lifetime (ACCORD_FEED_LIFETIMES): hashes share one.
_LIFETIME_KIND = {"md5": "hash", "sha1": "hash", "sha256": "hash", "sha512": "hash"}


def pattern_kind(pattern: str) -> str:
    """The kind of value a pattern names first (``other`` when none); hashes are ``hash``."""
    for m in _ANY_CMP.finditer(pattern):
        obj, path, op, value = m.groups()
        if obj == "network-traffic" and path.endswith("_ref.value"):
            kind = "ipv6" if ":" in value else "ipv4" if _IPV4ISH.match(value) else "domain"
        else:
            kind = _KIND.get((obj, path, op), "other")
        if kind != "other":
            return _LIFETIME_KIND.get(kind, kind)
    return "other"


_ANY_CMP = re.compile(r"([a-z0-9-]+):([A-Za-z0-9_.'-]+)\s+(=|ISSUBSET)\s+'((?:[^'\\]|\\.)*)'")
_IPV4ISH = re.compile(r"[0-9.]+(/\d+)?\Z")
# MISP's ip-src/ip-dst indicators (misp-stix): the address inside a network-traffic.
_MISP_ADDRESS = re.compile(
    r"\[network-traffic:(?:dst|src)_ref\.type = '(ipv4|ipv6)-addr' AND "
    r"network-traffic:(?:dst|src)_ref\.value = '([0-9A-Fa-f:./]+)'\]"
)
