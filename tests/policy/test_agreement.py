"""Agreement documents: parsing, and errors that name the file, the key and the fault."""

from __future__ import annotations

import pickle

import pytest

from accord.exceptions import AgreementInvalid
from accord.policy import Agreement, Inbound, Tlp, check_book, parse_agreement

RED = 'members = ["b"]\ntlp_ceiling = "red"\n'

EXAMPLE = """
members = ["cert-b", "cert-c"]
collections = ["shared"]
tlp_ceiling = "amber+strict"
unmarked_tlp = "green"
min_confidence = 40
embargo_hours = 48
attribution = "anonymous"
share_sightings = true

[types]
exclude = ["identity"]

[labels]
require = ["apt"]
exclude = ["internal"]

[jurisdiction]
EU = ["EU", "de"]

[redact]
personal = ["email", "phone"]
fields = ["x_internal_notes"]
"""


def test_a_full_agreement_parses() -> None:
    a = parse_agreement(EXAMPLE, "agreements/b.toml", "b")
    assert isinstance(a, Agreement)
    assert a.name == "b" and a.members == {"cert-b", "cert-c"}
    assert a.ceiling is Tlp.AMBER_STRICT and a.unmarked is Tlp.GREEN
    assert a.min_confidence == 40 and a.embargo_hours == 48.0
    assert a.attribution == "anonymous" and a.share_sightings
    assert a.types_excluded == {"identity"} and a.labels_required == {"apt"}
    assert a.jurisdiction == {"EU": frozenset({"EU", "DE"})}
    assert a.redact == {"email", "phone"} and a.redact_fields == ("x_internal_notes",)
    assert a.covers("cert-b", ("id-1", "shared")) == 2
    assert a.covers("cert-d", ("id-1", "shared")) == 0
    assert a.covers("cert-b", ("id-2", "other")) == 0


def test_an_inbound_agreement_parses() -> None:
    a = parse_agreement(
        'peer = "node-a"\nreshare = false\nred_recipients = ["cert-b"]', "a.toml", "a"
    )
    assert isinstance(a, Inbound)
    assert a.peer == "node-a" and not a.reshare and a.red_recipients == {"cert-b"}


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ('members = ["b"]', "tlp_ceiling", "missing"),
        ('members = ["b"]\ntlp_ceiling = "purple"', "tlp_ceiling", "no TLP level"),
        (RED + "ceiling = 1", "ceiling", "unknown key"),
        (RED + "min_confidence = 101", "min_confidence", "0 to"),
        (RED + "embargo_hours = -1", "embargo_hours", ">= 0"),
        (RED + 'attribution = "x"', "attribution", "anonymous"),
        (RED + '[types]\nallow = "A B"', "types.allow", "valid"),
        (RED + '[redact]\npersonal = ["dn"]', "redact.personal", ""),
        ('members = "b"\ntlp_ceiling = "red"\n[jurisdiction]\nEU = [1]', "jurisdiction.EU", "list"),
        ('members = []\ntlp_ceiling = "red"', "members", "no member"),
        ('tlp_ceiling = "red"', "", "either `members`"),
        ("members = [", "", "not valid TOML"),
    ],
)
def test_errors_name_the_file_and_the_key(text: str, key: str, fragment: str) -> None:
    with pytest.raises(AgreementInvalid) as info:
        parse_agreement(text, "agreements/bad.toml", "bad")
    exc = info.value
    assert exc.source == "agreements/bad.toml" and exc.key == key
    assert fragment in exc.reason
    assert str(exc).startswith("agreements/bad.toml")
    copy = pickle.loads(pickle.dumps(exc))
    assert (copy.source, copy.key, copy.reason) == (exc.source, exc.key, exc.reason)


def test_the_book_refuses_two_agreements_for_one_member_and_collection() -> None:
    one = parse_agreement('members = ["b"]\ntlp_ceiling = "red"', "one.toml", "one")
    two = parse_agreement('members = ["b", "c"]\ntlp_ceiling = "red"', "two.toml", "two")
    with pytest.raises(AgreementInvalid, match=r"already covered by one\.toml"):
        check_book([one, two])
    group = parse_agreement('members = ["*"]\ntlp_ceiling = "green"', "all.toml", "all")
    check_book([one, group])  # a named member beats "*": no clash
    with pytest.raises(AgreementInvalid, match="also the name"):
        check_book([one, parse_agreement('members = ["x"]\ntlp_ceiling = "red"', "o", "one")])
