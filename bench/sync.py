"""Sync benchmark: how fast node B replicates node A's collection over TAXII 2.1.

What it measures, in one run, on one machine (both nodes and the client share its cores):

- **ingest alone**: ``accord import`` of ``--size`` (default 1,000,000) generated STIX 2.1
  indicators (the ingest benchmark's generator and seed) into a fresh SQLite node, A.
  This is also how A gets its data; wall time from spawn to exit;
- **GET alone**: A served by ``accord serve`` (one process), its whole collection read
  by the TAXII benchmark's client (httpx, one connection) with pages of 1,000 following
  ``next``, every object checked to come once;
- **sync**: a fresh SQLite node B with A as its peer (``accord peer add``), then the timed
  ``accord sync``: B pulls every page from A (pages of ``ACCORD_SYNC_PAGE``, 1,000),
  validates and stores each object with provenance and saves its cursor per page. Wall
  time from spawn to exit (process start included); B's count is checked afterwards;
- **incremental sync, nothing new**: ``accord sync`` again, once B holds everything: the
  sync's own seconds (the summary line) and the command's wall time.

Goals (issue 4): sync at least half the rate of the slower of GET alone and ingest alone;
an incremental sync with nothing new under one second for a peer holding 1,000,000 objects.
The report is Markdown on standard output and in bench/results/sync-DATE.md; progress goes
to standard error.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from _common import (
    log,
    package_version,
    publish_report,
    report_header,
    verdict,
    working_directory,
)
from _ingest_contenders import DEFAULT_POSTGRES, scratch_dir
from _ingest_data import generate_jsonl
from _ingest_proc import Measurement, run_measured
from _probe import find_contenders
from _taxii_accord import MEMBER, Node, _cli, accord_server, import_file, make_node, objects_path
from _taxii_client import client, get_all

PAGE = 1_000
MIB = 1024 * 1024
_SUMMARY = re.compile(r"in ([0-9.]+) s\s*$")


@dataclass(frozen=True)
class Row:
    """One line of the report."""

    what: str
    objects: int
    seconds: float
    peak_rss: int | None = None
    note: str = ""

    @property
    def rate(self) -> float:
        return self.objects / self.seconds if self.seconds > 0 else 0.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/sync.py",
        description="Sync benchmark: replicate a collection from node A to node B over TAXII "
        "2.1, against A's paginated GET rate and the ingest rate alone.",
    )
    add = parser.add_argument
    add("--size", type=int, default=1_000_000, help="objects replicated (default 1,000,000)")
    add("--seed", type=int, default=2025, help="seed of the generated set (default 2025)")
    add("--timeout", type=float, default=3600, help="seconds allowed per step")
    add("--out", type=Path, help="report file (default bench/results/sync-DATE.md)")
    add("--workdir", type=Path, help="keep generated data and logs here")
    add("--accord", type=Path, help="the accord executable (default: beside this Python)")
    args = parser.parse_args(argv)
    if args.size < 1:
        parser.error("--size must be at least 1")
    return args


def _checked(step: str, m: Measurement) -> Measurement:
    if not m.ok:
        raise RuntimeError(f"{step}: {m.failure()}")
    return m


def _sync_seconds(stdout: str) -> float:
    """The sync's own seconds, from its summary line (``a: pulled ... in 1.23 s``)."""
    for line in stdout.splitlines():
        found = _SUMMARY.search(line)
        if found and "FAILED" not in line:
            return float(found.group(1))
    raise RuntimeError(f"no sync summary in {stdout[-300:]!r}")


def _versions(accord: Path, node: Node) -> int:
    stats = json.loads(_cli(accord, ["stats", "--json"], node.env))
    return int(stats["versions"])


