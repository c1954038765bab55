"""MISP events to STIX 2.1 and back, through MISP's own converter (``misp-stix``).

Nothing here maps a MISP attribute to STIX by hand: `MISPtoSTIX21Parser` turns an
event into a bundle (``to_ids`` attributes become indicators, the others
observed-data with their observables; the event a ``report`` when published,
a ``grouping`` otherwise; tags labels or markings; galaxy clusters SDOs;
sightings ``sighting`` objects), and `InternalSTIX2toMISPParser` /
`ExternalSTIX2toMISPParser` turn STIX back into events. What this module adds:

- reading every shape a MISP export takes (one event, a list, the REST
  ``response`` envelope);
- TLP from the distribution level where the event carries no ``tlp:`` tag
  (`DISTRIBUTION_TLP`);
- one report of problems per attribute (the converter's errors and warnings
  name the attribute's uuid);
- deterministic output: the converter stamps objects it invents (a sighting's
  organisation) with the time of conversion, which would make every re-import
  a new version. Those get the event's timestamp instead.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = [
    "DISTRIBUTION_TLP",
    "AttributeProblem",
    "Converted",
    "FeedEvent",
    "MispFormatError",
    "event_to_stix",
    "feed_event",
    "is_misp_document",
    "misp_events",
    "stix_to_events",
]

# MISP distribution level -> TLP, used only when the event has no tlp: tag.
# 0 "your organisation only" is RED; 1 "this community only" and 4 "sharing
# group" are AMBER (known recipients, need to know); 2 "connected communities"
# is GREEN (the wider community); 3 "all communities" is CLEAR (TLP 1.0 WHITE,
# the marking the converter knows). 5 "inherit event" does not occur on an event.
DISTRIBUTION_TLP: dict[str, str] = {
    "0": "tlp:red",
    "1": "tlp:amber",
    "2": "tlp:green",
    "3": "tlp:white",
    "4": "tlp:amber",
}

_UUID_IN_TEXT = re.compile(r"<([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})>")
# The converter logs each problem as well as recording it; the record is what we report.
for _name in ("pymisp", "misp_stix_converter", "stix2"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)


class MispFormatError(ValueError):
    """A document that is not MISP event JSON, or an event the converter refused whole."""


@dataclass(frozen=True, slots=True)
class AttributeProblem:
    """An attribute (or object) the converter refused or changed, and why."""

    event: str  # the event's uuid
    attribute: str | None  # the attribute's or object's uuid, when the converter names it
    message: str
    fatal: bool  # True: left out; False: a warning, the attribute was converted

    def __str__(self) -> str:
        where = f"attribute {self.attribute}" if self.attribute else "event"
        kind = "skipped" if self.fatal else "warning"
        return f"event {self.event}, {where}: {kind}: {self.message}"


@dataclass(slots=True)
class Converted:
    """One MISP event as STIX objects."""

    uuid: str
    info: str
    attributes: int  # attributes in the event, objects' attributes included
    objects: list[dict[str, Any]] = field(default_factory=list)
    problems: list[AttributeProblem] = field(default_factory=list)


def is_misp_document(doc: Any) -> bool:
    """Whether a parsed JSON document is MISP event JSON (not STIX)."""
    if isinstance(doc, list):
        return bool(doc) and all(_is_event(d) for d in doc[:3])
    if isinstance(doc, dict):
        if "response" in doc and isinstance(doc["response"], list | dict):
            return True
        return _is_event(doc)
    return False


def _is_event(doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    if isinstance(doc.get("Event"), dict):
        return True
    return "type" not in doc and "info" in doc and ("Attribute" in doc or "Object" in doc)


def misp_events(doc: Any, name: str = "<input>") -> Iterator[dict[str, Any]]:
    """The events of a MISP document, each as the bare event dict.

    Raises:
        MispFormatError: the document holds something other than events.
    """
    if isinstance(doc, dict) and "response" in doc:
        doc = doc["response"]
    items = doc if isinstance(doc, list) else [doc]
    for i, item in enumerate(items, 1):
        event = item.get("Event", item) if isinstance(item, dict) else None
        if not isinstance(event, dict) or "info" not in event:
            raise MispFormatError(f"{name}: item {i} is not a MISP event (no Event/info)")
        yield event


def _has_tlp(event: dict[str, Any]) -> bool:
    tags = event.get("Tag") or []
    return any(
        isinstance(t, dict) and str(t.get("name", "")).lower().startswith("tlp:") for t in tags
    )


def _count_attributes(event: dict[str, Any]) -> int:
    n = len(event.get("Attribute") or [])
    for obj in event.get("Object") or []:
        if isinstance(obj, dict):
            n += len(obj.get("Attribute") or [])
    return n


def _event_time(event: dict[str, Any]) -> str:
    ts = event.get("timestamp")
    try:
        when = datetime.fromtimestamp(int(ts), UTC) if ts is not None else None
    except (TypeError, ValueError):
        when = None
    if when is None:
        return "1970-01-01T00:00:00.000Z"
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _problems(uuid: str, records: Any, fatal: bool) -> list[AttributeProblem]:
    out: list[AttributeProblem] = []
    for messages in (records or {}).values():
        for message in messages:
            text = " ".join(str(message).split())
            found = _UUID_IN_TEXT.search(text)
            # The converter lists every known type after an unknown one: the type is enough.
            text = text.split(", type has to be in ")[0]
            if "is invalid" in text and "Error loading Attribute" in text:
                text += " (unknown attribute type)"
            # A value that fails MISP's validation is left out, though reported as a warning.
            dropped = fatal or text.startswith("Failed validation")
            out.append(
                AttributeProblem(uuid, found.group(1) if found else None, text[:500], dropped)
            )
    return out


def event_to_stix(event: dict[str, Any]) -> Converted:
    """One MISP event as STIX 2.1 objects, by ``misp-stix``.

    Raises:
        MispFormatError: the converter refused the event as a whole.
    """
    from misp_stix_converter import MISPtoSTIX21Parser

    uuid = str(event.get("uuid") or "")
    event = dict(event)
    if not _has_tlp(event):
        level = DISTRIBUTION_TLP.get(str(event.get("distribution", "")))
        if level is not None:
            event["Tag"] = [*(event.get("Tag") or []), {"name": level}]
    converted = Converted(uuid, str(event.get("info", "")), _count_attributes(event))
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    parser = MISPtoSTIX21Parser()
    try:
        parser.parse_json_content({"Event": event})
        bundle = orjson.loads(parser.bundle.serialize())
    except Exception as exc:  # the converter raises anything; the event as a whole failed
        raise MispFormatError(f"event {uuid or '?'}: the converter refused it: {exc}") from exc
    converted.problems = _problems(uuid, parser.errors, True) + _problems(
        uuid, parser.warnings, False
    )
    whole = [p for p in converted.problems if p.message.startswith("Error loading Event")]
    if whole:  # the converter gave up on the event (and says so only in its records)
        raise MispFormatError(f"event {uuid or '?'}: the converter refused it: {whole[0].message}")
    stamp = _event_time(event)
    for obj in bundle.get("objects", []):
        # Objects the converter made up on the spot carry the time of conversion.
        for key in ("created", "modified"):
            value = obj.get(key)
            if isinstance(value, str) and value[:19] >= started:
                obj[key] = stamp
        converted.objects.append(obj)
    return converted


def stix_to_events(objects: list[dict[str, Any]], *, org: tuple[str, str]) -> list[Any]:
    """STIX 2.1 objects as MISP events (``pymisp.MISPEvent``), one per report or grouping.

    STIX that MISP produced is read by the converter's internal parser (exact
    round trip), any other by its external one.

    Args:
        objects: the objects of one report or grouping and what it references.
        org: (name, uuid) of the organisation that creates the events (``Orgc``)
            when the STIX names none.

    Raises:
        MispFormatError: the converter refused the objects.
    """
    import stix2
    from misp_stix_converter import MISP_org_uuid
    from misp_stix_converter.tools import get_stix2_parser, is_stix2_from_misp
    from pymisp import MISPOrganisation

    try:
        bundle = stix2.parse(
            {"type": "bundle", "id": "bundle--" + _uuid_of(objects), "objects": objects},
            allow_custom=True,
        )
        parser_class, args = get_stix2_parser(
            is_stix2_from_misp(objects),
            0,
            None,
            None,
            org[0],
            False,
            False,
            False,
            org[1] or MISP_org_uuid,
            0,
            None,
        )
        parser: Any = parser_class()
        parser.load_stix_bundle(bundle)
        parser.parse_stix_bundle(**args)
        found = parser.misp_events
        events = list(found) if isinstance(found, list) else [found]
    except Exception as exc:  # the converter raises anything
        raise MispFormatError(f"STIX to MISP: the converter refused the objects: {exc}") from exc
    creator = _creator(objects) or org
    for ev in events:
        if not getattr(ev, "Orgc", None) or not getattr(ev.Orgc, "name", None):
            o = MISPOrganisation()
            o.from_dict(name=creator[0], uuid=creator[1])
            ev.Orgc = o
        for obj in ev.objects:
            # A feed needs these; STIX from outside MISP has no object templates.
            for key in ("template_version", "template_uuid"):
                if not getattr(obj, key, None):
                    setattr(obj, key, "1" if key == "template_version" else _NO_TEMPLATE)
    return events


_NO_TEMPLATE = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One event as a MISP feed holds it: its file, its manifest entry, its hashes."""

    uuid: str
    data: bytes  # the ``<uuid>.json`` file: {"Event": {...}}
    manifest: dict[str, Any]
    hashes: list[str]  # md5 of each attribute value (``hashes.csv``)


