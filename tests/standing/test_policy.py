"""The agreement rule ``min_standing``: parsed, checked, and decided (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from accord.exceptions import AgreementInvalid
from accord.policy import Agreement, Context, Recipient, Verdict, decide, parse_agreement

BASE = 'members = ["b"]\ntlp_ceiling = "red"\n'
NOW = datetime(2027, 1, 1, tzinfo=UTC)
CTX = Context("identity--0b1d5e4c-6a43-4c8e-9b43-5c1f8b9f6a2e")
IND = {
    "type": "indicator",
    "spec_version": "2.1",
    "id": "indicator--1c2e6f5d-7b54-4d9f-8c54-6d2a9cab7b3f",
    "created": "2024-01-01T00:00:00.000Z",
    "modified": "2024-01-01T00:00:00.000Z",
    "pattern": "[ipv4-addr:value = '198.51.100.1']",
    "pattern_type": "stix",
    "valid_from": "2024-01-01T00:00:00.000Z",
}


def test_min_standing_shares_only_indicators_at_or_above_it() -> None:
    a = parse_agreement(BASE + "min_standing = 0.0\n", "a.toml", "a")
    assert isinstance(a, Agreement)
    assert a.min_standing == 0.0
    r = Recipient("b")
    assert decide(IND, a, r, CTX, NOW, standing=0.0).verdict is Verdict.SHARE
    assert decide(IND, a, r, CTX, NOW).verdict is Verdict.SHARE
    d = decide(IND, a, r, CTX, NOW, standing=-0.25)
    assert d.verdict is Verdict.WITHHOLD
    assert d.reasons == ["standing -0.25 is below the minimum +0.00"]
    # Only indicators have a standing rule: a note on it goes.
    note = {**IND, "type": "note", "id": "note--1c2e6f5d-7b54-4d9f-8c54-6d2a9cab7b3f"}
    assert decide(note, a, r, CTX, NOW, standing=-1.0).verdict is Verdict.SHARE
    strict = parse_agreement(BASE + "min_standing = 0.5\n", "s.toml", "s")
    assert isinstance(strict, Agreement)
    assert decide(IND, strict, r, CTX, NOW).verdict is Verdict.WITHHOLD


@pytest.mark.parametrize("value", ["2", "-1.5", "true", '"high"'])
def test_a_bad_min_standing_names_the_file_and_key(value: str) -> None:
    with pytest.raises(AgreementInvalid, match=r"min_standing.*from -1 to 1"):
        parse_agreement(BASE + f"min_standing = {value}\n", "bad.toml", "bad")
