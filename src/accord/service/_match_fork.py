"""Match one log on every core: forked workers parse and probe blocks of lines, in turn.

Parsing a log line costs several times what looking its keys up in the
compiled matcher costs, and both are pure CPU work. `scan_forked` forks
``workers`` processes after the matcher is compiled (they share its pages,
copy-on-write) and gives each a share of every input: the lines are cut into
blocks of `BLOCK` lines and worker ``k`` takes blocks ``k``, ``k + W``, ...
Every worker reads the whole input (reading is cheap; parsing is not) and
parses only its own blocks, plus the lines that carry a reader's state: Zeek's
``#`` directives and a CSV header, read with scratch counts.

A worker sends back, per block, only the events some indicator's key touched
(`Matcher.wanted`): a few in a thousand. This process feeds those to the
matcher in block order, so the answers (windows, FOLLOWEDBY, counts, the events
of a hit) are exactly those of reading the file in one process: an event no
key touched changes nothing in the matcher.

Not split: JSON lines of STIX (an observed-data names SCO lines before it, which
may be in another worker's block), ``--follow``, and systems without ``fork``.
"""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import NamedTuple

from accord.exceptions import InputError
from accord.logsources import (
    MAX_MESSAGES,
    Format,
    LogParser,
    SourceStats,
    Wire,
    from_wire,
    to_wire,
)
from accord.patterns import Hit, Matcher
from accord.service import _match_files

__all__ = ["BLOCK", "fork_available", "scan_forked", "splittable"]

BLOCK = 2048  # lines per block
_SNIFF = 1000  # lines read to tell whether an input may be split

# Per block: (block number, wanted events, events, bytes of its lines).
Block = tuple[int, list[Wire], int, int]


class End(NamedTuple):
    """A worker's last message: what it counted, what stopped it, what it flagged."""

    stats: SourceStats
    error: InputError | None
    flagged: dict[str, str]


def fork_available() -> bool:
    """Whether this system can fork worker processes."""
    return "fork" in multiprocessing.get_all_start_methods()


def splittable(path: Path, fmt: Format | None, mapping: Sequence[tuple[str, str]]) -> bool:
    """Whether the lines of one input can be parsed apart (no STIX lines in its start)."""
    if fmt == "jsonl":
        return False
    stats = SourceStats()
    parser = LogParser(str(path), fmt, mapping, stats)
    try:
        with _match_files.open_log(path) as f:
            for number, raw in enumerate(f, 1):
                parser.feed(raw, number)
                if number >= _SNIFF:
                    break
    except (InputError, *_match_files.READ_ERRORS):
        return False  # read in one process, which reports what is wrong
    return not any(label.startswith("stix") for label in stats.formats)


def _before_header(parser: LogParser) -> bool:
    """Whether the parser still waits for a CSV header (after comment lines)."""
    return parser.csv is not None and not parser.csv.ready


