"""What the store may leave out of a page (`Withholds`) against `decide`.

The page query drops the rows `Withholds.row` names, by the columns a record
keeps (type, TLP level, ``created``). Each must be a version `decide` withholds,
whatever the recipient and wherever the version came from: `decide` stays the
one authority, and the rows kept still go through it.
"""

from __future__ import annotations

import copy
import uuid
from datetime import timedelta
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.policy import (
    TLP_IDS,
    Agreement,
    Origin,
    Recipient,
    Tlp,
    Verdict,
    Withholds,
    decide,
    withholds,
)
from accord.stix import prepare
from tests.policy.strategies import (
    CONTEXT,
    MEMBER_IDS,
    NOW,
    Planted,
    agreements,
    objects,
    origins,
    recipients,
)

GREEN_V1 = next(m for m, level in TLP_IDS.items() if level is Tlp.GREEN)
AMBER_V1 = next(m for m, level in TLP_IDS.items() if level is Tlp.AMBER)
MARKING = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": f"marking-definition--{uuid.UUID(int=11, version=4)}",
    "created": NOW.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    "definition_type": "statement",
    "definition": {"statement": "internal use"},
}


@st.composite
def near_the_cutoff(draw: st.DrawFn) -> Planted:
    """A generated object created within seconds of an embargo's cutoff (or not),
    some as marking definitions (which neither the ceiling nor an embargo holds)."""
    if draw(st.integers(0, 9)) == 0:
        obj = copy.deepcopy(MARKING)
        if draw(st.booleans()):
            obj["object_marking_refs"] = [AMBER_V1]
        return Planted(obj)
    planted = draw(objects)
    obj = copy.deepcopy(planted.obj)
    if "created" in obj and draw(st.booleans()):
        hours = draw(st.sampled_from([1, 24, 24 * 7]))
        millis = draw(st.integers(-2500, 2500))
        moment = NOW - timedelta(hours=hours) + timedelta(milliseconds=millis)
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        obj["created"] = obj["modified"] = stamp
        if "valid_from" in obj:
            obj["valid_from"] = stamp
    return Planted(obj, planted.secrets)


@settings(max_examples=800, suppress_health_check=[HealthCheck.too_slow])
@given(near_the_cutoff(), agreements(), recipients, origins)
def test_every_row_left_out_is_one_decide_withholds(
    planted: Planted, agreement: Agreement, recipient: Recipient, origin: Origin
) -> None:
    record = prepare(planted.obj)
    told = withholds(agreement, NOW)
    if told is None or not told.row(record.type, record.tlp, record.created):
        return
    d = decide(orjson.loads(record.data), agreement, recipient, CONTEXT, NOW, origin)
    assert d.verdict is Verdict.WITHHOLD, d.reasons


def _indicator(**extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2024-05-01T00:00:10.000Z",
        "modified": "2024-05-01T00:00:10.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2024-05-01T00:00:10.000Z",
    }
    obj.update(extra)
    return obj


def _row(told: Withholds, obj: dict[str, Any]) -> bool:
    r = prepare(obj)
    return told.row(r.type, r.tlp, r.created)


CERT_B = Recipient("cert-b", "DE", MEMBER_IDS["cert-b"])
GREEN = Agreement(
    "g",
    frozenset({"*"}),
    frozenset({"*"}),
    Tlp.GREEN,
    unmarked=Tlp.CLEAR,
    types_excluded=frozenset({"malware"}),
    embargo_hours=24,
)


def test_the_rules_the_columns_tell() -> None:
    told = withholds(GREEN, NOW)
    assert told is not None
    assert not _row(told, _indicator())
    assert not _row(told, _indicator(object_marking_refs=[GREEN_V1]))
    assert _row(told, _indicator(object_marking_refs=[AMBER_V1]))
    assert _row(told, _indicator(object_marking_refs=[GREEN_V1, AMBER_V1]))
    malware = {**_indicator(), "type": "malware", "id": f"malware--{uuid.UUID(int=1, version=4)}"}
    for key in ("pattern", "pattern_type", "valid_from"):
        del malware[key]
    assert _row(told, {**malware, "name": "x", "is_family": False})
    # Marking definitions: no ceiling and no embargo, as `decide` has it.
    assert not _row(told, {**MARKING, "object_marking_refs": [AMBER_V1]})
    # Unmarked objects count as the agreement's unmarked level.
    amber_unmarked = withholds(Agreement("a", frozenset({"*"}), frozenset(), Tlp.GREEN), NOW)
    assert amber_unmarked is not None and _row(amber_unmarked, _indicator())


def test_the_embargo_cutoff_is_decides_to_the_second() -> None:
    told = withholds(GREEN, NOW)
    assert told is not None
    # NOW - 24 h is 2024-05-31T00:00:00: created in that second is under embargo.
    for stamp, held in (
        ("2024-05-30T23:59:59.999Z", False),
        ("2024-05-31T00:00:00.000Z", True),
        ("2024-05-31T00:00:00.5000001Z", True),
        ("2024-05-30T23:59:60.999Z", False),  # a leap second, before the cutoff second
    ):
        obj = _indicator(created=stamp, modified="2024-05-31T00:00:01.000Z", valid_from=stamp)
        assert _row(told, obj) is held, stamp
        d = decide(orjson.loads(prepare(obj).data), GREEN, CERT_B, CONTEXT, NOW)
        assert (d.verdict is Verdict.WITHHOLD) is held, stamp


def test_an_agreement_the_columns_tell_nothing_of() -> None:
    everything = Agreement("e", frozenset({"*"}), frozenset(), Tlp.RED)
    assert withholds(everything, NOW) is None
    labels_only = Agreement(
        "l", frozenset({"*"}), frozenset(), Tlp.RED, labels_excluded=frozenset({"x"})
    )
    assert withholds(labels_only, NOW) is None
