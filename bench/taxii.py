"""TAXII benchmark: how fast Accord takes objects in and gives them back over TAXII 2.1.

What it measures, in one run, with one client (``_taxii_client.py``: httpx, one keep-alive
connection, one request at a time) and the same bytes for every server:

- the round trip at ``--size`` (default 100,000) generated STIX 2.1 indicators (the
  ingest benchmark's generator and seed): every object POSTed to an empty collection in
  envelopes of 1,000 (TAXII 2.1 §5.5), each status resource checked for all successes;
  then the whole collection read back (§5.4) with ``limit=1000``, following ``next`` until
  ``more`` is false, checking that every object comes back once;
- against three servers, each started fresh under the spawner so that its peak memory is
  its own: Accord on SQLite (``accord serve``, one process), Accord on PostgreSQL
  (``accord serve --workers 2`` over a fresh database, dropped afterwards), and
  medallion 3.0.0, the OASIS TAXII 2.1 reference server, with its memory backend;
- the read at scale: ``--read-size`` (default 1,000,000) generated indicators stored with
  ``accord import FILE --collection bench`` into a fresh SQLite node, then read back whole
  over TAXII with pages of 1,000 (``ACCORD_TAXII_MAX_PAGE``'s default);
- per direction: objects per second (objects / wall seconds from the first request to the
  last answer, client work included) and the p50 and p99 request latency (nearest rank;
  POST: per envelope, GET: per page); the server's peak RSS; Accord's rate over
  medallion's per direction, and the large read's rate over its goal;
- the issue's goals, pass or fail: Accord at least 20x medallion on POST and 10x on GET at
  100,000 objects, and the read of 1,000,000 stored objects over 50,000 objects/s.

medallion is quadratic in the objects it holds, on POST and more so on the first page of a
read (it matches every manifest entry against every object, parsing timestamps as it
goes); past ``--medallion-timeout`` a direction is reported as a timeout, its rate as an
upper bound (all its objects would have taken longer), and the ratio to it as a lower
bound. The report is Markdown on standard output and in bench/results/taxii-DATE.md;
progress goes to standard error. A contender that is not installed or not reachable is
skipped, and the report says so.
"""

from __future__ import annotations

import argparse
import itertools
import platform
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import httpx
import psycopg

from _common import (
    Server,
    log,
    package_version,
    publish_report,
    report_header,
    working_directory,
)
from _ingest_contenders import DEFAULT_POSTGRES, fresh_database, scratch_dir
from _ingest_data import first_lines, generate_jsonl
from _ingest_medallion import (
    ENVELOPE,
    OBJECTS_PATH,
    PASSWORD,
    USER,
    envelopes,
    medallion_server,
)
from _probe import Contenders, find_contenders
from _taxii_accord import MEMBER, accord_server, import_file, make_node, objects_path
from _taxii_client import GET, POST, Transfer, client, get_all, post_all
from _taxii_policy import run as policy_phase
from _taxii_report import (
    ACCORD_POSTGRES,
    ACCORD_SQLITE,
    BIG_READ,
    MEDALLION,
    Row,
    goals,
    table,
)

PAGE = 1_000
POSTGRES_WORKERS = 2
Envelopes = list[tuple[bytes, int]]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="bench/taxii.py",
        description="TAXII benchmark: POST then paginated GET of generated indicators against "
        "Accord (SQLite, PostgreSQL with 2 workers) and medallion, and a paginated read of "
        "a large imported set from Accord on SQLite.",
    )
    add = parser.add_argument
    add("--size", type=int, default=100_000, help="objects POSTed and read (default 100,000)")
    add(
        "--read-size",
        type=int,
        default=1_000_000,
        help="objects imported, then read over TAXII (default 1,000,000; 0: skip)",
    )
    add("--seed", type=int, default=2025, help="seed of the generated set (default 2025)")
    add(
        "--policy-size",
        type=int,
        default=1_000_000,
        help="objects read without and with a sharing agreement (default 1,000,000; 0: skip)",
    )
    add("--skip-postgres", action="store_true", help="do not run Accord on PostgreSQL")
    add("--skip-medallion", action="store_true", help="do not run medallion")
    add("--timeout", type=float, default=3600, help="seconds per Accord direction or import")
    add(
        "--medallion-timeout",
        type=float,
        default=2400,
        help="seconds for medallion's POSTs (default 2,400)",
    )
    add(
        "--medallion-get-timeout",
        type=float,
        default=600,
        help="seconds for medallion's paginated GET (default 600): it does not finish 100,000"
        " in 40 minutes on a 2-core machine, and an unfinished read still bounds its rate",
    )
    add("--out", type=Path, help="report file (default bench/results/taxii-DATE.md)")
    add("--workdir", type=Path, help="keep generated data and logs here (reused if same)")
    add("--accord", type=Path, help="the accord executable (default: beside this Python)")
    add("--medallion", type=Path, help="the medallion executable (default: found on paths)")
    add("--postgres", default=DEFAULT_POSTGRES, help="admin URL of a PostgreSQL database")
    args = parser.parse_args(argv)
    if args.size < 1 or args.read_size < 0:
        parser.error("--size must be at least 1 and --read-size at least 0")
    return args


