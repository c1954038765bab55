"""The STIX 2.1 objects a member speaks with: notes, opinions, false-positive reports.

Each is created by the member's node identity (``created_by_ref``) with a new
UUIDv4 id and the time handed in; the service layer stores it through ingest,
which validates it like any object.
"""

from __future__ import annotations

import uuid
from typing import Any

from accord.standing._vocab import FP_LABEL, FP_PROPERTY, OPINION_VALUES, fp_reason


def _base(kind: str, author: str, now: str, object_id: str) -> dict[str, Any]:
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": f"{kind}--{uuid.uuid4()}",
        "created": now,
        "modified": now,
        "created_by_ref": author,
        "object_refs": [object_id],
    }


def make_note(author: str, object_id: str, text: str, now: str) -> dict[str, Any]:
    """A note (STIX 2.1 §4.13) on one object.

    Raises:
        ValueError: the text is empty.
    """
    if not text.strip():
        raise ValueError("a note needs some text")
    return _base("note", author, now, object_id) | {"content": text}


def make_opinion(
    author: str, object_id: str, opinion: str, now: str, explanation: str | None = None
) -> dict[str, Any]:
    """An opinion (STIX 2.1 §4.14) on one object.

    Raises:
        ValueError: ``opinion`` is not one of the five values.
    """
    if opinion not in OPINION_VALUES:
        raise ValueError(f"opinion {opinion!r}: use one of {', '.join(OPINION_VALUES)}")
    obj = _base("opinion", author, now, object_id) | {"opinion": opinion}
    if explanation:
        obj["explanation"] = explanation
    return obj


def make_false_positive(
    author: str, object_id: str, reason: str, now: str, explanation: str | None = None
) -> dict[str, Any]:
    """A false-positive report: a ``strongly-disagree`` opinion with its reason code.

    Raises:
        ValueError: the reason is not one of `FP_REASONS`.
    """
    code = fp_reason(reason)
    obj = make_opinion(author, object_id, "strongly-disagree", now, explanation or code)
    obj["labels"] = [FP_LABEL]
    obj[FP_PROPERTY] = code
    return obj
