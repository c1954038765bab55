"""Parse and prepare objects in batches, in this process or in a parser process beside it.

Reading, JSON parsing and `accord.stix.prepare` are pure CPU work that needs
nothing of the database; writing needs the store and nothing else. For a big
input the two run in two processes, so that the writer never waits for the
parser: the parser process sends prepared batches (plain tuples and bytes)
through a pipe, at most a batch ahead. Small inputs are not
worth a process start and are prepared in-process.
"""

from __future__ import annotations

import pickle
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from accord.exceptions import InputError, InvalidObject
from accord.service import _readers
from accord.service._process import from_process
from accord.stix import Record, prepare


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


# One message of the parser process: (input index, payload); payload is a
# Prepared batch, None when the input is done, or the InputError that stopped it.
Event = tuple[int, "Prepared | InputError | None"]


def events(inputs: list[_readers.Input], limits: Limits) -> Generator[Event, None, None]:
    """Every input's batches, then its end (None) or its error, in this process."""
    for index, inp in enumerate(inputs):
        try:
            for batch in prepared_batches(inp, limits):
                yield index, batch
        except InputError as err:
            yield index, err
            continue
        yield index, None


def _parser_main(inputs: list[_readers.Input], limits: Limits, conn: Connection) -> None:
    """The parser process: send every event, pickled here, then close."""
    try:
        for index, payload in events(inputs, limits):
            if isinstance(payload, Prepared):
                # Plain tuples unpickle three times faster than NamedTuples; the
                # writer only unpacks them (SqlWriter.add).
                payload.records = [tuple(r) for r in payload.records]  # type: ignore[misc]
            conn.send_bytes(pickle.dumps((index, payload), protocol=pickle.HIGHEST_PROTOCOL))
    except (BrokenPipeError, KeyboardInterrupt):  # the writer is gone: nothing to do
        return
    finally:
        conn.close()


def parallel_events(inputs: list[_readers.Input], limits: Limits) -> Generator[Event, None, None]:
    """The same events as `events`, prepared in a parser process beside this one.

    The pipe is the backpressure: the parser blocks on sending while the
    writer works on the previous batch, so it runs at most a batch ahead.

    Raises:
        InputError: the parser process died.
    """
    name = ", ".join(i.name for i in inputs[:3])
    return from_process(_parser_main, (inputs, limits), "the parser process", name)
