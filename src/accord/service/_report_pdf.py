"""The text layer of a PDF (pypdf), bounded in pages, characters, time and memory.

pypdf is pure Python, reads encrypted files far enough to say so, and
extracts page by page, so that a limit between pages bounds the work. One
hostile page can still take long or much memory inside pypdf, so
`read_pdf` runs the extraction in a child process with an address-space
limit and kills it when the time is up: no PDF hangs the node or fills its
memory.
"""

from __future__ import annotations

import contextlib
import io
import logging
import multiprocessing
import resource
import time
from multiprocessing.connection import Connection

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


CHILD_MEMORY = 2 * 1024**3  # address space of the process that reads one PDF
_GRACE = 10.0  # seconds for the child to start and hand the text back


def _child(
    conn: Connection, data: bytes, source: str, max_pages: int, max_chars: int, seconds: float
) -> None:
    with contextlib.suppress(ValueError, OSError):  # a lower hard limit already applies
        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))
    try:
        result: object = pdf_text(
            data, source, max_pages=max_pages, max_chars=max_chars, seconds=seconds
        )
    except UnreadableDocument as exc:
        result = exc
    except MemoryError:
        result = UnreadableDocument(source, "reading the PDF needed more than 2 GiB of memory")
    conn.send(result)
    conn.close()


def read_pdf(
    data: bytes, source: str, *, max_pages: int, max_chars: int, seconds: float
) -> tuple[str, int, list[str]]:
    """`pdf_text` in a child process, killed after ``seconds`` (plus a start-up grace).

    Raises:
        UnreadableDocument: as `pdf_text`, or the child ran out of time or memory.
    """
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_child, args=(send, data, source, max_pages, max_chars, seconds), daemon=True
    )
    proc.start()
    send.close()
    try:
        if not receive.poll(seconds + _GRACE):
            raise UnreadableDocument(source, f"reading the PDF took over {seconds:g} s: stopped")
        try:
            result = receive.recv()
        except EOFError as exc:
            raise UnreadableDocument(source, "the PDF reader failed (out of memory?)") from exc
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        receive.close()
    if isinstance(result, UnreadableDocument):
        raise result
    text, pages, warnings = result
    return str(text), int(pages), list(warnings)