def run(args: argparse.Namespace, accord: Path, workdir: Path) -> list[Row]:
    size = args.size
    log(f"generating {size:,} indicators")
    data = generate_jsonl(workdir, size, args.seed)
    a = make_node(accord, scratch_dir(workdir, "sync-a"), None)
    log(f"ingest alone: accord import {size:,} objects into node A")
    imported = _checked("accord import", import_file(accord, a, data, args.timeout))
    rows = [
        Row(
            "ingest alone: `accord import` into a fresh node (A)",
            size,
            imported.seconds,
            imported.peak_rss,
            "parses in a second process beside the writer",
        )
    ]
    log(f"  {rows[-1].rate:,.0f} objects/s")
    with accord_server(accord, a) as server:
        with client(server.base_url, MEMBER, a.token) as http:
            path = objects_path(http)
            log(f"GET alone: {size:,} objects from A with pages of {PAGE:,}")
            got = get_all(http, path, size, PAGE, args.timeout)
        if got.timed_out:
            raise RuntimeError("the paginated GET timed out")
        rows.append(Row("GET alone: A's collection, pages of 1,000, one client", size, got.seconds))
        log(f"  {rows[-1].rate:,.0f} objects/s")
        collection_id = path.rstrip("/").split("/")[-2]
        b = make_node(accord, scratch_dir(workdir, "sync-b"), None)
        peer_env = {**b.env, "ACCORD_PEER_TOKEN": a.token}
        _cli(
            accord,
            [
                "peer",
                "add",
                "a",
                "--url",
                server.base_url,
                "--collection",
                collection_id,
                "--user",
                MEMBER,
                "--into",
                "from-a",
            ],
            peer_env,
        )
        log(f"sync: B pulls {size:,} objects from A")
        first = _checked(
            "accord sync",
            run_measured(
                [accord, "sync"],
                env=b.env,
                timeout=args.timeout,
                log_prefix=workdir / "sync-b-first",
            ),
        )
        held = _versions(accord, b)
        if held != size:
            raise RuntimeError(f"B holds {held:,} versions after the sync, A {size:,}")
        own = _sync_seconds(first.stdout)
        rows.append(
            Row(
                "sync A → B: `accord sync`, whole collection",
                size,
                first.seconds,
                first.peak_rss,
                f"the sync itself {own:,.1f} s ({size / own:,.0f} objects/s); B checked: "
                f"{held:,} versions",
            )
        )
        log(f"  {rows[-1].rate:,.0f} objects/s")
        log("incremental sync, nothing new")
        again = _checked(
            "accord sync (incremental)",
            run_measured(
                [accord, "sync"],
                env=b.env,
                timeout=args.timeout,
                log_prefix=workdir / "sync-b-again",
            ),
        )
        rows.append(
            Row(
                "incremental sync, nothing new",
                0,
                _sync_seconds(again.stdout),
                again.peak_rss,
                f"command wall time {again.seconds:.2f} s (process start included)",
            )
        )
        log(f"  {rows[-1].seconds:.3f} s")
    return rows


def report(rows: list[Row], args: argparse.Namespace, when: time.struct_time) -> str:
    ingest, get, whole, incremental = rows
    slower = min(ingest.rate, get.rate)
    ratio = whole.rate / slower if slower else 0.0
    full = args.size >= 1_000_000
    versions = {
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "httpx": package_version("httpx"),
        "uvicorn": package_version("uvicorn"),
        "orjson": package_version("orjson"),
    }
    lines = [
        *report_header("Sync benchmark", when, versions),
        f"- Data: {args.size:,} generated STIX 2.1 indicators, seed {args.seed}; nodes on SQLite",
        "",
        "| step | objects | seconds | objects/s | peak RSS | note |",
        "|---|--:|--:|--:|--:|---|",
    ]
    for r in rows:
        rss = f"{r.peak_rss / MIB:,.0f} MiB" if r.peak_rss else "—"
        rate = f"{r.rate:,.0f}" if r.objects else "—"
        objects = f"{r.objects:,}" if r.objects else "—"
        lines.append(f"| {r.what} | {objects} | {r.seconds:,.3f} | {rate} | {rss} | {r.note} |")
    note = "" if full else " (indicative: the goals are for 1,000,000 objects)"
    lines += [
        "",
        f"## Goals{note}",
        "",
        f"- sync at least half the slower of GET alone and ingest alone: {whole.rate:,.0f} /"
        f" {slower:,.0f} = {ratio:.2f} — {verdict(ratio >= 0.5)}",
        f"- incremental sync with nothing new under 1 s: {incremental.seconds:.3f} s —"
        f" {verdict(incremental.seconds < 1.0)}",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    when = time.gmtime()
    who = find_contenders(
        accord=args.accord,
        postgres=DEFAULT_POSTGRES,
        medallion=None,
        skip_postgres=True,
        skip_medallion=True,
    )
    if who.accord is None:
        log("accord not found: " + "; ".join(who.skipped))
        return 1
    with working_directory(args.workdir) as workdir:
        rows = run(args, who.accord, workdir)
    publish_report(report(rows, args, when), args.out, "sync", when)
    return 0


if __name__ == "__main__":
    sys.exit(main())
