"""The STIX 2.1 draft of one report: deterministic ids, patterns from refanged values.

Ids are UUIDv5: SDOs and SROs from the document's SHA-256 and what the object
stands for, SCOs by the STIX 2.1 rule (§2.9, the id-contributing properties in
the STIX namespace). The same document therefore always gives the same draft.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import orjson

from accord.extract._model import Extraction, Finding

# STIX 2.1 §2.9: the namespace of deterministic SCO identifiers.
_SCO_NS = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
# Accord's own namespace for the SDOs and SROs of report drafts.
_DRAFT_NS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:accord:report-draft")
_HASH_KEY = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256", "sha512": "SHA-512"}
_HASH_KEY |= {"ssdeep": "SSDEEP", "tlsh": "TLSH"}


@dataclass(frozen=True, slots=True)
class Source:
    """What the draft says about the document.

    Attributes:
        sha256: the document's SHA-256 (hex).
        name: file name or URL as given.
        url: the URL it was fetched from, if any.
        title: the report's title.
        created: the draft's timestamp (STIX, UTC), kept from the first import.
        author: the organisation that wrote it (the identity of the source).
        tlp_marking: a TLP marking-definition id for every object, or None.
    """

    sha256: str
    name: str
    title: str
    created: str
    url: str | None = None
    author: str = "unknown source"
    tlp_marking: str | None = None


@dataclass(frozen=True, slots=True)
class Known:
    """What the node already holds: ATT&CK patterns and named malware / intrusion sets.

    Attributes:
        attack_patterns: ATT&CK id (T1059.001) → (STIX id, name).
        actors: lower-cased name or alias → STIX id of a malware or intrusion-set.
    """

    attack_patterns: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    actors: Mapping[str, str] = field(default_factory=dict)


def _sdo_id(kind: str, sha256: str, key: str) -> str:
    return f"{kind}--{uuid.uuid5(_DRAFT_NS, f'{sha256}|{kind}|{key}')}"


def sco_id(kind: str, contributing: Mapping[str, object]) -> str:
    """A deterministic SCO id (STIX 2.1 §2.9): UUIDv5 of the canonical id-contributing JSON."""
    canon = orjson.dumps(dict(contributing), option=orjson.OPT_SORT_KEYS).decode()
    return f"{kind}--{uuid.uuid5(_SCO_NS, canon)}"


def _quote(value: str) -> str:
    # STIX 2.1 §9.3: string literals in patterns escape backslash and quote.
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _split_path(value: str) -> tuple[str | None, str]:
    cut = max(value.rfind("\\"), value.rfind("/"))
    if cut <= 0 or cut == len(value) - 1:
        return None, value
    return value[:cut], value[cut + 1 :]


def pattern_and_sco(f: Finding) -> tuple[str, dict[str, object]] | None:
    """The indicator pattern and the observable for one finding (None: no STIX form)."""
    v = f.value
    simple = {
        "ipv4": ("ipv4-addr", "value"),
        "ipv6": ("ipv6-addr", "value"),
        "domain": ("domain-name", "value"),
        "url": ("url", "value"),
        "email": ("email-addr", "value"),
        "mutex": ("mutex", "name"),
        "registry-key": ("windows-registry-key", "key"),
    }
    if f.type in simple:
        kind, prop = simple[f.type]
        sco: dict[str, object] = {"type": kind, "spec_version": "2.1", prop: v}
        sco["id"] = sco_id(kind, {prop: v})
        return f"[{kind}:{prop} = {_quote(v)}]", sco
    if f.type in _HASH_KEY:
        key = _HASH_KEY[f.type]
        hashes = {key: v}
        sco = {"type": "file", "spec_version": "2.1", "hashes": hashes}
        sco["id"] = sco_id("file", {"hashes": hashes})
        prop = key if key.isalnum() else f"'{key}'"
        return f"[file:hashes.{prop} = {_quote(v)}]", sco
    if f.type == "file":
        parent, name = _split_path(v)
        sco = {"type": "file", "spec_version": "2.1", "name": name}
        sco["id"] = sco_id("file", {"name": name})
        if parent is None:
            return f"[file:name = {_quote(name)}]", sco
        return (
            f"[file:name = {_quote(name)} AND file:parent_directory_ref.path = {_quote(parent)}]",
            sco,
        )
    if f.type == "user-agent":
        header = "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'"
        return f"[{header} = {_quote(v)}]", {}
    return None


def build_draft(
    extraction: Extraction, source: Source, known: Known = Known(), *, dropped: Sequence[str] = ()
) -> list[dict[str, object]]:
    """The draft's objects: the report first, then what it refers to.

    Args:
        extraction: what the text gave.
        source: the document.
        known: ATT&CK patterns and actors the node holds, to refer to by id.
        dropped: values the analyst dropped (``accord report edit --drop``).
    """
    sha, ts = source.sha256, source.created
    common: dict[str, object] = {"spec_version": "2.1", "created": ts, "modified": ts}
    if source.tlp_marking:
        common["object_marking_refs"] = [source.tlp_marking]
    identity_id = f"identity--{uuid.uuid5(_DRAFT_NS, 'identity|' + source.author.lower())}"
    objects: list[dict[str, object]] = [
        {
            "type": "identity",
            "id": identity_id,
            **common,
            "name": source.author,
            "identity_class": "organization",
        }
    ]
    refs: list[str] = [identity_id]
    skip = {d.casefold() for d in dropped}
    scos: dict[str, dict[str, object]] = {}
    for f in extraction.findings:
        if f.dropped is not None or f.value.casefold() in skip:
            continue
        if f.type == "cve":
            vid = _sdo_id("vulnerability", sha, f.value)
            cve_ref = {"source_name": "cve", "external_id": f.value}
            objects.append(
                {
                    "type": "vulnerability",
                    "id": vid,
                    **common,
                    "name": f.value,
                    "external_references": [cve_ref],
                }
            )
            refs.append(vid)
            continue
        made = pattern_and_sco(f)
        if made is None:
            continue
        pattern, sco = made
        ind_id = _sdo_id("indicator", sha, f"{f.type}|{f.value}")
        objects.append(
            {
                "type": "indicator",
                "id": ind_id,
                **common,
                "created_by_ref": identity_id,
                "name": f.value,
                "description": f"From the report: {f.evidence}"[:2000],
                "indicator_types": ["malicious-activity"],
                "pattern": pattern,
                "pattern_type": "stix",
                "pattern_version": "2.1",
                "valid_from": ts,
            }
        )
        refs.append(ind_id)
        if sco:
            sid = str(sco["id"])
            if sid not in scos:
                scos[sid] = sco
                refs.append(sid)
            rid = _sdo_id("relationship", sha, f"{ind_id}|based-on|{sid}")
            objects.append(_relationship(rid, common, ind_id, "based-on", sid))
            refs.append(rid)
    objects.extend(scos.values())
    actors = _actors_named(extraction, known, skip)
    refs.extend(a for a in actors if a not in refs)
    for tech in extraction.techniques:
        if tech.attack_id.casefold() in skip:
            continue
        held = known.attack_patterns.get(tech.attack_id)
        if held is not None:
            ap_id = held[0]
        else:
            ap_id = _sdo_id("attack-pattern", sha, tech.attack_id)
            ext = {
                "source_name": "mitre-attack",
                "external_id": tech.attack_id,
                "url": "https://attack.mitre.org/techniques/" + tech.attack_id.replace(".", "/"),
            }
            name = tech.name or tech.attack_id
            objects.append(
                {
                    "type": "attack-pattern",
                    "id": ap_id,
                    **common,
                    "name": name,
                    "external_references": [ext],
                }
            )
        refs.append(ap_id)
        for actor in actors:
            rid = _sdo_id("relationship", sha, f"{actor}|uses|{ap_id}")
            objects.append(_relationship(rid, common, actor, "uses", ap_id))
            refs.append(rid)
    ext_ref: dict[str, object] = {"source_name": "report", "hashes": {"SHA-256": sha}}
    if source.url:
        ext_ref["url"] = source.url
    ext_ref["description"] = source.name
    report = {
        "type": "report",
        "id": _sdo_id("report", sha, "report"),
        **common,
        "created_by_ref": identity_id,
        "name": source.title,
        "report_types": ["threat-report"],
        "published": ts,
        "object_refs": list(dict.fromkeys(refs)),
        "external_references": [ext_ref],
    }
    return [report, *objects]


def _relationship(
    rid: str, common: Mapping[str, object], src: str, kind: str, dst: str
) -> dict[str, object]:
    return {
        "type": "relationship",
        "id": rid,
        **common,
        "relationship_type": kind,
        "source_ref": src,
        "target_ref": dst,
    }


def _actors_named(extraction: Extraction, known: Known, skip: set[str]) -> list[str]:
    """Malware and intrusion sets the node knows that the report names (by name or alias)."""
    found: list[str] = []
    for name, sid in known.actors.items():
        if name in extraction.names and sid not in found and name not in skip:
            found.append(sid)
    return found
