"""STIX type names and identifiers (STIX 2.1 §2.9, §3.1, §11.2).

Decisions:

- A type name is 3 to 250 characters of ``a-z``, ``0-9`` and ``-``, starting and
  ending with a letter or digit, and never two hyphens in a row (§11.2 for custom
  objects; the predefined types all satisfy it). The ``--`` ban matters: it is
  the separator inside an identifier.
- An identifier is ``type--UUID``. §2.9 says the UUID MUST be RFC 4122 compliant
  and SHOULD be version 4 for SDOs, SROs and meta objects and version 5 for SCOs.
  We enforce the MUST only: the RFC 4122 variant (``10xx``, so the first hex
  digit of the fourth group is 8, 9, a or b) and a version from 1 to 5 (the
  versions RFC 4122 defines; the OASIS JSON schema ``identifier.json`` uses the
  same rule). The SHOULD is left to producers: MISP, OpenCTI and the ATT&CK
  pipeline all emit version 5 ids for SDOs, and refusing them would refuse
  valid STIX. Hex digits may be upper case, as in the schema (RFC 4122 §3:
  "case insensitive on input").
"""

from __future__ import annotations

import re

__all__ = [
    "CACHE_LIMIT",
    "GOOD_IDS",
    "TYPE_RE",
    "UUID_RE",
    "id_type",
    "is_identifier",
    "is_type_name",
]

# §11.2: a-z, 0-9 and hyphen; no hyphen right after another; 3-250 characters.
TYPE_RE = re.compile(r"(?=.{3,250}\Z)[a-z0-9]++(?:-[a-z0-9]++)*+\Z")

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
_ID_RE = re.compile(r"[a-z0-9]++(?:-[a-z0-9]++)*+--" + _UUID + r"\Z")
# The UUID alone, for an id whose type part is already known good.
UUID_RE = re.compile(_UUID + r"\Z")
_UUID_LEN = 38  # "--" and the 36-character UUID

# Identifiers repeat a great deal across a bundle (created_by_ref, marking refs,
# relationship ends), so a bounded cache of good ones saves a regex per ref.
GOOD_IDS: set[str] = set()
CACHE_LIMIT = 200_000


def is_type_name(value: object) -> bool:
    """Whether ``value`` is a well-formed STIX type name (§11.2)."""
    return type(value) is str and TYPE_RE.match(value) is not None


def is_identifier(value: object) -> bool:
    """Whether ``value`` is a STIX identifier ``type--UUID`` (§2.9).

    Args:
        value: anything; only a string can be an identifier.

    Returns:
        True for a well-formed type name, ``--`` and an RFC 4122 UUID (versions 1-5).
    """
    if type(value) is not str:
        return False
    if value in GOOD_IDS:
        return True
    if not 3 <= len(value) - _UUID_LEN <= 250 or _ID_RE.match(value) is None:
        return False
    if len(GOOD_IDS) >= CACHE_LIMIT:
        GOOD_IDS.clear()
    GOOD_IDS.add(value)
    return True


def id_type(value: str) -> str:
    """The type part of an identifier that :func:`is_identifier` accepted."""
    return value[: value.index("--")]
