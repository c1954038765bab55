"""A backup taken while another thread keeps writing is one consistent snapshot."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from accord.backup import RowDigest
from accord.service import backup
from accord.service.ingest import ingest_objects
from accord.service.node import Node
from tests.taxii.helpers import indicator


def _written(node: Node) -> int:
    return node.store.stats().versions


def test_a_backup_under_writes_holds_a_prefix_of_what_was_committed(
    node: Node, tmp_path: Path
) -> None:
    stop = threading.Event()
    batches: list[int] = []
    errors: list[BaseException] = []

    def writer() -> None:
        n = 0
        try:
            while not stop.is_set():
                objects: list[object] = [indicator(n + i) for i in range(40)]
                outcomes = ingest_objects(node, objects, source=("test", "w"), collection_pks=[])
                assert all(o.ok for o in outcomes)
                n += 40
                batches.append(n)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(batches) < 3 and thread.is_alive():
            time.sleep(0.01)
        before = _written(node)
        made = backup.backup(node.settings, tmp_path / "b")
        seen = len(batches)
        while len(batches) < seen + 3 and thread.is_alive():
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join(30)
    assert not errors, errors
    after = _written(node)
    c = made.manifest.contents
    assert before <= c.versions < after
    assert c.versions % 40 == 0  # whole transactions only
    # The backup holds exactly the first c.versions versions committed (date_added order),
    # byte for byte: the digest over that prefix of the live store is the manifest's.
    prefix = RowDigest()
    with node.store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT added, id, version, data FROM objects ORDER BY added LIMIT {c.versions}"
        )
        prefix.add_all(rows)
    assert prefix.rows == c.versions
    assert prefix.hexdigest() == c.digests["objects"]
    assert c.tables["observables"] == c.versions  # one IPv4 value each, from the same snapshot
    checked = backup.verify(tmp_path / "b")
    assert checked.manifest == made.manifest
