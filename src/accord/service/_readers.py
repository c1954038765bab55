"""Reading STIX input: files, directories, ``.gz``, stdin; bundles, objects, JSON lines.

What a file holds is told by its content, not only its name: gzip by its magic
bytes, JSON lines by a ``.jsonl``/``.ndjson`` name or by a second document after
the first. A bundle larger than ``ACCORD_STREAM_THRESHOLD_BYTES`` is parsed as
a stream (`_iter_big_bundle`), one object at a time, so memory stays a small
multiple of the largest object instead of the whole file.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from accord.exceptions import InputError, InputTooLarge, MalformedJSON, NotStix

SUFFIXES = (".json", ".jsonl", ".ndjson")
_LINE_SUFFIXES = (".jsonl", ".ndjson")
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 4 * 1024 * 1024
# Streaming parse: beyond this many characters past a parse error, it is not truncation.
_TRUNCATION_SLACK = 64

# (object, spec_version of the enclosing bundle or None, 1-based position)
Item = tuple[Any, str | None, int]
OnBad = Callable[[InputError], None]


@dataclass(frozen=True, slots=True)
class Input:
    """One unit of input: a file (maybe gzip) or standard input spooled to a file."""

    name: str
    path: Path
    lines: bool  # named as JSON lines

    def is_gzip(self) -> bool:
        with self.path.open("rb") as f:
            return f.read(2) == _GZIP_MAGIC

    def size(self) -> int:
        """Size of the decompressed content (gzip: from its ISIZE trailer, mod 2**32)."""
        raw = self.path.stat().st_size
        if not self.is_gzip():
            return raw
        with self.path.open("rb") as f:
            f.seek(-4, os.SEEK_END)
            isize = int.from_bytes(f.read(4), "little")
        # RFC 1952 §2.3.1: ISIZE is the input size modulo 2^32.
        while isize < raw:
            isize += 1 << 32
        return isize

    def open(self) -> IO[bytes]:
        if self.is_gzip():
            return gzip.GzipFile(self.path, "rb")  # type: ignore[return-value]
        return self.path.open("rb")


def expand(paths: list[str], spool_dir: Path | None = None) -> list[Input]:
    """The inputs named by paths: files, directories (recursively, sorted), ``-`` for stdin.

    Raises:
        InputError: a path does not exist or a directory holds no STIX files.
    """
    inputs: list[Input] = []
    for p in paths:
        if p == "-":
            inputs.append(_spool_stdin(spool_dir))
            continue
        path = Path(p)
        if path.is_dir():
            found = sorted(
                f
                for f in path.rglob("*")
                if f.is_file()
                and not any(part.startswith(".") for part in f.relative_to(path).parts)
                and _stem_suffix(f) in SUFFIXES
            )
            if not found:
                raise InputError(p, f"no {', '.join(SUFFIXES)} (or .gz) files in this directory")
            inputs.extend(_file_input(f) for f in found)
        elif path.is_file():
            inputs.append(_file_input(path))
        else:
            raise InputError(p, "no such file or directory")
    return inputs


def _stem_suffix(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return Path(name).suffix


def _file_input(path: Path) -> Input:
    return Input(str(path), path, _stem_suffix(path) in _LINE_SUFFIXES)


def _spool_stdin(spool_dir: Path | None) -> Input:
    # Standard input is copied to a temporary file once, so that it is read
    # like any file (sniffed, streamed when large) and never held in memory.
    fd, name = tempfile.mkstemp(prefix="accord-stdin-", suffix=".json", dir=spool_dir)
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(sys.stdin.buffer, out, _CHUNK)
    return Input("<stdin>", Path(name), False)


def read_items(
    inp: Input, *, stream_threshold: int, max_object: int, on_bad: OnBad
) -> Iterator[Item]:
    """The STIX objects of one input, in order.

    A malformed JSON line is passed to ``on_bad`` and skipped; a malformed
    document raises, since nothing in it can be trusted.

    Raises:
        MalformedJSON, NotStix, InputTooLarge: the input as a whole is unusable.
    """
    if inp.lines:
        yield from _iter_lines(inp, on_bad)
        return
    if inp.size() > stream_threshold:
        if _looks_like_lines(inp):
            yield from _iter_lines(inp, on_bad)
        else:
            yield from _iter_big_bundle(inp, max_object)
        return
    with inp.open() as f:
        data = f.read()
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if exc.msg.startswith("unexpected content after document"):
            yield from _iter_lines(inp, on_bad)
            return
        raise _malformed(inp.name, data, exc) from exc
    del data
    yield from _document_items(inp.name, doc)


def _document_items(name: str, doc: Any) -> Iterator[Item]:
    if isinstance(doc, list):
        for i, obj in enumerate(doc, 1):
            yield obj, None, i
        return
    if not isinstance(doc, dict) or not isinstance(doc.get("type"), str):
        raise NotStix(name, "expected a STIX bundle, a STIX object or a list of objects")
    if doc["type"] != "bundle":
        yield doc, None, 1
        return
    objects = doc.get("objects", [])
    if not isinstance(objects, list):
        raise NotStix(name, "the bundle's 'objects' is not a list")
    hint = doc.get("spec_version") if isinstance(doc.get("spec_version"), str) else None
    for i, obj in enumerate(objects, 1):
        yield obj, hint, i


def _iter_lines(inp: Input, on_bad: OnBad) -> Iterator[Item]:
    offset = 0
    with inp.open() as f:
        for lineno, line in enumerate(f, 1):
            start = offset
            offset += len(line)
            if not line.strip():
                continue
            try:
                doc = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                err = _malformed(inp.name, line, exc)
                on_bad(
                    MalformedJSON(
                        inp.name, err.reason, offset=start + (err.offset or 0), line=lineno
                    )
                )
                continue
            if isinstance(doc, dict) and doc.get("type") == "bundle":
                for obj, hint, _ in _document_items(inp.name, doc):
                    yield obj, hint, lineno
            else:
                yield doc, None, lineno


def _looks_like_lines(inp: Input) -> bool:
    with inp.open() as f:
        first = f.readline(1024 * 1024)
    try:
        doc = orjson.loads(first)
    except orjson.JSONDecodeError:
        return False
    return isinstance(doc, dict) and doc.get("type") != "bundle"


def _malformed(name: str, data: bytes, exc: orjson.JSONDecodeError) -> InputError:
    """A MalformedJSON with the byte offset (orjson reports a character offset)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as bad:
        return MalformedJSON(name, f"not UTF-8 ({bad.reason})", offset=bad.start)
    offset = len(text[: exc.pos].encode("utf-8"))
    if exc.msg.startswith("depth limit"):
        return InputTooLarge(name, "JSON nested too deeply (over 1024 levels)", offset=offset)
    return MalformedJSON(name, exc.msg, offset=offset)


