"""The text layer of a PDF (pypdf), bounded in pages, characters and time.

pypdf is pure Python, reads encrypted files far enough to say so, and
extracts page by page, so that a limit between pages bounds the work.
"""

from __future__ import annotations

import io
import logging
import time

from pypdf import PdfReader
from pypdf.errors import PdfReadError, PyPdfError

from accord.exceptions import UnreadableDocument

# pypdf logs every repaired glitch of a real-world PDF as a warning.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def pdf_text(
    data: bytes, source: str, *, max_pages: int, max_chars: int, seconds: float
) -> tuple[str, int, list[str]]:
    """The text of a PDF's pages, the number of pages read, and warnings.

    Raises:
        UnreadableDocument: encrypted, corrupt, or no text layer (a scan).
    """
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise UnreadableDocument(source, "the PDF is encrypted: no text can be read")
        total = len(reader.pages)
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise UnreadableDocument(source, f"not a readable PDF ({exc})") from exc
    warnings: list[str] = []
    parts: list[str] = []
    chars = 0
    deadline = time.monotonic() + seconds
    read = 0
    for i in range(min(total, max_pages)):
        if time.monotonic() > deadline:
            warnings.append(f"stopped after {read} of {total} pages: over {seconds:g} s")
            break
        try:
            page = reader.pages[i].extract_text() or ""
        except Exception as exc:  # a broken page is skipped; pypdf raises many kinds
            warnings.append(f"page {i + 1} could not be read ({type(exc).__name__})")
            page = ""
        read += 1
        parts.append(page)
        chars += len(page)
        if chars > max_chars:
            warnings.append(f"stopped after {read} of {total} pages: over {max_chars:,} characters")
            break
    if total > max_pages and read == max_pages:
        warnings.append(f"read the first {max_pages} of {total} pages (ACCORD_REPORT_MAX_PAGES)")
    text = "\n\n".join(parts)
    if not text.strip():
        raise UnreadableDocument(source, f"no text layer in {total} page(s): a scan needs OCR")
    return text, read, warnings
