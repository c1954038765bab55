"""One log stream, line by line, to events: format detection and bad lines.

A `LogParser` is fed the lines of one input (bytes, with their 1-based line
numbers) and returns an `Event` for each line that carries observables. A line
it cannot use is counted in its `SourceStats` with its number and the reason,
never raised: a log is untrusted input, and one bad line must not stop a SOC's
matching.

Formats (``fmt``): ``zeek`` (TSV with its ``#`` header, or JSON), ``eve``
(Suricata), ``jsonl`` (STIX observed-data), ``csv`` (with a mapping), or None to
detect: a first line starting ``#separator``/``#fields`` is Zeek TSV; JSON lines
are told apart one by one (``event_type``: eve; ``"type": "observed-data"``:
STIX; ``ts``: Zeek); any other text is CSV when a mapping was given.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Callable, Sequence
from typing import Any, Literal

import orjson

from accord.logsources import _eve, _stats, _zeek
from accord.logsources._objects import observed_data
from accord.logsources._stats import SourceStats
from accord.logsources._stixlines import CsvMapping, epoch_time, observed_keys, parse_time
from accord.logsources._zeek_fast import ZeekHeader, json_extractor
from accord.patterns import Event

__all__ = ["FORMATS", "Format", "LogParser", "Wire", "from_wire", "to_wire"]

Format = Literal["zeek", "eve", "jsonl", "csv"]
FORMATS: tuple[Format, ...] = ("zeek", "eve", "jsonl", "csv")
_EVE_TYPES = frozenset(
    ("flow", "netflow", "dns", "http", "tls", "fileinfo", "alert", "anomaly", "ssh", "smtp")
)
_ZEEK_LABELS = frozenset((*_zeek.ZEEK_KINDS, "other", "smtp", "ssh", "notice", "weird", "ftp"))
MAX_SCOS = 100_000  # SCO lines remembered for the observed-data lines that follow
# STIX 2.1 §6: the cyber-observable object types.
SCO_TYPES = frozenset(
    (
        "artifact",
        "autonomous-system",
        "directory",
        "domain-name",
        "email-addr",
        "email-message",
        "file",
        "ipv4-addr",
        "ipv6-addr",
        "mac-addr",
        "mutex",
        "network-traffic",
        "process",
        "software",
        "url",
        "user-account",
        "windows-registry-key",
        "x509-certificate",
    )
)
_ZEEK_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")


def _observed(first: float, keys: tuple[tuple[str, object], ...]) -> list[dict[str, Any]]:
    return [observed_data(first, keys)]


def _as_is(sdo: dict[str, Any]) -> list[dict[str, Any]]:
    return [sdo]


def _embedded(sdo: dict[str, Any], scos: list[dict[str, Any]]) -> dict[str, Any]:
    """An observed-data with ``object_refs`` as the embedded-``objects`` form of the contract.

    The SCOs become ``objects`` keyed "0", "1", ... and their ``_ref``/``_refs``
    point at those keys (the STIX 2.0 form, still valid in 2.1 though deprecated);
    ``id``, ``spec_version`` and ``object_refs`` go.
    """
    index = {sco["id"]: str(n) for n, sco in enumerate(scos)}

    def rewrite(value: Any, prop: str) -> Any:
        if prop.endswith("_ref") and isinstance(value, str):
            return index.get(value, value)
        if prop.endswith("_refs") and isinstance(value, list):
            return [index.get(v, v) if isinstance(v, str) else v for v in value]
        if isinstance(value, dict):
            return {k: rewrite(v, k) for k, v in value.items()}
        return value

    objects = {
        index[sco["id"]]: {
            k: rewrite(v, k) for k, v in sco.items() if k not in ("id", "spec_version")
        }
        for sco in scos
    }
    out = {k: v for k, v in sdo.items() if k != "object_refs"}
    out["objects"] = objects
    return out


def _unescape(value: str) -> str:
    return _ZEEK_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)


def _event(when: float, keys: Sequence[tuple[str, object]], line: int) -> Event:
    frozen = tuple(keys)
    return Event(when, frozen, functools.partial(_observed, when, frozen), line)


class LogParser:
    """Turns the lines of one input into events.

    Args:
        source: the input's name, for messages.
        fmt: the format, or None to detect it.
        mapping: CSV ``(column, object path)`` pairs.
        stats: where counts go (shared by the inputs of one run).
        default_time: the observation time of records without one (CSV without ``time``).
    """

    def __init__(
        self,
        source: str,
        fmt: Format | None = None,
        mapping: Sequence[tuple[str, str]] = (),
        stats: SourceStats | None = None,
        default_time: float = 0.0,
    ) -> None:
        self.source = source
        self.fmt: Format | None = fmt
        self.stats = stats if stats is not None else SourceStats()
        self.default_time = default_time
        self.csv = CsvMapping(mapping) if mapping else None
        if fmt == "csv" and self.csv is None:
            raise ValueError("--format csv needs a column mapping (--map COLUMN=PATH)")
        self.zeek: ZeekHeader | None = None
        self.scos: dict[str, dict[str, Any]] = {}
        self._zeek_json_by_kind: dict[str, Callable[[dict[str, Any]], Sequence[Any]]] = {}
        self._decided = fmt is not None and fmt != "zeek"

    def _skip(self, line: int, reason: str, text: str) -> None:
        self.stats.skip(self.source, line, reason, text)

    def truncated(self, line: int, detail: str) -> None:
        """The input ended inside line ``line`` (a cut file, a broken .gz)."""
        self.stats.lines += 1
        self._skip(line, _stats.TRUNCATED, detail)

    def feed(self, raw: bytes, line: int) -> Event | None:
        """One line (without or with its newline); its event, or None."""
        stats = self.stats
        stats.lines += 1
        if b"\x00" in raw:
            self._skip(line, _stats.BINARY, "NUL bytes in the line")
            return None
        try:
            text = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            self._skip(line, _stats.BINARY, f"not UTF-8 ({exc.reason} at byte {exc.start})")
            return None
        if not text or text.isspace():
            return None
        head = text[0]
        if head == "#":
            return self._directive(text, line)
        if head == "{" and self.fmt != "csv":
            return self._json(text, line)
        if self.zeek is not None and self.zeek.fields:
            return self._tsv(text, line)
        if self.csv is not None and self.fmt in (None, "csv"):
            return self._csv(text, line)
        self._skip(line, _stats.UNKNOWN, text)
        return None

    # --- Zeek TSV ----------------------------------------------------------------------

    def _directive(self, text: str, line: int) -> Event | None:
        if self.fmt in (None, "zeek"):
            if self.zeek is None:
                if not text.startswith(("#separator", "#fields", "#path", "#set_separator")):
                    self._skip(line, _stats.UNKNOWN, text)
                    return None
                self.zeek = ZeekHeader()
            if not self.zeek.directive(text):
                self._skip(line, _stats.MALFORMED, text)
            return None
        if self.fmt == "csv":  # a comment line in a CSV file
            return None
        self._skip(line, _stats.UNKNOWN, text)
        return None

    def _tsv(self, text: str, line: int) -> Event | None:
        # The hot path of a Zeek log: one split, one float, the keys, one tuple.
        zeek = self.zeek
        assert zeek is not None
        parts = text.split(zeek.separator)
        if len(parts) != len(zeek.fields):
            self._skip(
                line, _stats.MALFORMED, f"{len(parts)} fields, the header has {len(zeek.fields)}"
            )
            return None
        if "\\x" in text:
            parts = [_unescape(p) if "\\x" in p else p for p in parts]
        ts = parts[zeek.ts] if zeek.ts >= 0 else "-"
        try:
            when = epoch_time(float(ts))
        except ValueError:
            when = None
        if when is None:
            self._skip(line, _stats.MALFORMED, f"ts is not a time: {ts!r}")
            return None
        keys = zeek.extract(parts)
        stats = self.stats
        stats.formats[zeek.label] += 1
        if not keys:
            stats.ignored += 1
            return None
        stats.events += 1
        frozen = tuple(keys)
        # tuple.__new__ skips the NamedTuple's Python-level __new__ (a tenth of the line).
        return tuple.__new__(
            Event, (when, frozen, functools.partial(_observed, when, frozen), line)
        )

    def _done(self, when: float, keys: Sequence[tuple[str, object]], line: int) -> Event | None:
        if not keys:
            self.stats.ignored += 1
            return None
        self.stats.events += 1
        return _event(when, keys, line)

    # --- JSON: Zeek, eve, STIX ---------------------------------------------------------

    def _json(self, text: str, line: int) -> Event | None:
        try:
            rec = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            self._skip(line, _stats.MALFORMED, f"not JSON: {exc}")
            return None
        if not isinstance(rec, dict):
            self._skip(line, _stats.MALFORMED, "a JSON line that is not an object")
            return None
        fmt = self.fmt
        if "event_type" in rec and fmt in (None, "eve"):
            return self._eve(rec, line)
        rtype = rec.get("type")
        if rtype == "observed-data" and fmt in (None, "jsonl"):
            return self._stix(rec, text, line)
        if rtype in SCO_TYPES and isinstance(rec.get("id"), str) and fmt in (None, "jsonl"):
            self._sco(rec)
            return None
        if "ts" in rec and fmt in (None, "zeek"):
            return self._zeek_json(rec, line)
        self._skip(line, _stats.UNKNOWN, text)
        return None

    def _eve(self, rec: dict[str, Any], line: int) -> Event | None:
        when = _eve.eve_time(rec.get("timestamp"))
        if when is None:
            self._skip(line, _stats.MALFORMED, f"no valid timestamp: {rec.get('timestamp')!r}")
            return None
        kind = rec.get("event_type")
        # A label per known type only: an untrusted log could invent millions.
        known = isinstance(kind, str) and kind in _EVE_TYPES  # any JSON value: a dict is
        self.stats.formats[f"eve {kind}" if known else "eve other"] += 1
        return self._done(when, _eve.eve_keys(rec), line)

    def _zeek_json(self, rec: dict[str, Any], line: int) -> Event | None:
        when = parse_time(rec.get("ts"))
        if when is None:
            self._skip(line, _stats.MALFORMED, f"ts is not a time: {rec.get('ts')!r}")
            return None
        kind = _zeek.kind_of(rec)
        extract = self._zeek_json_by_kind.get(kind)
        if extract is None:
            if len(self._zeek_json_by_kind) >= 64:  # `_path` is the log's to choose
                self._zeek_json_by_kind.clear()
            extract = self._zeek_json_by_kind[kind] = json_extractor(kind)
        self.stats.formats[f"zeek {kind}" if kind in _ZEEK_LABELS else "zeek other"] += 1
        return self._done(when, extract(rec), line)

    def _sco(self, sco: dict[str, Any]) -> None:
        """Remember an SCO line for the observed-data lines after it that refer to it."""
        scos = self.scos
        if len(scos) >= MAX_SCOS:
            del scos[next(iter(scos))]  # the oldest
        scos[sco["id"]] = sco
        self.stats.formats["stix sco"] += 1

    def _stix(self, sdo: dict[str, Any], text: str, line: int) -> Event | None:
        when = parse_time(sdo.get("first_observed"))
        if when is None:
            self._skip(line, _stats.MALFORMED, "observed-data without a valid first_observed")
            return None
        refs = sdo.get("object_refs")
        observed: Callable[[], list[dict[str, Any]]]
        if "objects" not in sdo and isinstance(refs, list) and refs:
            # STIX 2.1 form: the SCOs came as lines of their own, before (Accord's
            # `export --format jsonl` writes them so).
            found = [self.scos.get(ref) if isinstance(ref, str) else None for ref in refs]
            scos = [sco for sco in found if sco is not None]
            if len(scos) != len(refs):
                missing = sum(1 for sco in found if sco is None)
                self._skip(
                    line, _stats.MALFORMED, f"{missing} object_refs not in the lines before it"
                )
                return None
            embedded = _embedded(sdo, scos)
            keys = observed_keys(embedded)
            observed = functools.partial(_as_is, embedded)
        else:
            keys = observed_keys(sdo)
            observed = functools.partial(_as_is, sdo)
        if keys is None:
            self._skip(line, _stats.UNKNOWN, "observed-data without objects or object_refs")
            return None
        self.stats.formats["stix observed-data"] += 1
        if not keys:
            self.stats.ignored += 1
            return None
        self.stats.events += 1
        return Event(when, tuple(keys), observed, line)

    # --- CSV ---------------------------------------------------------------------------

    def _csv(self, text: str, line: int) -> Event | None:
        mapping = self.csv
        assert mapping is not None
        try:
            row = mapping.split(text)
        except csv.Error as exc:
            self._skip(line, _stats.MALFORMED, f"not CSV: {exc}")
            return None
        if not mapping.ready:
            problem = mapping.header(row)
            if problem is not None:
                self._skip(line, _stats.MALFORMED, problem)
            return None
        keys, when, complete = mapping.keys(row)
        if not complete:
            self._skip(line, _stats.MALFORMED, f"{len(row)} columns, too few for the mapping")
            return None
        self.stats.formats["csv"] += 1
        return self._done(self.default_time if when is None else when, keys, line)


# An event as plain data, to cross a process boundary (`accord.service` parses big
# logs in a second process): (time, keys, line, the observed-data SDO of a STIX line
# or None). The observed-data of the other formats is rebuilt from the keys.
Wire = tuple[float, tuple[tuple[str, object], ...], int, dict[str, Any] | None]


def to_wire(event: Event) -> Wire:
    """The event as plain, picklable data."""
    fn = event.observed
    sdo = fn.args[0] if isinstance(fn, functools.partial) and fn.func is _as_is else None
    return (event.time, event.keys, event.line, sdo)


def from_wire(wire: Wire) -> Event:
    """The event `to_wire` gave."""
    when, keys, line, sdo = wire
    if sdo is not None:
        return Event(when, keys, functools.partial(_as_is, sdo), line)
    return tuple.__new__(Event, (when, keys, functools.partial(_observed, when, keys), line))
