"""Values: inet_aton without the socket module, timestamps, LIKE."""

from __future__ import annotations

import re
import socket

from hypothesis import given, settings
from hypothesis import strategies as st

from accord.patterns._values import inet_aton, like_to_regex, parse_timestamp


def _libc(text: str) -> int | None:
    try:
        return int.from_bytes(socket.inet_aton(text), "big")
    except (OSError, ValueError, UnicodeError):
        return None


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789.xXabfAF \t\n-", max_size=20))
def test_inet_aton_reads_what_the_c_library_reads(text: str) -> None:
    assert inet_aton(text) == _libc(text), repr(text)


def test_inet_aton_forms() -> None:
    assert inet_aton("10.1.2.3") == 0x0A010203
    assert inet_aton("0x7f.1") == 0x7F000001
    assert inet_aton("1.2.3.4 trailing") == 0x01020304
    assert inet_aton("1.256.3.4") is None
    assert inet_aton("1.2.3.4.5") is None


def test_timestamps_are_strict_about_case_and_cut_to_microseconds() -> None:
    t = parse_timestamp("2020-01-02T03:04:05.123456789Z")
    assert (t.year, t.microsecond) == (2020, 123456)
    for bad in ("2020-01-02t03:04:05Z", "2020-01-02T03:04:05", "2020-02-30T00:00:00Z"):
        try:
            parse_timestamp(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


def test_like_wildcards_and_escapes() -> None:
    regex = re.compile(like_to_regex("a%b_.c"))
    assert regex.match("aXYZbQ.c")
    assert not regex.match("aXYZbQxc")  # "." is literal in LIKE
    assert not regex.match("ab.c")  # "_" is exactly one character


def test_required_literal_of_like_and_matches() -> None:
    from accord.patterns._regex import required_literal

    assert required_literal(like_to_regex("%/resp?%")) == "/resp?"
    assert required_literal(like_to_regex("n.n.c.%.cdnmsnupdate.com")) == ".cdnmsnupdate.com"
    assert required_literal("^ev[a-z]+\\.") == "ev"
    assert required_literal("(?i)abc") is None  # case-insensitive: nothing claimed
    assert required_literal("ab|cd") is None  # an alternative: nothing required
    assert required_literal(like_to_regex("%a")) is None  # too short to be worth a test
