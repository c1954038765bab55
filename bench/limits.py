"""Rate limit benchmark: what the TAXII rate limits cost a request, on each backend.

A real ``accord serve`` on a fresh node (SQLite, one process; PostgreSQL,
``--workers 2`` on a fresh database), with the limits off (every ``ACCORD_LIMIT_*``
at 0) and on, in alternating rounds. "On" takes every limit's whole path (a bucket
update, a lease taken and given back) but is set high enough never to refuse, so
the figure is the cost of counting, not of refusing. Each round: ``--clients``
threads, each with its own keep-alive connection, make ``--requests`` requests in
all, one endpoint after the other:

- ``GET /taxii2/`` (discovery, authenticated): the lightest route, so the limits'
  share is the largest it can be;
- ``GET .../objects/?limit=10``: a typical read (its answer is logged).

Reported: requests per second (median of the rounds) per configuration and the
ratio on/off. The report is Markdown on standard output; progress on standard
error. Timings are noisy on a shared machine: read the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from _common import log, machine
from _ingest_contenders import DEFAULT_POSTGRES, fresh_database
from _taxii_accord import Node, _auth, accord_server, make_node, objects_path

OFF = {
    "ACCORD_LIMIT_REQUESTS_PER_SECOND": "0",
    "ACCORD_LIMIT_ANONYMOUS_REQUESTS_PER_SECOND": "0",
    "ACCORD_LIMIT_OBJECTS_PER_DAY": "0",
    "ACCORD_LIMIT_CONCURRENT": "0",
    "ACCORD_LIMIT_ANONYMOUS_CONCURRENT": "0",
}
# Every limit on, none ever reached: the cost of the bookkeeping alone.
ON = {
    "ACCORD_LIMIT_REQUESTS_PER_SECOND": "1000000",
    "ACCORD_LIMIT_BURST": "1000000",
    "ACCORD_LIMIT_CONCURRENT": "1000",
}
CONFIGS = (
    ("SQLite", "off", OFF),
    ("SQLite", "on, memory", {**ON, "ACCORD_LIMIT_STATE": "memory"}),
    ("SQLite", "on, database", {**ON, "ACCORD_LIMIT_STATE": "database"}),
    ("PostgreSQL, 2 workers", "off", OFF),
    ("PostgreSQL, 2 workers", "on, database", {**ON, "ACCORD_LIMIT_STATE": "database"}),
)


def _hammer(base: str, node: Node, path: str, total: int, clients: int) -> tuple[float, int]:
    """``total`` GETs of ``path`` from ``clients`` threads: (requests a second, non-200s)."""

    def worker(n: int) -> int:
        bad = 0
        with httpx.Client(base_url=base, headers=_auth(node), timeout=60) as http:
            for _ in range(n):
                if http.get(path).status_code != 200:
                    bad += 1
        return bad

    share = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        bad = sum(pool.map(worker, share))
    return total / (time.perf_counter() - start), bad


@contextmanager
def _nodes(accord: Path, work: Path, postgres: str | None) -> Iterator[dict[str, Node]]:
    with ExitStack() as stack:
        nodes = {"SQLite": make_node(accord, work / "sqlite", None)}
        if postgres:
            url = stack.enter_context(fresh_database(postgres))
            nodes["PostgreSQL, 2 workers"] = make_node(accord, work / "postgres", url)
        yield nodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per endpoint")
    parser.add_argument("--clients", type=int, default=4, help="client threads")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="admin URL of PostgreSQL")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    accord = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "accord"
    rates: dict[tuple[str, str, str], list[float]] = {}
    refused = 0
    with (
        tempfile.TemporaryDirectory() as tmp,
        _nodes(accord, Path(tmp), None if args.skip_postgres else args.postgres) as nodes,
    ):
        for r in range(args.rounds):
            order = CONFIGS if r % 2 == 0 else tuple(reversed(CONFIGS))
            for backend, mode, env in order:
                if backend not in nodes:
                    continue
                base_node = nodes[backend]
                node = Node(base_node.home, {**base_node.env, **env}, base_node.token)
                workers = 2 if backend.startswith("PostgreSQL") else 1
                log(f"round {r + 1}: {backend}, limits {mode}")
                with accord_server(accord, node, workers) as server:
                    base = f"http://127.0.0.1:{server.port}"
                    with httpx.Client(base_url=base, headers=_auth(node)) as http:
                        objects = objects_path(http) + "?limit=10"
                    for name, path in (("discovery", "/taxii2/"), ("objects page", objects)):
                        rate, bad = _hammer(base, node, path, args.requests, args.clients)
                        refused += bad
                        rates.setdefault((backend, mode, name), []).append(rate)
    print(f"# Rate limit cost ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n")
    print(machine())
    print(f"\n{args.requests} requests per endpoint, {args.clients} clients, {args.rounds} rounds;")
    print(f"answers other than 200: {refused}.\n")
    print("| backend | limits | endpoint | requests/s (median) | on / off |")
    print("|---|---|---|---:|---:|")
    for (backend, mode, name), values in rates.items():
        median = statistics.median(values)
        off = statistics.median(rates[(backend, "off", name)])
        print(f"| {backend} | {mode} | {name} | {median:,.0f} | {median / off:.2f} |")


if __name__ == "__main__":
    main()
