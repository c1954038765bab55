"""The screen (verdicts from a stored version's columns and bytes) against `decide`.

Whatever the screen settles must be what `decide` gives the parsed object: a
version it shares goes as stored (so `decide` must share it unchanged), a
version it withholds `decide` withholds, and a version it finds only the text
transforms may change goes as `Screen.outgoing` makes it: byte for byte
`decide`'s copy, or as stored where `decide` shares it unchanged. What it
cannot settle it leaves to `decide` (None), which is always allowed.
"""

from __future__ import annotations

import copy
import ipaddress
import uuid
from datetime import timedelta
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.policy import TLP_IDS, Agreement, Recipient, Screen, Tlp, Verdict, decide
from accord.policy._redact import _INTERNAL, is_internal_address, might_redact
from accord.stix import parse_timestamp, prepare
from tests.policy.strategies import (
    CONTEXT,
    MEMBER_IDS,
    NOW,
    STIX_TIME,
    Planted,
    agreements,
    lenient_agreements,
    objects,
    planted_text,
    recipients,
)

AMBER_V1 = next(m for m, level in TLP_IDS.items() if level is Tlp.AMBER)


@st.composite
def stored(draw: st.DrawFn) -> Planted:
    """A generated object as the store keeps it, some with decoys for the byte tests:
    labels, TLP ids and personal references where no rule looks (a nested property)."""
    planted = draw(objects)
    obj = copy.deepcopy(planted.obj)
    if "created" in obj and draw(st.booleans()):
        # Modified later than created: the embargo is tested on the version column.
        later = parse_timestamp(obj["created"]) + timedelta(hours=draw(st.integers(1, 24 * 40)))
        obj["modified"] = later.strftime(STIX_TIME)
    if "created" in obj and draw(st.booleans()):
        obj["external_references"] = [
            {
                "source_name": draw(st.sampled_from(["internal", "apt", "ics"])),
                "description": draw(
                    st.sampled_from(
                        [
                            f"see {AMBER_V1}",
                            f"about email-addr--{uuid.UUID(int=5, version=4)}",
                            "labels: internal",
                            "built 2024-05-01T10:10:10.123Z",
                        ]
                    )
                ),
            }
        ]
    return Planted(obj, planted.secrets)


@st.composite
def screened_agreements(draw: st.DrawFn) -> Agreement:
    """Agreements of the rules the screen settles (ceiling, types, labels, embargo,
    redaction, attribution), so that most versions are settled, not left to `decide`."""
    types = ["indicator", "malware", "note", "sighting", "ipv4-addr"]
    return Agreement(
        name="s",
        members=frozenset({"*"}),
        collections=frozenset({"*"}),
        ceiling=draw(st.sampled_from(list(Tlp))),
        unmarked=draw(st.sampled_from(list(Tlp))),
        types_allowed=draw(st.just(frozenset()) | st.frozensets(st.sampled_from(types))),
        types_excluded=draw(st.frozensets(st.sampled_from(types), max_size=2)),
        labels_required=draw(st.just(frozenset()) | st.just(frozenset({"apt"}))),
        labels_excluded=draw(st.frozensets(st.sampled_from(["internal", "apt"]), max_size=2)),
        embargo_hours=draw(st.sampled_from([0, 1, 24, 24 * 7, 24 * 20])),
        attribution=draw(st.sampled_from(["node", "anonymous"])),
        redact=draw(st.frozensets(st.sampled_from(["email", "internal-address", "phone"]))),
    )


