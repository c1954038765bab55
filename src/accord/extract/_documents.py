"""Documents to text: plain text, Markdown, AsciiDoc and HTML, with bounds.

HTML goes through selectolax (the Lexbor engine): it parses megabytes in
milliseconds, and dropping ``script``/``style`` nodes leaves no inline data in
the text. PDF needs a file-like stream, so its text layer is read by the
service (`accord.service._report_pdf`, pypdf) and handed here as text.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

from accord.exceptions import InputTooLarge, UnreadableDocument

MAX_CHARS = 4_000_000  # text read per document; the rest is cut with a warning
_DROP = "script, style, noscript, template, svg, canvas, object, embed, iframe, head"
_BLOCK = "p, div, li, tr, br, pre, blockquote, table, section, article, dd, dt"
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def kind_of(data: bytes, name: str = "", content_type: str | None = None) -> str:
    """``pdf``, ``html`` or ``text``, from the bytes first and the name or type second."""
    head = data[:1024].lstrip().lower()
    if data.startswith(b"%PDF-") or (content_type or "").startswith("application/pdf"):
        return "pdf"
    if head.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<body" in head:
        return "html"
    ct = (content_type or "").lower()
    if "html" in ct or name.lower().endswith((".html", ".htm", ".xhtml")):
        return "html"
    return "text"


def decode(data: bytes, source: str) -> str:
    """Bytes of a text document as str; binary bytes are refused, not read as text.

    Raises:
        UnreadableDocument: NUL bytes, control characters or invalid UTF-8 in
            a share that says the file is not text.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", errors="replace")
    else:
        text = data.decode("utf-8-sig", errors="replace")
    sample = text[:65536]
    if not sample:
        return ""
    bad = sample.count("\ufffd") + len(_CONTROL.findall(sample))
    if "\x00" in sample or bad > max(8, len(sample) // 100):
        raise UnreadableDocument(source, "binary data, not text (NUL or control bytes)")
    return text


def html_text(html: str) -> str:
    """The readable text of an HTML page: no scripts, styles or inline data; headings kept
    as Markdown headings, so that sections ("Mutexes", "C&C servers") still announce
    what they list."""
    tree = LexborHTMLParser(html)
    for node in tree.css(_DROP):
        node.decompose()
    for level in range(1, 7):
        for node in tree.css(f"h{level}"):
            node.insert_before(f"\n{'#' * level} ")
            node.insert_after("\n")
    for node in tree.css(_BLOCK):
        node.insert_after("\n")
    root = tree.body or tree.root
    text = root.text(separator="") if root is not None else ""
    # Collapse runs of blank lines and trailing spaces; keep line structure.
    lines = (" ".join(line.split()) for line in text.splitlines())
    out: list[str] = []
    for line in lines:
        if line.startswith("#") and out and out[-1] != "":
            out.append("")
        if line or (out and out[-1] != ""):
            out.append(line)
    return "\n".join(out).strip()


def document_text(
    data: bytes, source: str, *, kind: str, max_bytes: int, max_chars: int = MAX_CHARS
) -> tuple[str, list[str]]:
    """The text of a text or HTML document, cut to ``max_chars``, with warnings.

    Raises:
        InputTooLarge: over ``max_bytes``.
        UnreadableDocument: binary data, or no text at all.
    """
    if len(data) > max_bytes:
        raise InputTooLarge(source, f"{len(data):,} bytes, over the limit of {max_bytes:,}")
    text = decode(data, source)
    if kind == "html":
        text = html_text(text)
    return bounded(text, source, max_chars)


def bounded(text: str, source: str, max_chars: int = MAX_CHARS) -> tuple[str, list[str]]:
    """Cut a text to the limit; refuse one with nothing to read."""
    warnings: list[str] = []
    if len(text) > max_chars:
        warnings.append(
            f"text of {len(text):,} characters cut to the first {max_chars:,}"
            " (ACCORD_REPORT_MAX_CHARS)"
        )
        text = text[:max_chars]
    if not text.strip():
        raise UnreadableDocument(source, "no text to read")
    return text, warnings
