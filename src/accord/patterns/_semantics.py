"""Semantic checks of a parsed pattern: STIX 2.1 object paths, hashes, qualifiers.

:func:`warnings_of` names object types and properties that STIX 2.1 (§6, the
cyber-observable objects) does not define; the pattern stays matchable, since
custom objects and properties are legal (STIX 2.1 §11). :func:`validate`
gives the verdict of the OASIS validator (``stix2patterns.validator``): the
grammar, hash values that cannot be of their algorithm, and the same qualifier
twice on one observation expression.
"""

from __future__ import annotations

import re

from accord.exceptions import PatternError
from accord.patterns._ast import (
    Comparison,
    ComparisonExpr,
    CompoundComparison,
    Exists,
    Group,
    Literal,
    ObjectPath,
    ObservationExpr,
    ObservationOp,
    Pattern,
    Qualified,
    SimpleObservation,
)
from accord.patterns._parser import parse

__all__ = ["SCO_PROPERTIES", "comparisons", "validate", "warnings_of"]

_COMMON = "type id spec_version object_marking_refs granular_markings defanged extensions"
SCO_PROPERTIES: dict[str, frozenset[str]] = {
    name: frozenset((_COMMON + " " + props).split())
    for name, props in {
        "artifact": "mime_type payload_bin url hashes encryption_algorithm decryption_key",
        "autonomous-system": "number name rir",
        "directory": "path path_enc ctime mtime atime contains_refs",
        "domain-name": "value resolves_to_refs",
        "email-addr": "value display_name belongs_to_ref",
        "email-message": "is_multipart date content_type from_ref sender_ref to_refs cc_refs "
        "bcc_refs message_id subject received_lines additional_header_fields body "
        "body_multipart raw_email_ref",
        "file": "hashes size name name_enc magic_number_hex mime_type ctime mtime atime "
        "parent_directory_ref contains_refs content_ref",
        "ipv4-addr": "value resolves_to_refs belongs_to_refs",
        "ipv6-addr": "value resolves_to_refs belongs_to_refs",
        "mac-addr": "value",
        "mutex": "name",
        "network-traffic": "start end is_active src_ref dst_ref src_port dst_port protocols "
        "src_byte_count dst_byte_count src_packets dst_packets ipfix src_payload_ref "
        "dst_payload_ref encapsulates_refs encapsulated_by_ref",
        "process": "is_hidden pid created_time cwd command_line environment_variables "
        "opened_connection_refs creator_user_ref image_ref parent_ref child_refs",
        "software": "name cpe swid languages vendor version",
        "url": "value",
        "user-account": "user_id credential account_login account_type display_name "
        "is_service_account is_privileged can_escalate_privs is_disabled account_created "
        "account_expires credential_last_changed account_first_login account_last_login",
        "windows-registry-key": "key values modified_time creator_user_ref number_of_subkeys",
        "x509-certificate": "is_self_signed hashes version serial_number signature_algorithm "
        "issuer validity_not_before validity_not_after subject subject_public_key_algorithm "
        "subject_public_key_modulus subject_public_key_exponent x509_v3_extensions",
    }.items()
}

# STIX 2.1 hash-algorithm-ov, upper-cased without "-" (as the validator compares).
_HASH_RE: dict[str, str] = {
    "MD5": r"^[a-fA-F0-9]{32}$",
    "MD6": r"^[a-fA-F0-9]{32}|[a-fA-F0-9]{40}|[a-fA-F0-9]{56}|"
    r"[a-fA-F0-9]{64}|[a-fA-F0-9]{96}|[a-fA-F0-9]{128}$",
    "RIPEMD160": r"^[a-fA-F0-9]{40}$",
    "SHA1": r"^[a-fA-F0-9]{40}$",
    "SHA224": r"^[a-fA-F0-9]{56}$",
    "SHA256": r"^[a-fA-F0-9]{64}$",
    "SHA384": r"^[a-fA-F0-9]{96}$",
    "SHA512": r"^[a-fA-F0-9]{128}$",
    "SHA3224": r"^[a-fA-F0-9]{56}$",
    "SHA3256": r"^[a-fA-F0-9]{64}$",
    "SHA3384": r"^[a-fA-F0-9]{96}$",
    "SHA3512": r"^[a-fA-F0-9]{128}$",
    "SSDEEP": r"^[a-zA-Z0-9/+:.]{1,128}$",
    "WHIRLPOOL": r"^[a-fA-F0-9]{128}$",
}


