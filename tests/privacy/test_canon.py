"""One canonical form per value, whichever way it was written."""

from __future__ import annotations

import pytest

from accord.privacy import canonical, canonical_pair, kind_of_path, oprf_input, read_value
from accord.stix._observables import observables


@pytest.mark.parametrize(
    ("kind", "written", "canon"),
    [
        ("domain-name", "Evil.Example.", "evil.example"),
        ("domain-name", "BÜCHER.example", "xn--bcher-kva.example"),
        ("domain-name", "xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("ipv4-addr", "192.0.2.1/32", "192.0.2.1"),
        ("ipv4-addr", "010.1", "8.0.0.1"),
        ("ipv4-addr", " 0xC0.0.2.1 ", "192.0.2.1"),
        ("ipv4-addr", "10.1.2.3/8", "10.0.0.0/8"),
        ("ipv6-addr", "2001:DB8:0:0::1", "2001:db8::1"),
        ("ipv6-addr", "2001:db8::1/128", "2001:db8::1"),
        ("ipv6-addr", "2001:db8::1/32", "2001:db8::/32"),
        ("url", " http://Evil.example/a?b ", "http://Evil.example/a?b"),
        ("hash", "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e"),
        ("email-addr", "Bob@Example.COM", "bob@example.com"),
        ("mac-addr", "AA-BB-CC-DD-EE-FF", "aa:bb:cc:dd:ee:ff"),
        ("windows-registry-key", "HKLM\\Software\\X", "hkey_local_machine\\software\\x"),
    ],
)
def test_canonical_forms(kind: str, written: str, canon: str) -> None:
    assert canonical(kind, written) == canon
    assert canonical(kind, canon) == canon  # idempotent


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("hash", "xyz"),
        ("hash", "abc"),
        ("ipv4-addr", "999.1.1.1"),
        ("ipv4-addr", "1.2.3.4/40"),
        ("ipv6-addr", "not-an-address"),
        ("domain-name", ""),
        ("nonsense", "x"),
        ("url", "x" * 5000),
    ],
)
def test_values_that_are_not_of_their_kind_are_refused(kind: str, value: str) -> None:
    assert canonical(kind, value) is None


def test_a_bare_value_is_read_by_its_shape() -> None:
    assert read_value("Evil.Example") == ("domain-name", "evil.example")
    assert read_value("192.0.2.1") == ("ipv4-addr", "192.0.2.1")
    assert read_value("https://x.example/p") == ("url", "https://x.example/p")
    assert read_value("just words") is None
    assert canonical_pair("url", "evil.example") == ("domain-name", "evil.example")
    assert canonical_pair("?", "198.51.100.7") == ("ipv4-addr", "198.51.100.7")


def test_the_holder_s_indicator_values_meet_the_querier_s_observations() -> None:
    """An indicator's indexed value and the same value seen in a log give one OPRF input."""
    pattern = (
        "[domain-name:value = 'Evil.EXAMPLE.']"
        " OR [file:hashes.MD5 = 'D41D8CD98F00B204E9800998ECF8427E']"
    )
    held = {
        canonical_pair(k, v)
        for k, v in observables({"type": "indicator", "pattern_type": "stix", "pattern": pattern})
    }
    seen = {
        canonical_pair(kind_of_path(p) or "", v)
        for p, v in (
            ("domain-name:value", "evil.example"),
            ("file:hashes.MD5", "d41d8cd98f00b204e9800998ecf8427e"),
        )
    }
    assert held == seen and len(held) == 2


def test_the_oprf_input_separates_kinds() -> None:
    assert oprf_input("domain-name", "a.example") != oprf_input("file-name", "a.example")
    assert oprf_input("hash", "ab") == b"hash\x00ab"