# --- running ----------------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _logged(label: str, transfer: Transfer) -> Transfer:
    rate = transfer.rate or 0.0
    state = f"timeout, {transfer.done:,} done" if transfer.timed_out else "ok"
    log(
        f"  {label} {transfer.direction}: {transfer.seconds:,.2f} s, {rate:,.0f} objects/s,"
        f" {len(transfer.latencies):,} requests ({state})"
    )
    return transfer


Serve = Callable[[ExitStack], tuple[Server, tuple[str, str]]]


def round_trip(
    label: str,
    serve: Serve,
    path_of: Callable[[httpx.Client], str],
    bodies: Envelopes,
    timeout: float,
    get_timeout: float | None = None,
) -> list[Row]:
    """POST every envelope to a fresh server, then read them all back; one row per direction.

    Args:
        label: the contender, for the rows.
        serve: starts the server (and whatever it needs) on the given stack; returns it
            with the Basic auth user and password.
        path_of: the collection's objects URL path, asked of the running server.
        bodies: the envelopes, built beforehand.
        timeout: seconds allowed per direction.
        get_timeout: seconds allowed for the GET, where not ``timeout``.
    """
    objects = sum(count for _, count in bodies)
    post: Transfer | None = None
    get: Transfer | None = None
    note = ""
    server: Server | None = None
    try:
        with ExitStack() as stack:
            server, credentials = serve(stack)
            http = stack.enter_context(client(server.base_url, *credentials))
            path = path_of(http)
            log(f"{label}: POST {objects:,} objects in envelopes of {ENVELOPE:,}")
            post = _logged(label, post_all(http, path, bodies, timeout))
            if post.timed_out:
                note = "not run: the POSTs timed out"
            else:
                log(f"{label}: GET with pages of {PAGE:,}")
                limit = timeout if get_timeout is None else get_timeout
                get = _logged(label, get_all(http, path, objects, PAGE, limit))
    except (RuntimeError, OSError, httpx.HTTPError, psycopg.Error) as exc:
        log(f"  {label} failed: {exc}")
        note = f"failed: {_first_line(exc)}"
    peak = server.peak_rss if server is not None else None
    return [
        Row(label, POST, objects, post, peak, "" if post else note),
        Row(label, GET, objects, get, peak, "" if get else note),
    ]


def accord_round_trip(
    label: str,
    accord: Path,
    bodies: Envelopes,
    workdir: Path,
    timeout: float,
    *,
    postgres: str | None = None,
    workers: int = 1,
) -> list[Row]:
    """Accord: a fresh node (on a fresh PostgreSQL database if ``postgres``), served."""

    def serve(stack: ExitStack) -> tuple[Server, tuple[str, str]]:
        url = stack.enter_context(fresh_database(postgres)) if postgres else None
        home = scratch_dir(workdir, "taxii-accord")
        stack.callback(shutil.rmtree, home, ignore_errors=True)
        node = make_node(accord, home, url)
        return stack.enter_context(accord_server(accord, node, workers)), (MEMBER, node.token)

    return round_trip(label, serve, objects_path, bodies, timeout)


def medallion_round_trip(
    exe: Path, bodies: Envelopes, workdir: Path, timeout: float, get_timeout: float
) -> list[Row]:
    """medallion: a fresh server with its memory backend and one empty collection."""

    def serve(stack: ExitStack) -> tuple[Server, tuple[str, str]]:
        scratch = scratch_dir(workdir, "taxii-medallion")
        return stack.enter_context(medallion_server(exe, scratch)), (USER, PASSWORD)

    return round_trip(MEDALLION, serve, lambda _: OBJECTS_PATH, bodies, timeout, get_timeout)


def big_read(accord: Path, data: Path, size: int, workdir: Path, timeout: float) -> Row:
    """``accord import`` ``size`` objects into a fresh SQLite node, then read them over TAXII.

    The import is set-up, not measured as the read is: its time goes to the row's setup.
    """
    home = scratch_dir(workdir, "taxii-read")
    transfer: Transfer | None = None
    server: Server | None = None
    note = setup = ""
    try:
        node = make_node(accord, home, None)
        log(f"{BIG_READ}: accord import {size:,} objects")
        imported = import_file(accord, node, data, timeout)
        if not imported.ok:
            raise RuntimeError(f"accord import: {imported.failure()}")
        setup = (
            f"`accord import` stored the {size:,} objects in {imported.seconds:,.1f} s"
            f" ({size / imported.seconds:,.0f} objects/s, process start included)"
        )
        log(f"  {setup}")
        with (
            accord_server(accord, node) as server,
            client(server.base_url, MEMBER, node.token) as http,
        ):
            log(f"{BIG_READ}: GET {size:,} objects with pages of {PAGE:,}")
            transfer = _logged(BIG_READ, get_all(http, objects_path(http), size, PAGE, timeout))
    except (RuntimeError, OSError, httpx.HTTPError) as exc:
        log(f"  {BIG_READ} failed: {exc}")
        note = f"failed: {_first_line(exc)}"
    finally:
        shutil.rmtree(home, ignore_errors=True)
    peak = server.peak_rss if server is not None else None
    return Row(BIG_READ, GET, size, transfer, peak, note, setup)


