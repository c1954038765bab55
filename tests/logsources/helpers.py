"""Shared checks: an event's keys must be what its observed-data says."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from accord.logsources import LogParser, SourceStats
from accord.patterns import Event


def parse_lines(lines: Iterable[bytes], **kwargs: Any) -> tuple[list[Event], SourceStats]:
    stats = SourceStats()
    parser = LogParser("test", stats=stats, **kwargs)
    events = [e for n, raw in enumerate(lines, 1) if (e := parser.feed(raw, n)) is not None]
    return events, stats


def parse_file(path: Path, **kwargs: Any) -> tuple[list[Event], SourceStats]:
    import gzip

    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return parse_lines(data.splitlines(keepends=True), **kwargs)


def _resolve(objects: dict[str, Any], obj: Any, steps: list[str]) -> Iterator[object]:
    if not steps:
        yield obj
        return
    step, rest = steps[0], steps[1:]
    if not isinstance(obj, dict):
        return
    if step.endswith("[*]"):
        items = obj.get(step[:-3])
        if isinstance(items, list):
            for item in items:
                target = objects.get(item) if step[:-3].endswith("_refs") else item
                if step[:-3].endswith("_refs"):
                    yield from _resolve(objects, target, rest)
                else:
                    yield from _resolve(objects, item, rest)
        return
    if step.endswith("_ref") and isinstance(obj.get(step), str):
        yield from _resolve(objects, objects.get(obj[step]), rest)
        return
    if step in obj:
        yield from _resolve(objects, obj[step], rest)


def values_at(sdo: dict[str, Any], path: str) -> list[object]:
    """Every value an object path reaches in an observed-data's objects (STIX 2.1 §9.4)."""
    otype, _, prop = path.partition(":")
    found: list[object] = []
    objects = sdo["objects"]
    for obj in objects.values():
        if obj.get("type") == otype:
            found.extend(_resolve(objects, obj, prop.split(".")))
    return found


def assert_consistent(event: Event) -> None:
    """Every (path, value) key of the event is in its observed-data, and the SDO is well formed."""
    [sdo] = event.observed()
    assert sdo["type"] == "observed-data"
    assert sdo["number_observed"] >= 1
    assert sdo["first_observed"] <= sdo["last_observed"]
    for path, value in event.keys:
        assert value in values_at(sdo, path), (path, value, sdo)


def _pattern_path(key: str) -> str:
    otype, _, prop = key.partition(":")
    steps = []
    for step in prop.split("."):
        suffix = "[*]" if step.endswith("[*]") else ""
        name = step.removesuffix("[*]")
        steps.append((f"'{name}'" if "-" in name else name) + suffix)
    return f"{otype}:{'.'.join(steps)}"


def _literal(value: object) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def assert_reference_finds_keys(event: Event) -> int:
    """The oracle: ``[path = value]`` of each key matches the event in stix2-matcher.

    STIX 2.0 mode, which reads the embedded ``objects`` form. Returns the keys checked.
    """
    from stix2matcher.matcher import match

    sdos = event.observed()
    for key, value in event.keys:
        literal = _literal(value)
        if key.endswith(("validity_not_before", "validity_not_after")):
            literal = "t" + literal
        pattern = f"[{_pattern_path(key)} = {literal}]"
        assert match(pattern, sdos, False, "2.0"), (pattern, sdos)
    return len(event.keys)
