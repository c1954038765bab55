from __future__ import annotations

import pytest

from accord.exceptions import InputTooLarge, UnreadableDocument
from accord.extract._documents import document_text, html_text, kind_of


def test_html_keeps_prose_and_headings_and_drops_scripts_and_inline_data() -> None:
    blob = "A" * 3_000_000
    html = (
        "<html><head><style>p{}</style></head><body><script>var c2='decoy[.]com';</script>"
        f"<h2>C&amp;C servers</h2><ul><li><code>evil[.]com</code></li></ul>"
        f'<img src="data:image/png;base64,{blob}"><p>It uses <b>PowerShell</b>.</p></body></html>'
    )
    text = html_text(html)
    assert text.splitlines()[0] == "## C&C servers"
    assert "evil[.]com" in text and "It uses PowerShell." in text
    assert "decoy" not in text and "AAAA" not in text


def test_kinds_from_bytes_first() -> None:
    assert kind_of(b"%PDF-1.7 ...", "x.txt") == "pdf"
    assert kind_of(b"<!DOCTYPE html><html>", "x.txt") == "html"
    assert kind_of(b"plain", "notes.md") == "text"
    assert kind_of(b"plain", "page.htm") == "html"


def test_binary_with_a_text_extension_is_refused() -> None:
    data = bytes(range(256)) * 100
    with pytest.raises(UnreadableDocument, match="binary data"):
        document_text(data, "report.txt", kind="text", max_bytes=10**6)


def test_limits() -> None:
    with pytest.raises(InputTooLarge, match="over the limit"):
        document_text(b"x" * 101, "r.txt", kind="text", max_bytes=100)
    text, warnings = document_text(
        b"evil[.]com " * 100, "r.txt", kind="text", max_bytes=10**6, max_chars=50
    )
    assert len(text) == 50 and "cut to the first 50" in warnings[0]
    with pytest.raises(UnreadableDocument, match="no text"):
        document_text(b"   \n ", "r.txt", kind="text", max_bytes=100)


def test_utf16_and_other_scripts_decode() -> None:
    data = "Сервер: evil[.]ru".encode("utf-16")
    text, _ = document_text(data, "r.txt", kind="text", max_bytes=10**6)
    assert text == "Сервер: evil[.]ru"
