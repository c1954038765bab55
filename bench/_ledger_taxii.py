"""The transparency log's cost on the paginated TAXII read (bench/ledger.py, ``--taxii``).

One fresh SQLite node holds ``--taxii-size`` (default 1,000,000) generated indicators.
The benchmark's member reads the whole collection over TAXII with pages of 1,000,
following ``next``, with the log off (``ACCORD_LOG=off``) and on, alternately, in
``--taxii-rounds`` rounds (each read is a fresh ``accord serve``, so neither has a
warmer process). With the log on, every page is appended to the log (committed) before
it is sent, with its receipt headers; each page's receipt is checked to rebuild from
the body. The cost is the median time of a read with the log over the median without:
the goal is at most 10% (a ratio of time off / time on of at least 0.9).
"""

from __future__ import annotations

import shutil
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from _common import log, verdict
from _ingest_contenders import scratch_dir
from _taxii_accord import Node, accord_server, import_file, make_node, objects_path
from _taxii_client import Transfer, client, get_all
from accord.ledger import entry_from_receipt

PAGE = 1_000
GOAL_RATIO = 0.9


@dataclass
class LogReadResult:
    """The reads with the log off and on, or why they did not run."""

    size: int
    off: list[Transfer] = field(default_factory=list)
    on: list[Transfer] = field(default_factory=list)
    entries: int = 0
    receipt_rebuilt: bool = False
    peak_rss_on: int | None = None
    note: str = ""

    @staticmethod
    def _median(reads: list[Transfer]) -> float | None:
        return statistics.median(t.seconds for t in reads) if reads else None

    @property
    def ratio(self) -> float | None:
        off, on = self._median(self.off), self._median(self.on)
        return None if off is None or not on else off / on


def _check_receipt(http: httpx.Client, path: str) -> bool:
    """Read one page; whether its receipt headers rebuild a share entry of its objects."""
    response = http.get(path, params={"limit": str(PAGE)})
    response.raise_for_status()
    _, entry = entry_from_receipt(dict(response.headers), response.content)
    return bool(entry.body["count"] == len(response.json().get("objects", [])))


def _read(
    accord: Path, node: Node, size: int, timeout: float, on: bool
) -> tuple[Transfer, int | None]:
    env = {**node.env, "ACCORD_LOG": "on" if on else "off"}
    served = Node(node.home, env, node.token)
    with (
        accord_server(accord, served) as server,
        client(server.base_url, "bench", node.token) as http,
    ):
        path = objects_path(http)
        transfer = get_all(http, path, size, PAGE, timeout)
        return transfer, server.peak_rss


def log_read(
    accord: Path, jsonl: Path, size: int, workdir: Path, timeout: float, rounds: int
) -> LogReadResult:
    """Import the data into a fresh node, then read it with the log off and on, alternately."""
    home = scratch_dir(workdir, "ledger-taxii")
    result = LogReadResult(size)
    try:
        node = make_node(accord, home, None)
        data = workdir / f"ledger-{size}.jsonl"
        with jsonl.open("rb") as src, data.open("wb") as out:
            for n, line in enumerate(src):
                if n >= size:
                    break
                out.write(line)
        log(f"ledger/taxii: accord import {size:,} objects")
        imported = import_file(accord, node, data, timeout)
        if not imported.ok:
            raise RuntimeError(f"accord import: {imported.failure()}")
        for r in range(rounds):
            for on in (False, True) if r % 2 == 0 else (True, False):
                label = "on" if on else "off"
                log(f"ledger/taxii: round {r + 1}, GET {size:,} objects, log {label}")
                transfer, peak = _read(accord, node, size, timeout, on)
                log(f"  {transfer.rate or 0:,.0f} objects/s")
                (result.on if on else result.off).append(transfer)
                if on:
                    result.peak_rss_on = max(result.peak_rss_on or 0, peak or 0) or None
        env = {**node.env, "ACCORD_LOG": "on"}
        with (
            accord_server(accord, Node(node.home, env, node.token)) as server,
            client(server.base_url, "bench", node.token) as http,
        ):
            result.receipt_rebuilt = _check_receipt(http, objects_path(http))
            status = http.get("/log/checkpoint").text
            result.entries = int(status.split("\n")[1])
    except (RuntimeError, OSError, httpx.HTTPError) as exc:
        log(f"  ledger/taxii phase failed: {exc}")
        result.note = f"failed: {str(exc).splitlines()[0]}"
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return result


def section(result: LogReadResult) -> str:
    """The report's Markdown section."""
    lines = ["## The log on the paginated TAXII read", ""]
    if not result.off or not result.on:
        return "\n".join([*lines, f"Not measured: {result.note or 'skipped'}.", ""])
    lines += [
        "| read | runs | median seconds | median objects/s | p50 page ms | p99 page ms |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for label, reads in (("log off", result.off), ("log on", result.on)):
        med = statistics.median(t.seconds for t in reads)
        p50 = statistics.median((t.percentile(0.5) or 0) for t in reads)
        p99 = statistics.median((t.percentile(0.99) or 0) for t in reads)
        lines.append(
            f"| {label} | {len(reads)} | {med:,.1f} | {result.size / med:,.0f} |"
            f" {p50 * 1000:,.1f} | {p99 * 1000:,.1f} |"
        )
    ratio = result.ratio
    ok = None if ratio is None else ratio >= GOAL_RATIO
    rss = f"{result.peak_rss_on / 2**20:,.0f} MiB" if result.peak_rss_on else "n/a"
    lines += [
        "",
        f"With the log on, every page was a committed entry before it was sent"
        f" ({result.entries:,} entries after the reads; the last page's receipt rebuilt"
        f" its entry: {'yes' if result.receipt_rebuilt else 'no'}). Server peak RSS with"
        f" the log: {rss}.",
        "",
        f"- {verdict(ok)}: the log costs at most 10% of the read's throughput"
        f" (median time off / median time on = {ratio:.2f}, goal >= {GOAL_RATIO})."
        if ratio is not None
        else "- n/a: no ratio",
        "",
    ]
    return "\n".join(lines)
