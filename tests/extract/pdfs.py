"""Small real PDFs written for the tests: a text layer, blank (scanned), encrypted, many pages."""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text layer holds ``lines`` (Helvetica, one Tj per line)."""
    ops = ["BT /F1 11 Tf 50 780 Td 14 TL"]
    for line in lines:
        esc = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"({esc}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def _write(writer: PdfWriter) -> bytes:
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def blank_pdf(pages: int = 1) -> bytes:
    """Pages with no text layer, as a scan without OCR."""
    w = PdfWriter()
    for _ in range(pages):
        w.add_blank_page(595, 842)
    return _write(w)


def encrypted_pdf(source: bytes) -> bytes:
    w = PdfWriter(clone_from=PdfReader(io.BytesIO(source)))
    w.encrypt(user_password="secret", owner_password="owner", algorithm="AES-256")
    return _write(w)


def many_pages(source: bytes, pages: int) -> bytes:
    reader = PdfReader(io.BytesIO(source))
    w = PdfWriter()
    for _ in range(pages):
        w.add_page(reader.pages[0])
    return _write(w)
