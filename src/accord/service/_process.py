"""A producer in a second process, read as a generator: the parser process of
ingest (`_prepare.parallel_events`).

The pipe is the backpressure: the producer blocks on sending while this
process works on the previous message, so it runs at most a message ahead.
"""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Callable, Generator
from multiprocessing.connection import Connection
from typing import Any

from accord.exceptions import InputError

__all__ = ["from_process"]


def from_process(
    target: Callable[..., None], args: tuple[Any, ...], what: str, name: str
) -> Generator[Any, None, None]:
    """Run ``target(*args, send)`` in a spawned process and yield what it sends.

    Args:
        target: a module-level function that sends pickled messages on the
            connection it gets last, then returns.
        args: its other arguments (picklable).
        what: the process, for the error ("the parser process").
        name: the inputs it works on, for the error.

    Raises:
        InputError: the process died.
    """
    # spawn, not fork: this process holds database connections and threads.
    ctx = multiprocessing.get_context("spawn")
    receive: Connection
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=target, args=(*args, send), daemon=True)
    proc.start()
    send.close()
    try:
        while True:
            try:
                message = receive.recv_bytes()
            except EOFError:
                break
            yield pickle.loads(message)
        proc.join()
        if proc.exitcode != 0:
            raise InputError(name, f"{what} died (exit code {proc.exitcode})")
    finally:
        receive.close()
        if proc.is_alive():
            proc.terminate()
        proc.join()
