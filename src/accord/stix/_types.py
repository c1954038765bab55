"""What STIX 2.1 says about each object type: properties, required ones, constraints.

One entry per type of STIX 2.1 (OASIS Standard, 10 June 2021): the 19 SDOs (§4),
the 2 SROs (§5), the 18 SCOs (§6) and the 3 meta objects (§7). Each entry maps
every property the specification defines to a checker from :mod:`._checks`;
a property not in the map is a custom property (§11.1) and only its name and
non-emptiness are checked. Required properties follow the specification's
tables, cross-checked against the OASIS ``stix2`` library's class definitions
and the OASIS JSON schemas (``cti-stix2-json-schemas``) where we could read the
2.1 versions; tests run every type's minimal object through the library too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from accord.stix import _checks as c
from accord.stix import _constraints as _k
from accord.stix._constraints import Rule, at_least_one, exactly_one, later, requires

__all__ = [
    "CUSTOM_COMMON",
    "SCO_COMMON",
    "SDO_COMMON",
    "SKIP",
    "STIX_TYPES",
    "Category",
    "TypeRule",
]

Category = str  # "sdo" | "sro" | "sco" | "meta"


class TypeRule(NamedTuple):
    """The rules for one STIX type.

    Attributes:
        category: ``sdo``, ``sro``, ``sco`` or ``meta``.
        props: property name → value checker (the common properties included).
        required: properties that must be present.
        constraints: object-level checks (co-occurrence, ordering), each raising
            :class:`._checks.CheckError` whose ``path`` names the property at fault,
            paired with the property that must be present for it to matter.
    """

    category: Category
    props: Mapping[str, c.Check]
    required: frozenset[str]
    constraints: tuple[Rule, ...]


def _skip(value: object) -> None:
    """Placeholder for type, id and spec_version, which the validator checks itself."""


SKIP: c.Check = _skip


# --- property tables ------------------------------------------------------------------------

_str, _bool, _ts, _strs, _dict = c.string, c.boolean, c.timestamp, c.string_list, c.dictionary
_ref, _refs = c.any_ref, c.any_refs
_uint = c.integer(0)
_big = 999_999_999  # §4.14 number_observed, §5.2 count


def _ref_to(*types: str) -> c.Check:
    return c.identifier(types)


def _refs_to(*types: str) -> c.Check:
    return c.identifier_list(types)


_MARKING_REFS = c.marking_refs
_CREATED_BY = c.created_by_ref

# §3.2 common properties of SDOs and SROs.
SDO_COMMON: dict[str, c.Check] = {
    "type": SKIP,
    "spec_version": SKIP,
    "id": SKIP,
    "created_by_ref": _CREATED_BY,
    "created": c.timestamp_ms,
    "modified": c.timestamp_ms,
    "revoked": _bool,
    "labels": _strs,
    "confidence": c.integer(0, 100),
    "lang": _str,
    "external_references": c.external_references,
    "object_marking_refs": _MARKING_REFS,
    "granular_markings": c.granular_markings,
    "extensions": c.extensions,
}
_SDO_REQUIRED = frozenset(("type", "spec_version", "id", "created", "modified"))

# §6.1 (common properties of SCOs): spec_version is optional for SCOs.
SCO_COMMON: dict[str, c.Check] = {
    "type": SKIP,
    "spec_version": SKIP,
    "id": SKIP,
    "object_marking_refs": _MARKING_REFS,
    "granular_markings": c.granular_markings,
    "defanged": _bool,
    "extensions": c.extensions,
}
_SCO_REQUIRED = frozenset(("type", "id"))


def _sco_has_property(obj: Mapping[str, object]) -> None:
    # §6.13, §6.16, §6.17, §6.18 (process, user-account, registry key, X.509):
    # "MUST contain at least one property (other than type) from this object (or
    # one of its extensions)".
    for key in obj:
        if key not in SCO_COMMON or key == "extensions":
            return
    raise c.CheckError("needs at least one property besides type, id and the common ones")


_NAMED = {"name": _str, "description": _str}
_SEEN = {"first_seen": _ts, "last_seen": _ts}
_SEEN_ORDER = later("first_seen", "last_seen")
_KCP = {"kill_chain_phases": c.kill_chain_phases}
_OBJECT_REFS = {"object_refs": _refs}


def _sdo(specific: dict[str, c.Check], required: tuple[str, ...], *constraints: Rule) -> TypeRule:
    return TypeRule(
        "sdo", {**SDO_COMMON, **specific}, _SDO_REQUIRED | frozenset(required), constraints
    )


def _sco(specific: dict[str, c.Check], required: tuple[str, ...], *constraints: Rule) -> TypeRule:
    return TypeRule(
        "sco", {**SCO_COMMON, **specific}, _SCO_REQUIRED | frozenset(required), constraints
    )


_MOTIVES = {
    "goals": _strs,
    "resource_level": _str,
    "primary_motivation": _str,
    "secondary_motivations": _strs,
}

STIX_TYPES: dict[str, TypeRule] = {
    # --- §4 STIX Domain Objects --------------------------------------------------------------
    "attack-pattern": _sdo({**_NAMED, "aliases": _strs, **_KCP}, ("name",)),
    "campaign": _sdo(
        {**_NAMED, "aliases": _strs, **_SEEN, "objective": _str}, ("name",), _SEEN_ORDER
    ),
    "course-of-action": _sdo({**_NAMED}, ("name",)),
    "grouping": _sdo({**_NAMED, "context": _str, **_OBJECT_REFS}, ("context", "object_refs")),
    "identity": _sdo(
        {
            **_NAMED,
            "roles": _strs,
            "identity_class": _str,
            "sectors": _strs,
            "contact_information": _str,
        },
        ("name",),
    ),
    "incident": _sdo({**_NAMED, **_KCP}, ("name",)),
    "indicator": _sdo(
        {
            **_NAMED,
            "indicator_types": _strs,
            "pattern": _str,
            "pattern_type": _str,
            "pattern_version": _str,
            "valid_from": _ts,
            "valid_until": _ts,
            **_KCP,
        },
        ("pattern", "pattern_type", "valid_from"),
        later("valid_from", "valid_until", strict=True),  # §4.7: valid_until MUST be later
    ),
    "infrastructure": _sdo(
        {**_NAMED, "infrastructure_types": _strs, "aliases": _strs, **_KCP, **_SEEN},
        ("name",),
        _SEEN_ORDER,
    ),
    "intrusion-set": _sdo(
        {**_NAMED, "aliases": _strs, **_SEEN, **_MOTIVES}, ("name",), _SEEN_ORDER
    ),
    "location": _sdo(
        {
            **_NAMED,
            "latitude": c.number(-90.0, 90.0),
            "longitude": c.number(-180.0, 180.0),
            "precision": c.number(0.0, float("inf")),
            "region": _str,
            "country": _str,
            "administrative_area": _str,
            "city": _str,
            "street_address": _str,
            "postal_code": _str,
        },
        (),
        (None, _k.location_place),
    ),
    "malware": _sdo(
        {
            **_NAMED,
            "malware_types": _strs,
            "is_family": _bool,
            "aliases": _strs,
            **_KCP,
            **_SEEN,
            "operating_system_refs": _refs_to("software"),
            "architecture_execution_envs": _strs,
            "implementation_languages": _strs,
            "capabilities": _strs,
            "sample_refs": _refs_to("file", "artifact"),
        },
        ("is_family",),
        (None, _k.malware_name),
        _SEEN_ORDER,
    ),
    "malware-analysis": _sdo(
        {
            "product": _str,
            "version": _str,
            "host_vm_ref": _ref_to("software"),
            "operating_system_ref": _ref_to("software"),
            "installed_software_refs": _refs_to("software"),
            "configuration_version": _str,
            "modules": _strs,
            "analysis_engine_version": _str,
            "analysis_definition_version": _str,
            "submitted": _ts,
            "analysis_started": _ts,
            "analysis_ended": _ts,
            "result_name": _str,
            "result": _str,
            "analysis_sco_refs": _refs,
            "sample_ref": _ref_to("file", "artifact", "network-traffic"),
        },
        ("product",),
        at_least_one("result", "analysis_sco_refs"),  # §4.12
    ),
    "note": _sdo(
        {"abstract": _str, "content": _str, "authors": _strs, **_OBJECT_REFS},
        ("content", "object_refs"),
    ),
    "observed-data": _sdo(
        {
            "first_observed": _ts,
            "last_observed": _ts,
            "number_observed": c.integer(1, _big),
            "objects": _k.observed_objects,
            **_OBJECT_REFS,
        },
        ("first_observed", "last_observed", "number_observed"),
        # §4.14: objects is deprecated, and never comes with object_refs.
        exactly_one("object_refs", "objects"),
        later("first_observed", "last_observed"),
    ),
    "opinion": _sdo(
        {
            "explanation": _str,
            "authors": _strs,
            "opinion": c.enum(
                ("strongly-disagree", "disagree", "neutral", "agree", "strongly-agree")
            ),
            **_OBJECT_REFS,
        },
        ("opinion", "object_refs"),
    ),
    "report": _sdo(
        {**_NAMED, "report_types": _strs, "published": _ts, **_OBJECT_REFS},
        ("name", "published", "object_refs"),
    ),
    "threat-actor": _sdo(
        {
            **_NAMED,
            "threat_actor_types": _strs,
            "aliases": _strs,
            **_SEEN,
            "roles": _strs,
            "sophistication": _str,
            "personal_motivations": _strs,
            **_MOTIVES,
        },
        ("name",),
        _SEEN_ORDER,
    ),
    "tool": _sdo(
        {**_NAMED, "tool_types": _strs, "aliases": _strs, **_KCP, "tool_version": _str}, ("name",)
    ),
    "vulnerability": _sdo({**_NAMED}, ("name",)),
    # --- §5 STIX Relationship Objects ----------------------------------------------------------
    "relationship": TypeRule(
        "sro",
        {
            **SDO_COMMON,
            "relationship_type": _str,
            "description": _str,
            "source_ref": _ref,
            "target_ref": _ref,
            "start_time": _ts,
            "stop_time": _ts,
        },
        _SDO_REQUIRED | {"relationship_type", "source_ref", "target_ref"},
        (later("start_time", "stop_time", strict=True),),  # §5.1: stop_time MUST be later
    ),
    "sighting": TypeRule(
        "sro",
        {
            **SDO_COMMON,
            "description": _str,
            **_SEEN,
            "count": c.integer(0, _big),
            "sighting_of_ref": _ref,
            "observed_data_refs": _refs_to("observed-data"),
            "where_sighted_refs": _refs_to("identity", "location"),
            "summary": _bool,
        },
        _SDO_REQUIRED | {"sighting_of_ref"},
        (_SEEN_ORDER,),
    ),
    # --- §7 STIX Meta Objects ------------------------------------------------------------------
    "language-content": TypeRule(
        "meta",
        {
            **{k: v for k, v in SDO_COMMON.items() if k != "lang"},
            "object_ref": _ref,
            "object_modified": c.timestamp_ms,
            "contents": _k.contents,
        },
        _SDO_REQUIRED | {"object_ref", "contents"},
        (),
    ),
    "marking-definition": TypeRule(
        "meta",
        {
            "type": SKIP,
            "spec_version": SKIP,
            "id": SKIP,
            "created_by_ref": _CREATED_BY,
            "created": c.timestamp_ms,
            "external_references": c.external_references,
            "object_marking_refs": _MARKING_REFS,
            "granular_markings": c.granular_markings,
            "extensions": c.extensions,
            "name": _str,
            "definition_type": _str,
            "definition": c.dictionary,
        },
        frozenset(("type", "spec_version", "id", "created")),
        ((None, _k.marking_definition),),
    ),
    "extension-definition": TypeRule(
        "meta",
        {
            **{
                k: v for k, v in SDO_COMMON.items() if k not in ("lang", "confidence", "extensions")
            },
            "name": _str,
            "description": _str,
            "schema": _str,
            "version": _str,
            "extension_types": c.list_of_strings_in(
                (
                    "new-sdo",
                    "new-sco",
                    "new-sro",
                    "property-extension",
                    "toplevel-property-extension",
                )
            ),
            "extension_properties": _strs,
        },
        _SDO_REQUIRED | {"created_by_ref", "name", "schema", "version", "extension_types"},
        (("extension_properties", _k.extension_properties),),
    ),
    # --- §6 STIX Cyber-observable Objects ------------------------------------------------------
    "artifact": _sco(
        {
            "mime_type": _str,
            "payload_bin": c.binary,
            "url": _str,
            "hashes": c.hashes,
            "encryption_algorithm": c.enum(
                ("AES-256-GCM", "ChaCha20-Poly1305", "mime-type-indicated")
            ),
            "decryption_key": _str,
        },
        (),
        exactly_one("payload_bin", "url"),  # §6.1
        requires("url", "hashes"),
    ),
    "autonomous-system": _sco({"number": _uint, "name": _str, "rir": _str}, ("number",)),
    "directory": _sco(
        {
            "path": _str,
            "path_enc": _str,
            "ctime": _ts,
            "mtime": _ts,
            "atime": _ts,
            "contains_refs": _refs_to("file", "directory"),
        },
        ("path",),
    ),
    "domain-name": _sco(
        {"value": _str, "resolves_to_refs": _refs_to("ipv4-addr", "ipv6-addr", "domain-name")},
        ("value",),
    ),
    "email-addr": _sco(
        {"value": _str, "display_name": _str, "belongs_to_ref": _ref_to("user-account")}, ("value",)
    ),
    "email-message": _sco(
        {
            "is_multipart": _bool,
            "date": _ts,
            "content_type": _str,
            "from_ref": _ref_to("email-addr"),
            "sender_ref": _ref_to("email-addr"),
            "to_refs": _refs_to("email-addr"),
            "cc_refs": _refs_to("email-addr"),
            "bcc_refs": _refs_to("email-addr"),
            "message_id": _str,
            "subject": _str,
            "received_lines": _strs,
            "additional_header_fields": _dict,
            "body": _str,
            "body_multipart": c.list_of_dicts(),
            "raw_email_ref": _ref_to("artifact"),
        },
        ("is_multipart",),
        (None, _k.email_body),
    ),
    "file": _sco(
        {
            "hashes": c.hashes,
            "size": _uint,
            "name": _str,
            "name_enc": _str,
            "magic_number_hex": c.hex_string,
            "mime_type": _str,
            "ctime": _ts,
            "mtime": _ts,
            "atime": _ts,
            "parent_directory_ref": _ref_to("directory"),
            "contains_refs": _refs,
            "content_ref": _ref_to("artifact"),
        },
        (),
        at_least_one("hashes", "name"),  # §6.7
    ),
    "ipv4-addr": _sco(
        {
            "value": _str,
            "resolves_to_refs": _refs_to("mac-addr"),
            "belongs_to_refs": _refs_to("autonomous-system"),
        },
        ("value",),
    ),
    "ipv6-addr": _sco(
        {
            "value": _str,
            "resolves_to_refs": _refs_to("mac-addr"),
            "belongs_to_refs": _refs_to("autonomous-system"),
        },
        ("value",),
    ),
    "mac-addr": _sco({"value": _str}, ("value",)),
    "mutex": _sco({"name": _str}, ("name",)),
    "network-traffic": _sco(
        {
            "start": _ts,
            "end": _ts,
            "is_active": _bool,
            "src_ref": _ref_to("ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"),
            "dst_ref": _ref_to("ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"),
            "src_port": c.integer(0, 65535),
            "dst_port": c.integer(0, 65535),
            "protocols": _strs,
            "src_byte_count": _uint,
            "dst_byte_count": _uint,
            "src_packets": _uint,
            "dst_packets": _uint,
            "ipfix": _dict,
            "src_payload_ref": _ref_to("artifact"),
            "dst_payload_ref": _ref_to("artifact"),
            "encapsulates_refs": _refs_to("network-traffic"),
            "encapsulated_by_ref": _ref_to("network-traffic"),
        },
        ("protocols",),
        at_least_one("src_ref", "dst_ref"),  # §6.12
        later("start", "end"),
        ("end", _k.traffic_end),
    ),
    "process": _sco(
        {
            "is_hidden": _bool,
            "pid": c.integer(),
            "created_time": _ts,
            "cwd": _str,
            "command_line": _str,
            "environment_variables": _dict,
            "opened_connection_refs": _refs_to("network-traffic"),
            "creator_user_ref": _ref_to("user-account"),
            "image_ref": _ref_to("file"),
            "parent_ref": _ref_to("process"),
            "child_refs": _refs_to("process"),
        },
        (),
        (None, _sco_has_property),
    ),
    "software": _sco(
        {
            "name": _str,
            "cpe": _str,
            "swid": _str,
            "languages": _strs,
            "vendor": _str,
            "version": _str,
        },
        ("name",),
    ),
    "url": _sco({"value": _str}, ("value",)),
    "user-account": _sco(
        {
            "user_id": _str,
            "credential": _str,
            "account_login": _str,
            "account_type": _str,
            "display_name": _str,
            "is_service_account": _bool,
            "is_privileged": _bool,
            "can_escalate_privs": _bool,
            "is_disabled": _bool,
            "account_created": _ts,
            "account_expires": _ts,
            "credential_last_changed": _ts,
            "account_first_login": _ts,
            "account_last_login": _ts,
        },
        (),
        (None, _sco_has_property),
    ),
    "windows-registry-key": _sco(
        {
            "key": _str,
            "values": c.list_of_dicts(),
            "modified_time": _ts,
            "creator_user_ref": _ref_to("user-account"),
            "number_of_subkeys": _uint,
        },
        (),
        (None, _sco_has_property),
    ),
    "x509-certificate": _sco(
        {
            "is_self_signed": _bool,
            "hashes": c.hashes,
            "version": _str,
            "serial_number": _str,
            "signature_algorithm": _str,
            "issuer": _str,
            "validity_not_before": _ts,
            "validity_not_after": _ts,
            "subject": _str,
            "subject_public_key_algorithm": _str,
            "subject_public_key_modulus": _str,
            "subject_public_key_exponent": _uint,
            "x509_v3_extensions": _dict,
        },
        (),
        (None, _sco_has_property),
        later("validity_not_before", "validity_not_after"),
    ),
}

# Properties every custom object may carry: the SDO common set (§11.2 "Custom
# Objects MUST support the common properties"), plus defanged for custom SCOs.
CUSTOM_COMMON: dict[str, c.Check] = {**SDO_COMMON, "defanged": _bool}
