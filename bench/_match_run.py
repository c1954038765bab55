"""One measured run of Accord's matcher: compile every indicator, then match the replay.

Run by ``bench/match.py`` in a process of its own (through ``_ingest_proc``), so that
its peak memory is its own: ``python bench/_match_run.py DATA REPLAY --mode inline``.
Prints one JSON object on stdout: compile seconds, indicators held, refused, match
seconds, events, hits, indicators hit, skipped lines.

Modes: ``inline`` parses and matches in this one process; ``workers`` forks one
worker per core after compiling (as ``accord match`` does for inputs of 8 MiB or
more): each parses its share of the lines and probes the matcher's keys, this
process evaluates the few events they send back, in file order.
The hits are counted per indicator, as `accord match` does before writing one
sighting per indicator; no database is involved, except with ``--standings DB``:
then the standings of that store are loaded after compiling (timed apart) and
every hit goes through `accord.service._match_standing.StandingGate.keep`, as in
`accord match` (suppressed hits are counted, not kept).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _match_data import maltrail_indicators, unit42_indicators
from accord.exceptions import AccordError, InputError
from accord.logsources import SourceStats
from accord.patterns import Hit, Matcher
from accord.service._match_standing import StandingGate
from accord.service.match import scan
from accord.service.node import Node, NodeInfo
from accord.settings import load_settings
from accord.stix import parse_timestamp
from accord.store import open_store


def _memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes of one process, from /proc (0, 0 where it is gone or unknown)."""
    found = {"Rss:": 0, "Pss:": 0}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                name, _, rest = line.partition(" ")
                if name in found:
                    found[name] = int(rest.split()[0]) * 1024
    except OSError:
        pass
    return found["Rss:"], found["Pss:"]


class MemorySampler(threading.Thread):
    """Samples the memory of this process and its children (the forked workers).

    The kernel's peak RSS of a process counts the pages it shares with the others
    (the workers share the compiled index with this process), so the sum of peak
    RSS overstates the run; the sum of PSS (shared pages divided among their
    sharers) is what the processes hold together.
    """

    def __init__(self, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peak_pss = 0
        self.peak_rss_sum = 0
        self.done = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self.done.wait(self.interval):
            pids = [me]
            try:
                with open(f"/proc/{me}/task/{me}/children") as f:
                    pids += [int(p) for p in f.read().split()]
            except OSError:
                pass
            rss = pss = 0
            for pid in pids:
                r, p = _memory(pid)
                rss, pss = rss + r, pss + p
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_rss_sum = max(self.peak_rss_sum, rss)


def _epoch(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(parse_timestamp(value).timestamp())
    except ValueError:
        return None


def _gate(url: str) -> StandingGate:
    """A gate over the standings of the store at ``url``, as `match_paths` makes it."""
    store = open_store(url)
    settings = load_settings({"ACCORD_HOME": str(Path(url).parent)})
    node = Node(settings, NodeInfo("identity--bench", "bench", ""), store)
    return StandingGate(node, min_standing=None, suppress_members=settings.fp_suppress_members)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("data", type=Path)
    ap.add_argument("replay", type=Path)
    ap.add_argument("--mode", choices=("inline", "workers"), default="inline")
    ap.add_argument("--no-maltrail", action="store_true", help="only the Unit 42 indicators")
    ap.add_argument("--standings", help="a store URL whose standings gate the hits")
    ap.add_argument("--hit-ids", type=Path, help="write the ids of the indicators hit here")
    args = ap.parse_args()

    matcher = Matcher()
    refused: Counter[str] = Counter()
    counts = {"maltrail": 0, "unit42": 0}
    compile_seconds = 0.0
    clock = time.perf_counter
    sources = [("unit42", unit42_indicators(args.data))]
    if not args.no_maltrail:
        sources.insert(0, ("maltrail", maltrail_indicators(args.data)))
    for name, indicators in sources:
        for indicator_id, pattern, valid_from in indicators:
            valid = _epoch(valid_from)
            # Only the matcher's own work is timed, not reading the lists.
            started = clock()
            try:
                matcher.add(indicator_id, pattern, valid_from=valid)
            except (AccordError, ValueError) as exc:
                compile_seconds += clock() - started
                refused[type(exc).__name__] += 1
                continue
            compile_seconds += clock() - started
            counts[name] += 1

    hits: Counter[str] = Counter()
    workers = (os.cpu_count() or 1) if args.mode == "workers" else 1
    suppressed: Counter[str] = Counter()
    why: dict[str, str] = {}
    gate, load_seconds, blocked = None, 0.0, 0
    if args.standings:
        started = time.perf_counter()
        gate = _gate(args.standings)
        blocked = gate.load()
        load_seconds = time.perf_counter() - started
    if os.environ.get("BENCH_GC_FREEZE", "1") == "1":
        gc.freeze()  # as match_paths does after compiling and reading the standings

    def on_hits(found: list[Hit]) -> None:
        if gate is not None:
            found = gate.keep(found, suppressed, why)
        hits.update(h.indicator_id for h in found)

    stats = SourceStats()
    failed: list[InputError] = []
    sampler = MemorySampler()
    sampler.start()
    started = time.perf_counter()
    cpu_started = os.times()
    events = scan(
        matcher,
        [args.replay],
        stats=stats,
        on_hits=on_hits,
        failed=failed,
        workers=workers,
    )
    match_seconds = time.perf_counter() - started
    cpu_done = os.times()
    # CPU time of this process and of its waited-for children (the forked workers): on
    # a shared machine, far steadier than the wall clock.
    match_cpu = sum(cpu_done[:4]) - sum(cpu_started[:4])
    sampler.done.set()
    sampler.join()
    result = {
        "mode": args.mode,
        "indicators": len(matcher),
        "maltrail": counts["maltrail"],
        "unit42": counts["unit42"],
        "refused": dict(refused),
        "flagged": len(matcher.flagged),
        "compile_seconds": compile_seconds,
        "match_seconds": match_seconds,
        "match_cpu_seconds": match_cpu,
        "events": events,
        "lines": stats.lines,
        "skipped": dict(stats.skipped),
        "hits": sum(hits.values()),
        "indicators_hit": len(hits),
        "failed": [str(f) for f in failed],
        "workers": workers,
        "peak_pss_all": sampler.peak_pss,
        "peak_rss_sum": sampler.peak_rss_sum,
        "standings": bool(args.standings),
        "standings_load_seconds": load_seconds,
        "blocked": blocked,
        "suppressed_hits": sum(suppressed.values()),
        "suppressed_indicators": len(suppressed),
    }
    if args.hit_ids:
        args.hit_ids.write_text("\n".join(sorted(hits)) + "\n")
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
