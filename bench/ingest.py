"""Ingest benchmark: how fast, and in how much memory, Accord stores STIX.

What it measures, in one run and on the same bytes for every contender:

- datasets: the ATT&CK Enterprise 18.1 bundle and the 85 Unit 42 playbooks (STIX 2.0)
  from ../shared/data (skipped with a message where absent), and ``--size`` generated
  STIX 2.1 indicators (default 1,000,000; seeded, so the same on every machine) written
  as one JSON-lines file, as bundle files of 10,000 objects, and as one single bundle;
- contenders, each in a process of its own so that its peak memory is its own:
  Accord through its CLI (``accord init`` then the timed ``accord import PATH...
  --collection bench``) on SQLite and on PostgreSQL (a fresh database per run); the raw
  floor (``_ingest_floor.py``: orjson parse plus a bare sqlite3 ``executemany`` into a
  table with the same indexes as Accord's); and medallion 3.0.0, the OASIS TAXII 2.1
  reference server, memory backend, sent the first 10,000 and 100,000 generated
  indicators over TAXII POST (``_ingest_medallion.py``);
- per row: wall seconds (median of ``--repeat`` runs), objects per second (objects in the
  dataset / seconds), peak RSS of the contender's process (``ru_maxrss`` at reaping), and
  the ratios to the floor on the same dataset and to medallion at its largest size;
- the issue's goals, pass or fail, for Accord on SQLite over the generated indicators:
  at least half the floor's rate, at least 20x medallion at 100,000, and peak memory under
  1 GiB for JSON lines and bundles of 10,000 (at most 2.5x the file for one bundle).

The report is a Markdown table on standard output and in bench/results/ingest-DATE.md.
Progress goes to standard error. A contender that is not installed (``accord``,
``medallion``) or not reachable (PostgreSQL) is skipped, and the report says so.
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from _common import log, package_version, publish_report, report_header, working_directory
from _ingest_contenders import (
    DEFAULT_POSTGRES,
    fresh_database,
    run_accord,
    run_floor,
)
from _ingest_data import (
    BUNDLE_SIZE,
    SHARED_DATA,
    Dataset,
    first_lines,
    generate,
    real_datasets,
)
from _ingest_medallion import (
    ENVELOPE,
    MedallionRun,
    run_medallion,
)
from _ingest_proc import Measurement
from _ingest_report import (
    ACCORD_POSTGRES,
    ACCORD_SQLITE,
    FLOOR,
    MEDALLION,
    Result,
    from_measurements,
    goals,
    max_peak,
    result,
    table,
)
from _probe import Contenders
from _probe import find_contenders as probe_contenders


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="bench/ingest.py",
        description="Ingest benchmark: Accord (SQLite, PostgreSQL) against a raw "
        "orjson+sqlite3 floor and medallion, on ATT&CK, Unit 42 and generated indicators.",
    )
    add = parser.add_argument
    add("--size", type=int, default=1_000_000, help="generated indicators (default 1,000,000)")
    add("--seed", type=int, default=2025, help="seed of the generated set (default 2025)")
    add("--repeat", type=int, default=1, help="runs per generated/medallion row (median)")
    add("--repeat-small", type=int, default=3, help="runs per ATT&CK/Unit 42 row (median)")
    add("--skip-postgres", action="store_true", help="do not run Accord on PostgreSQL")
    add("--skip-medallion", action="store_true", help="do not run medallion")
    add("--skip-accord", action="store_true", help="do not run Accord at all")
    add(
        "--medallion-sizes",
        default="10000,100000",
        help="objects POSTed to medallion, comma-separated; capped at --size",
    )
    add("--medallion-timeout", type=float, default=1800, help="seconds per medallion run")
    add("--timeout", type=float, default=3600, help="seconds per floor/Accord run")
    add("--out", type=Path, help="report file (default bench/results/ingest-DATE.md)")
    add("--workdir", type=Path, help="keep generated data and stores here (reused if same)")
    add("--data", type=Path, default=SHARED_DATA, help="the shared data folder")
    add("--accord", type=Path, help="the accord executable (default: beside this Python)")
    add("--medallion", type=Path, help="the medallion executable (default: found on paths)")
    add("--postgres", default=DEFAULT_POSTGRES, help="admin URL of a PostgreSQL database")
    args = parser.parse_args(argv)
    if args.size < 1 or args.repeat < 1 or args.repeat_small < 1:
        parser.error("--size, --repeat and --repeat-small must be at least 1")
    return args


def find_contenders(args: argparse.Namespace) -> Contenders:
    """Probe each contender once; note each one that cannot run."""
    return probe_contenders(
        accord=args.accord,
        postgres=args.postgres,
        medallion=args.medallion,
        skip_accord=args.skip_accord,
        skip_postgres=args.skip_postgres,
        skip_medallion=args.skip_medallion,
    )


# --- running ----------------------------------------------------------------------------


def _repeat(label: str, times: int, run: Callable[[], Measurement]) -> list[Measurement]:
    runs = []
    for number in range(times):
        measurement = run()
        state = "ok" if measurement.ok else measurement.failure()
        log(f"  {label} run {number + 1}/{times}: {measurement.seconds:.2f} s, {state}")
        runs.append(measurement)
    return runs


def _measure(
    contender: str, dataset: Dataset, times: int, run: Callable[[], Measurement]
) -> Result:
    try:
        return from_measurements(contender, dataset, _repeat(contender, times, run))
    except (RuntimeError, OSError, psycopg.Error) as exc:
        log(f"  {contender} failed: {exc}")
        return result(contender, dataset, 0, note=str(exc).splitlines()[0][:200])


def run_dataset(
    dataset: Dataset, who: Contenders, args: argparse.Namespace, workdir: Path
) -> list[Result]:
    """The floor and Accord (SQLite, PostgreSQL) on one dataset."""
    times = args.repeat if dataset.generated else args.repeat_small
    log(f"{dataset.name}: {dataset.objects:,} objects, {dataset.size_bytes / 2**20:,.0f} MiB")
    rows = [_measure(FLOOR, dataset, times, lambda: run_floor(dataset, workdir, args.timeout))]
    accord = who.accord
    if accord is not None:
        rows.append(
            _measure(
                ACCORD_SQLITE,
                dataset,
                times,
                lambda: run_accord(accord, dataset, workdir, args.timeout),
            )
        )
    if accord is not None and who.postgres is not None:
        admin = who.postgres

        def on_postgres() -> Measurement:
            with fresh_database(admin) as url:
                return run_accord(accord, dataset, workdir, args.timeout, url)

        rows.append(_measure(ACCORD_POSTGRES, dataset, times, on_postgres))
    return rows


def medallion_sizes(args: argparse.Namespace) -> list[int]:
    """The medallion sizes asked for, capped at the generated set's size."""
    return sorted({min(int(size), args.size) for size in args.medallion_sizes.split(",")})


