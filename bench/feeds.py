"""Feeds and formats: MISP import against misp-stix alone; sensor exports of 1.85 M indicators.

(a) MISP in. The 55 ESET MISP-converted STIX reports (``../shared/data/eset/stix21``)
are turned back into MISP events by misp-stix (setup, untimed) and written as event
files. Timed: misp-stix's ``MISPtoSTIX21Parser`` on every event alone (the floor:
conversion with nothing stored), and ``accord import`` of the same files into a fresh
SQLite node (conversion, validation, storing, indexing). Attributes per second; goal:
Accord at 50% or more of the floor. MISP's own figure is 33-340 attributes/s.

(b) Sensor exports. Every entry of maltrail's lists (``maltrail/trails``, about
1.85 M) becomes the STIX indicator ``accord import`` makes of it, as stored bytes, one
at a time (a stream: never held). Each export runs in a child process of its own: once
generating alone, once generating and exporting to a file; the export's rate is the
count over the difference, its peak memory the child's peak RSS (generation included).
Goals: above 200,000 indicators/s and under 500 MiB, for Zeek intel and Suricata. Indicators
per CPU second are given beside: a shared machine slows the wall clock, not them.

    python bench/feeds.py [--data DIR] [--limit N] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import orjson

from accord.store import StoredObject

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO_ROOT, log, package_version, publish_report, report_header, verdict

DATA = Path(os.environ.get("ACCORD_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def _misp_events(data: Path, folder: Path) -> list[Path]:
    from accord.formats import feed_event, stix_to_events

    paths: list[Path] = []
    for f in sorted((data / "eset" / "stix21").glob("*.json")):
        objects = orjson.loads(f.read_bytes())["objects"]
        for ev in stix_to_events(objects, org=("ESET", "55f6ea5e-51ac-4344-bc8c-4170950d210f")):
            fe = feed_event(ev)
            path = folder / f"{fe.uuid}.json"
            path.write_bytes(fe.data)
            paths.append(path)
    return paths


def bench_misp(data: Path, work: Path, repeat: int) -> dict[str, float]:
    from accord.formats import event_to_stix
    from accord.service import feeds as feed_service
    from accord.service.node import init_node, open_node
    from accord.settings import load_settings

    events_dir = work / "misp-events"
    events_dir.mkdir()
    paths = _misp_events(data, events_dir)
    events = [orjson.loads(p.read_bytes())["Event"] for p in paths]
    log(f"MISP: {len(events)} events from the ESET STIX")
    floors: list[float] = []
    imports: list[float] = []
    attributes = stored = 0
    # Alternated and repeated: the machine is shared, and one run of each is noise.
    for run in range(repeat):
        started = time.perf_counter()
        attributes = sum(event_to_stix(event).attributes for event in events)
        floors.append(time.perf_counter() - started)
        settings = load_settings(
            {"ACCORD_HOME": str(work / f"node-{run}"), "ACCORD_DATABASE_URL": ""}
        )
        init_node(settings, "bench")
        node = open_node(settings)
        try:
            started = time.perf_counter()
            report = feed_service.import_foreign(node, [(str(p), "misp") for p in paths])
            imports.append(time.perf_counter() - started)
            stored = report.stored
        finally:
            node.close()
        log(f"run {run + 1}: misp-stix alone {floors[-1]:.2f} s, accord import {imports[-1]:.2f} s")
    floor_s = statistics.median(floors)
    accord_s = statistics.median(imports)
    return {
        "events": len(events),
        "attributes": attributes,
        "floor_s": floor_s,
        "accord_s": accord_s,
        "stored": stored,
    }


def write_big_event(data: Path, work: Path, size: int) -> Path:
    """One MISP event of ``size`` attributes: the ESET events' attributes, cycled under
    uuids of their own, one in 10,000 of an unknown type (each must be reported)."""
    import uuid

    events_dir = work / "big-source"
    events_dir.mkdir()
    attributes: list[dict[str, object]] = []
    for path in _misp_events(data, events_dir):
        attributes += orjson.loads(path.read_bytes())["Event"].get("Attribute", [])
    event = orjson.loads(next(events_dir.glob("*.json")).read_bytes())["Event"]
    big = []
    for i in range(size):
        attr = dict(attributes[i % len(attributes)])
        attr.pop("id", None)
        attr["uuid"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"big-event|{i}"))
        if i % 10_000 == 50:
            attr["type"] = "bogus-type"
        big.append(attr)
    event.update({"Attribute": big, "Object": [], "uuid": str(uuid.uuid4())})
    path = work / "big-event.json"
    path.write_bytes(orjson.dumps({"Event": event}))
    return path


def big_event_child(source: Path) -> None:
    """Import one big MISP event into a fresh node; JSON on stdout."""
    from accord.service import feeds as feed_service
    from accord.service.node import init_node, open_node
    from accord.settings import load_settings

    home = Path(tempfile.mkdtemp(prefix="accord-bench-node-"))
    settings = load_settings({"ACCORD_HOME": str(home), "ACCORD_DATABASE_URL": ""})
    init_node(settings, "bench")
    node = open_node(settings)
    started = time.perf_counter()
    report = feed_service.import_foreign(node, [(str(source), "misp")])
    seconds = time.perf_counter() - started
    node.close()
    got = {
        "count": report.attributes,
        "seconds": seconds,
        "stored": report.stored,
        "problems": sum(1 for p in report.attribute_problems if p.fatal),
        "failed": len(report.failed_inputs),
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(json.dumps(got))


# -- (b) sensor exports, in a child process ------------------------------------------------


def maltrail_objects(data: Path, limit: int) -> Iterator[StoredObject]:
    """StoredObjects of the indicators `accord import` makes of maltrail's entries.

    A value in several lists is one indicator in a store (its id comes from the
    value); here each list's entry is kept, under an id of its own, so that every
    one of the 1.85 M entries is exported and no id is exported twice.
    """
    import uuid

    from accord import formats
    from accord.stix import Tlp
    from accord.store import StoredObject

    now = "2026-12-06T00:00:00.000Z"
    n = 0
    seen: set[str] = set()
    for path in sorted((data / "maltrail" / "trails").rglob("*.txt")):
        parsed = formats.parse_text(path.read_text(encoding="utf-8", errors="replace").splitlines())
        for entry in parsed.entries:
            obj = formats.indicator(
                entry,
                producer="maltrail",
                list_name=path.stem,
                tlp=Tlp.GREEN,
                now=now,
                references=parsed.references,
            )
            first, k = obj["id"], 0
            while obj["id"] in seen:
                k += 1
                other = uuid.uuid5(uuid.NAMESPACE_URL, f"{path.stem}|{k}|{first}")
                obj["id"] = f"indicator--{other}"
            seen.add(obj["id"])
            n += 1
            yield StoredObject(n, obj["id"], "indicator", now, "2.1", False, orjson.dumps(obj))
            if limit and n >= limit:
                return


def write_stored(data: Path, limit: int, path: Path) -> int:
    """The indicators of maltrail's entries as JSON lines (once, untimed)."""
    n = 0
    with path.open("wb") as f:
        for obj in maltrail_objects(data, limit):
            f.write(obj.data + b"\n")
            n += 1
    return n


