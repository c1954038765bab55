"""The match benchmark's data: maltrail and Unit 42 as STIX indicators, Zeek logs replayed.

Indicators (in memory, never written out):

- **maltrail** (``../shared/data/maltrail/trails/static/**/*.txt``), read the way
  maltrail's own ``static/__init__.py`` reads them: comments and blank lines
  dropped, ``scheme://`` dropped; a trail with a ``/`` is a URL (``host/path``,
  matched as ``url:value = 'http://host/path'``; a bare ``/path`` as the HTTP
  request-line value ``network-traffic:extensions.'http-request-ext'.request_value``),
  a dotted quad an ``ipv4-addr:value`` (an ``ip:port`` trail keeps its address),
  a dotted quad with ``/n`` an ``ipv4-addr:value ISSUBSET 'cidr'``, anything else a
  ``domain-name:value``. One indicator per line (a value several lists name is
  several indicators, as from several producers).
- **Unit 42** (``../shared/data/unit42/playbook_json/*.json``): every indicator's
  pattern, with its ``valid_from``.

Events: the Zeek logs of ``../shared/data/zeek`` (zat TSV and JSON, brimdata's
Zeek 6 dns/ssl/x509) replayed into one file, cycle after cycle, each cycle's
timestamps shifted by a day more than the last, until the file holds the asked
number of events (lines that give no event, such as Zeek ``files`` records
without hashes or hosts, are not counted).
"""

from __future__ import annotations

import gzip
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson

from accord.logsources import LogParser, SourceStats

_IPV4 = re.compile(r"\A\d{1,3}(?:\.\d{1,3}){3}\Z")
_IPV4_PORT = re.compile(r"\A(\d{1,3}(?:\.\d{1,3}){3}):\d+\Z")
_CIDR = re.compile(r"\A\d{1,3}(?:\.\d{1,3}){3}/\d{1,2}\Z")
_COMMENT = re.compile(r"\s*#.*")
_ID_BASE = 0x5A5A << 100


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def maltrail_pattern(line: str) -> str | None:
    """The STIX pattern of one maltrail trail line, or None for a comment or blank."""
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    line = _COMMENT.sub("", line)
    if "://" in line:
        line = line.split("://", 1)[1]
        if "/" not in line:
            line += "/"
    if not line:
        return None
    if "/" in line:
        if _CIDR.match(line):
            return f"[ipv4-addr:value ISSUBSET '{line}']"
        if line.startswith("/"):
            ext = "network-traffic:extensions.'http-request-ext'.request_value"
            return f"[{ext} = '{_quote(line)}']"
        if line.count("/") > 1:
            line = line.rstrip("/")
        return f"[url:value = '{_quote('http://' + line)}']"
    port = _IPV4_PORT.match(line)
    if port:
        return f"[ipv4-addr:value = '{port.group(1)}']"
    if _IPV4.match(line):
        return f"[ipv4-addr:value = '{line}']"
    return f"[domain-name:value = '{_quote(line.strip('.').lower())}']"


def maltrail_indicators(data: Path) -> Iterator[tuple[str, str, str | None]]:
    """(indicator id, pattern, valid_from) of every maltrail trail line.

    One indicator per line of every list: a value listed by several families is
    several indicators with the same pattern, as it is when several producers
    share one.
    """
    root = data / "maltrail" / "trails" / "static"
    n = 0
    for path in sorted(root.rglob("*.txt")):
        with path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                pattern = maltrail_pattern(line)
                if pattern is None:
                    continue
                n += 1
                yield f"indicator--{uuid.UUID(int=_ID_BASE + n, version=4)}", pattern, None


def unit42_indicators(data: Path) -> Iterator[tuple[str, str, str | None]]:
    """(indicator id, pattern, valid_from) of every Unit 42 playbook indicator."""
    for path in sorted((data / "unit42" / "playbook_json").glob("*.json")):
        bundle = orjson.loads(path.read_bytes())
        for obj in bundle.get("objects", []):
            if obj.get("type") == "indicator" and isinstance(obj.get("pattern"), str):
                yield obj["id"], obj["pattern"], obj.get("valid_from")


# The replayed logs: Zeek's six logs in both forms, and the big Zeek 6 ones.
REPLAY = [
    *(f"zeek/zat/{kind}.log" for kind in ("conn", "dns", "http", "ssl", "files", "x509")),
    *(f"zeek/zat/json/{kind}.log" for kind in ("conn", "dns", "http", "ssl", "files", "x509")),
    "zeek/brimdata/zeek-default/dns.log.gz",
    "zeek/brimdata/zeek-default/ssl.log.gz",
    "zeek/brimdata/zeek-default/x509.log.gz",
]
_JSON_TS = re.compile(rb'"ts":([0-9.eE+-]+)')


def _lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return [line for line in data.splitlines(keepends=True) if not line.startswith(b"#close")]


def _shift(line: bytes, days: int) -> bytes:
    if not days or line.startswith(b"#"):
        return line
    delta = days * 86400.0
    if line.startswith(b"{"):
        return _JSON_TS.sub(lambda m: b'"ts":%.6f' % (float(m.group(1)) + delta), line, count=1)
    ts, sep, rest = line.partition(b"\t")
    try:
        return b"%.6f" % (float(ts) + delta) + sep + rest
    except ValueError:
        return line


def write_replay(data: Path, out: Path, events: int) -> dict[str, int]:
    """Write ``events`` events of replayed Zeek logs to ``out``; events per source log."""
    sources: list[tuple[str, list[bytes], list[bool]]] = []
    for rel in REPLAY:
        lines = _lines(data / rel)
        parser = LogParser(rel, stats=SourceStats())
        gives = [parser.feed(line, n) is not None for n, line in enumerate(lines, 1)]
        sources.append((rel, lines, gives))
    written = 0
    per_source = {rel: 0 for rel in REPLAY}
    day = 0
    with out.open("wb") as f:
        while written < events:
            for rel, lines, gives in sources:
                for line, event in zip(lines, gives, strict=True):
                    if event:
                        if written >= events:
                            continue
                        written += 1
                        per_source[rel] += 1
                    elif not line.startswith(b"#"):
                        continue  # a line without an event adds nothing to the replay
                    f.write(_shift(line, day))
            day += 1
    return per_source
