"""Appends from many threads and from several processes on one store keep one valid tree."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from accord.service import ledger, transparency
from accord.service.node import Node
from accord.store import Collection, Member

_WRITER = """
import sys
from accord.settings import load_settings
from accord.service.node import open_node
from accord.service import ledger
node = open_node(load_settings({"ACCORD_HOME": sys.argv[1], "ACCORD_DATABASE_URL": sys.argv[2]}))
c = node.store.collection("x")
m = node.store.member("m")
for i in range(int(sys.argv[3])):
    ledger.share(node, channel="push", collection=c, member=m, agreement=None,
                 added=[i], body=b"%d" % i)
node.close()
"""


def _setup(node: Node) -> tuple[Collection, Member]:
    return node.store.create_collection("x"), node.store.create_member("m")


def test_concurrent_threads_get_distinct_indexes_in_one_valid_tree(node: Node) -> None:
    c, m = _setup(node)
    before = node.store.log_size()
    got: list[int] = []
    lock = threading.Lock()

    def work(t: int) -> None:
        for i in range(40):
            headers = ledger.share(
                node,
                channel="taxii-objects",
                collection=c,
                member=m,
                agreement=None,
                added=[t, i],
                body=f"{t}/{i}".encode(),
            )
            with lock:
                got.append(int(headers["X-Accord-Log-Index"]))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(before, before + 320))
    assert transparency.verify_own(node).entries == before + 320


def test_processes_appending_at_once_keep_one_valid_tree(node: Node, tmp_path: Path) -> None:
    c, m = _setup(node)
    for i in range(5):  # this process's cached right edge, then others append
        ledger.share(
            node, channel="push", collection=c, member=m, agreement=None, added=[i], body=b""
        )
    before = node.store.log_size()
    url = node.settings.effective_database_url
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(node.settings.home), url, "60"])
        for _ in range(3)
    ]
    for i in range(60):
        ledger.share(
            node, channel="push", collection=c, member=m, agreement=None, added=[i], body=b""
        )
    assert [p.wait(120) for p in procs] == [0, 0, 0]
    assert node.store.log_size() == before + 240
    assert transparency.verify_own(node).entries == before + 240