def stored_objects(path: Path) -> Iterator[StoredObject]:
    """The indicators back as StoredObjects, one line at a time (what a store query yields)."""
    from accord.store import StoredObject

    with path.open("rb") as f:
        for n, line in enumerate(f, 1):
            yield StoredObject(n, "", "indicator", "", "2.1", False, line[:-1])


def child(fmt: str, source: Path, out: Path) -> None:
    """One measured run: read (fmt "none") or read and export; JSON on stdout."""
    from accord.service import feeds as feed_service
    from accord.service.node import init_node, open_node
    from accord.settings import load_settings

    home = Path(tempfile.mkdtemp(prefix="accord-bench-node-"))
    settings = load_settings({"ACCORD_HOME": str(home), "ACCORD_DATABASE_URL": ""})
    init_node(settings, "bench")
    node = open_node(settings)
    objects = stored_objects(source)
    started = time.perf_counter()
    cpu_started = time.process_time()
    count = 0
    if fmt == "none":
        for _ in objects:
            count += 1
    else:
        with out.open("w", encoding="utf-8", newline="") as f:
            counts = feed_service.write_sensor(node, fmt, objects, f)
        count = counts.indicators + counts.skipped
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    node.close()
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = out.stat().st_size if out.exists() else 0
    print(
        json.dumps(
            {"count": count, "seconds": seconds, "cpu": cpu, "rss_mib": rss_mib, "bytes": size}
        )
    )