def comparisons(expr: ObservationExpr) -> list[Comparison | Exists]:
    """Every comparison of a pattern, left to right."""
    out: list[Comparison | Exists] = []

    def comp(node: ComparisonExpr) -> None:
        if isinstance(node, CompoundComparison):
            comp(node.lhs)
            comp(node.rhs)
        else:
            out.append(node)

    def obs(node: ObservationExpr) -> None:
        if isinstance(node, SimpleObservation):
            comp(node.expr)
        elif isinstance(node, ObservationOp):
            obs(node.lhs)
            obs(node.rhs)
        else:
            obs(node.expr)

    obs(expr)
    return out


def _path_warnings(path: ObjectPath) -> list[str]:
    type_ = path.object_type
    props = SCO_PROPERTIES.get(type_)
    if props is None:
        if type_.startswith("x-"):
            return []
        return [f"{path.text()}: '{type_}' is not a STIX 2.1 cyber-observable type (§6)"]
    first = path.steps[0].key
    if first is None or first in props or first.startswith("x_"):
        return []
    return [f"{path.text()}: '{first}' is not a property of {type_} in STIX 2.1 (§6)"]


def _hash_errors(pattern: Pattern) -> list[str]:
    errors: list[str] = []
    for c in comparisons(pattern.root):
        if not isinstance(c, Comparison) or not isinstance(c.value, Literal):
            continue
        keys = [s.key for s in c.path.steps]
        last = c.path.steps[-1]
        if "hashes" not in keys or last.key is None:
            continue
        algo = last.key.upper().replace("-", "")
        regex = _HASH_RE.get(algo)
        value = c.value.text.replace("'", "")
        if regex is not None and not re.match(regex, value):
            errors.append(f"'{value}' is not a valid {last.key} hash")
    return errors


def _duplicate_qualifier(root: ObservationExpr) -> str | None:
    """The qualifier used twice directly on one observation expression, if any.

    The validator tracks the qualifiers met since the last ``[...]`` and forgets
    them at each ``( ... )`` group; this walks the tree in the same order.
    """
    seen: set[str] | None = None
    found: list[str] = []

    def walk(node: ObservationExpr) -> None:
        nonlocal seen
        if isinstance(node, SimpleObservation):
            seen = set()
        elif isinstance(node, Group):
            walk(node.expr)
            seen = None
        elif isinstance(node, ObservationOp):
            walk(node.lhs)
            walk(node.rhs)
        elif isinstance(node, Qualified):
            walk(node.expr)
            kind = {"START": "STARTSTOP"}.get(node.kind, node.kind)
            if seen is not None:
                if kind in seen and not found:
                    found.append(kind)
                seen.add(kind)

    walk(root)
    return found[0] if found else None


def warnings_of(pattern: Pattern) -> list[str]:
    """Semantic warnings: paths outside STIX 2.1, hash values of the wrong shape.

    Args:
        pattern: a pattern from `parse`; it stays matchable whatever the warnings.
    """
    out: list[str] = []
    for c in comparisons(pattern.root):
        for w in _path_warnings(c.path):
            if w not in out:
                out.append(w)
    out.extend(_hash_errors(pattern))
    return out


def validate(text: str) -> list[str]:
    """The OASIS validator's verdict on a pattern: ``[]`` when valid, else the errors.

    Args:
        text: the pattern's text.
    """
    try:
        pattern = parse(text)
    except PatternError as exc:
        return [exc.reason]
    errors = _hash_errors(pattern)
    dup = _duplicate_qualifier(pattern.root)
    if dup:
        errors.insert(0, f"Duplicate qualifier type encountered: {dup}")
    return errors