def read_data(jsonl: Path, lines: int, size: int, workdir: Path) -> Path:
    """A JSON-lines file of the first ``size`` of the ``lines`` generated objects."""
    if size == lines:
        return jsonl
    path = workdir / f"read-{size}.jsonl"
    with jsonl.open("rb") as source, path.open("wb") as out:
        out.writelines(itertools.islice(source, size))
    return path


def run_all(args: argparse.Namespace, who: Contenders, workdir: Path) -> list[Row]:
    """Every contender that can run, in turn; the rows in the report's order."""
    total = max(args.size, args.read_size)
    log(f"generating {total:,} indicators (seed {args.seed}) as JSON lines")
    jsonl = generate_jsonl(workdir / "data-jsonl", total, args.seed)
    bodies = envelopes(first_lines(jsonl, args.size))
    rows: list[Row] = []
    accord = who.accord
    if accord is not None:
        rows += accord_round_trip(ACCORD_SQLITE, accord, bodies, workdir, args.timeout)
        if who.postgres is not None:
            rows += accord_round_trip(
                ACCORD_POSTGRES,
                accord,
                bodies,
                workdir,
                args.timeout,
                postgres=who.postgres,
                workers=POSTGRES_WORKERS,
            )
    large: list[Row] = []
    if accord is not None and args.read_size:
        data = read_data(jsonl, total, args.read_size, workdir)
        large.append(big_read(accord, data, args.read_size, workdir, args.timeout))
    if who.medallion is not None:  # last: it takes the longest
        rows += medallion_round_trip(
            who.medallion, bodies, workdir, args.medallion_timeout, args.medallion_get_timeout
        )
    return rows + large


# --- the report -------------------------------------------------------------------------


def report(
    rows: list[Row], who: Contenders, args: argparse.Namespace, when: time.struct_time
) -> str:
    """The whole Markdown report."""
    versions = {
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "httpx": package_version("httpx"),
        "uvicorn": package_version("uvicorn"),
        "orjson": package_version("orjson"),
        **who.versions,
    }
    lines = [
        *report_header("TAXII benchmark", when, versions),
        f"- Data: generated STIX 2.1 indicators, seed {args.seed}: {args.size:,} POSTed in"
        f" envelopes of {ENVELOPE:,} then read back with pages of {PAGE:,}; "
        + (
            f"{args.read_size:,} imported with `accord import`, then read with pages of {PAGE:,}"
            if args.read_size
            else "no large read (`--read-size 0`)"
        ),
        "",
        table(rows),
        "",
        "One client (httpx, one keep-alive connection, one request at a time) on the same"
        " machine as the server. Seconds: from the first request to the last answer, the"
        " client's decoding and checking included. p50/p99: nearest-rank request latency"
        " (POST: per envelope, GET: per page). Server peak RSS: the largest resident set of"
        " the server's processes (not PostgreSQL's). Ratio: Accord's rate over medallion's in"
        " the same direction; for the imported set, over the 50,000 objects/s goal. A"
        " timeout's rate is an upper bound (every object would have taken longer), and a"
        " ratio to it a lower bound. With one connection, the second PostgreSQL worker"
        " serves no request in parallel: that row measures the PostgreSQL store.",
        "",
        "## Goals",
        "",
        goals(rows, args.size, args.read_size),
    ]
    if who.skipped:
        lines += ["", "## Not run", "", *(f"- {reason}" for reason in who.skipped)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the report, and write it under bench/results/."""
    args = parse_args(argv)
    when = time.gmtime()
    who = find_contenders(
        accord=args.accord,
        postgres=args.postgres,
        medallion=args.medallion,
        skip_postgres=args.skip_postgres,
        skip_medallion=args.skip_medallion,
    )
    with working_directory(args.workdir) as workdir:
        rows = run_all(args, who, workdir)
        policy = policy_phase(args, who.accord, workdir)
    text = report(rows, who, args, when) + ("\n" + policy if policy else "")
    publish_report(text, args.out, "taxii", when)
    return 0


if __name__ == "__main__":
    sys.exit(main())
