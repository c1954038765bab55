"""Background jobs on their own intervals: the peers' syncs and the feeds' pulls.

`Scheduler` runs each named job (a peer, a feed) every ``interval`` seconds of
its own, each run in a thread of its own: a job that hangs holds only its thread
(the clients' timeouts cut it off), the others keep their schedule, and a job
whose last run has not ended is not started again. Jobs added or removed while
it runs are seen within ``tick`` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from accord.exceptions import AccordError
from accord.service.node import Node, open_node
from accord.settings import Settings

log = logging.getLogger("accord.schedule")


class Summarised(Protocol):
    def summary(self) -> str: ...


R = TypeVar("R", bound=Summarised)


class Scheduler(Generic[R]):
    """Runs ``run(node, name)`` for each ``(name, interval)`` of ``jobs(node)``.

    Args:
        what: the jobs' kind, for thread names and logs ("sync", "feed").
        on_report: called with each run's report (tests, the console).
    """

    def __init__(
        self,
        settings: Settings,
        what: str,
        jobs: Callable[[Node], list[tuple[str, float]]],
        run: Callable[[Node, str], R],
        *,
        tick: float = 1.0,
        on_report: Callable[[R], None] | None = None,
    ) -> None:
        self.settings = settings
        self.what = what
        self.jobs = jobs
        self.run = run
        self.tick = tick
        self.on_report = on_report
        self._stop = threading.Event()
        self._running: dict[str, threading.Thread] = {}
        self._due: dict[str, float] = {}
        self._thread: threading.Thread | None = None
        self._node: Node | None = None

    def start(self) -> None:
        self._node = open_node(self.settings)
        self._thread = threading.Thread(target=self._loop, name=f"accord-{self.what}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for thread in list(self._running.values()):
            thread.join(timeout)
        if self._node is not None:
            self._node.close()

    def _loop(self) -> None:
        assert self._node is not None
        node = self._node
        while not self._stop.is_set():
            try:
                jobs = self.jobs(node)
            except AccordError as exc:
                log.warning("background %s cannot list its jobs: %s", self.what, exc)
                jobs = []
            now = time.monotonic()
            for name, interval in jobs:
                running = self._running.get(name)
                if running is not None and running.is_alive():
                    continue
                if self._due.get(name, 0.0) > now:
                    continue
                self._due[name] = now + interval
                thread = threading.Thread(
                    target=self._one, args=(name,), name=f"accord-{self.what}-{name}", daemon=True
                )
                self._running[name] = thread
                thread.start()
            self._stop.wait(self.tick)

    def _one(self, name: str) -> None:
        assert self._node is not None
        try:
            report = self.run(self._node, name)
        except AccordError as exc:  # removed meanwhile
            log.info("background %s of %s skipped: %s", self.what, name, exc)
            return
        log.info("%s", report.summary())
        if self.on_report is not None:
            self.on_report(report)
