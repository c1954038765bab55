"""The record Accord keeps for one object version, and :func:`prepare` that builds it."""

from __future__ import annotations

from typing import NamedTuple

import orjson

from accord.exceptions import InvalidObject
from accord.stix._observables import INDEXED_TYPES, observables
from accord.stix._timestamps import GOOD as _GOOD_TS
from accord.stix._timestamps import epoch_us, timestamp_key
from accord.stix._tlp import tlp_of_refs
from accord.stix._validate import validate

__all__ = ["Record", "prepare"]

_SORTED = orjson.OPT_SORT_KEYS
_new = tuple.__new__


class Record(NamedTuple):
    """One validated object version, ready to store.

    Attributes:
        id: the object's identifier.
        type: the object's type.
        version: the version key: ``modified`` with a nine-digit fraction, so that
            string order is version order; ``created`` when there is no
            ``modified`` (marking-definition); ``""`` when there is neither (SCOs).
        spec_version: always ``"2.1"`` (2.0 input is lifted).
        revoked: the object's ``revoked`` flag.
        data: canonical JSON bytes of the (lifted) object, keys sorted.
        observables: ``(kind, normalised value)`` pairs for the value index, deduplicated.
        notes: human notes, e.g. what lifting from 2.0 changed; usually empty.
        tlp: the strictest TLP level among ``object_marking_refs`` (a `Tlp`
            value; ``None``: no TLP marking there).
        created: ``created`` in microseconds since the epoch (`epoch_us`);
            ``None`` without a ``created`` timestamp.

    ``tlp`` and ``created`` are what a sharing agreement's ceiling and embargo
    look at: the store keeps them in columns so that a page can leave out what
    an agreement withholds for certain (see `accord.policy.Withholds`).
    """

    id: str
    type: str
    version: str
    spec_version: str
    revoked: bool
    data: bytes
    observables: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]
    tlp: int | None
    created: int | None


def prepare(obj: object, *, bundle_spec_version: str | None = None) -> Record:
    """Validate one parsed JSON object, lift it from STIX 2.0 if needed, and build its Record.

    Args:
        obj: the object as parsed by orjson (anything; only a dict can pass).
        bundle_spec_version: the ``spec_version`` of the bundle it came in, if
            any (``"2.0"`` bundles carry it; 2.1 bundles do not).

    Returns:
        The record.

    Raises:
        InvalidObject: the object breaks STIX 2.1 (object id, property, reason).
    """
    obj, oid, notes = validate(obj, bundle_spec_version)

    stamp = obj.get("modified")
    if stamp is None:
        stamp = obj.get("created")
    obj_type = obj["type"]
    created = obj.get("created")
    refs = obj.get("object_marking_refs")  # a list where present (validated)
    level = tlp_of_refs(refs) if type(refs) is list else None
    try:
        data = orjson.dumps(obj, option=_SORTED)
    except orjson.JSONEncodeError as exc:
        raise InvalidObject(oid, None, f"cannot be written as JSON: {exc}") from None
    # tuple.__new__ directly: the NamedTuple's own __new__ is a Python-level frame.
    return _new(
        Record,
        (
            oid,
            obj_type,
            (_GOOD_TS.get(stamp) or timestamp_key(stamp) or "") if type(stamp) is str else "",
            "2.1",
            obj.get("revoked") is True,
            data,
            observables(obj) if obj_type in INDEXED_TYPES else (),
            notes,
            None if level is None else int(level),
            epoch_us(created) if type(created) is str else None,
        ),
    )
