from __future__ import annotations

import pytest

from accord.extract import refang, refang_value


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("hxxp://evil[.]com/a", "http://evil.com/a"),
        ("hXXps[:]//evil(.)org", "https://evil.org"),
        ("fxp://files[dot]example", "ftp://files.example"),
        ("bad{.}net", "bad.net"),
        ("user[at]mail[.]ru", "user@mail.ru"),
        ("1.2.3[.]4", "1.2.3.4"),
        ("hxxp[://]x[.]io", "http://x.io"),
        ("evil[.com", "evil.com"),
        ("nothing to do", "nothing to do"),
        ("", ""),
    ],
)
def test_refang_rewrites_each_defanging(written: str, meant: str) -> None:
    assert refang_value(written) == meant


def test_offsets_point_back_at_the_defanged_characters() -> None:
    text = "C&C: hxxp://evil[.]com/x and 10.0.0[.]1."
    rf = refang(text)
    start = rf.text.index("http://evil.com/x")
    os, oe = rf.span(start, start + len("http://evil.com/x"))
    assert text[os:oe] == "hxxp://evil[.]com/x"
    assert rf.was_defanged(start, start + 4)
    ip = rf.text.index("10.0.0.1")
    assert text[slice(*rf.span(ip, ip + 8))] == "10.0.0[.]1"
    assert not rf.was_defanged(0, 4)
