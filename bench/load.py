"""Load benchmark: partners paging, writers posting and peers syncing, all at once, on one node.

What it runs (issue 17, point 1), against one ``accord serve`` (``--workers`` processes;
PostgreSQL for several, SQLite for one), for ``--duration`` seconds:

- ``--readers`` partner clients (default 200) page the ``partners`` collection, real STIX
  imported with ``accord import`` from ``--data``, with ``limit`` and ``next`` to the end
  and then start again; every pass must see each object the collection held exactly once;
- ``--writers`` clients (default 20) POST envelopes of new indicators to ``inbox`` and
  fetch the status resource; every object a status acknowledged is kept;
- ``--peers`` Accord nodes (default 5) pull ``inbox`` with Accord's own sync, in a loop,
  in a process of their own (``_load_peers.py``).

The load generator is one asyncio loop over httpx (``_load_clients.py``), not locust:
locust runs each user as a gevent greenlet and monkey-patches the process, which the
peers' sync (threads, httpx, SQLite) must not share, and the checks a pass makes across
pages and the acknowledged set across writers live more simply in one program. Every
request has a timeout, every loop ends with the run, and 429s are counted apart and
their ``Retry-After`` honoured.

Afterwards: every acknowledged object must be stored exactly once in ``inbox`` (read from
the store), and held exactly once by every peer after its last sync. The server's
resident memory (summed over its processes) is sampled every second, and the CPU
seconds of the server, the load generator and the peers are reported, since all share
the machine. The report is Markdown on standard output and in bench/results/load-DATE.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from _common import (
    free_port,
    log,
    package_version,
    publish_report,
    report_header,
    serving,
    working_directory,
)
from _ingest_contenders import DEFAULT_POSTGRES, accord_env, find_accord, fresh_database
from _load_clients import MEDIA, Recorder, reader, writer
from _load_node import (
    READ,
    WRITE,
    Tokens,
    cpu_seconds,
    descendants,
    populate,
    rss_bytes,
    stored_versions,
)
from _taxii_accord import API_ROOT, WORKERS_SETTLE, _cli

PEERS_SCRIPT = Path(__file__).with_name("_load_peers.py")
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "attack"
MIB = 1024 * 1024


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/load.py",
        description="Load benchmark: readers, writers and peers at once against accord serve.",
    )
    add = parser.add_argument
    add("--duration", type=float, default=600, help="seconds of load (default 600)")
    add("--readers", type=int, default=200, help="partner clients paging (default 200)")
    add("--writers", type=int, default=20, help="clients posting envelopes (default 20)")
    add("--peers", type=int, default=5, help="peer nodes syncing (default 5)")
    add("--backend", choices=("sqlite", "postgres"), default="postgres")
    add("--workers", type=int, help="server processes (default 4 on PostgreSQL, 1 on SQLite)")
    add("--page", type=int, default=100, help="readers' limit per page (default 100)")
    add("--envelope", type=int, default=5, help="objects per POST (default 5)")
    add("--write-pause", type=float, default=1.0, help="seconds between a writer's POSTs")
    add("--sync-pause", type=float, default=2.0, help="seconds between a peer's syncs")
    add("--timeout", type=float, default=30, help="seconds allowed for one request")
    add(
        "--data",
        type=Path,
        default=DEFAULT_DATA / "mobile-attack-17.1.json",
        help="STIX bundle for the readers' collection (default: ATT&CK Mobile)",
    )
    add("--postgres", default=DEFAULT_POSTGRES, help="PostgreSQL admin URL (a database is made)")
    add(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an extra ACCORD_ setting for the server (e.g. a rate limit set off); repeatable",
    )
    add("--out", type=Path, help="report file (default bench/results/load-DATE.md)")
    add("--workdir", type=Path, help="keep the node, logs and results here")
    add("--accord", type=Path, help="the accord executable (default: beside this Python)")
    args = parser.parse_args(argv)
    if args.workers is None:
        args.workers = 4 if args.backend == "postgres" else 1
    if args.backend == "sqlite" and args.workers != 1:
        parser.error("SQLite is served by one process: --workers 1")
    return args


def _basic(name: str, token: str) -> dict[str, str]:
    secret = base64.b64encode(f"{name}:{token}".encode()).decode()
    return {"Authorization": f"Basic {secret}", "Accept": MEDIA}


def _one_pass(base: str, path: str, auth: dict[str, str], page: int) -> list[str]:
    """Every object id of a collection, by pages, before the load starts."""
    ids: list[str] = []
    params: dict[str, str | int] = {"limit": page}
    with httpx.Client(base_url=base, headers=auth, timeout=60) as http:
        while True:
            response = http.get(path, params=params)
            response.raise_for_status()
            body = orjson.loads(response.content)
            ids.extend(str(o["id"]) for o in body.get("objects", ()))
            if not body.get("more"):
                return ids
            params["next"] = str(body["next"])


async def _load(
    args: argparse.Namespace, base: str, tokens: Tokens, expected: frozenset[str], root: int
) -> tuple[Recorder, list[tuple[float, int]], float]:
    rec = Recorder()
    stop = asyncio.Event()
    read_url = f"{API_ROOT}collections/{tokens.read_id}/objects/"
    write_url = f"{API_ROOT}collections/{tokens.write_id}/objects/"
    status_url = API_ROOT + "status/{}/"
    readers = list(tokens.readers.items())
    writers = list(tokens.writers.items())
    limits = httpx.Limits(max_connections=args.readers + args.writers + 10)
    memory: list[tuple[float, int]] = []
    loads: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=args.timeout, limits=limits) as client:
        tasks = [
            asyncio.create_task(
                reader(
                    client,
                    rec,
                    stop,
                    url=read_url,
                    auth=_basic(*readers[i % len(readers)]),
                    expected=expected,
                    page=args.page,
                )
            )
            for i in range(args.readers)
        ]
        tasks += [
            asyncio.create_task(
                writer(
                    client,
                    rec,
                    stop,
                    number=i,
                    url=write_url,
                    status_url=status_url,
                    auth=_basic(*writers[i % len(writers)]),
                    envelope=args.envelope,
                    pause=args.write_pause,
                )
            )
            for i in range(args.writers)
        ]
        start = time.monotonic()
        while time.monotonic() - start < args.duration:
            memory.append((time.monotonic() - start, rss_bytes(descendants(root))))
            loads.append(os.getloadavg()[0])
            if all(t.done() for t in tasks):
                break
            await asyncio.sleep(1.0)
        elapsed = time.monotonic() - start
        stop.set()
        # Requests in flight finish (each within its timeout); none is started after stop.
        done, pending = await asyncio.wait(tasks, timeout=args.timeout + 5)
        for t in pending:
            t.cancel()
        for t in done:
            if t.exception() is not None:
                raise RuntimeError(f"a client failed: {t.exception()!r}")
    rec.machine_load = statistics.median(loads) if loads else float("nan")
    return rec, memory, elapsed


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(q * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


def report(
    args: argparse.Namespace,
    when: time.struct_time,
    rec: Recorder,
    memory: list[tuple[float, int]],
    elapsed: float,
    facts: dict[str, Any],
) -> str:
    backend = "PostgreSQL" if args.backend == "postgres" else "SQLite"
    title = f"Load benchmark, {backend}, {args.workers} worker(s)"
    versions = {
        "accord": package_version("accord"),
        "httpx": package_version("httpx"),
        "uvicorn": package_version("uvicorn"),
        "Python": sys.version.split()[0],
    }
    lines = report_header(title, when, versions)
    lines += [
        f"- Load: {args.readers} readers (limit {args.page}), {args.writers} writers "
        f"({args.envelope} objects per POST, {args.write_pause:g} s apart), {args.peers} peers "
        f"(a sync every {args.sync_pause:g} s), for {elapsed:.0f} s",
        f"- Readers' collection: {facts['expected']:,} objects from {args.data.name}",
        "- The machine's 2 cores were shared with other work; server, load generator and "
        f"peers all ran on it (CPU seconds below); the machine's median 1-minute load "
        f"average during the run was {rec.machine_load:.1f}.",
        "",
        "| kind | requests | requests/s | p50 ms | p99 ms | p99.9 ms | outcomes |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    total = 0
    for kind, k in sorted(rec.kinds.items()):
        values = sorted(k.seconds)
        total += len(values)
        outcomes = ", ".join(f"{o}: {n:,}" for o, n in sorted(k.outcomes.items()))
        p50, p99, p999 = (_percentile(values, q) * 1000 for q in (0.5, 0.99, 0.999))
        lines.append(
            f"| {kind} | {len(values):,} | {len(values) / elapsed:,.0f} | {p50:.1f} | "
            f"{p99:.1f} | {p999:.1f} | {outcomes} |"
        )
    lines.append(f"| all | {total:,} | {total / elapsed:,.0f} | | | | |")
    rss = [m for _, m in memory] or [0]
    lines += [
        "",
        f"- Server memory (RSS, all its processes, sampled every second): min "
        f"{min(rss) / MIB:,.0f} MiB, median {statistics.median(rss) / MIB:,.0f} MiB, "
        f"max {max(rss) / MIB:,.0f} MiB ({len(memory)} samples)",
        f"- CPU seconds: server {facts['server_cpu']:,.0f}, load generator "
        f"{facts['client_cpu']:,.0f}, peers {facts['peers_cpu']:,.0f} (of "
        f"{2 * elapsed:,.0f} the 2 cores had)",
        f"- Reader passes: {rec.passes:,} complete, {rec.passes_abandoned:,} abandoned after "
        f"errors; objects repeated {rec.repeated}, skipped {rec.skipped}, unexpected "
        f"{rec.unexpected}",
        f"- Acknowledged objects: {len(rec.acked):,}; stored exactly once: "
        f"{facts['once']:,}; missing {facts['missing']}, stored more than once "
        f"{facts['doubled']}; POSTs with no answer {rec.unanswered_posts}; status "
        f"resources that disagreed {rec.status_mismatches}",
        f"- Peers: {facts['peers_line']}",
        f"- 429 waits honoured: {rec.retry_after_waits:,.0f} s in all",
        f"- Verdict: {'PASS' if facts['ok'] else 'FAIL'} (nothing acknowledged lost or "
        "doubled, no pass skipped or repeated an object, every peer holds every "
        "acknowledged object once)",
        "",
        "Memory over time (seconds: MiB), every 30th sample: "
        + ", ".join(f"{t:.0f}: {m / MIB:.0f}" for t, m in memory[::30]),
        "",
    ]
    return "\n".join(lines)


def _peers_facts(result: dict[str, Any], acked: set[str]) -> tuple[str, bool]:
    parts = []
    ok = True
    for name, peer in sorted(result["peers"].items()):
        if "held" not in peer:
            parts.append(f"{name} crashed: {peer.get('crash', 'no result')}")
            ok = False
            continue
        held: dict[str, int] = peer["held"]
        missing = sum(1 for a in acked if held.get(a, 0) == 0)
        doubled = sum(1 for n in held.values() if n > 1)
        ok = ok and missing == 0 and doubled == 0 and peer["final_error"] is None
        parts.append(
            f"{name} {peer['syncs']} syncs ({peer['failures']} failed), missing {missing}, "
            f"doubled {doubled}"
            + (f", last sync failed: {peer['final_error']}" if peer["final_error"] else "")
        )
    return "; ".join(parts), ok


def run(args: argparse.Namespace, accord: Path, workdir: Path, database_url: str | None) -> str:
    when = time.gmtime()
    home = workdir / "node"
    env = accord_env(home, database_url)
    for pair in args.server_env:
        name, _, value = pair.partition("=")
        env[name] = value
    log(f"making the node ({args.backend}) with its members")
    tokens = populate(env, args.readers, args.writers, args.peers)
    _cli(accord, ["import", args.data, "--collection", READ], env)
    store_url = database_url or f"sqlite:///{home / 'accord.db'}"
    port = free_port()
    first = next(iter(tokens.readers.items()))
    with serving(
        f"accord serve --workers {args.workers}",
        [accord, "serve", "--port", str(port), "--workers", str(args.workers)],
        port=port,
        env=env,
        logs=workdir / "serve",
        ready_path="/taxii2/",
        ready_headers=_basic(*first),
    ) as server:
        time.sleep(WORKERS_SETTLE if args.workers > 1 else 0)
        read_path = f"{API_ROOT}collections/{tokens.read_id}/objects/"
        expected = frozenset(_one_pass(server.base_url, read_path, _basic(*first), args.page))
        log(f"the readers' collection holds {len(expected):,} objects; starting the load")
        root = server.spawned.proc.pid
        stop_file = workdir / "peers.stop"
        config = {
            "url": server.base_url,
            "collection": tokens.write_id,
            "stop": str(stop_file),
            "result": str(workdir / "peers.json"),
            "pause": args.sync_pause,
            "peers": [
                {"name": n, "token": t, "home": str(workdir / f"peer-{i}")}
                for i, (n, t) in enumerate(tokens.peers.items())
            ],
        }
        (workdir / "peers-config.json").write_text(json.dumps(config), encoding="utf-8")
        with (workdir / "peers.log").open("wb") as out:
            peers = subprocess.Popen(
                [sys.executable, PEERS_SCRIPT, workdir / "peers-config.json"],
                stdout=out,
                stderr=out,
                env={**os.environ, "PYTHONPATH": ""},
            )
        before = resource.getrusage(resource.RUSAGE_SELF)
        rec, memory, elapsed = asyncio.run(_load(args, server.base_url, tokens, expected, root))
        after = resource.getrusage(resource.RUSAGE_SELF)
        log("load over; the peers sync a last time")
        stop_file.touch()
        peers.wait(timeout=600)
        server_cpu = cpu_seconds(descendants(root))
    result = json.loads((workdir / "peers.json").read_text(encoding="utf-8"))
    stored = stored_versions(store_url, WRITE)
    once = sum(1 for a in rec.acked if stored.get(a) == 1)
    missing = sum(1 for a in rec.acked if a not in stored)
    doubled = sum(1 for n in stored.values() if n > 1)
    peers_line, peers_ok = _peers_facts(result, rec.acked)
    ok = (
        missing == 0
        and doubled == 0
        and once == len(rec.acked)
        and rec.repeated == rec.skipped == rec.unexpected == 0
        and rec.status_mismatches == 0
        and peers_ok
    )
    facts = {
        "expected": len(expected),
        "server_cpu": server_cpu,
        "client_cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        "peers_cpu": result["cpu_seconds"],
        "once": once,
        "missing": missing,
        "doubled": doubled,
        "peers_line": peers_line,
        "ok": ok,
    }
    return report(args, when, rec, memory, elapsed, facts)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    accord = find_accord(args.accord)
    with working_directory(args.workdir) as workdir:
        if args.backend == "postgres":
            with fresh_database(args.postgres) as url:
                text = run(args, accord, workdir, url)
        else:
            text = run(args, accord, workdir, None)
    name = f"load-{args.backend}"
    publish_report(text, args.out, name, time.gmtime())
    return 0 if "Verdict: PASS" in text else 1


if __name__ == "__main__":
    sys.exit(main())
