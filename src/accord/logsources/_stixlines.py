"""JSON lines of STIX observed-data, and CSV with a column mapping.

An observed-data line is matched as it is: its ``observed()`` is the SDO
itself, and its keys are the object paths of every property of its embedded
``objects`` (STIX 2.1 §9.4: ``type:prop``, ``prop.sub``, ``list[*]``, and one
dereference ``x_ref.value`` / ``x_refs[*].value``). An observed-data with
``object_refs`` instead (STIX 2.1 without the deprecated ``objects``) is matched
with the SCO lines it names, which must come before it (as ``accord export
--format jsonl`` writes them); they are embedded into it for the matcher.

CSV: ``--map column=path`` pairs, where a column is a header name (the first
line is then the header) or a 1-based position (no header); the path is a STIX
object path as a pattern writes it (``ipv4-addr:value``,
``network-traffic:dst_port``, ``file:hashes.SHA-256``) or ``time`` for the
observation time (epoch seconds or a STIX/ISO 8601 timestamp).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from accord.logsources._objects import Keys

__all__ = ["CsvMapping", "observed_keys", "parse_time"]

_SKIP_PROPS = frozenset(("type", "id", "spec_version", "object_marking_refs", "granular_markings"))
_MAX_DEPTH = 6
# Integer properties of SCOs a CSV column may fill (STIX 2.1 §6).
_INT_PROPS = frozenset(
    (
        "src_port",
        "dst_port",
        "src_byte_count",
        "dst_byte_count",
        "src_packets",
        "dst_packets",
        "size",
        "number",
        "subject_public_key_exponent",
        "pid",
    )
)


# Epoch seconds of 0001-01-01 and of 9999-12-31T23:59:59: a time outside them (or
# NaN, inf: "1e400" is a float) has no STIX timestamp (`stix_time`).
_FIRST_SECOND, _LAST_SECOND = -62135596800.0, 253402300799.0


def epoch_time(value: float) -> float | None:
    """``value`` when it is a time a STIX timestamp can say, else None."""
    return value if _FIRST_SECOND <= value <= _LAST_SECOND else None  # NaN compares False


def parse_time(value: object) -> float | None:
    """Epoch seconds from a number, a numeric string or an ISO 8601 / STIX timestamp."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return epoch_time(float(value))
    if not isinstance(value, str) or not value:
        return None
    try:
        return epoch_time(float(value))
    except (ValueError, OverflowError):  # OverflowError: an int string past a float
        pass
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:  # STIX 2.1 §3.2: timestamps are UTC
        return (when - datetime(1970, 1, 1)).total_seconds()
    return when.timestamp()


def _walk(
    objects: dict[str, Any], path: str, prop: str, value: object, depth: int
) -> Iterator[tuple[str, object]]:
    if depth > _MAX_DEPTH:
        return
    if prop.endswith("_ref") and isinstance(value, str):
        target = objects.get(value)
        if isinstance(target, dict) and isinstance(target.get("value"), str):
            yield path + ".value", target["value"]
    elif prop.endswith("_refs") and isinstance(value, list):
        for ref in value:
            target = objects.get(ref) if isinstance(ref, str) else None
            if isinstance(target, dict) and isinstance(target.get("value"), str):
                yield path + "[*].value", target["value"]
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _walk(objects, f"{path}.{key}", key, inner, depth + 1)
    elif isinstance(value, list):
        for item in value:
            if not isinstance(item, (dict, list)):
                yield path + "[*]", item
    elif isinstance(value, (str, int, float, bool)):
        yield path, value


def observed_keys(sdo: dict[str, Any]) -> Keys | None:
    """The keys of an observed-data's embedded objects; None when it embeds none."""
    objects = sdo.get("objects")
    if not isinstance(objects, dict) or not objects:
        return None
    keys: Keys = []
    for obj in objects.values():
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            continue
        otype = obj["type"]
        for prop, value in obj.items():
            if prop not in _SKIP_PROPS:
                keys.extend(_walk(objects, f"{otype}:{prop}", prop, value, 0))
    return keys


class CsvMapping:
    """Which CSV column fills which object path."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        if not pairs:
            raise ValueError("CSV needs a column mapping (--map COLUMN=PATH)")
        for column, path in pairs:
            if path != "time" and ":" not in path:
                raise ValueError(f"--map {column}={path}: not an object path (type:property)")
        self.pairs = list(pairs)
        self.by_position = all(column.isdigit() for column, _ in pairs)
        self.index: list[tuple[int, str]] = []
        if self.by_position:
            self.index = [(int(c) - 1, p) for c, p in pairs]
            if any(i < 0 for i, _ in self.index):
                raise ValueError("CSV column positions start at 1")

    def header(self, row: list[str]) -> str | None:
        """Take the header row; a message when a mapped column is not in it."""
        names = [c.strip() for c in row]
        missing = [c for c, _ in self.pairs if c not in names]
        if missing:
            return f"columns not in the header: {', '.join(missing)}"
        self.index = [(names.index(c), p) for c, p in self.pairs]
        return None

    @property
    def ready(self) -> bool:
        return bool(self.index)

    def split(self, text: str) -> list[str]:
        if '"' not in text:
            return text.split(",")
        return next(csv.reader([text]))

    def keys(self, row: list[str]) -> tuple[Keys, float | None, bool]:
        """(keys, time, complete): complete is False when the row is too short."""
        keys: Keys = []
        when: float | None = None
        if len(row) <= max(i for i, _ in self.index):
            return keys, None, False
        for i, path in self.index:
            raw = row[i].strip()
            if not raw:
                continue
            if path == "time":
                when = parse_time(raw)
                continue
            prop = path.rsplit(":", 1)[-1].rsplit(".", 1)[-1]
            value: object = int(raw) if prop in _INT_PROPS and raw.isdigit() else raw
            keys.append((path, value))
        return keys, when, True
