"""Forked match workers (`_match_fork`): the same answers as reading in one process.

Every test compares a forked run with the one-process run on the same inputs and
the same indicators: the events, every hit with its times and the lines of its
events (windows, FOLLOWEDBY and REPEATS across block boundaries included), and
the counts and skipped lines of the inputs.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from accord.exceptions import InputError
from accord.logsources import Format, LogParser, SourceStats
from accord.patterns import Hit, Matcher
from accord.service import _match_fork, match

C2 = "54.245.228.191"  # the web server of zat's conn/dns/http logs

PATTERNS = {
    "indicator--eq": f"[ipv4-addr:value = '{C2}']",
    "indicator--port": "[network-traffic:dst_port = 53]",
    "indicator--like": "[domain-name:value LIKE '%.com']",
    "indicator--cidr": "[ipv4-addr:value ISSUBSET '192.168.0.0/16']",
    "indicator--followed": (
        "[network-traffic:dst_port = 80] FOLLOWEDBY [network-traffic:dst_port = 53]"
    ),
    "indicator--repeats": f"[ipv4-addr:value = '{C2}'] REPEATS 3 TIMES WITHIN 30 SECONDS",
    "indicator--and": (
        "([network-traffic:dst_port = 443] AND [network-traffic:dst_port = 80]) WITHIN 60 SECONDS"
    ),
}

HitRow = tuple[str, float, float, tuple[int, ...]]  # indicator, first/last seen, event lines
Outcome = tuple[int, list[HitRow], SourceStats, list[str]]


def _matcher() -> Matcher:
    matcher = Matcher()
    for indicator_id, pattern in PATTERNS.items():
        matcher.add(indicator_id, pattern)
    return matcher


def _collect(hits: list[HitRow]) -> Callable[[list[Hit]], None]:
    def on_hits(found: list[Hit]) -> None:
        for h in found:
            hits.append(
                (h.indicator_id, h.first_seen, h.last_seen, tuple(e.line for e in h.events))
            )

    return on_hits


def _one_process(
    paths: Sequence[Path],
    workers: int = 1,
    fmt: Format | None = None,
    mapping: Sequence[tuple[str, str]] = (),
) -> Outcome:
    """A run through `match.scan` (one process unless ``workers`` says otherwise)."""
    hits: list[HitRow] = []
    stats = SourceStats()
    failed: list[InputError] = []
    events = match.scan(
        _matcher(),
        paths,
        fmt=fmt,
        mapping=mapping,
        stats=stats,
        on_hits=_collect(hits),
        failed=failed,
        default_time=1.0,
        workers=workers,
    )
    return events, hits, stats, [str(f) for f in failed]


def _forked(
    paths: Sequence[Path],
    workers: int,
    block_lines: int,
    fmt: Format | None = None,
    mapping: Sequence[tuple[str, str]] = (),
) -> Outcome:
    matcher = _matcher()
    hits: list[HitRow] = []
    stats = SourceStats()
    failed: list[InputError] = []
    events = 0
    for path in paths:
        parser = LogParser(str(path), fmt, mapping, stats, default_time=1.0)
        events += _match_fork.scan_forked(
            matcher,
            path,
            parser,
            workers=workers,
            stats=stats,
            on_hits=_collect(hits),
            failed=failed,
            tick=None,
            block_lines=block_lines,
        )
    return events, hits, stats, [str(f) for f in failed]


def _same(a: Outcome, b: Outcome) -> None:
    events, hits, stats, failed = a
    f_events, f_hits, f_stats, f_failed = b
    assert f_events == events == stats.events == f_stats.events
    assert f_hits == hits
    assert f_failed == failed
    assert (f_stats.lines, f_stats.ignored, f_stats.formats, f_stats.skipped) == (
        stats.lines,
        stats.ignored,
        stats.formats,
        stats.skipped,
    )
    assert [str(s) for s in f_stats.skips] == [str(s) for s in stats.skips]


@pytest.mark.data
@pytest.mark.parametrize(("workers", "block_lines"), [(2, 1), (2, 7), (3, 100), (2, 2048)])
def test_forked_workers_give_the_answers_of_one_process(
    shared_data: Path, workers: int, block_lines: int
) -> None:
    zat = shared_data / "zeek" / "zat"
    paths = [
        zat / "conn.log",
        zat / "dns.log",
        zat / "http.log.gz",
        zat / "json" / "conn.log",
        zat / "http.log.corrupt.gz",
        zat / "dhcp.log",
    ]
    one = _one_process(paths)
    events, hits, stats, _ = one
    assert events > 700 and stats.skipped["truncated"] == 1
    found = {h[0] for h in hits}
    assert {"indicator--eq", "indicator--port", "indicator--followed"} <= found
    assert any(len(h[3]) == 3 for h in hits if h[0] == "indicator--repeats")
    _same(one, _forked(paths, workers, block_lines))


def test_bad_lines_are_reported_once_in_line_order(tmp_path: Path) -> None:
    log = tmp_path / "eve.json"
    lines = []
    for n in range(60):
        if n % 9 == 4:
            lines.append(b'{"event_type": "flow", "src_ip": ')  # cut
        elif n % 13 == 6:
            lines.append(b"\x00\x01binary")
        else:
            dest = C2 if n % 5 == 0 else "192.0.2.9"
            lines.append(
                b'{"timestamp": "2024-03-01T10:00:%02d.000000+0000", "event_type": "flow",'
                b' "src_ip": "192.168.1.2", "dest_ip": "%s", "src_port": 5, "dest_port": 53,'
                b' "proto": "UDP"}' % (n, dest.encode())
            )
    log.write_bytes(b"\n".join(lines) + b"\n")
    one = _one_process([log])
    assert one[2].skipped_total == 11 and len(one[1]) > 10
    for workers, block in ((2, 1), (2, 5), (4, 3)):
        _same(one, _forked([log], workers, block))


def test_a_csv_header_reaches_every_worker(tmp_path: Path) -> None:
    log = tmp_path / "hosts.csv"
    rows = ["# exported hosts", "# second comment", "when,addr"]
    rows += [f"{1700000000 + n},{C2 if n % 3 else '192.0.2.1'}" for n in range(40)]
    log.write_text("\n".join(rows) + "\n")
    mapping = [("addr", "ipv4-addr:value"), ("when", "time")]
    one = _one_process([log], fmt="csv", mapping=mapping)
    assert one[0] == 40 and len([h for h in one[1] if h[0] == "indicator--eq"]) == 26
    assert _match_fork.splittable(log, "csv", mapping)
    _same(one, _one_process([log], workers=3, fmt="csv", mapping=mapping))
    for workers, block in ((2, 1), (3, 2), (2, 5)):
        _same(one, _forked([log], workers, block, fmt="csv", mapping=mapping))


def test_stix_lines_are_not_split(tmp_path: Path) -> None:
    log = tmp_path / "observed.jsonl"
    sco = "ipv4-addr--0d1c7a65-9d3e-4a57-8b5e-6f4c0a9b1e2d"
    log.write_text(
        f'{{"type": "ipv4-addr", "spec_version": "2.1", "id": "{sco}", "value": "{C2}"}}\n'
    )
    assert not _match_fork.splittable(log, None, ())
    plain = tmp_path / "conn.log.gz"
    with gzip.open(plain, "wt") as f:
        f.write(f'{{"ts": 1.5, "id.orig_h": "10.0.0.1", "id.resp_h": "{C2}"}}\n')
    assert _match_fork.splittable(plain, None, ())
    assert not _match_fork.splittable(tmp_path / "missing.log", None, ())


def test_a_missing_input_fails_alone(tmp_path: Path, shared_data: Path) -> None:
    paths = [tmp_path / "nope.log", shared_data / "zeek" / "zat" / "dns.log"]
    one = _one_process(paths)
    _same(one, _one_process(paths, workers=2))
    assert len(one[3]) == 1 and "nope.log" in one[3][0]


def test_default_workers_by_input_size(tmp_path: Path) -> None:
    small = tmp_path / "small.log"
    small.write_bytes(b"x" * 100)
    assert match.default_workers([small, tmp_path / "absent"]) == 1
    big = tmp_path / "big.log"
    with big.open("wb") as f:
        f.truncate(match.FORK_BYTES)
    assert match.default_workers([big]) == min(os.cpu_count() or 1, match.MAX_WORKERS)
