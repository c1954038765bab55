"""Reading log files for matching: plain and ``.gz``, whole or followed as they grow.

Lines go to a `LogParser` with their numbers. A ``.gz`` that ends early (a cut
download, a disk that filled) is counted as one truncated line where it broke,
and the lines before it are matched. ``follow`` reads a file like ``tail -F``:
it waits for complete lines (a line without its newline is kept until the rest
arrives), and when the file is rotated (the path names a new file, or the file
shrank) it finishes the old one and reopens the path from its start.
"""

from __future__ import annotations

import gzip
import os
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from accord.exceptions import InputError
from accord.logsources import LogParser
from accord.patterns import Event

__all__ = ["READ_ERRORS", "follow_file", "open_log", "read_error", "read_file"]

Tick = Callable[[int], None]  # bytes read since the last call


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == b"\x1f\x8b"


def open_log(path: Path) -> BinaryIO:
    """The file's bytes, decompressed when it is gzip (by its magic bytes, not its name).

    Raises:
        InputError: the file cannot be opened.
    """
    try:
        if _is_gzip(path):
            return gzip.open(path, "rb")  # type: ignore[return-value]
        return path.open("rb")
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from exc


# What reading an input can raise after it opened: its line is counted as truncated.
READ_ERRORS = (EOFError, zlib.error, OSError)


def read_error(exc: BaseException) -> str:
    """What went wrong when a read failed, for the truncated line's message."""
    if isinstance(exc, EOFError | zlib.error | gzip.BadGzipFile):
        return f"the compressed input ends early ({exc})"
    if isinstance(exc, OSError):
        return f"read failed: {exc.strerror or exc}"
    return str(exc)


def read_file(path: Path, parser: LogParser, tick: Tick | None = None) -> Iterator[Event]:
    """Every event of one file, start to end.

    Raises:
        InputError: the file cannot be opened.
    """
    number = 0
    pending = 0
    with open_log(path) as f:
        try:
            for raw in f:
                number += 1
                pending += len(raw)
                event = parser.feed(raw, number)
                if event is not None:
                    yield event
                if tick is not None and pending >= 1 << 20:
                    tick(pending)
                    pending = 0
        except READ_ERRORS as exc:
            parser.truncated(number + 1, read_error(exc))
    if tick is not None and pending:
        tick(pending)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def follow_file(
    path: Path,
    parser: LogParser,
    *,
    stop: Callable[[], bool],
    idle: Callable[[], None] | None = None,
    interval: float = 0.25,
    tick: Tick | None = None,
) -> Iterator[Event]:
    """Events of a growing file, until ``stop()`` is true (checked whenever no line waits).

    ``idle`` runs whenever the end of the file is reached (to flush sightings and
    look for new indicators). A rotated file is read to its end, then the new
    file at the path is read from its start (with line numbers from 1 again).

    Raises:
        InputError: the file cannot be opened (at the start), or is compressed.
    """
    try:
        compressed = _is_gzip(path)
        f = path.open("rb")
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    if compressed:
        f.close()
        raise InputError(str(path), "a compressed file cannot be followed")
    ident = (os.fstat(f.fileno()).st_dev, os.fstat(f.fileno()).st_ino)
    number = 0
    partial = b""
    try:
        while True:
            raw = f.readline()
            if raw:
                if not raw.endswith(b"\n"):
                    partial += raw
                    continue
                if partial:
                    raw, partial = partial + raw, b""
                number += 1
                if tick is not None:
                    tick(len(raw))
                event = parser.feed(raw, number)
                if event is not None:
                    yield event
                continue
            # At the end of what is written so far.
            if idle is not None:
                idle()
            now = _identity(path)
            rotated = now is not None and now != ident
            try:
                shrank = os.stat(path).st_size < f.tell() if not rotated else False
            except OSError:
                shrank = False
            if rotated or shrank:
                if partial:
                    number += 1
                    parser.truncated(number, "the file was rotated inside this line")
                    partial = b""
                f.close()
                f = path.open("rb")
                ident = (os.fstat(f.fileno()).st_dev, os.fstat(f.fileno()).st_ino)
                number = 0
                continue
            if stop():
                break
            time.sleep(interval)
    finally:
        f.close()
    if partial:
        parser.truncated(number + 1, "the file ends inside this line")
