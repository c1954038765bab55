"""The peers of the load benchmark: Accord nodes that pull from the node under load.

Run as a process of its own (``python bench/_load_peers.py CONFIG.json``) so that its CPU
is not the load generator's: each peer is a fresh SQLite node with the node under load
as its peer, and a thread per peer runs Accord's own sync (``accord.service.sync`` with
the TAXII client of ``accord.taxii.client``) in a loop until the stop file appears. Then
every peer syncs once more, and the process writes what each holds to the result file:
how many syncs ran and failed, and how many times it stores each object id of the
collection it pulled into.

CONFIG.json: ``{"url", "collection", "stop", "result", "pause",
"peers": [{"name", "home", "token"}]}``.
"""

from __future__ import annotations

import json
import logging
import resource
import sqlite3
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from accord.service import sync
from accord.service.node import Node, init_node, open_node
from accord.service.sharing import create_collection
from accord.settings import Settings, load_settings
from accord.taxii.client import connector

INTO = "mirror"


def _held(home: Path) -> dict[str, int]:
    """How many versions of each object id the peer's collection holds (its SQLite file)."""
    with sqlite3.connect(home / "accord.db") as db:
        rows = db.execute(
            "SELECT o.id, count(*) FROM objects o"
            " JOIN collection_objects co ON co.object_added = o.added"
            " JOIN collections c ON c.pk = co.collection_pk"
            " WHERE c.title = ? GROUP BY o.id",
            (INTO,),
        ).fetchall()
    return {str(oid): int(n) for oid, n in rows}


def _settings(peer: dict[str, Any]) -> Settings:
    return load_settings({"ACCORD_HOME": peer["home"], "ACCORD_DATABASE_URL": ""})


def _make(config: dict[str, Any], peer: dict[str, Any]) -> None:
    """The peer's node, with the node under load as its peer (one at a time: Alembic's
    migrations are not to be run from several threads at once)."""
    settings = _settings(peer)
    init_node(settings, peer["name"])
    with open_node(settings) as node:
        create_collection(node, INTO)
        sync.add_peer(
            node,
            "loaded",
            url=config["url"],
            api_root="/api/v21/",
            collection=config["collection"],
            token=peer["token"],
            username=peer["name"],
            into=INTO,
        )


def _peer_loop(config: dict[str, Any], node: Node, out: dict[str, Any]) -> None:
    connect = connector(node.settings)
    stop = Path(config["stop"])
    syncs = failures = pulled = 0
    errors: Counter[str] = Counter()
    while not stop.exists():
        report = sync.sync_peer(node, "loaded", connect)
        syncs += 1
        if report.error is not None:
            failures += 1
            errors[report.error[:120]] += 1
        elif report.pull is not None:
            pulled += report.pull.received
        time.sleep(config["pause"])
    final = sync.sync_peer(node, "loaded", connect)
    out.update(
        syncs=syncs,
        failures=failures,
        pulled=pulled,
        errors=dict(errors.most_common(5)),
        final_error=final.error,
        held=_held(node.settings.home),
    )


def _guarded(config: dict[str, Any], node: Node, out: dict[str, Any]) -> None:
    try:
        _peer_loop(config, node, out)
    except Exception as exc:  # reported as the peer's crash: the run's verdict fails
        out["crash"] = repr(exc)[:300]


def main(config_path: str) -> None:
    logging.basicConfig(level=logging.ERROR)
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    results: dict[str, dict[str, Any]] = {p["name"]: {} for p in config["peers"]}
    nodes = []
    for p in config["peers"]:  # made and opened one at a time (Alembic is not thread-safe)
        _make(config, p)
        nodes.append(open_node(_settings(p)))
    threads = [
        threading.Thread(target=_guarded, args=(config, n, results[p["name"]]), daemon=True)
        for p, n in zip(config["peers"], nodes, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n in nodes:
        n.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    doc = {"peers": results, "cpu_seconds": usage.ru_utime + usage.ru_stime}
    Path(config["result"]).write_text(json.dumps(doc), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
