"""Backup benchmark: ``accord backup`` and ``accord restore`` (with its verification) of a big node.

What it measures, in one run:

- a node of ``--size`` generated STIX 2.1 indicators (default 1,000,000; seeded, the
  generator of bench/ingest.py), imported by ``accord import`` (the bulk path) into one
  collection, on SQLite and on PostgreSQL (a fresh database, schema ``public``);
- per backend, ``--runs`` times each (median reported): ``accord backup DEST`` (wall time of
  the CLI process: the copy or dump, the manifest's counts, digests and log root, the
  SHA-256 of every file) and ``accord restore SRC`` into an empty node (copy or pg_restore,
  then the recomputed contents checked against the manifest);
- the floor beside it in the same run: ``sqlite3 DB ".backup DEST"`` and a plain ``cp`` of
  the copy for the restore; ``pg_dump --format=custom --compress=1`` alone (Accord's own
  options) and ``pg_restore --single-transaction`` alone into a fresh database;
- the size in MB of each backup, and the goal of issue 17: a backup of the 1 M-object node
  in under 60 s.

The report is Markdown on standard output and in bench/results/backup-DATE.md; progress
goes to standard error. PostgreSQL is skipped, and the report says so, where unreachable.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from _common import log, package_version, publish_report, report_header, verdict, working_directory
from _ingest_data import generate_jsonl

PG_URL = os.environ.get(
    "ACCORD_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ACCORD = str(Path(sys.executable).with_name("accord"))
GOAL_SECONDS = 60.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--size", type=int, default=1_000_000, help="generated indicators")
    p.add_argument("--runs", type=int, default=3, help="timed runs of each step (median)")
    p.add_argument("--seed", type=int, default=17)
    p.add_argument("--workdir", type=Path, help="kept work folder (default: a temporary one)")
    p.add_argument("--out", type=Path, help="report file (default bench/results/backup-DATE.md)")
    p.add_argument("--no-postgres", action="store_true", help="SQLite only")
    return p.parse_args(argv)


# The work's own seconds, which `accord backup` and `accord restore` print last.
_OWN = re.compile(rb", ([0-9.]+) s\s*$")
_last_own: list[float] = []


def _run(args: list[str], env: dict[str, str] | None = None) -> float:
    """Run a command to completion; its wall seconds (it must succeed)."""
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.decode()[-800:]}")
    found = _OWN.search(done.stdout)
    if found:
        _last_own.append(float(found.group(1)))
    return seconds


def _own(run: Callable[[int], float]) -> Callable[[int], float]:
    """The seconds the command says its work took (the CLI's start-up left out)."""

    def once(i: int) -> float:
        _last_own.clear()
        run(i)
        return _last_own[-1]

    return once


def _mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def _env(home: Path, url: str = "") -> dict[str, str]:
    return {**os.environ, "ACCORD_HOME": str(home), "ACCORD_DATABASE_URL": url}


@dataclass
class Row:
    backend: str
    what: str
    seconds: list[float] = field(default_factory=list)
    mb: float | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def _repeat(runs: int, row: Row, once: Callable[[int], float]) -> Row:
    for i in range(runs):
        row.seconds.append(once(i))
        log(f"{row.backend} {row.what} run {i + 1}: {row.seconds[-1]:.1f} s")
    return row


def _filled(home: Path, env: dict[str, str], data: Path, backend: str) -> float:
    """A new node at ``home`` with ``data`` imported into collection ``bench``: seconds."""
    shutil.rmtree(home, ignore_errors=True)
    _run([ACCORD, "init"], env)
    log(f"importing into {backend}")
    return _run([ACCORD, "import", str(data), "--collection", "bench"], env)


def _backups(work: Path, prefix: str, backend: str, env: dict[str, str], runs: int) -> Row:
    """``accord backup`` of the node of ``env``, ``runs`` times, into work/PREFIX-backup-N."""

    def backup(i: int) -> float:
        dest = work / f"{prefix}-backup-{i}"
        shutil.rmtree(dest, ignore_errors=True)
        return _run([ACCORD, "backup", str(dest)], env)

    row = _repeat(runs, Row(backend, "accord backup"), _own(backup))
    row.mb = _mb(work / f"{prefix}-backup-0")
    return row


def bench_sqlite(work: Path, data: Path, runs: int) -> tuple[list[Row], float]:
    home = work / "sqlite-node"
    env = _env(home)
    imported = _filled(home, env, data, "SQLite")
    db = home / "accord.db"
    rows = [_backups(work, "sqlite", "SQLite", env, runs)]

    def floor(i: int) -> float:
        dest = work / f"sqlite-floor-{i}.db"
        dest.unlink(missing_ok=True)
        return _run(["sqlite3", str(db), f".backup '{dest}'"])

    rows.append(_repeat(runs, Row("SQLite", "floor: sqlite3 .backup"), floor))
    rows[-1].mb = _mb(work / "sqlite-floor-0.db")

    def restore(i: int) -> float:
        target = work / f"sqlite-restored-{i}"
        shutil.rmtree(target, ignore_errors=True)
        return _run([ACCORD, "restore", str(work / "sqlite-backup-0")], _env(target))

    rows.append(_repeat(runs, Row("SQLite", "accord restore (verified)"), _own(restore)))

    def copy(i: int) -> float:
        dest = work / f"sqlite-copy-{i}.db"
        dest.unlink(missing_ok=True)
        return _run(["cp", str(work / "sqlite-backup-0" / "accord.db"), str(dest)])

    rows.append(_repeat(runs, Row("SQLite", "floor: cp of the copy"), copy))
    for p in work.glob("sqlite-*"):
        if p.name not in ("sqlite-node", "sqlite-backup-0"):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink()
    return rows, imported


def _conninfo(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _database(name: str, drop: bool = False) -> str:
    from sqlalchemy.engine import make_url

    with psycopg.connect(_conninfo(PG_URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop:
            conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def bench_postgres(work: Path, data: Path, runs: int) -> tuple[list[Row], float]:
    tag = uuid.uuid4().hex[:8]
    made: list[str] = []

    def database(suffix: str) -> str:
        made.append(f"accord_bench_{tag}_{suffix}")
        return _database(made[-1])

    try:
        url = database("node")
        home = work / "pg-node"
        env = _env(home, url)
        imported = _filled(home, env, data, "PostgreSQL")
        rows = [_backups(work, "pg", "PostgreSQL", env, runs)]
        conninfo = _conninfo(url)

        def floor(i: int) -> float:
            dest = work / f"pg-floor-{i}.dump"
            dest.unlink(missing_ok=True)
            args = ["pg_dump", "--format=custom", "--compress=1", "--no-owner"]
            return _run([*args, "--schema=public", f"--file={dest}", f"--dbname={conninfo}"])

        rows.append(_repeat(runs, Row("PostgreSQL", "floor: pg_dump -Fc -Z1"), floor))
        rows[-1].mb = _mb(work / "pg-floor-0.dump")

        def restore(i: int) -> float:
            target = work / f"pg-restored-{i}"
            shutil.rmtree(target, ignore_errors=True)
            into = database(f"r{i}")
            seconds = _run([ACCORD, "restore", str(work / "pg-backup-0")], _env(target, into))
            _database(made.pop(), drop=True)
            return seconds

        rows.append(_repeat(runs, Row("PostgreSQL", "accord restore (verified)"), _own(restore)))

        def plain_restore(i: int) -> float:
            into = _conninfo(database(f"f{i}"))
            args = ["pg_restore", "--no-owner", "--single-transaction", "--exit-on-error"]
            # public exists in a fresh database: its schema entry is left out, as Accord does.
            listed = subprocess.run(
                ["pg_restore", "--list", str(work / "pg-floor-0.dump")],
                capture_output=True,
                check=True,
            ).stdout.decode()
            toc = work / "floor.toc"
            toc.write_text(
                "\n".join(line for line in listed.splitlines() if " SCHEMA - " not in line)
            )
            seconds = _run(
                [*args, f"--use-list={toc}", f"--dbname={into}", str(work / "pg-floor-0.dump")]
            )
            _database(made.pop(), drop=True)
            return seconds

        rows.append(_repeat(runs, Row("PostgreSQL", "floor: pg_restore alone"), plain_restore))
        return rows, imported
    finally:
        for name in made:
            _database(name, drop=True)


def report(
    args: argparse.Namespace, rows: list[Row], imports: dict[str, float], notes: list[str]
) -> str:
    when = time.gmtime()
    versions = {
        "accord": package_version("accord"),
        "SQLite": subprocess.run(
            ["sqlite3", "--version"], capture_output=True, text=True
        ).stdout.split()[0],
        "pg_dump": subprocess.run(
            ["pg_dump", "--version"], capture_output=True, text=True
        ).stdout.split()[2],
    }
    lines = report_header("Backup benchmark", when, versions)
    lines += [
        "- The machine was shared with other work (2 cores): timings are noisy; medians"
        f" of {args.runs} runs, ratios against the floor measured in the same run.",
        "- Accord's seconds are the work's own, as the command prints it (`accord backup`,"
        " `accord restore`): the CLI's start-up (importing Python modules, several seconds"
        " on this loaded machine) is left out; the floors are whole processes.",
        f"- Node: {args.size:,} generated STIX 2.1 indicators (seed {args.seed}) in one"
        " collection, imported by `accord import`: "
        + ", ".join(f"{b} {s:.0f} s" for b, s in imports.items()),
        "",
        "| backend | step | median s | runs (s) | MB | Accord / floor |",
        "|---|---|---|---|---|---|",
    ]
    # Each Accord step is followed by its floor, measured just after it.
    for i, r in enumerate(rows):
        ratio = ""
        if not r.what.startswith("floor") and i + 1 < len(rows):
            ratio = f"{r.median / rows[i + 1].median:.2f}"
        mb = f"{r.mb:,.0f}" if r.mb is not None else ""
        runs = ", ".join(f"{s:.1f}" for s in r.seconds)
        lines.append(f"| {r.backend} | {r.what} | {r.median:.1f} | {runs} | {mb} | {ratio} |")
    lines.append("")
    for r in rows:
        if r.what == "accord backup":
            ok = r.median < GOAL_SECONDS if args.size >= 1_000_000 else None
            lines.append(
                f"- Goal (issue 17): backup of a 1 M-object node under {GOAL_SECONDS:.0f} s,"
                f" {r.backend}: {r.median:.1f} s: {verdict(ok)}"
            )
    lines += [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not Path(ACCORD).exists():
        log(f"no accord command beside {sys.executable}: pip install -e . first")
        return 1
    rows: list[Row] = []
    imports: dict[str, float] = {}
    notes: list[str] = []
    with working_directory(args.workdir) as work:
        log(f"generating {args.size:,} indicators")
        data = generate_jsonl(work / "data", args.size, args.seed)
        got, imports["SQLite"] = bench_sqlite(work, data, args.runs)
        rows += got
        if args.no_postgres:
            notes.append("PostgreSQL: skipped (--no-postgres)")
        else:
            try:
                with psycopg.connect(_conninfo(PG_URL), connect_timeout=5):
                    pass
            except psycopg.Error as exc:
                notes.append(f"PostgreSQL: skipped, not reachable ({exc})")
            else:
                got, imports["PostgreSQL"] = bench_postgres(work, data, args.runs)
                rows += got
    publish_report(report(args, rows, imports, notes), args.out, "backup", time.gmtime())
    return 0


if __name__ == "__main__":
    sys.exit(main())