def _worker(
    k: int,
    workers: int,
    block_lines: int,
    matcher: Matcher,
    path: Path,
    parser: LogParser,
    conn: Connection,
) -> None:
    def send(message: Block | End) -> None:
        conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    wanted = matcher.wanted
    stats = parser.stats
    scratch = SourceStats()  # counts of other workers' lines, read for the parser's state
    error: InputError | None = None
    found: list[Wire] = []
    events = size = number = 0
    try:
        try:
            with _match_files.open_log(path) as f:
                try:
                    for raw in f:
                        block, offset = divmod(number, block_lines)
                        number += 1
                        if block % workers != k:
                            if raw[:1] == b"#" or number == 1 or _before_header(parser):
                                parser.stats = scratch
                                parser.feed(raw, number)
                                parser.stats = stats
                            continue
                        size += len(raw)
                        event = parser.feed(raw, number)
                        if event is not None:
                            events += 1
                            if wanted(event):
                                found.append(to_wire(event))
                        if offset == block_lines - 1:
                            send((block, found, events, size))
                            found, events, size = [], 0, 0
                except _match_files.READ_ERRORS as exc:
                    if (number // block_lines) % workers == k:
                        parser.truncated(number + 1, _match_files.read_error(exc))
        except InputError as err:
            error = err
        block = number // block_lines
        if block % workers == k and number % block_lines:
            send((block, found, events, size))
        send(End(stats, error, dict(matcher.flagged)))
    except (BrokenPipeError, KeyboardInterrupt):  # the matching process is gone
        return
    finally:
        conn.close()


def scan_forked(
    matcher: Matcher,
    path: Path,
    parser: LogParser,
    *,
    workers: int,
    stats: SourceStats,
    on_hits: Callable[[list[Hit]], None],
    failed: list[InputError],
    tick: Callable[[int], None] | None,
    block_lines: int = BLOCK,
) -> int:
    """Match one input with ``workers`` forked workers; returns how many events it had.

    Args:
        matcher: the compiled matcher (the workers get a copy of it as it is now).
        path: an input that `splittable` allows.
        parser: a new parser for it (each worker gets a copy).
        workers: how many worker processes (2 or more).
        stats: where the input's counts go.
        on_hits: called with the hits of each event that has some.
        failed: the input is added here when it cannot be read.
        tick: called with the bytes read, now and then.
        block_lines: lines per block.

    Raises:
        InputError: a worker died.
    """
    ctx = multiprocessing.get_context("fork")
    parser.stats = SourceStats()  # each worker's own counts, added up at the end
    pipes: list[Connection] = []
    procs = []
    for k in range(workers):
        receive, send = ctx.Pipe(duplex=False)
        args = (k, workers, block_lines, matcher, path, parser, send)
        proc = ctx.Process(target=_worker, args=args, daemon=True)
        proc.start()
        send.close()
        pipes.append(receive)
        procs.append(proc)

    def receive_from(k: int) -> Block | End:
        try:
            message: Block | End = pickle.loads(pipes[k].recv_bytes())
        except EOFError:
            procs[k].join()
            raise InputError(
                str(path), f"match worker {k} died (exit code {procs[k].exitcode})"
            ) from None
        return message

    total = 0
    feed = matcher.feed
    ends: dict[int, End] = {}
    try:
        # Blocks in file order: block b from worker b % W, until a worker has no more;
        # then the others have only their ends left.
        block = 0
        while len(ends) < workers:
            k = block % workers if not ends else min(set(range(workers)) - set(ends))
            message = receive_from(k)
            if isinstance(message, End):
                ends[k] = message
                continue
            number, wanted, events, size = message
            if number != block:
                raise InputError(str(path), f"match worker {k} sent block {number}, not {block}")
            block += 1
            total += events
            stats.events += events  # as it goes, for the progress; the ends' are not added
            for wire in wanted:
                hits = feed(from_wire(wire))
                if hits:
                    on_hits(hits)
            if tick is not None and size:
                tick(size)
        for proc in procs:
            proc.join()
    finally:
        for pipe in pipes:
            pipe.close()
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
            proc.join()
    _merge(ends, stats, failed, matcher)
    return total


def _merge(ends: dict[int, End], stats: SourceStats, failed: list[InputError], m: Matcher) -> None:
    """The input's counts from every worker, its skipped lines in line order."""
    merged = SourceStats()
    skips = []
    for end in ends.values():
        part = end.stats
        skips.extend(part.skips)
        part.skips = []
        merged.merge(part)
    merged.skips = sorted(skips, key=lambda s: s.line)[:MAX_MESSAGES]
    merged.events = 0  # counted block by block already
    stats.merge(merged)
    errors = [end.error for end in ends.values() if end.error is not None]
    if errors:
        failed.append(errors[0])
    for end in ends.values():
        for indicator_id, reason in end.flagged.items():
            if indicator_id not in m.flagged:
                m.flag(indicator_id, reason)
