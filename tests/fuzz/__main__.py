"""Run a fuzz target under atheris (libFuzzer) for a bounded time, and report.

::

    python -m tests.fuzz list
    python -m tests.fuzz run TARGET [--seconds N] [--runs N]
    python -m tests.fuzz run all --seconds N   # every input through every target
    python -m tests.fuzz merge TARGET     # keep what a run found that adds coverage

``run`` fuzzes in a child process (libFuzzer ends the process it runs in) over
two corpus folders: ``.fuzz/corpus/TARGET`` (what runs find, not in git) and
the seeds ``tests/fuzz/corpus/TARGET`` (in git, only read). Crashes, hangs
(over ``--timeout`` seconds for one input) and out-of-memory inputs are written
to ``.fuzz/crashes/TARGET/``. It prints one summary line of JSON (seconds,
executions, corpus size, crashes), also kept in ``.fuzz/results/TARGET.json``,
and exits non-zero when a run crashed.

Only the Accord modules under test (`INSTRUMENT`) are instrumented for
coverage: the rest of Accord and the libraries it calls run as they are.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import subprocess
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "tests" / "fuzz" / "corpus"
WORK = ROOT / ".fuzz"
_STAT = re.compile(r"stat::(\w+):\s*(\d+)")
_LOGS = ("accord.logsources", "accord.patterns._index")
# What each target instruments for coverage: the code under test, not the whole package
# (instrumenting every module Accord imports makes each start take many seconds).
INSTRUMENT: dict[str, tuple[str, ...]] = {
    "stix": ("accord.stix", "accord.service._readers"),
    "pattern_parse": ("accord.patterns",),
    "pattern_match": ("accord.patterns", "accord.logsources._stixlines"),
    "agreement": ("accord.policy",),
    "taxii_query": ("accord.service.taxii", "accord.taxii._media", "accord.taxii._client_retry"),
    "taxii_envelope": (
        "accord.service.taxii",
        "accord.taxii.client",
        "accord.service._sync_pull",
        "accord.standing",
        "accord.stix",
    ),
    "zeek": _LOGS,
    "eve": _LOGS,
    "csv": _LOGS,
    "lists": ("accord.formats._lists", "accord.service._foreign"),
}
# Every input through every target, over every corpus: one process, one start, for the
# short run of the suite (tests/fuzz/test_corpus.py).
ALL = "all"


def _names() -> list[str]:
    from tests.fuzz.targets import TARGETS  # imported here: the child instruments first

    return sorted(TARGETS)


def _instrument(prefixes: tuple[str, ...]) -> int:
    """Add coverage instrumentation to the functions of these modules (already imported)."""
    import atheris

    count = 0
    for obj in gc.get_objects():
        module = getattr(obj, "__module__", None)
        if (
            isinstance(obj, types.FunctionType)
            and isinstance(module, str)
            and any(module == p or module.startswith(p + ".") for p in prefixes)
        ):
            atheris.instrument_func(obj)
            count += 1
    return count


def _child(target: str, libfuzzer_args: list[str]) -> None:
    import atheris

    from tests.fuzz.targets import TARGETS

    def every(data: bytes) -> None:
        for fn in TARGETS.values():
            fn(data)

    modules = _modules(target)
    count = _instrument(modules)
    print(f"INFO: instrumented {count} functions of {', '.join(modules)}", flush=True)
    # libFuzzer runs argv[0] again for -merge: a script that starts this child.
    again = WORK / f"child-{target}.sh"
    again.parent.mkdir(parents=True, exist_ok=True)
    again.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tests.fuzz _child {target} "$@"\n')
    again.chmod(0o755)
    fuzz = every if target == ALL else TARGETS[target]
    atheris.Setup([str(again), *libfuzzer_args], fuzz)
    atheris.Fuzz()


def _modules(target: str) -> tuple[str, ...]:
    if target == ALL:
        return tuple(sorted({m for mods in INSTRUMENT.values() for m in mods}))
    return INSTRUMENT[target]


def _seeds(target: str) -> list[Path]:
    if target == ALL:
        return [SEEDS / name for name in sorted(INSTRUMENT)]
    return [SEEDS / target]


def _corpus_size(folders: list[Path]) -> tuple[int, int]:
    files = [f for d in folders if d.is_dir() for f in d.iterdir() if f.is_file()]
    return len(files), sum(f.stat().st_size for f in files)


def run(
    target: str,
    seconds: int,
    runs: int | None = None,
    timeout: int = 20,
    max_len: int = 8192,
    work_dir: Path = WORK,
) -> int:
    """Fuzz one target; print and keep the summary; the child's exit code."""
    seeds, work = _seeds(target), work_dir / "corpus" / target
    crashes, results = work_dir / "crashes" / target, work_dir / "results"
    for d in (work, crashes, results):
        d.mkdir(parents=True, exist_ok=True)
    before = {p.name for p in crashes.iterdir()}
    args = [
        f"-max_total_time={seconds}",
        f"-timeout={timeout}",
        f"-max_len={max_len}",
        "-rss_limit_mb=2048",
        "-print_final_stats=1",
        f"-artifact_prefix={crashes}/",
        str(work),
        *map(str, seeds),
    ]
    if runs is not None:
        args.insert(0, f"-runs={runs}")
    log = work_dir / "logs" / f"{target}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.run(
            [sys.executable, "-m", "tests.fuzz", "_child", target, *args],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=False,
        )
    elapsed = time.monotonic() - started
    text = log.read_text(errors="replace")
    stats = {k: int(v) for k, v in _STAT.findall(text)}
    found = sorted(p.name for p in crashes.iterdir() if p.name not in before)
    files, size = _corpus_size([work, *seeds])
    summary = {
        "target": target,
        "seconds": round(elapsed, 1),
        "executions": stats.get("number_of_executed_units", 0),
        "exec_per_sec": stats.get("average_exec_per_sec", 0),
        "new_units": stats.get("new_units_added", 0),
        "peak_rss_mb": stats.get("peak_rss_mb", 0),
        "corpus_files": files,
        "corpus_bytes": size,
        "crashes": len(found),
        "crash_files": [str(crashes / name) for name in found],
        "exit_code": proc.returncode,
        "log": str(log),
    }
    (results / f"{target}.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary))
    if proc.returncode != 0:
        print(text[-4000:], file=sys.stderr)
    return proc.returncode


def merge(target: str, max_len: int) -> int:
    """Add to the seed corpus the inputs of ``.fuzz/corpus/TARGET`` that add coverage."""
    seeds, work = SEEDS / target, WORK / "corpus" / target
    seeds.mkdir(parents=True, exist_ok=True)
    args = ["-merge=1", f"-max_len={max_len}", str(seeds), str(work)]
    cmd = [sys.executable, "-m", "tests.fuzz", "_child", target, *args]
    return subprocess.run(cmd, cwd=ROOT, check=False).returncode


def main(argv: list[str]) -> int:
    if argv[:1] == ["_child"]:
        _child(argv[1], argv[2:])
        return 0
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the targets")
    p_run = sub.add_parser("run", help="fuzz one target for a bounded time")
    p_run.add_argument("target")
    p_run.add_argument("--seconds", type=int, default=600)
    p_run.add_argument("--runs", type=int, default=None, help="stop after this many inputs")
    p_run.add_argument("--timeout", type=int, default=20, help="seconds one input may take")
    p_run.add_argument("--max-len", type=int, default=8192)
    p_run.add_argument("--work", type=Path, default=WORK, help="corpus, crashes, logs (.fuzz)")
    p_merge = sub.add_parser("merge", help="keep new inputs that add coverage in the seeds")
    p_merge.add_argument("target")
    p_merge.add_argument("--max-len", type=int, default=8192)
    args = parser.parse_args(argv)
    if args.command == "list":
        print("\n".join(_names()))
        return 0
    if args.target not in [*_names(), ALL]:
        parser.error(f"no target {args.target!r}: see `python -m tests.fuzz list`")
    if args.command == "run":
        return run(args.target, args.seconds, args.runs, args.timeout, args.max_len, args.work)
    return merge(args.target, args.max_len)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