class _Stream:
    """A text buffer over a binary stream, refilled in chunks, with byte offsets."""

    def __init__(self, name: str, raw: IO[bytes]) -> None:
        import codecs

        self.name = name
        self.raw = raw
        self.decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self.buf = ""
        self.pos = 0  # index into buf
        self.consumed_bytes = 0  # bytes of input before buf[0]
        self.eof = False

    def fill(self, want: int = _CHUNK) -> bool:
        """Read at least one more chunk (``want`` characters or more); False at the end."""
        if self.eof:
            return False
        chunk = self.raw.read(max(_CHUNK, want))
        final = not chunk
        try:
            text = self.decoder.decode(chunk, final=final)
        except UnicodeDecodeError as exc:
            offset = self.byte_offset(len(self.buf)) + exc.start
            raise MalformedJSON(self.name, f"not UTF-8 ({exc.reason})", offset=offset) from exc
        # Drop what was parsed already so memory stays one object plus a chunk.
        self.consumed_bytes += len(self.buf[: self.pos].encode("utf-8"))
        self.buf = self.buf[self.pos :] + text
        self.pos = 0
        self.eof = final
        return bool(text)

    def byte_offset(self, index: int) -> int:
        return self.consumed_bytes + len(self.buf[:index].encode("utf-8"))

    def skip_ws(self) -> str:
        """The next non-blank character (not consumed), or '' at the end."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.fill():
                return ""

    def expect(self, chars: str) -> str:
        c = self.skip_ws()
        if not c or c not in chars:
            found = repr(c) if c else "end of input"
            raise MalformedJSON(
                self.name,
                f"expected one of {chars!r}, found {found}",
                offset=self.byte_offset(self.pos),
            )
        self.pos += 1
        return c


def _too_large(name: str, max_object: int, offset: int) -> InputTooLarge:
    reason = f"an object is larger than {max_object} bytes (ACCORD_MAX_OBJECT_BYTES)"
    return InputTooLarge(name, reason, offset=offset)


def _iter_big_bundle(inp: Input, max_object: int) -> Iterator[Item]:
    """Stream the objects of a bundle too big to parse whole."""
    decoder = json.JSONDecoder()
    with inp.open() as raw:
        st = _Stream(inp.name, raw)

        def value() -> Any:
            # raw_decode does not skip leading blanks.
            st.skip_ws()
            while True:
                start = st.pos
                try:
                    obj, end = decoder.raw_decode(st.buf, start)
                except json.JSONDecodeError as exc:
                    truncated = (
                        exc.msg.startswith("Unterminated string")
                        or exc.pos >= len(st.buf) - _TRUNCATION_SLACK
                    )
                    if truncated and not st.eof:
                        if len(st.buf) - st.pos > max_object:
                            raise _too_large(inp.name, max_object, st.byte_offset(start)) from exc
                        # Grow geometrically: a 50 MB object costs a few re-parses.
                        st.fill(len(st.buf) - st.pos)
                        continue
                    raise MalformedJSON(inp.name, exc.msg, offset=st.byte_offset(exc.pos)) from exc
                except RecursionError as exc:
                    raise InputTooLarge(
                        inp.name, "JSON nested too deeply", offset=st.byte_offset(start)
                    ) from exc
                if end >= len(st.buf) and not st.eof:
                    # A number at the very end might continue in the next chunk.
                    st.fill()
                    continue
                if end - start > max_object:
                    raise _too_large(inp.name, max_object, st.byte_offset(start))
                st.pos = end
                return obj

        st.expect("{")
        hint: str | None = None
        index = 0
        first = True
        while True:
            if st.skip_ws() == "}":
                st.pos += 1
                break
            if not first:
                st.expect(",")
            first = False
            st.skip_ws()
            key = value()
            st.expect(":")
            if key != "objects":
                v = value()
                if key == "spec_version" and isinstance(v, str):
                    hint = v
                if key == "type" and v != "bundle":
                    raise NotStix(inp.name, "a file this large must be a STIX bundle or JSON lines")
                continue
            st.expect("[")
            if st.skip_ws() == "]":
                st.pos += 1
                continue
            while True:
                st.skip_ws()
                index += 1
                yield value(), hint, index
                if st.expect(",]") == "]":
                    break
        if st.skip_ws():
            raise MalformedJSON(
                inp.name, "unexpected content after the bundle", offset=st.byte_offset(st.pos)
            )