def run_medallion_size(
    exe: Path, jsonl: Path, count: int, args: argparse.Namespace, workdir: Path
) -> Result:
    """medallion on the first ``count`` generated indicators, ``--repeat`` times."""
    dataset = Dataset(
        f"generated indicators, first {count:,} (TAXII POST, envelopes of {ENVELOPE:,})",
        (),
        (),
        count,
        "TAXII",
        generated=False,
    )
    lines = first_lines(jsonl, count)
    runs: list[MedallionRun] = []
    try:
        for number in range(args.repeat):
            scratch = workdir / f"medallion-{count}-{number}"
            run = run_medallion(exe, lines, scratch, args.medallion_timeout)
            log(f"  medallion run {number + 1}: {run.seconds:.2f} s, {run.stored:,} stored")
            runs.append(run)
            if run.timed_out:  # one timeout is the answer: do not wait for it again
                break
    except (RuntimeError, OSError) as exc:
        log(f"  medallion failed: {exc}")
        return result(MEDALLION, dataset, len(runs) + 1, note=str(exc)[:200])
    last = runs[-1]
    if last.timed_out:
        return result(
            MEDALLION, dataset, len(runs), seconds=last.seconds, peak_rss=last.peak_rss,
            stored=last.stored,
        )  # fmt: skip
    return result(
        MEDALLION,
        dataset,
        len(runs),
        seconds=statistics.median(run.seconds for run in runs),
        peak_rss=max_peak(run.peak_rss for run in runs),
        stored=count,
    )


# --- the report -------------------------------------------------------------------------


def report(
    results: list[Result], who: Contenders, args: argparse.Namespace, when: time.struct_time
) -> str:
    """The whole Markdown report."""
    versions = {
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "orjson": package_version("orjson"),
        **who.versions,
    }
    lines = [
        *report_header("Ingest benchmark", when, versions),
        f"- Generated set: {args.size:,} STIX 2.1 indicators, seed {args.seed}; "
        f"median of {args.repeat} run(s) on generated data and medallion, "
        f"{args.repeat_small} on ATT&CK and Unit 42",
        "",
        table(results),
        "",
        "Seconds: wall time of the contender's process (Accord: `accord import` alone). "
        "Peak RSS: that process's maximum resident set (medallion: the server's; "
        "Accord on PostgreSQL: the client's, not the database server's). Ratio to floor: "
        "against the raw floor on the same files (medallion: on the JSON-lines file); the "
        "floor parses each bundle file whole, hence its peak on one big bundle. "
        "Ratio to medallion: against medallion at its largest size.",
        "",
        "## Goals (Accord on SQLite, generated indicators)",
        "",
        goals(results),
    ]
    if who.skipped:
        lines += ["", "## Not run", "", *(f"- {reason}" for reason in who.skipped)]
    return "\n".join(lines) + "\n"


def run_all(args: argparse.Namespace, who: Contenders, workdir: Path) -> list[Result]:
    """Every dataset through every contender that can run."""
    datasets, missing = real_datasets(args.data)
    who.skipped.extend(missing)
    log(f"generating {args.size:,} indicators (seed {args.seed}) in {BUNDLE_SIZE:,}-object files")
    generated = generate(workdir / "data", args.size, args.seed)
    results: list[Result] = []
    for dataset in (*datasets, *generated.all()):
        results.extend(run_dataset(dataset, who, args, workdir))
    if who.medallion is not None:
        for count in medallion_sizes(args):
            log(f"medallion: {count:,} objects over TAXII")
            results.append(
                run_medallion_size(who.medallion, generated.jsonl.files[0], count, args, workdir)
            )
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the report, and write it under bench/results/."""
    args = parse_args(argv)
    when = time.gmtime()
    who = find_contenders(args)
    with working_directory(args.workdir) as workdir:
        results = run_all(args, who, workdir)
    text = report(results, who, args, when)
    publish_report(text, args.out, "ingest", when)
    return 0


if __name__ == "__main__":
    sys.exit(main())