def _quick_and_slow(
    page: list[Planted], agreement: Agreement, recipient: Recipient
) -> list[tuple[Verdict | None, Verdict, bytes, bytes | None]]:
    """(the screen's verdict, decide's, the stored bytes, decide's copy) per version.

    Where the screen says SHARE_REDACTED, its verdict is checked here against
    `decide`'s with the bytes `outgoing` makes, and given as `decide`'s own.
    """
    records = [prepare(p.obj) for p in page]
    screen = Screen(agreement, recipient, CONTEXT, NOW)
    quick = screen.verdicts(
        [r.type for r in records], [r.version for r in records], [r.data for r in records]
    )
    out = []
    for r, q in zip(records, quick, strict=True):
        text = r.data.decode()
        d = decide(orjson.loads(text), agreement, recipient, CONTEXT, NOW, None, text, False)
        if q is Verdict.SHARE_REDACTED:
            sent = screen.outgoing(r.data)
            if sent is None:
                assert d.verdict is Verdict.SHARE and d.data is None
                q = Verdict.SHARE
            else:
                assert d.verdict is Verdict.SHARE_REDACTED and sent == d.data
        out.append((q, d.verdict, r.data, d.data))
    return out


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(stored(), min_size=1, max_size=6),
    st.one_of(screened_agreements(), screened_agreements(), agreements(), lenient_agreements()),
    recipients,
)
def test_the_screen_gives_the_verdicts_of_decide(
    page: list[Planted], agreement: Agreement, recipient: Recipient
) -> None:
    for quick, slow, _, _ in _quick_and_slow(page, agreement, recipient):
        if quick is not None:
            assert quick is slow


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(stored(), min_size=1, max_size=6), lenient_agreements(), recipients)
def test_what_the_screen_shares_goes_as_stored(
    page: list[Planted], agreement: Agreement, recipient: Recipient
) -> None:
    # Under a lenient agreement redaction decides: a shared version is not rewritten,
    # and holds none of the planted values its transforms would take out.
    text_kinds = agreement.redact & {"email", "phone", "internal-address", "profile-path"}
    results = _quick_and_slow(page, agreement, recipient)
    for planted, (quick, slow, data, copy_data) in zip(page, results, strict=True):
        if quick is Verdict.SHARE:
            assert slow is Verdict.SHARE and copy_data is None
            for kind in text_kinds & planted.secrets.keys():
                for value in planted.secrets[kind]:
                    assert value.encode() not in data


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    planted_text({}),
    st.frozensets(st.sampled_from(["email", "internal-address", "phone"]), min_size=1),
)
def test_the_screen_leaves_to_decide_what_redaction_changes(
    text: str, kinds: frozenset[str]
) -> None:
    agreement = Agreement(
        "r", frozenset({"*"}), frozenset({"*"}), Tlp.RED, unmarked=Tlp.CLEAR, redact=kinds
    )
    [(quick, slow, _, _)] = _quick_and_slow(
        [Planted(_indicator(description=text))], agreement, CERT_B
    )
    assert quick is None or quick is slow


def _indicator(**extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2019-05-01T00:00:10.000Z",
        "modified": "2019-05-01T00:00:10.000Z",
        "name": "c2",
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2019-05-01T00:00:10.000Z",
    }
    obj.update(extra)
    return obj


GREEN = Agreement(
    "g",
    frozenset({"*"}),
    frozenset({"*"}),
    Tlp.GREEN,
    unmarked=Tlp.CLEAR,
    labels_excluded=frozenset({"scanner"}),
    embargo_hours=24,
    redact=frozenset({"email", "internal-address"}),
)
CERT_B = Recipient("cert-b", "DE", MEMBER_IDS["cert-b"])


def _one(obj: dict[str, Any], agreement: Agreement = GREEN) -> Verdict | None:
    r = prepare(obj)
    return Screen(agreement, CERT_B, CONTEXT, NOW).verdict(r.type, r.version, r.data)


def test_plain_versions_are_settled_without_a_parse() -> None:
    assert _one(_indicator()) is Verdict.SHARE
    assert _one(_indicator(object_marking_refs=[AMBER_V1])) is Verdict.WITHHOLD
    assert _one(_indicator(labels=["scanner"])) is Verdict.WITHHOLD
    # Redaction of the text alone: `outgoing` makes the copy.
    assert _one(_indicator(description="from 10.20.30.40")) is Verdict.SHARE_REDACTED
    assert _one(_indicator(description="mail bob@corp.example")) is Verdict.SHARE_REDACTED
    for v6 in ("fd12:abcd::17", "::1", "fe80:1:2:3:4:5:6:7"):
        assert _one(_indicator(description=f"beacon to {v6} seen")) is Verdict.SHARE_REDACTED
    # An escape in the text, or a reference that leaves the copy: `decide` redacts.
    assert _one(_indicator(description="a\nbob@corp.example")) is None
    ref = _indicator(description="bob@corp.example", x_ref=f"email-addr--{uuid.UUID(int=3)}")
    assert _one(ref) is None
    recent = (NOW - timedelta(hours=2)).strftime(STIX_TIME)
    assert _one(_indicator(created=recent, modified=recent)) is Verdict.WITHHOLD
    malware = {
        "type": "malware",
        "spec_version": "2.1",
        "id": "malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2019-05-01T00:00:10.000Z",
        "modified": "2019-05-01T00:00:10.000Z",
        "name": "loader",
        "is_family": True,
    }
    assert _one(malware) is Verdict.SHARE
    no_malware = Agreement(
        "x", frozenset({"*"}), frozenset({"*"}), Tlp.RED, types_excluded=frozenset({"malware"})
    )
    assert _one(malware, no_malware) is Verdict.WITHHOLD


def test_decoys_outside_the_rules_properties_are_left_to_decide() -> None:
    decoy = [{"source_name": "scanner", "description": f"not {AMBER_V1}"}]
    assert _one(_indicator(external_references=decoy)) is None


