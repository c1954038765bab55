"""Parse and prepare objects in batches, in this process or in a parser process beside it.

Reading, JSON parsing and `accord.stix.prepare` are pure CPU work that needs
nothing of the database; writing needs the store and nothing else. For a big
input the two run in two processes, so that the writer never waits for the
parser: the parser process sends prepared batches (plain tuples and bytes)
through a bounded queue, at most a few batches ahead. Small inputs are not
worth a process start and are prepared in-process.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Iterator
from dataclasses import dataclass, field

from accord.exceptions import InputError, InvalidObject
from accord.service import _readers
from accord.stix import Record, prepare

# Batches the parser may run ahead of the writer (memory bound: QUEUE_DEPTH batches).
QUEUE_DEPTH = 4
# Seconds between liveness checks of the parser process while waiting.
_POLL = 1.0


@dataclass(slots=True)
class Prepared:
    """One batch: the valid records, what was refused, and how much was read."""

    records: list[Record] = field(default_factory=list)
    rejected: list[tuple[str, InvalidObject]] = field(default_factory=list)  # (position, error)
    bad: list[InputError] = field(default_factory=list)
    read: int = 0
    lifted: int = 0


@dataclass(frozen=True, slots=True)
class Limits:
    """What reading an input needs from the settings."""

    stream_threshold: int
    max_object: int
    batch_size: int


def prepared_batches(inp: _readers.Input, limits: Limits) -> Iterator[Prepared]:
    """Batches of prepared records of one input, in this process.

    Raises:
        InputError: the input as a whole is unreadable.
    """
    batch = Prepared()
    where = "line" if inp.lines else "object"
    items = _readers.read_items(
        inp,
        stream_threshold=limits.stream_threshold,
        max_object=limits.max_object,
        on_bad=lambda err: batch.bad.append(err),
    )
    for obj, hint, position in items:
        batch.read += 1
        try:
            rec = prepare(obj, bundle_spec_version=hint)
        except InvalidObject as err:
            batch.rejected.append((f"{where} {position}", err))
            continue
        if rec.notes:
            batch.lifted += 1
        batch.records.append(rec)
        if len(batch.records) >= limits.batch_size:
            yield batch
            batch = Prepared()
    yield batch


def _parser_main(inp: _readers.Input, limits: Limits, out: multiprocessing.Queue[object]) -> None:
    """The parser process: every batch, then None; or the InputError that stopped it."""
    try:
        for batch in prepared_batches(inp, limits):
            out.put(batch)
    except InputError as err:
        out.put(err)
        return
    out.put(None)


def parallel_batches(inp: _readers.Input, limits: Limits) -> Iterator[Prepared]:
    """The same batches as `prepared_batches`, prepared in a parser process.

    Raises:
        InputError: the input as a whole is unreadable, or the parser process died.
    """
    # spawn, not fork: the writer holds database connections and threads.
    ctx = multiprocessing.get_context("spawn")
    channel: multiprocessing.Queue[object] = ctx.Queue(maxsize=QUEUE_DEPTH)
    proc = ctx.Process(target=_parser_main, args=(inp, limits, channel), daemon=True)
    proc.start()
    try:
        while True:
            try:
                message = channel.get(timeout=_POLL)
            except queue.Empty:
                if not proc.is_alive():
                    raise InputError(
                        inp.name, f"the parser process died (exit code {proc.exitcode})"
                    ) from None
                continue
            if message is None:
                return
            if isinstance(message, InputError):
                raise message
            assert isinstance(message, Prepared)
            yield message
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join()
        channel.close()
        channel.join_thread()
