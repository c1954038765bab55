"""Ledger benchmark: the transparency log's core, appends and proofs, against a floor and pymerkle.

What it measures, in one run, each measurement in a process of its own (``_ledger_work.py``,
spawned as the other benchmarks spawn theirs, so that its peak RSS is its own):

- **appends**: ``--size`` entries (default 1,000,000; share-entry sized, ~330 bytes) in
  batches of ``--batch`` (1,000, a TAXII page), by the plain-``hashlib`` floor (leaf hash
  and a stack of complete subtrees, nothing stored), by accord.ledger (`hashes_to_store`
  over an in-memory list; `Appender` in memory; `Appender` into a SQLite file table of
  stored hashes, one transaction per batch; `Appender` into a flat file of 32-byte hashes),
  and by pymerkle (in memory, and its SQLite backend with its batch insert), at most
  ``--pymerkle-size`` entries. The flat file is also built at ``--big`` (10,000,000)
  entries: the log the proofs below read;
- **proofs**: ``--proofs`` inclusion proofs of random leaves and consistency proofs from
  random older sizes, made and verified, at 1e6 and 1e7 leaves, read from the flat file
  with ``os.pread`` (memory bounded whatever the log's size; also with a fixed cache of
  the first 65,536 hashes read, the upper levels), mapped with ``mmap`` (fast, but the
  pages read stay resident), from the SQLite table, and from memory. The floor of
  verifying is the same number of node hashes by hashlib alone. pymerkle's proofs come
  from the tree its append step built;
- **TAXII**: ``--taxii`` (or ``--taxii-only``) adds the 1,000,000-object paginated TAXII read
  with the log off and on, alternated in rounds, each read by a fresh ``accord serve``
  (bench/_ledger_taxii.py; goal: the log costs at most 10% of the read).

Every contender's root is compared with accord's at the same size. Goals (issue 11): at
least 100,000 appends/s; inclusion proofs at 1e7 leaves at least 20,000/s; peak memory
independent of the log's size. The report is Markdown on standard output and in
bench/results/ledger-DATE.md; progress goes to standard error.
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import log, package_version, publish_report, report_header, verdict, working_directory
from _ingest_contenders import find_accord
from _ingest_data import generate_jsonl
from _ingest_proc import run_measured
from _ledger_taxii import log_read, section

WORKER = Path(__file__).with_name("_ledger_work.py")
MIB = 1024 * 1024
PROOF_OPS = ("inclusion make", "inclusion verify", "consistency make", "consistency verify")


@dataclass
class Row:
    """One measurement: who, at what log size, the rates, its peak RSS."""

    what: str
    size: int
    rates: dict[str, float]
    peak_rss: int | None
    cpu_rates: dict[str, float] = field(default_factory=dict)
    root: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/ledger.py",
        description="Ledger benchmark: appends and Merkle proofs of accord.ledger against "
        "a plain-hashlib floor and pymerkle, at 1e6 and 1e7 leaves.",
    )
    add = parser.add_argument
    add("--size", type=int, default=1_000_000, help="entries appended per contender (1e6)")
    add("--big", type=int, default=10_000_000, help="the large log for proofs (1e7)")
    add("--batch", type=int, default=1_000, help="entries per batch (a TAXII page, 1,000)")
    add("--proofs", type=int, default=20_000, help="proofs of each kind per measurement")
    add("--pymerkle-size", type=int, default=1_000_000, help="pymerkle's entries (1e6)")
    add("--pymerkle-proofs", type=int, default=2_000, help="pymerkle's proofs of each kind")
    add("--quick", action="store_true", help="1e5 and 1e6 leaves, fewer proofs (a minute)")
    add("--taxii", action="store_true", help="also the paginated TAXII read, log off and on")
    add("--taxii-only", action="store_true", help="only the TAXII read (no core measurements)")
    add("--taxii-size", type=int, default=1_000_000, help="objects of the TAXII read (1e6)")
    add("--taxii-rounds", type=int, default=2, help="reads of each kind, alternated (2)")
    add("--seed", type=int, default=7, help="seed of the generated indicators")
    add("--timeout", type=float, default=900, help="seconds allowed per measurement")
    add("--out", type=Path, help="report file (default bench/results/ledger-DATE.md)")
    add("--workdir", type=Path, help="keep the stored layouts here")
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.big, args.proofs = 100_000, 1_000_000, 5_000
        args.pymerkle_size, args.pymerkle_proofs = 100_000, 500
    if not 2 <= args.size <= args.big:
        parser.error("need 2 <= --size <= --big")
    args.pymerkle_size = min(args.pymerkle_size, args.size)
    return args


def _work(task: dict[str, Any], workdir: Path, name: str, timeout: float) -> tuple[Any, int | None]:
    m = run_measured(
        [sys.executable, WORKER, json.dumps(task)],
        env=None,
        timeout=timeout,
        log_prefix=workdir / name,
    )
    if not m.ok:
        raise RuntimeError(f"{name}: {m.failure()}")
    return json.loads(m.stdout), m.peak_rss


APPENDS = [
    ("floor", "floor: plain hashlib, leaf + stack of subtrees, nothing stored"),
    ("accord-list", "accord `hashes_to_store` over a list, in memory"),
    ("accord-appender", "accord `Appender`, hashes kept in memory"),
    ("accord-sqlite", "accord `Appender` → SQLite file, 1 transaction per batch"),
    ("accord-file", "accord `Appender` → flat file of 32-byte hashes"),
]


def appends(args: argparse.Namespace, workdir: Path) -> list[Row]:
    rows = []
    for who, what in APPENDS:
        log(f"append {args.size:,} entries: {who}")
        name = {"accord-sqlite": "stored.db", "accord-file": "small.bin"}.get(who)
        task = {"task": "append", "who": who, "n": args.size, "batch": args.batch, "path": ""}
        if name:
            (workdir / name).unlink(missing_ok=True)
            task["path"] = str(workdir / name)
        got, rss = _work(task, workdir, f"append-{who}", args.timeout)
        rows.append(Row(what, args.size, got["rates"], rss, cpu_rates=got["cpu_rates"]))
        rows[-1].root = got["root"]
        log(f"  {rows[-1].rates['appends']:,.0f} appends/s")
    log(f"append {args.big:,} entries: accord-file (the log the proofs read)")
    task = {"task": "append", "who": "accord-file", "n": args.big, "batch": args.batch}
    big = workdir / "big.bin"
    got, rss = _work({**task, "path": str(big)}, workdir, "append-big", args.timeout)
    rows.append(Row(APPENDS[-1][1], args.big, got["rates"], rss, got["cpu_rates"], got["root"]))
    log(f"  {rows[-1].rates['appends']:,.0f} appends/s")
    for kind in ("memory", "sqlite"):
        log(f"pymerkle {kind}: {args.pymerkle_size:,} entries, {args.pymerkle_proofs:,} proofs")
        path = workdir / "pymerkle.db"
        path.unlink(missing_ok=True)
        task = {
            "task": "append",
            "who": f"pymerkle-{kind}",
            "n": args.pymerkle_size,
            "batch": args.batch,
            "count": args.pymerkle_proofs,
            "path": str(path),
        }
        got, rss = _work(task, workdir, f"pymerkle-{kind}", args.timeout)
        how = "`append_entry` per leaf" if kind == "memory" else "`append_entries` per batch"
        cls = "InmemoryTree" if kind == "memory" else "SqliteTree"
        rows.append(
            Row(
                f"pymerkle {package_version('pymerkle')} `{cls}`, {how}",
                args.pymerkle_size,
                {**got["rates"], **got["proofs"]["rates"]},
                rss,
                {**got["cpu_rates"], **got["proofs"]["cpu_rates"]},
                got["root"],
                f"{args.pymerkle_proofs:,} proofs of each kind",
            )
        )
        log(f"  {rows[-1].rates['appends']:,.0f} appends/s")
    return rows


def proofs(args: argparse.Namespace, workdir: Path) -> list[Row]:
    big = workdir / "big.bin"
    plan = [
        ("file", args.size, big, "accord, flat file read with `os.pread`"),
        ("file", args.big, big, "accord, flat file read with `os.pread`"),
        ("file-cached", args.size, big, "accord, `os.pread` + first 65,536 hashes kept"),
        ("file-cached", args.big, big, "accord, `os.pread` + first 65,536 hashes kept"),
        ("mmap", args.size, big, "accord, flat file mapped (`mmap`)"),
        ("mmap", args.big, big, "accord, flat file mapped (`mmap`)"),
        ("sqlite", args.size, workdir / "stored.db", "accord, SQLite table, one `SELECT … IN`"),
        ("memory", args.size, big, "accord, the whole layout in a list"),
    ]
    rows = []
    for reader, size, path, what in plan:
        log(f"proofs at {size:,} leaves, {reader} reader, {args.proofs:,} of each kind")
        task = {"task": "proofs", "reader": reader, "size": size, "count": args.proofs}
        got, rss = _work(
            {**task, "path": str(path)}, workdir, f"proofs-{reader}-{size}", args.timeout
        )
        row = Row(what, size, got["rates"], rss, got["cpu_rates"], got["root"])
        row.extra["depth"] = got["depth"]
        rows.append(row)
        log("  " + ", ".join(f"{k} {v:,.0f}/s" for k, v in got["rates"].items()))
    return rows


def taxii(args: argparse.Namespace, workdir: Path) -> list[str]:
    """The 1,000,000-object paginated TAXII read, log off and on (bench/_ledger_taxii.py)."""
    if not (args.taxii or args.taxii_only):
        return []
    accord = find_accord(None)
    jsonl = generate_jsonl(workdir / "data-jsonl", args.taxii_size, args.seed)
    result = log_read(accord, jsonl, args.taxii_size, workdir, args.timeout * 4, args.taxii_rounds)
    return ["", *section(result).splitlines()]


def _agrees(row: Row, roots: dict[int, str]) -> str:
    """Whether a row's root is accord `Appender`'s at the same size (— if none was made)."""
    if row.size not in roots:
        return "—"
    return "yes" if row.root == roots[row.size] else "NO"


def _rate(value: float | None) -> str:
    return f"{value:,.0f}" if value else "—"


def _rss(value: int | None) -> str:
    return f"{value / MIB:,.0f} MiB" if value else "—"


def report(
    appended: list[Row], proved: list[Row], args: argparse.Namespace, when: time.struct_time
) -> str:
    versions = {
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "pymerkle": package_version("pymerkle"),
        "cryptography": package_version("cryptography"),
    }
    by_size = {r.size: r.root for r in appended if r.what.startswith("accord `Appender`")}
    lines = [
        *report_header("Ledger benchmark", when, versions),
        f"- Entries: share-entry sized (~330 bytes), batches of {args.batch:,}; "
        f"{args.proofs:,} random proofs of each kind per row",
        "",
        "## Appends",
        "",
        "| contender | entries | appends/s | per CPU-second | peak RSS | root agrees |",
        "|---|--:|--:|--:|--:|---|",
    ]
    for r in appended:
        lines.append(
            f"| {r.what} | {r.size:,} | {_rate(r.rates['appends'])} "
            f"| {_rate(r.cpu_rates.get('appends'))} | {_rss(r.peak_rss)} | {_agrees(r, by_size)} |"
        )
    with_proofs = [*proved, *(a for a in appended if "inclusion make" in a.rates)]
    for title, pick in (("per second", "rates"), ("per CPU-second", "cpu_rates")):
        lines += [
            "",
            f"## Proofs ({title})",
            "",
            "| contender | leaves | inclusion make | inclusion verify | hashlib floor of verify "
            "| consistency make | consistency verify | peak RSS | root agrees |",
            "|---|--:|--:|--:|--:|--:|--:|--:|---|",
        ]
        for r in with_proofs:
            got: dict[str, float] = getattr(r, pick)
            cells = [_rate(got.get(k)) for k in PROOF_OPS]
            floor = _rate(got.get("inclusion floor"))
            lines.append(
                f"| {r.what} | {r.size:,} | {cells[0]} | {cells[1]} | {floor} | {cells[2]} "
                f"| {cells[3]} | {_rss(r.peak_rss)} | {_agrees(r, by_size)} |"
            )
    small_file, big_file = proved[0], proved[1]
    sqlite = next(r for r in appended if "SQLite file" in r.what)
    rss_small, rss_big = small_file.peak_rss or 0, big_file.peak_rss or 0
    builds = [r for r in appended if "flat file" in r.what]
    # "Independent": within 16 MiB, the noise of an interpreter's own allocations.
    flat = abs(rss_big - rss_small) < 16 * MIB
    flat_build = abs((builds[0].peak_rss or 0) - (builds[1].peak_rss or 0)) < 16 * MIB
    full = args.big >= 10_000_000
    note = "" if full else " (indicative: the goals are for 1e7 leaves)"

    def slowest(r: Row, rates: dict[str, float]) -> float:
        return min(rates["inclusion make"], rates["inclusion verify"])

    bounded = [r for r in proved if r.size == args.big and "pread" in r.what]
    best = max(bounded, key=lambda r: slowest(r, r.rates))
    lines += [
        "",
        f"## Goals{note}",
        "",
        "Judged on wall-clock rates; per CPU-second in brackets (what the process did with",
        "the CPU time it got, on a machine shared with other work).",
        "",
        f"- at least 100,000 appends/s (`Appender` into SQLite, batches of {args.batch:,}): "
        f"{sqlite.rates['appends']:,.0f} ({sqlite.cpu_rates['appends']:,.0f}) — "
        f"{verdict(sqlite.rates['appends'] >= 100_000)}",
        f"- inclusion proofs at {args.big:,} leaves at least 20,000/s ({best.what}): made "
        f"{best.rates['inclusion make']:,.0f} ({best.cpu_rates['inclusion make']:,.0f}), "
        f"verified {best.rates['inclusion verify']:,.0f} "
        f"({best.cpu_rates['inclusion verify']:,.0f}) — "
        f"{verdict(slowest(best, best.rates) >= 20_000)}",
        f"- peak memory independent of the log's size: proofs {_rss(rss_small)} at "
        f"{small_file.size:,} and {_rss(rss_big)} at {big_file.size:,} leaves; appends into the "
        f"flat file {_rss(builds[0].peak_rss)} at {builds[0].size:,} and "
        f"{_rss(builds[1].peak_rss)} at {builds[1].size:,} — {verdict(flat and flat_build)}",
        "",
        f"Mean inclusion proof length: {small_file.extra['depth']:.1f} hashes at "
        f"{small_file.size:,} leaves, {big_file.extra['depth']:.1f} at {big_file.size:,}.",
    ]
    if args.pymerkle_size < args.size:
        lines.append(f"pymerkle is bounded to {args.pymerkle_size:,} entries (`--pymerkle-size`).")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    when = time.gmtime()
    with working_directory(args.workdir) as workdir:
        if args.taxii_only:
            header = report_header("Ledger benchmark: the TAXII read", when, {})
            text = "\n".join([*header, *taxii(args, workdir)]) + "\n"
        else:
            appended = appends(args, workdir)
            proved = proofs(args, workdir)
            text = report(appended, proved, args, when) + "\n".join(taxii(args, workdir)) + "\n"
    publish_report(text, args.out, "ledger", when)
    return 0


if __name__ == "__main__":
    sys.exit(main())