def run_child(fmt: str, source: Path, out: Path) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", fmt, "--file", str(out), "--source", str(source)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=True)
    got: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    log(f"{fmt}: {got['count']:,.0f} in {got['seconds']:.1f} s, peak {got['rss_mib']:.0f} MiB")
    return got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=0, help="at most N maltrail entries (0: all)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--skip-misp", action="store_true")
    parser.add_argument("--skip-exports", action="store_true")
    parser.add_argument("--repeat", type=int, default=5, help="MISP runs (median)")
    parser.add_argument(
        "--big-event", type=int, default=100_000, help="attributes of one MISP event (0: skip)"
    )
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "big-event":
        big_event_child(args.source)
        return
    if args.child == "generate":  # in a child: the parent stays small for the measured ones
        print(json.dumps({"count": write_stored(args.data, args.limit, args.file)}))
        return
    if args.child:
        child(args.child, args.source, args.file)
        return
    when = time.gmtime()
    lines = report_header(
        "Feeds and formats benchmark",
        when,
        {
            "accord": package_version("accord"),
            "misp-stix": package_version("misp-stix"),
            "pymisp": package_version("pymisp"),
        },
    )
    lines.append("- Note: a 2-core machine shared with other work while this ran.")
    with tempfile.TemporaryDirectory(prefix="accord-bench-feeds-") as tmp:
        work = Path(tmp)
        if not args.skip_misp:
            m = bench_misp(args.data, work, args.repeat)
            floor = m["attributes"] / m["floor_s"]
            accord = m["attributes"] / m["accord_s"]
            lines += [
                "",
                "## MISP import (ESET events)",
                "",
                "| what | attributes | seconds | attributes/s |",
                "|---|--:|--:|--:|",
                f"| misp-stix conversion alone (floor) | {m['attributes']:,} "
                f"| {m['floor_s']:.2f} | {floor:,.0f} |",
                f"| accord import (convert, validate, store, index) | {m['attributes']:,} "
                f"| {m['accord_s']:.2f} | {accord:,.0f} |",
                "| MISP (its reported figure) | | | 33-340 |",
                "",
                f"{m['events']} events, {m['stored']:,} STIX versions stored; medians of "
                f"{args.repeat} alternated runs. Accord at "
                f"{accord / floor:.0%} of the floor: {verdict(accord >= 0.5 * floor)} "
                "(goal >= 50%).",
            ]
        if args.big_event:
            path = write_big_event(args.data, work, args.big_event)
            log(f"one MISP event of {args.big_event:,} attributes")
            got = run_child("big-event", path, work / "none")
            lines += [
                "",
                f"**One event of {got['count']:,.0f} attributes** (the ESET events' attributes "
                "cycled, one in 10,000 of an unknown type): imported in "
                f"{got['seconds']:.0f} s ({got['count'] / got['seconds']:,.0f} attributes/s), "
                f"{got['stored']:,.0f} STIX versions stored, {got['problems']:,.0f} attributes "
                f"reported as refused, {got['failed']:,.0f} failed inputs, peak RSS "
                f"{got['rss_mib']:,.0f} MiB.",
            ]
        if args.skip_exports:
            publish_report("\n".join(lines) + "\n", args.out, "feeds-misp", when)
            return
        source = work / "indicators.jsonl"
        log("writing maltrail's entries as stored indicators (untimed)")
        cmd = [sys.executable, __file__, "--child", "generate", "--file", str(source)]
        cmd += ["--data", str(args.data), "--limit", str(args.limit)]
        generated = subprocess.run(cmd, capture_output=True, text=True, check=True)
        total = json.loads(generated.stdout.strip().splitlines()[-1])["count"]
        log(f"{total:,} indicators, {source.stat().st_size / 2**20:,.0f} MiB")
        base = run_child("none", source, work / "none")
        lines += [
            "",
            "## Sensor exports of maltrail's indicators",
            "",
            f"{base['count']:,.0f} indicators (every entry of maltrail's lists as the STIX "
            "indicator `accord import` makes of it, each under an id of its own), read back "
            "as stored versions in "
            f"{base['seconds']:.1f} s (subtracted below).",
            "",
            "| format | indicators | export s | indicators/s | indicators/CPU s "
            "| output MiB | peak RSS MiB | goal |",
            "|---|--:|--:|--:|--:|--:|--:|---|",
        ]
        for fmt in ("zeek-intel", "suricata", "csv"):
            got = run_child(fmt, source, work / f"out.{fmt}")
            seconds = max(got["seconds"] - base["seconds"], 1e-9)
            rate = got["count"] / seconds
            per_cpu = got["count"] / max(got["cpu"] - base["cpu"], 1e-9)
            ok = rate > 200_000 and got["rss_mib"] < 500
            lines.append(
                f"| {fmt} | {got['count']:,.0f} | {seconds:.1f} | {rate:,.0f} | {per_cpu:,.0f} | "
                f"{got['bytes'] / 2**20:,.0f} | {got['rss_mib']:,.0f} | {verdict(ok)} |"
            )
            (work / f"out.{fmt}").unlink(missing_ok=True)
    publish_report("\n".join(lines) + "\n", args.out, "feeds", when)


if __name__ == "__main__":
    main()
