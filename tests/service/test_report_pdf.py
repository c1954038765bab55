"""The PDF reader's bounds: a child process that is killed when its time is up."""

from __future__ import annotations

import pytest

from accord.exceptions import UnreadableDocument
from accord.service import _report_pdf
from tests.extract.pdfs import many_pages, text_pdf


def test_text_pages_and_warnings_come_back_from_the_child() -> None:
    data = many_pages(text_pdf(["Beacon to hxxp://c2[.]example/x every hour."]), 5)
    text, pages, warnings = _report_pdf.read_pdf(
        data, "r.pdf", max_pages=3, max_chars=10**6, seconds=60
    )
    assert pages == 3 and text.count("Beacon to") == 3
    assert warnings == ["read the first 3 of 5 pages (ACCORD_REPORT_MAX_PAGES)"]


def test_a_reader_over_its_time_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    # No grace: the child cannot even start in time, so the parent stops waiting and kills it.
    monkeypatch.setattr(_report_pdf, "_GRACE", 0.0)
    data = many_pages(text_pdf(["x y z w"]), 50)
    with pytest.raises(UnreadableDocument, match=r"took over 0\.01 s: stopped"):
        _report_pdf.read_pdf(data, "slow.pdf", max_pages=50, max_chars=10**6, seconds=0.01)


def test_errors_of_the_child_are_raised_here() -> None:
    with pytest.raises(UnreadableDocument, match="not a readable PDF"):
        _report_pdf.read_pdf(b"%PDF-1.4 junk", "bad.pdf", max_pages=5, max_chars=100, seconds=30)
