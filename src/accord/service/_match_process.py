"""Parse logs in a parser process beside the matching one (``scan(parallel=True)``).

Reading and parsing log lines is pure CPU work; so is matching. Here the two
run in two processes (as import does, `_prepare`): the parser process sends
events in batches, as plain tuples (`accord.logsources.to_wire`) pickled
through a pipe, and the matching process rebuilds them and feeds the matcher.
The pipe is the backpressure: the parser runs at most a batch or two ahead.

`accord match` does not use it: bench/match.py measures it against parsing in
the matching process, and it has been slower every time (an event costs about
half its parsing to cross the pipe). It stays for that measurement, and for
matchers heavy enough that the trade turns.
"""

from __future__ import annotations

import pickle
from collections.abc import Generator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path

from accord.exceptions import InputError
from accord.logsources import Format, LogParser, SourceStats, Wire, to_wire
from accord.service import _match_files
from accord.service._process import from_process

__all__ = ["BATCH", "Message", "parallel_batches"]

BATCH = 4096  # events per message

# (input index, payload): a batch of events, bytes read since the last message,
# then at the end of each input its SourceStats, or the InputError that stopped it.
Message = tuple[int, list[Wire] | int | SourceStats | InputError]


def _parser_main(
    paths: list[Path],
    fmt: Format | None,
    mapping: list[tuple[str, str]],
    default_time: float,
    conn: Connection,
) -> None:
    def send(message: Message) -> None:
        conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    try:
        for index, path in enumerate(paths):
            stats = SourceStats()
            parser = LogParser(str(path), fmt, mapping, stats, default_time=default_time)
            batch: list[Wire] = []
            read = 0

            def tick(n: int) -> None:
                nonlocal read
                read += n

            try:
                for event in _match_files.read_file(path, parser, tick):
                    batch.append(to_wire(event))
                    if len(batch) >= BATCH:
                        send((index, batch))
                        batch = []
                        if read:
                            send((index, read))
                            read = 0
            except InputError as err:
                send((index, err))
                continue
            if batch:
                send((index, batch))
            send((index, read))
            send((index, stats))
    except (BrokenPipeError, KeyboardInterrupt):  # the matching process is gone
        return
    finally:
        conn.close()


def parallel_batches(
    paths: Sequence[Path],
    fmt: Format | None,
    mapping: Sequence[tuple[str, str]],
    default_time: float,
) -> Generator[Message, None, None]:
    """The events of every input, parsed in a parser process, in batches.

    Raises:
        InputError: the parser process died.
    """
    args = (list(paths), fmt, list(mapping), default_time)
    name = ", ".join(str(p) for p in paths[:3])
    return from_process(_parser_main, args, "the log parser process", name)