def test_another_spelling_of_the_text_is_left_to_decide() -> None:
    r = prepare(_indicator(labels=["scanner"]))
    respelled = r.data.replace(b'"scanner"', b'"sc\\u0061nner"')
    assert orjson.loads(respelled) == orjson.loads(r.data)
    screen = Screen(GREEN, CERT_B, CONTEXT, NOW)
    assert screen.verdict(r.type, r.version, respelled) is None


def test_outgoing_makes_decides_copy_and_nothing_where_decide_changes_nothing() -> None:
    screen = Screen(GREEN, CERT_B, CONTEXT, NOW)
    r = prepare(_indicator(description="mail bob@corp.example from 10.1.2.3, see 10.1.2.300"))
    assert screen.verdict(r.type, r.version, r.data) is Verdict.SHARE_REDACTED
    sent = screen.outgoing(r.data)
    assert sent is not None and b"bob@" not in sent and b"10.1.2.3," not in sent
    assert orjson.loads(sent)["description"] == (
        "mail [redacted-email] from [redacted-address], see 10.1.2.300"
    )
    text = r.data.decode()
    d = decide(orjson.loads(text), GREEN, CERT_B, CONTEXT, NOW, None, text, False)
    assert d.data == sent
    # Something like an address, that is none: shared as stored.
    plain = prepare(_indicator(description="build 10.1.2.300 @ noon"))
    assert screen.verdict(plain.type, plain.version, plain.data) is Verdict.SHARE_REDACTED
    assert screen.outgoing(plain.data) is None


def test_a_copy_whose_property_name_is_redacted_is_written_again_in_order() -> None:
    # An address in a name of a custom dictionary: the name changes and sorts elsewhere
    # ("[" after "5"), so the copy is written again, keys sorted, as `decide` writes it.
    screen = Screen(GREEN, CERT_B, CONTEXT, NOW)
    r = prepare(_indicator(x_seen={"10.1.2.3": "bob@corp.example", "5-later": "x"}))
    assert b'{"10.1.2.3":"bob@corp.example","5-later":"x"}' in r.data
    assert screen.verdict(r.type, r.version, r.data) is Verdict.SHARE_REDACTED
    sent = screen.outgoing(r.data)
    text = r.data.decode()
    d = decide(orjson.loads(text), GREEN, CERT_B, CONTEXT, NOW, None, text, False)
    assert sent is not None and sent == d.data
    assert b'{"5-later":"x","[redacted-address]":"[redacted-email]"}' in sent


def test_a_timestamp_is_no_internal_address() -> None:
    # "…:10.558Z" starts like 10.0.0.0/8: only a dotted quad is looked at.
    text = '{"created":"2024-05-01T00:00:10.558Z","description":"x"}'
    assert not might_redact(text, frozenset({"internal-address"}))
    assert might_redact(text.replace('"x"', '"at 10.1.2.3"'), frozenset({"internal-address"}))
    # A string's escapes stand before the address in the JSON text: still found.
    assert might_redact('{"d":"a\\n10.1.2.3"}', frozenset({"internal-address"}))
    assert not might_redact('{"d":"at 10.1.2.300"}', frozenset({"internal-address"}))


def test_an_address_after_an_escape_is_redacted_not_the_escape() -> None:
    # JSON text "line1\nbob@corp.example": the "n" of the escape is no part of the address.
    r = prepare(_indicator(description="line1\nbob@corp.example"))
    text = r.data.decode()
    d = decide(orjson.loads(text), GREEN, CERT_B, CONTEXT, NOW, None, text, False)
    assert d.verdict is Verdict.SHARE_REDACTED and d.data is not None
    assert orjson.loads(d.data)["description"] == "line1\n[redacted-email]"
    assert b"bob@" not in d.data


def _by_ipaddress(text: str) -> bool:
    try:
        addr = ipaddress.ip_address(text.split("/", 1)[0].split("%", 1)[0])
    except ValueError:
        return False
    return any(addr.version == n.version and addr in n for n in _INTERNAL)


@given(
    st.lists(
        st.one_of(
            st.integers(0, 300).map(str),
            st.sampled_from(["10", "127", "192", "168", "172", "16", "31", "32", "169", "254"]),
            st.sampled_from(["00", "010", "0", "1000", "", "x", "٣"]),
        ),
        min_size=3,
        max_size=5,
    ),
    st.sampled_from(["", "/8", "/33", "%eth0"]),
)
def test_internal_quads_are_told_as_ipaddress_tells_them(octets: list[str], tail: str) -> None:
    text = ".".join(octets) + tail
    assert is_internal_address(text) == _by_ipaddress(text)
