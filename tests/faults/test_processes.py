"""Faults of the server's processes under load: ``kill -9`` of one worker, of the server.

uvicorn's supervisor (``--workers N``, uvicorn >= 0.30) checks its workers and starts a
new one in place of one that died; the other worker serves meanwhile. A client of the
killed worker sees its connection fail, never a wrong answer. ``kill -9`` of the whole
server loses no acknowledged object: a 202 is sent only after the envelope's transaction
committed, and an envelope is one transaction, so it is stored whole or not at all.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.faults.served import Load, Served, check_store, make_site

ANSWERS = {"200", "202", "503"}


@pytest.mark.postgres
def test_kill_9_of_one_worker(tmp_path: Path, postgres_url: str) -> None:
    site = make_site(tmp_path / "node", postgres_url)
    served = Served(site, workers=2)
    served.start()
    try:
        before = served.worker_pids()
        load = Load(served.url, site).start()
        time.sleep(1.5)
        os.kill(before[0], signal.SIGKILL)
        # The supervisor replaces it; the survivor keeps serving meanwhile.
        after = served.wait_workers(90, besides=frozenset({before[0]}))
        time.sleep(1.0)  # load on the new worker too
        load.stop()
    finally:
        served.stop()
    assert before[1] in after, "the worker that was not killed was restarted too"
    assert not load.unexpected(ANSWERS), (load.statuses, load.bodies)
    assert load.statuses["202"] > 0 and load.statuses["200"] > 0, load.statuses
    assert load.bad_pages == 0
    check_store(site, load)


def test_kill_9_of_the_whole_server(tmp_path: Path) -> None:
    # SQLite, the default store, the one whose files a kill can leave mid-write (its WAL);
    # PostgreSQL's side of a lost client is the worker test's and the connection cut's.
    site = make_site(tmp_path / "node")
    served = Served(site)
    served.start()
    load = Load(served.url, site, writers=3, readers=1).start()
    try:
        time.sleep(2.0)
        served.kill()  # supervisor and workers at once: no shutdown, no flush
        time.sleep(0.5)
        load.stop()
        acked_before_restart = set(load.acked)
        served.start()  # the node recovers from its files/database alone
        after = Load(served.url, site, writers=1, readers=1).start()
        time.sleep(1.0)
        after.stop()
    finally:
        served.stop()
    assert acked_before_restart, "nothing was acknowledged before the kill"
    assert not load.unexpected(ANSWERS), (load.statuses, load.bodies)
    assert not after.unexpected(ANSWERS), (after.statuses, after.bodies)
    assert after.statuses["202"] > 0, after.statuses
    check_store(site, load)
    check_store(site, after)
