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
sighting per indicator; no database is involved.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections import Counter
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _match_data import maltrail_indicators, unit42_indicators
from accord.exceptions import AccordError, InputError
from accord.logsources import SourceStats
from accord.patterns import Hit, Matcher
from accord.service.match import scan
from accord.stix import parse_timestamp


def _epoch(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(parse_timestamp(value).timestamp())
    except ValueError:
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("data", type=Path)
    ap.add_argument("replay", type=Path)
    ap.add_argument("--mode", choices=("inline", "workers"), default="inline")
    ap.add_argument("--no-maltrail", action="store_true", help="only the Unit 42 indicators")
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

    if os.environ.get("BENCH_GC_FREEZE", "1") == "1":
        gc.freeze()  # as match_paths does after compiling
    hits: Counter[str] = Counter()

    def on_hits(found: list[Hit]) -> None:
        hits.update(h.indicator_id for h in found)

    stats = SourceStats()
    failed: list[InputError] = []
    started = time.perf_counter()
    events = scan(
        matcher,
        [args.replay],
        stats=stats,
        on_hits=on_hits,
        failed=failed,
        workers=(os.cpu_count() or 1) if args.mode == "workers" else 1,
    )
    match_seconds = time.perf_counter() - started
    result = {
        "mode": args.mode,
        "indicators": len(matcher),
        "maltrail": counts["maltrail"],
        "unit42": counts["unit42"],
        "refused": dict(refused),
        "flagged": len(matcher.flagged),
        "compile_seconds": compile_seconds,
        "match_seconds": match_seconds,
        "events": events,
        "lines": stats.lines,
        "skipped": dict(stats.skipped),
        "hits": sum(hits.values()),
        "indicators_hit": len(hits),
        "failed": [str(f) for f in failed],
    }
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