def feed_event(event: Any) -> FeedEvent:
    """A ``pymisp.MISPEvent`` as PyMISP writes it into a feed (``MISPEvent.to_feed``).

    Raises:
        MispFormatError: PyMISP refused the event.
    """
    try:
        feed = event.to_feed(with_meta=True)
    except Exception as exc:  # PyMISPError and the attribute errors it lets through
        raise MispFormatError(
            f"event {event.uuid}: PyMISP cannot write it as a feed: {exc}"
        ) from exc
    body = feed["Event"]
    manifest = body.pop("_manifest")
    hashes = body.pop("_hashes")
    data = orjson.dumps(feed, default=str)
    uuid = str(event.uuid)
    return FeedEvent(uuid, data, orjson.loads(orjson.dumps(manifest[uuid], default=str)), hashes)


def _creator(objects: list[dict[str, Any]]) -> tuple[str, str] | None:
    refs = {o.get("created_by_ref") for o in objects if o.get("type") in ("report", "grouping")}
    for obj in objects:
        if obj.get("type") == "identity" and obj.get("id") in refs and obj.get("name"):
            return str(obj["name"]), str(obj["id"]).split("--", 1)[1]
    return None


def _uuid_of(objects: list[dict[str, Any]]) -> str:
    for obj in objects:
        if obj.get("type") in ("report", "grouping"):
            return str(obj["id"]).split("--", 1)[1]
    return "00000000-0000-4000-8000-000000000000"
